"""Eurostat's TSV: the dissemination API's (``freq,unit,geo\\TIME_PERIOD``, years ascending, since 2023) and the
retired bulk download's (``unit,geo\\time``, years descending, until 2023).

The first column joins a series' codes with commas, in the order the header's first cell names the
dimensions; after a backslash it names the time dimension. One column per period follows (``2014 `` with a
trailing space). A cell is ``value``, ``value flags`` (``5400 p``, ``23900 bp``) or ``:`` / ``: c`` for a
missing one; Eurostat never writes an empty cell, so an empty one is reported as a problem of that cell.

Shapes: in, the decoded text of one file; out, a :class:`~.parsed.ParsedTable` with one cell per series and
period (``cell_ref`` ``line N col M``, 1-based, the header being line 1). Raises
:class:`~dagster_project.sources.base.SourceError` naming the input and line for a header without the
``dims\\time`` cell or a geo dimension, a line with another number of fields than the header, a series key
with another number of codes than the header names, a period column twice, or a last cell left empty (a cut).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagster_project.sources.eurostat.parsed import (
    GEO_DIMENSION,
    ContentError,
    ParsedTable,
    check_field_counts,
    empty_cells,
    series_index,
)

API_TIME = "TIME_PERIOD"  # the API's TSV
BULK_TIME = "time"  # the retired bulk download's TSV


def parse_tsv(text: str, what: str) -> ParsedTable:
    """Read an API or bulk-download TSV (``what`` names the input in errors); see the module docstring."""
    lines = text.replace("\r\n", "\n").split("\n")
    header = lines[0].split("\t")
    head = header[0]
    if "\\" not in head:
        raise ContentError(f"{what}: line 1: TSV header {head!r} lacks the 'dimensions\\time' cell")
    dim_part, time_name = head.split("\\", 1)
    time_name = time_name.strip()
    if time_name not in (API_TIME, BULK_TIME):
        raise ContentError(f"{what}: line 1: TSV time dimension {time_name!r} is neither {API_TIME} (API) "
                          f"nor {BULK_TIME} (bulk download)")
    dims = [d.strip() for d in dim_part.split(",")]
    if GEO_DIMENSION not in dims:
        raise ContentError(f"{what}: line 1: TSV header {head!r} has no geo dimension")
    periods = [p.strip() for p in header[1:]]
    if not periods:
        raise ContentError(f"{what}: line 1: TSV has no period columns")
    repeated = sorted({p for p in periods if periods.count(p) > 1})
    if repeated:
        raise ContentError(f"{what}: line 1: period column(s) {', '.join(repeated)} appear twice")
    body = lines[1:]
    check_field_counts(body, "\t", len(header), what, quoted=False)
    while body and not body[-1].strip():
        body.pop()
    fmt = "api-tsv" if time_name == API_TIME else "bulk-tsv"
    other = [d for d in dims if d != GEO_DIMENSION]
    if not body:
        return ParsedTable(dataset=None, fmt=fmt, cells=empty_cells(), series={}, dimensions=tuple(other),
                           notes=[f"{what}: the file holds no series (header only)"])

    rows = [line.split("\t") for line in body]
    if not rows[-1][-1].strip():  # Eurostat writes ':' for a missing cell, never nothing: a cut
        raise ContentError(f"{what}: line {len(rows) + 1}: the last line ends in an empty cell (the content is "
                          "truncated)")
    keys = [[code.strip() for code in row[0].split(",")] for row in rows]
    for number, codes in enumerate(keys, start=2):
        if len(codes) != len(dims):
            raise ContentError(f"{what}: line {number}: series key {rows[number - 2][0]!r} does not have the "
                              f"{len(dims)} codes of {head!r}")
    n_rows, n_cols = len(rows), len(periods)
    geo_at = dims.index(GEO_DIMENSION)
    series_key, series = series_index(
        {d: [codes[dims.index(d)] for codes in keys] for d in other}, n_rows, what)
    cells_text = np.array([row[1:] for row in rows], dtype=object).ravel()  # row-major: row, then period
    value_text, flag_text = split_value_flag(cells_text)
    empty = np.array([not v for v in value_text.tolist()], dtype=bool)
    problem = np.where(empty, "empty cell (Eurostat writes ':' for a missing value)", None)
    line_part = np.array([f"line {n} col " for n in range(2, n_rows + 2)], dtype=object)
    col_part = np.array([str(m) for m in range(2, n_cols + 2)], dtype=object)
    cells = pd.DataFrame(
        {
            "series_key": np.repeat(series_key, n_cols),
            "geo": np.repeat(np.array([codes[geo_at] for codes in keys], dtype=object), n_cols),
            "time": np.tile(np.array(periods, dtype=object), n_rows),
            "value_text": value_text,
            "flag_text": flag_text,
            "conf_text": None,
            "cell_ref": np.repeat(line_part, n_cols) + np.tile(col_part, n_rows),  # line N col M
            "problem": problem,
        },
        dtype=object,
    )
    return ParsedTable(dataset=None, fmt=fmt, cells=cells, series=series, dimensions=tuple(other))


def split_value_flag(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split TSV cells such as ``"5400 p"``, ``"23900 "``, ``": c"`` into value text and flag letters.

    Eurostat separates value and flags with one space. Whatever does not fit is passed on whole as value
    text, so decoding makes it a reject with the original text (nothing is dropped). A plain loop over
    ``str.partition`` is the fastest way here (faster than pandas' regex ``extract`` on 300k cells).
    """
    values = [("" if cell is None else str(cell)).strip() for cell in cells.tolist()]
    flags = [""] * len(values)
    for i, cell in enumerate(values):
        if " " in cell:  # most cells carry no flag: split only those that do
            value, _, flag = cell.partition(" ")
            values[i], flags[i] = value, flag.strip()
    return np.array(values, dtype=object), np.array(flags, dtype=object)
