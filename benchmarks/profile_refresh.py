"""Where a refresh spends its time, in-process: cProfile over ``regiocode refresh`` (cli.run_refresh).

Run: ``.venv/bin/python benchmarks/profile_refresh.py [--home DIR] [--top N] [--out FILE]``. The first run in a
fresh home is a full refresh, a second one in the same home the no-change path. Work done in child
processes (the dbt CLI, the render workers) shows up as time waiting on them; ``benchmarks/run.py``
measures those. Prints figures; asserts nothing.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="REGIOCODE_HOME (default: a new temporary one)")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile to print")
    parser.add_argument("--out", type=Path, default=None, help="also dump the raw profile here")
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    home = args.home or Path(tempfile.mkdtemp(prefix="regiocode-profile-"))
    started = time.perf_counter()
    from dagster_project.cli import run_refresh

    print(f"imports: {time.perf_counter() - started:.1f} s")
    profile = cProfile.Profile()
    profile.enable()
    summary = run_refresh(home, ["demo"])
    profile.disable()
    print(f"home {home}: success={summary['success']} in {summary['seconds']:.1f} s; stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in summary["timings"].items()))
    if args.out:
        profile.dump_stats(args.out)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":  # the render pool's forkserver re-imports this module: run only once
    main()
