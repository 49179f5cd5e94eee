"""The dbt stage alone on a real working warehouse: a build that parses the whole project (what every refresh
paid before the per-build values left ``--vars``) against one that re-uses the start-up parse; dbt's debug file log
(its default) against the pipeline's ``--log-level-file info``; optionally other thread counts; and where the node
time goes.

Run: ``.venv/bin/python benchmarks/bench_dbt.py --home PATH [--runs 3] [--no-full-parse] [--threads 1 4]``
after ``regiocode refresh --home PATH`` (any source). Each run builds a copy of the home's working warehouse
(``dbt build --full-refresh``, unit tests excluded, as the pipeline runs it) in a fresh dbt process; wall and CPU
seconds (user + system of dbt and its threads) per mode, medians of ``--runs``; then the largest nodes of the
last run (``execution_time`` in ``run_results.json``; with several threads node times overlap). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dagster_project import settings  # noqa: E402
from dagster_project.assets.dbt import (  # noqa: E402
    PARTIAL_PARSE,
    _parse_for_home,
    build_settings_env,
    write_profile,
)
from dagster_project.settings import DBT_PROJECT_DIR, Paths  # noqa: E402

BUILD_VARS = {"build_id": "bench", "data_label": "synthetic demo data", "active_sources": []}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_build(paths: Paths, target: Path, reuse_parse: bool, threads: int | None = None,
              file_log: str = "debug") -> dict[str, float]:
    """One ``dbt build`` into ``paths``' working warehouse; ``reuse_parse``: per-build values by environment, the
    start-up parse re-keyed, else the old way (``--vars``, full parse); ``file_log``: dbt.log's level (dbt's
    default debug; the pipeline's info)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    profiles = write_profile(paths)
    command = [settings.dbt_executable(), "build", "--full-refresh", "--exclude-resource-type", "unit_test",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(profiles),
               "--target-path", str(target), "--log-path", str(target), "--log-format", "json",
               "--log-level-file", file_log]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    if reuse_parse:
        _parse_for_home(paths, target / PARTIAL_PARSE)
        env.update(build_settings_env(BUILD_VARS))
    else:
        command += ["--vars", json.dumps(BUILD_VARS)]
    if threads:
        command += ["--threads", str(threads)]
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False)
    wall, used = time.perf_counter() - start, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"dbt build failed:\n{done.stdout[-3000:]}")
    log = (target / "dbt.log").read_text(errors="replace")
    results = json.loads((target / "run_results.json").read_text())
    return {"wall": wall, "cpu": used, "full_parse": float("Unable to do partial parsing" in log),
            "elapsed": results["elapsed_time"],
            "node_s": sum(r["execution_time"] for r in results["results"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="*", default=[],
                        help="also build with these dbt thread counts (the pipeline's way); default: the profile's")
    parser.add_argument("--no-full-parse", action="store_true", help="skip the old way (--vars, full parse)")
    args = parser.parse_args()
    source = Paths.from_env(args.home)
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(Path(tmp) / "home")
        paths.work_db.parent.mkdir(parents=True)
        shutil.copyfile(source.work_db, paths.work_db)
        target = Path(tmp) / "target"
        arms = [] if args.no_full_parse else [(False, None, "debug")]
        arms += [(True, None, "debug"), (True, None, "info")] + [(True, n, "info") for n in args.threads]
        for reuse, threads, file_log in arms:
            runs = [one_build(paths, target, reuse, threads, file_log) for _ in range(args.runs)]
            label = "parse re-used" if reuse else "--vars, full parse"
            label += f", dbt.log {file_log}" + (f", {threads} threads" if threads else "")
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            walls = ", ".join(f"{r['wall']:.1f}" for r in runs)
            print(f"{label:36} wall {med['wall']:6.1f} s (runs {walls})  "
                  f"CPU {med['cpu']:6.1f} s  dbt elapsed after parse {med['elapsed']:5.1f} s  "
                  f"node-s {med['node_s']:5.1f}  full parses {sum(r['full_parse'] for r in runs):.0f}/{len(runs)}",
                  flush=True)
        results = json.loads((target / "run_results.json").read_text())["results"]
        print("largest nodes (s):", ", ".join(f"{r['unique_id'].split('.')[-1][:40]} {r['execution_time']:.2f}"
                                              for r in sorted(results, key=lambda r: -r["execution_time"])[:12]))
        kinds: dict[str, float] = {}
        for r in results:
            kinds[r["unique_id"].split(".")[0]] = kinds.get(r["unique_id"].split(".")[0], 0) + r["execution_time"]
        print("node-s by kind:", ", ".join(f"{k} {v:.1f}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
