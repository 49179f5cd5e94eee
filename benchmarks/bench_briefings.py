"""Briefings on a real published warehouse: contexts, views, HTML and PDF per second, and the whole batch.

Run: ``.venv/bin/python benchmarks/bench_briefings.py [--home PATH] [--workers N] [--runs 3]`` after
``regiocode refresh --home PATH`` (the demo data by default). Prints figures; asserts nothing.

The batch figure is what ``regiocode refresh`` pays for briefings: every region × 2 languages ×
(HTML + PDF) rendered from scratch in ``--workers`` processes, with indexes and manifest. Each run is
a fresh process (``--one-batch``), so the fork server's start and the workers' cold Typst caches are
paid every time; the contexts are loaded before the clock starts. CPU is user + system of the whole
process tree (the workers are children of the fork server; see ``benchmarks/run.py``). Then the same
again with nothing changed (only context hashes, links and the manifest), and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import tree_sample  # noqa: E402
from dagster_project.briefings.batch import prepare, render_all, templates_fingerprint  # noqa: E402
from dagster_project.briefings.context import build_contexts  # noqa: E402
from dagster_project.briefings.render import html_from_view, pdf_from_view  # noqa: E402
from dagster_project.settings import Paths  # noqa: E402
from dagster_project.warehouse import connect_published  # noqa: E402


def cpu_now() -> float:
    return tree_sample(os.getpid())[1]


def timed(label: str, count: int, work) -> float:
    cpu, start = cpu_now(), time.perf_counter()
    work()
    elapsed, used = time.perf_counter() - start, cpu_now() - cpu
    rate = f"{count / elapsed:8.1f}/s" if count else " " * 10
    each = f"{1000 * used / count:6.1f} ms CPU each" if count else ""
    print(f"{label:<44} {count:>5} in {elapsed:6.2f} s  {rate}  CPU {used:6.2f} s  {each}", flush=True)
    return elapsed


def load_contexts(home: Path | None) -> list:
    paths = Paths.from_env(home)
    if not paths.published_db.exists():
        sys.exit(f"no published warehouse at {paths.published_db}: run `regiocode refresh --home {paths.home}` first")
    con = connect_published(paths.published_db)
    try:
        return build_contexts(con)
    finally:
        con.close()


def one_batch(args: argparse.Namespace) -> None:
    """Child: one full batch from scratch, then one with nothing changed; prints JSON."""
    contexts = load_contexts(args.home)
    with tempfile.TemporaryDirectory() as out:
        folder, state = Path(out) / "day", Path(out) / "state"
        cpu, start = cpu_now(), time.perf_counter()
        summary = render_all(contexts, folder, state, workers=args.workers)
        wall = time.perf_counter() - start
        time.sleep(0.3)  # let the fork server reap its workers, so their CPU is in its children's times
        used = cpu_now() - cpu
        cpu2, start = cpu_now(), time.perf_counter()
        again = render_all(contexts, Path(out) / "day2", state, workers=args.workers)
        wall2, used2 = time.perf_counter() - start, cpu_now() - cpu2
    print(json.dumps({"regions": len(contexts), "rendered": len(summary.rendered), "files": summary.files,
                      "wall": wall, "cpu": used, "nochange_wall": wall2, "nochange_cpu": used2,
                      "nochange_rendered": len(again.rendered)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=None, help="REGIOCODE_HOME with a published warehouse")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process batch runs (median reported)")
    parser.add_argument("--one-batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_batch:
        one_batch(args)
        return
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    contexts: list = []
    timed("contexts (all regions, set-based queries)", 0, lambda: contexts.extend(load_contexts(args.home)))
    n = len(contexts)
    templates = templates_fingerprint()
    prepared: list = []
    timed("views + charts, 2 languages (per region)", n,
          lambda: prepared.extend(prepare(c, templates) for c in contexts))
    html_from_view(prepared[0].views["ru"], prepared[0].charts["ru"])  # warm-up: templates, fonts
    pdf_from_view(prepared[0].views["ru"], prepared[0].charts["ru"])
    for lang in ("ru", "en"):
        timed(f"HTML {lang}, one process", n,
              lambda lang=lang: [html_from_view(p.views[lang], p.charts[lang]) for p in prepared])
        timed(f"PDF {lang} (Typst), one process", n,
              lambda lang=lang: [pdf_from_view(p.views[lang], p.charts[lang]) for p in prepared])
    runs = []
    home = ["--home", str(args.home)] if args.home else []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--one-batch", "--workers", str(args.workers), *home],
                             capture_output=True, text=True, check=True)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        runs.append(run)
        print(f"batch: {run['regions']} regions × 2 langs × (HTML+PDF), {args.workers} workers: {run['files']} files "
              f"in {run['wall']:6.2f} s, CPU {run['cpu']:6.2f} s; nothing changed: {run['nochange_wall']:.2f} s "
              f"({run['nochange_rendered']} rendered)", flush=True)
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    each = ", ".join(f"{r['wall']:.2f}" for r in runs)
    print(f"\n{n} regions: {4 * n} files, median of {len(runs)} fresh-process runs {wall:.2f} s wall "
          f"(runs: {each}), {cpu:.2f} s CPU on {os.cpu_count()} CPUs; "
          f"{2 * n / wall:.1f} briefings (HTML+PDF) per second")
    print(f"no-change batch: median {statistics.median(r['nochange_wall'] for r in runs):.2f} s")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
