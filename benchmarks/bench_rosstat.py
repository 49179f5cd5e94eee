"""Time the Rosstat importer on folders of workbooks (the figures in benchmarks/README.md are for the whole 2023
edition of «Регионы России»: 21 sections and the contents, 22 files).

Prints, per file and in total: size, wall and CPU seconds, observations, rejects; then the phases of one import of
all files together (the safety checks before calamine reads a file, calamine reading every sheet, the importer's
own work, building the frame) and the refresh summary. Medians of ``--runs`` runs for the whole import. A
benchmark, not a test: it asserts nothing. Run:
    .venv/bin/python benchmarks/bench_rosstat.py FOLDER [FOLDER ...] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from dagster_project.sources.rosstat import default_catalog, expand_paths, import_rosstat
from dagster_project.sources.rosstat.batch import build_batch
from dagster_project.sources.rosstat.tables import import_file
from dagster_project.sources.rosstat.workbook import check_workbook_file


def _timed(action):  # noqa: ANN001, ANN202 - a callable and what it returns
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def per_file(files: list[Path]) -> None:
    """One import per file: size, wall and CPU seconds, rows, rejects."""
    print(f"{'file':48} {'MB':>6} {'wall s':>7} {'cpu s':>6} {'rows':>8} {'rejects':>7}")
    for path in files:
        batch, wall, cpu = _timed(lambda p=path: import_rosstat([p]))
        print(f"{path.name[:48]:48} {path.stat().st_size / 1e6:6.2f} {wall:7.2f} {cpu:6.2f} "
              f"{len(batch.observations):8d} {len(batch.rejects):7d}")


def phases(files: list[Path]) -> None:
    """The CPU seconds of each phase of one import of every file."""
    catalog = default_catalog()
    _, _, guard = _timed(lambda: [check_workbook_file(p) for p in files])

    def read_all() -> int:
        cells = 0
        for path in files:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                cells += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
        return cells

    _, _, calamine = _timed(read_all)
    results, _, whole = _timed(lambda: [import_file(p, catalog) for p in files])
    _, _, frame = _timed(lambda: build_batch(results))
    print(f"phases (CPU s): safety checks {guard:.2f}, calamine reading every sheet {calamine:.2f}, "
          f"importing (incl. both) {whole:.2f}, building the batch {frame:.2f}")


def main(folders: list[Path], runs: int) -> None:
    """Print the per-file table, the whole import's medians, the phases and the summary."""
    files = expand_paths(folders)
    if not files:
        raise SystemExit(f"no workbooks in {folders}")
    per_file(files)
    timings = [_timed(lambda: import_rosstat(folders)) for _ in range(runs)]
    batch = timings[-1][0]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"{'all files in one import (median of ' + str(runs) + ')':48} {size:6.2f} "
          f"{statistics.median(t[1] for t in timings):7.2f} {statistics.median(t[2] for t in timings):6.2f} "
          f"{len(batch.observations):8d} {len(batch.rejects):7d}")
    print(f"files {len(files)}, tables {batch.observations.table_code.nunique()}, "
          f"mapped observations {batch.observations.indicator_code.notna().sum()}")
    phases(files)
    for line in batch.summary:
        print("  ", line[:200])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.folders, arguments.runs)
