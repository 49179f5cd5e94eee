"""Briefings on a real published warehouse: contexts, HTML and PDF per second, and the whole batch.

Run: ``.venv/bin/python benchmarks/bench_briefings.py [--home PATH] [--workers N]`` after
``regiocode refresh --home PATH`` (the demo data by default). Prints figures; asserts nothing.

The batch figure is what ``regiocode refresh`` pays for briefings: every region × 2 languages ×
(HTML + PDF) rendered from scratch in ``--workers`` processes, with indexes and manifest; then the
same again with nothing changed (only fingerprints, links and the manifest).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dagster_project.briefings.batch import prepare, render_all, templates_fingerprint  # noqa: E402
from dagster_project.briefings.context import build_contexts  # noqa: E402
from dagster_project.briefings.render import html_from_view, pdf_from_view  # noqa: E402
from dagster_project.settings import Paths  # noqa: E402
from dagster_project.warehouse import connect_published  # noqa: E402


def timed(label: str, count: int, work) -> float:
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    rate = f"{count / elapsed:8.1f}/s" if count else ""
    print(f"{label:<46} {count:>5} in {elapsed:6.2f} s  {rate}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, default=None, help="REGIOCODE_HOME with a published warehouse")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    paths = Paths.from_env(args.home)
    if not paths.published_db.exists():
        sys.exit(f"no published warehouse at {paths.published_db}: run `regiocode refresh --home {paths.home}` first")
    con = connect_published(paths.published_db)
    contexts: list = []
    timed("contexts (all regions, set-based queries)", 0, lambda: contexts.extend(build_contexts(con)))
    con.close()
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
    with tempfile.TemporaryDirectory() as out:
        folder, state = Path(out) / "day", Path(out) / "state"
        full = timed(f"batch: {n} regions × 2 langs × (HTML+PDF), {args.workers} workers", 4 * n,
                     lambda: render_all(contexts, folder, state, workers=args.workers))
        timed("batch again, nothing changed", 0, lambda: render_all(contexts, Path(out) / "day2", state,
                                                                     workers=args.workers))
    print(f"\n{n} regions: {4 * n} files in {full:.2f} s on {os.cpu_count()} CPUs "
          f"({2 * n / full:.1f} briefings (HTML+PDF) per second)")


if __name__ == "__main__":
    main()
