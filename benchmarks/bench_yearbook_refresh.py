"""The real yearbook through `regiocode refresh`: a first refresh of the whole edition in a fresh home; then, in
another home, a first refresh without one section, a refresh with nothing changed, and that section dropped into
the inbox (each a fresh process, as a user runs it).

    .venv/bin/python benchmarks/bench_yearbook_refresh.py FOLDER [--new-section NAME] [--runs 3] [--home DIR]

FOLDER holds the sections of one edition (Rosstat's «Регионы России 2023»: 21 sections and the contents).
``--new-section`` (default: the last section by name) is left out of the first refresh and dropped into
``inbox/rosstat/`` afterwards. Per run it prints wall seconds, CPU seconds of the process tree (the refresh,
dbt and the render workers: ``RUSAGE_CHILDREN`` of this script, which waits for each), the stages the CLI
printed, and what the refresh says it rendered; then the medians. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE = re.compile(r"✓ (.+?) ([0-9.]+) s")


def refresh(home: Path, folder: Path, log: Path) -> dict[str, object]:
    """One `regiocode refresh --source rosstat --path rosstat=FOLDER --home HOME` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dagster_project.cli", "refresh", "--source", "rosstat",
                           "--path", f"rosstat={folder}", "--home", str(home)], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.write_text(done.stdout + "\n--- stderr ---\n" + done.stderr, encoding="utf-8")
    flat = " ".join(done.stdout.replace("│", " ").split())  # the summary table wraps its cells
    rendered = re.search(r"(\d+) rendered, (\d+) unchanged", flat)
    return {"exit": done.returncode, "wall": wall,
            "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "stages": {name: float(s) for name, s in STAGE.findall(done.stderr)},
            "unchanged_path": "nothing changed:" in flat,
            "rendered": rendered.groups() if rendered else None}


def show(label: str, result: dict[str, object]) -> None:
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result["stages"].items()) or "no stage ran"
    print(f"{label:28} exit {result['exit']} wall {result['wall']:6.1f} s cpu {result['cpu']:6.1f} s "
          f"rendered/unchanged {result['rendered']} nothing-changed path {result['unchanged_path']} | {stages}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--new-section", default="")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "yearbook_refresh.json")
    args = parser.parse_args()
    sections = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".xlsx", ".xls") and
                      p.name.startswith("Раздел"))
    new = next((p for p in sections if p.name == args.new_section), None) if args.new_section else sections[-1]
    if new is None:
        raise SystemExit(f"no section {args.new_section!r} in {args.folder}")
    root = args.home or Path(tempfile.mkdtemp(prefix="regiocode-yearbook-"))
    results: dict[str, list[dict[str, object]]] = {"whole": [], "first": [], "no change": [], "new section": []}
    for run in range(args.runs):
        work = root / f"run{run}"
        shutil.rmtree(work, ignore_errors=True)
        whole = work / "whole"
        whole.mkdir(parents=True)
        for path in args.folder.iterdir():
            if path.is_file():
                shutil.copy2(path, whole / path.name)
        results["whole"].append(refresh(work / "home-whole", whole, work / "whole.log"))
        show(f"whole edition ({len(sections)} sections)", results["whole"][-1])
        folder, home = work / "yearbook", work / "home"
        folder.mkdir(parents=True)
        for path in args.folder.iterdir():
            if path != new and path.is_file():
                shutil.copy2(path, folder / path.name)  # copy2: the files' own modification times
        results["first"].append(refresh(home, folder, work / "first.log"))
        show(f"first refresh (without {new.name[:12]})", results["first"][-1])
        results["no change"].append(refresh(home, folder, work / "nochange.log"))
        show("no change", results["no change"][-1])
        inbox = home / "inbox" / "rosstat"
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copy2(new, inbox / new.name)
        results["new section"].append(refresh(home, folder, work / "new.log"))
        show(f"new section {new.name[:20]}", results["new section"][-1])
    for label, runs in results.items():
        print(f"median {label:14} wall {statistics.median(r['wall'] for r in runs):6.1f} s "
              f"cpu {statistics.median(r['cpu'] for r in runs):6.1f} s (runs: "
              + ", ".join(f"{r['wall']:.1f}" for r in runs) + ")")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"new_section": new.name, "results": results}, indent=1, default=str))
    print(f"logs under {root}; figures in {args.out}")


if __name__ == "__main__":
    main()
