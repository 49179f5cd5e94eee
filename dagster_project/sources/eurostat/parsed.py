"""What every Eurostat reader returns, and the helpers the readers share (dates, series, field counts).

A reader turns one file or response body into a :class:`ParsedTable`: every cell exactly as published (value
text, flag letters, confidentiality status, the period label), where it was (``cell_ref``: ``line 14 col 3``,
``line 14``, ``value[42]``), and the codes of its series. Decoding values and flags, naming series, resolving
regions and indicators happens once, downstream, in :mod:`.mapping`, so the formats cannot drift apart.

Content that cannot be read raises :class:`ContentError` (a :class:`~dagster_project.sources.base.SourceError`)
with one line naming the input and, where there is one, the line: nothing in a file's content is a transient
failure, and the error says so (``transient = False``) to the failure policy.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from dagster_project.sources.base import SourceError


class ContentError(SourceError):
    """A file's or body's content cannot be read: the same however often it is read, so never retried."""

    transient = False


GEO_DIMENSION = "geo"
TIME_DIMENSIONS = ("TIME_PERIOD", "time")
# Columns of the long cell table every reader returns (all text; ``problem`` is None or why the cell
# cannot be used as published, e.g. an empty TSV cell where Eurostat always writes ':').
CELL_COLUMNS = ["series_key", "geo", "time", "value_text", "flag_text", "conf_text", "cell_ref", "problem"]
SERIES_SEPARATOR = "\x1f"  # joins a series' codes into the reader's internal key (never in a code)

# The era of a format, for files that state no release: the retired bulk download (``unit,geo\time``
# TSV) ran until 2023; the SDMX 2.1 dissemination API (its TSV, SDMX-CSV, and the Statistics API's
# JSON-stat 2.0) opened on 1 February 2023. A bulk file predates every API file.
ERA_BULK = "bulk"
ERA_API = "api"
API_ERA_START = date(2023, 2, 1)


@dataclass
class ParsedTable:
    """One file or response body, as published, in long form.

    ``series`` maps the reader's series key (the codes joined by :data:`SERIES_SEPARATOR`) to the series'
    dimension codes, ``{dimension: code}``, geo and time excluded; ``dimensions`` lists those dimensions in
    the file's order. ``release`` is the last update of the data when the content states it (SDMX-CSV
    ``LAST UPDATE``, JSON-stat ``updated``), else None.
    """

    dataset: str | None  # lower-case dataset code when the content names it (SDMX-CSV, JSON-stat)
    fmt: str  # "api-tsv" | "bulk-tsv" | "sdmx-csv-1.0" | "sdmx-csv-2.0" | "json-stat-2.0"
    cells: pd.DataFrame  # CELL_COLUMNS
    series: dict[str, dict[str, str]]
    dimensions: tuple[str, ...] = ()
    release: date | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def era(self) -> str:
        """:data:`ERA_BULK` for the retired bulk-download TSV, :data:`ERA_API` for every other format."""
        return ERA_BULK if self.fmt == "bulk-tsv" else ERA_API


def empty_cells() -> pd.DataFrame:
    """A cell table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CELL_COLUMNS})


def series_index(codes: Mapping[str, Sequence[str]], n: int, what: str) -> tuple[np.ndarray, dict[str, dict[str, str]]]:
    """The series key of each of ``n`` cells and the codes of each series, from one code array per dimension.

    The key joins the codes with :data:`SERIES_SEPARATOR`; a code holding that character (it never occurs
    in Eurostat's codes) raises :class:`SourceError` rather than produce a key that splits wrongly.
    """
    dims = list(codes)
    if not dims:
        return np.full(n, "", dtype=object), ({"": {}} if n else {})
    arrays = [np.asarray(codes[d], dtype=object) for d in dims]
    keys = pd.Series(arrays[0], dtype=object)
    for array in arrays[1:]:
        keys = keys + SERIES_SEPARATOR + pd.Series(array, dtype=object)
    key_array = keys.to_numpy(dtype=object)
    labels, unique = pd.factorize(key_array)
    first = np.unique(labels, return_index=True)[1]  # the first cell of each series (integer labels: fast)
    series: dict[str, dict[str, str]] = {}
    for key, at in zip(unique.tolist(), first.tolist(), strict=True):
        if key.count(SERIES_SEPARATOR) != len(dims) - 1:
            raise ContentError(f"{what}: a series code contains a control character (series {key!r})")
        series[key] = {d: str(a[at]) for d, a in zip(dims, arrays, strict=True)}
    return key_array, series


def check_field_counts(lines: Sequence[str], sep: str, expected: int, what: str, quoted: bool) -> None:
    """Every line (after the header, line 1) must have the header's number of fields.

    A short last line means the content was cut off; a short or long line elsewhere, a malformed file.
    Empty lines at the end are allowed. ``quoted``: fields may be quoted (CSV), so count with the csv module.
    """
    body = list(lines)
    while body and not body[-1].strip():
        body.pop()
    if quoted:
        counts = [len(row) for row in csv.reader(body, delimiter=sep)]
    else:
        counts = [line.count(sep) + 1 for line in body]
    for number, count in enumerate(counts, start=2):
        if count != expected:
            cut = " (the content is truncated)" if number == len(counts) + 1 and count < expected else ""
            raise ContentError(
                f"{what}: line {number} has {count} fields, the header has {expected}{cut}"
            )


def strip_label(code: str) -> str:
    """``BE32:Prov. Hainaut`` (SDMX-CSV with ``labels=both``) -> ``BE32``; a plain code stays as it is."""
    return code.split(":", 1)[0].strip()


_DATE_FORMATS = (
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d",
    "%d/%m/%y",
    "%d/%m/%Y",
)
_ISO_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def parse_release_date(text: object) -> date | None:
    """A last-update date in any of Eurostat's spellings, as a calendar date (local, as written); None if none.

    SDMX-CSV writes ``29/04/16 23:00:00``, the table of contents ``25.04.2024``, JSON-stat
    ``2026-08-01T11:00:00+0200``. Only the date is kept: Eurostat releases at most twice a day and the date is
    what analysts cite.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    iso = _ISO_PREFIX.match(value)
    if iso:
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
