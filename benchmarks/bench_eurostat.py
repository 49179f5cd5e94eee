"""Throughput of the Eurostat importer on a dissemination-API TSV.

Run: ``.venv/bin/python benchmarks/bench_eurostat.py [--repeat N] [FILE]``. Prints rows per second for
parsing alone (text -> long cell table) and for the whole import (decode values and flags,
resolve regions and indicators, build the raw-contract frame). FILE is a real TSV (the figures in
README.md are for ``estat_nama_10r_3gdp.tsv``, 2 MB); without it a synthetic TSV of the same shape is
measured instead (and the output says so).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dagster_project.seeds import read_seed
from dagster_project.sources.eurostat import import_eurostat_files
from dagster_project.sources.eurostat.formats import parse_bytes


def synthetic_tsv(path: Path, series: int = 12_453, years: int = 23) -> Path:
    """A TSV shaped like nama_10r_3gdp (same rows x years, ~8% missing, some flags)."""
    rng = np.random.default_rng(0)
    head = "freq,unit,geo\\TIME_PERIOD\t" + "\t".join(f"{2000 + y} " for y in range(years))
    lines = [head]
    for i in range(series):
        cells = []
        for value in rng.integers(1_000, 60_000, years):
            draw = rng.random()
            cells.append(": " if draw < 0.08 else f"{value} e" if draw < 0.13 else f"{value} ")
        lines.append(f"A,UNIT{i % 7},G{i:05d}\t" + "\t".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def best_of(repeat: int, run) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - start)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("file", nargs="?", type=Path, help="a real Eurostat TSV (default: a synthetic one)")
    args = parser.parse_args()
    if args.file is not None:
        path, label = args.file, f"real {args.file.name}"
    else:
        path, label = (
            synthetic_tsv(Path("/tmp/bench_eurostat_synthetic.tsv")),
            "synthetic TSV (no file given)",
        )
    mapping, correspondence = read_seed("indicator_sources_eurostat"), read_seed("nuts_correspondence")
    regions = read_seed("regions")
    data = path.read_bytes()

    parse_s, cells = best_of(args.repeat, lambda: len(parse_bytes(data, str(path)).cells))
    import_s, rows = best_of(
        args.repeat, lambda: len(import_eurostat_files([path], mapping, correspondence, regions).observations)
    )
    print(f"Eurostat importer on {label}: {len(data) / 1e6:.2f} MB, {rows:,} rows, best of {args.repeat}")
    print(f"  parse only : {parse_s:6.2f} s  {cells / parse_s:>10,.0f} rows/s")
    print(f"  full import: {import_s:6.2f} s  {rows / import_s:>10,.0f} rows/s")


if __name__ == "__main__":
    main()
