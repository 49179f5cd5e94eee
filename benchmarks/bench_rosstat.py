"""Time the Rosstat importer on a folder of «Регионы России» section workbooks (the figures in README.md are
for the seven sections of the 2023 edition).

Prints, per file and in total: size, seconds, seconds per MB, observations, rejects; then the
tables skipped. A benchmark, not a test: it asserts nothing. Run:
    .venv/bin/python benchmarks/bench_rosstat.py FOLDER
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dagster_project.sources.rosstat import expand_paths, import_rosstat, load_mapping, load_regions


def main(folder: Path) -> None:
    files = expand_paths([folder])
    if not files:
        sys.exit(f"no workbooks in {folder}")
    regions, mapping = load_regions(), load_mapping()
    total_mb = total_s = 0.0
    print(f"{'file':45} {'MB':>6} {'s':>6} {'s/MB':>6} {'rows':>8} {'rejects':>7}")
    for path in files:
        size_mb = path.stat().st_size / 1e6
        started = time.perf_counter()
        batch = import_rosstat([path], regions, mapping)
        seconds = time.perf_counter() - started
        total_mb, total_s = total_mb + size_mb, total_s + seconds
        print(
            f"{path.name[:45]:45} {size_mb:6.2f} {seconds:6.2f} {seconds / size_mb:6.2f} "
            f"{len(batch.observations):8d} {len(batch.rejects):7d}"
        )
    started = time.perf_counter()
    batch = import_rosstat(files, regions, mapping)
    together = time.perf_counter() - started
    skipped = [note for note in batch.notes if "skipped" in note]
    print(
        f"{'total (one call, all files)':45} {total_mb:6.2f} {together:6.2f} {together / total_mb:6.2f} "
        f"{len(batch.observations):8d} {len(batch.rejects):7d}"
    )
    print(
        f"sum of per-file runs: {total_s:.2f} s; tables imported: {batch.observations.table_code.nunique()}; "
        f"tables skipped: {len(skipped)}"
    )
    for note in skipped:
        print("  -", note[:160])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
