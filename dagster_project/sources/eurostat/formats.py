"""Readers for the file formats Eurostat publishes, each into one long table of cells.

Eurostat has shipped the same statistics in several shapes over the years, and all of them are
still found in archives and inboxes:

* the dissemination API's TSV (``freq,unit,geo\\TIME_PERIOD`` header, ascending years),
* the retired bulk-download TSV (``unit,geo\\time`` header, descending years),
* SDMX-CSV 1.0 (one observation per line, ``OBS_FLAG`` and ``CONF_STATUS`` columns),
* JSON-stat 2.0 from the Statistics API (flat value/status arrays over a dimension cube).

Every reader returns a :class:`ParsedTable`: the cells exactly as published (value text, flag
letters, the time label), where each came from (``cell_ref``), and the dimension codes of each
series. Decoding values and flags, resolving regions and indicators happens once, downstream, in
:mod:`dagster_project.sources.eurostat.mapping`, so the four formats cannot drift apart.
Parsing is vectorised with pandas because a whole dataset is hundreds of thousands of cells.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from dagster_project.settings import max_unpacked_bytes
from dagster_project.sources.base import SourceError

GZIP_MAGIC = b"\x1f\x8b"
GEO_DIMENSION = "geo"
TIME_DIMENSIONS = ("time", "TIME_PERIOD")
# Columns of the long cell table every reader returns.
CELL_COLUMNS = ["series_key", "geo", "time", "value_text", "flag_text", "conf_text", "cell_ref"]


@dataclass
class ParsedTable:
    """One file or response body, as published, in long form."""

    dataset: str | None  # lower-case dataset code when the content names it (SDMX-CSV, JSON-stat)
    fmt: str  # "tsv" | "sdmx-csv" | "json-stat"
    cells: pd.DataFrame  # CELL_COLUMNS, all text
    series: dict[str, dict[str, str]]  # series_key -> {dimension: code}, geo and time excluded
    release: date | None = None  # last update of the data, when the content states it
    notes: list[str] = field(default_factory=list)


def decompress_if_gzip(data: bytes, what: str, limit: int | None = None) -> bytes:
    """Undo gzip when the bytes start with its magic number.

    Eurostat sends ``compressed=true`` bodies as gzip *without* a Content-Encoding header, and
    downloaded files may or may not be compressed, so the content decides, not the name.
    Unpacking stops at ``limit`` bytes (default ``REGIOCODE_MAX_UNPACKED_MB``, see
    :func:`dagster_project.settings.max_unpacked_bytes`): a few kilobytes of
    gzip can expand to gigabytes (a compression bomb), which must be a clear error naming the
    input, not an exhausted machine.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    limit = max_unpacked_bytes() if limit is None else limit
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            unpacked = handle.read(limit + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise SourceError(f"{what}: gzip data is truncated or corrupt ({exc})") from exc
    if len(unpacked) > limit:
        raise SourceError(
            f"{what}: gzip data unpacks to more than {limit / 1e6:.0f} MB (a compression bomb, or a larger "
            "extract than expected: raise REGIOCODE_MAX_UNPACKED_MB); not imported"
        )
    return unpacked


def parse_bytes(data: bytes, what: str) -> ParsedTable:
    """Detect the format of ``data`` (raw or gzip) and parse it. ``what`` names it in errors."""
    raw = decompress_if_gzip(data, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{what}: not UTF-8 text ({exc})") from exc
    fmt = sniff_format(text, what)
    if fmt == "json-stat":
        return parse_json_stat(text, what)
    if fmt == "sdmx-csv":
        return parse_sdmx_csv(text, what)
    return parse_tsv(text, what)


def sniff_format(text: str, what: str) -> str:
    """Tell the formats apart by their first line (file names are not reliable)."""
    stripped = text.lstrip()
    if not stripped:
        raise SourceError(f"{what}: empty content")
    if stripped.startswith("{"):
        return "json-stat"
    first_line = stripped.split("\n", 1)[0]
    if "\t" in first_line and "\\" in first_line.split("\t", 1)[0]:
        return "tsv"
    if first_line.startswith("DATAFLOW") or "OBS_VALUE" in first_line:
        return "sdmx-csv"
    if stripped.startswith("<"):
        raise SourceError(f"{what}: got XML/HTML instead of data: {first_line[:200]!r}")
    raise SourceError(
        f"{what}: unrecognised format; expected Eurostat TSV, SDMX-CSV or JSON-stat, "
        f"first line is {first_line[:200]!r}"
    )


# --------------------------------------------------------------------------------------------
# TSV (current API and retired bulk download)


def _text_frame(text: str, sep: str, **options: Any) -> pd.DataFrame:
    """Every cell of a delimited text as a string: nothing becomes NaN (``:`` and empty cells are data here)."""
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False, engine="c",
                       **options)


def parse_tsv(text: str, what: str) -> ParsedTable:
    """Read Eurostat's TSV: series codes comma-joined in column 1, one column per period.

    The header's first cell names the series dimensions and, after a backslash, the time
    dimension (``freq,unit,geo\\TIME_PERIOD`` now, ``unit,geo\\time`` in the bulk files). Years may
    run either way and carry a trailing space. A cell is ``value``, ``value flags`` or ``:``.
    """
    frame = _text_frame(text, "\t", header=0, quoting=3)
    if frame.shape[1] < 2:
        raise SourceError(f"{what}: TSV has no period columns")
    head = frame.columns[0]
    if "\\" not in head:
        raise SourceError(f"{what}: TSV header {head!r} lacks the 'dims\\time' cell")
    dim_part, _time_name = head.split("\\", 1)
    dims = [d.strip() for d in dim_part.split(",")]
    if GEO_DIMENSION not in dims:
        raise SourceError(f"{what}: TSV header {head!r} has no geo dimension")
    _check_last_line(text, "\t", frame.shape[1], what)
    if len(frame) and not str(frame.iloc[-1, -1]).strip():
        # Eurostat writes ':' for a missing cell, never nothing: an empty last cell is a cut.
        raise SourceError(
            f"{what}: content is truncated: the last line ({len(frame) + 1}) ends in an empty cell"
        )

    wrong = (frame[head].str.count(",") != len(dims) - 1).to_numpy()
    if wrong.any():
        first = int(np.argmax(wrong))
        raise SourceError(
            f"{what}: line {first + 2}: series key {frame[head].iloc[first]!r} does not have the "
            f"{len(dims)} codes of {head!r}"
        )
    geo_at = dims.index(GEO_DIMENSION)
    other = [d for d in dims if d != GEO_DIMENSION]
    split = [[c.strip() for c in key.split(",")] for key in frame[head].to_numpy(dtype=object)]
    geo = np.array([codes[geo_at] for codes in split], dtype=object)
    series_key = pd.Series(
        [".".join(c for i, c in enumerate(codes) if i != geo_at) for codes in split], dtype=object
    )
    series = {
        key: dict(zip(other, key.split("."), strict=True)) if other else {} for key in pd.unique(series_key)
    }

    period_cols = list(frame.columns[1:])
    n_rows, n_cols = len(frame), len(period_cols)
    values = frame[period_cols].to_numpy(dtype=object).ravel()  # row-major: row, then period
    value_text, flag_text = split_value_flag(pd.Series(values, dtype=object))
    line = np.repeat(np.arange(2, n_rows + 2), n_cols)
    col = np.tile(np.arange(2, n_cols + 2), n_rows)
    cells = pd.DataFrame(
        {
            "series_key": np.repeat(series_key.to_numpy(dtype=object), n_cols),
            "geo": np.repeat(geo, n_cols),
            "time": np.tile(np.array([c.strip() for c in period_cols], dtype=object), n_rows),
            "value_text": value_text.to_numpy(dtype=object),
            "flag_text": flag_text.to_numpy(dtype=object),
            "conf_text": None,
            "cell_ref": _refs(line, col),
        },
        dtype=object,
    )
    return ParsedTable(dataset=None, fmt="tsv", cells=cells, series=series)


def _check_last_line(text: str, sep: str, expected: int, what: str) -> None:
    """A last line with fewer fields than the header means the content was cut off.

    (pandas pads short lines silently, so this is checked on the text. Truncation happens at
    the end; a short line elsewhere would be a malformed file, which pandas reports itself when
    it has too many fields.)
    """
    body = text.rstrip("\r\n")
    last = body.rsplit("\n", 1)[-1].rstrip("\r")
    if "\n" not in body:
        return  # header only: an empty result
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    fields = next(csv.reader([last], delimiter=sep, quoting=quoting), [])
    if len(fields) < expected:
        raise SourceError(
            f"{what}: content is truncated or malformed: the last line ({body.count(chr(10)) + 1}) has "
            f"{len(fields)} fields, fewer than the header's {expected}"
        )


def split_value_flag(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split TSV cells such as ``"5400 p"``, ``"23900 "``, ``": c"`` into value text and flags.

    Eurostat separates value and flags with one space. Whatever does not fit is passed on whole
    as value text, so decoding makes it a reject with the original text (nothing is dropped).
    A plain loop over ``str.partition`` is the fastest way here (faster than pandas' regex
    ``extract`` and its Arrow string methods on 300k cells).
    """
    values = [("" if cell is None else str(cell)).strip() for cell in cells.to_numpy(dtype=object)]
    flags = [""] * len(values)
    for i, cell in enumerate(values):
        if " " in cell:  # most cells carry no flag: split only those that do
            value, _, flag = cell.partition(" ")
            values[i], flags[i] = value, flag.strip()
    return pd.Series(values, dtype=object, index=cells.index), pd.Series(
        flags, dtype=object, index=cells.index
    )


def _refs(line: np.ndarray, col: np.ndarray) -> list[str]:
    """``line N col M`` references (a list comprehension beats string arithmetic on Series)."""
    return [f"line {n} col {m}" for n, m in zip(line.tolist(), col.tolist(), strict=True)]


# --------------------------------------------------------------------------------------------
# SDMX-CSV 1.0


def parse_sdmx_csv(text: str, what: str) -> ParsedTable:
    """Read SDMX-CSV 1.0: ``DATAFLOW,LAST UPDATE,<dims>,TIME_PERIOD,OBS_VALUE,OBS_FLAG,...``.

    Missing observations are usually omitted; when present with an empty value, their flag or
    confidentiality status says why. Headers and codes may carry labels (``geo:Geopolitical
    entity`` / ``DE:Germany`` with ``labels=both``); only the code before the colon is kept.
    """
    frame = _text_frame(text, ",")
    frame.columns = [str(c).split(":", 1)[0].strip() for c in frame.columns]
    for required in ("TIME_PERIOD", "OBS_VALUE"):
        if required not in frame.columns:
            raise SourceError(f"{what}: SDMX-CSV header lacks {required}: {list(frame.columns)}")
    _check_last_line(text, ",", frame.shape[1], what)
    cols = list(frame.columns)
    start = cols.index("LAST UPDATE") + 1 if "LAST UPDATE" in cols else (1 if cols[0] == "DATAFLOW" else 0)
    dims = cols[start : cols.index("TIME_PERIOD")]
    if GEO_DIMENSION not in dims:
        raise SourceError(f"{what}: SDMX-CSV has no geo column among {dims}")
    codes = {d: frame[d].str.split(":", n=1).str[0].str.strip() for d in dims}
    other = [d for d in dims if d != GEO_DIMENSION]
    if other:
        series_key = codes[other[0]].astype(object)
        for d in other[1:]:
            series_key = series_key + "." + codes[d].astype(object)
    else:
        series_key = pd.Series("", index=frame.index, dtype=object)
    series = {
        key: dict(zip(other, key.split("."), strict=True)) if other else {} for key in pd.unique(series_key)
    }

    dataset = None
    if "DATAFLOW" in cols and len(frame):
        dataset = dataflow_to_dataset(str(frame["DATAFLOW"].iloc[0]))
    release = None
    if "LAST UPDATE" in cols and len(frame):
        release = max(
            (d for d in map(parse_release_date, pd.unique(frame["LAST UPDATE"])) if d), default=None
        )
    empty = pd.Series("", index=frame.index, dtype=object)
    cells = pd.DataFrame(
        {
            "series_key": series_key.to_numpy(dtype=object),
            "geo": codes[GEO_DIMENSION].to_numpy(dtype=object),
            "time": frame["TIME_PERIOD"].str.strip().to_numpy(dtype=object),
            "value_text": frame["OBS_VALUE"].str.strip().to_numpy(dtype=object),
            "flag_text": (frame["OBS_FLAG"] if "OBS_FLAG" in cols else empty).to_numpy(dtype=object),
            "conf_text": (frame["CONF_STATUS"] if "CONF_STATUS" in cols else empty).to_numpy(dtype=object),
            "cell_ref": [f"line {n}" for n in range(2, len(frame) + 2)],
        },
        dtype=object,
    )
    return ParsedTable(dataset=dataset, fmt="sdmx-csv", cells=cells, series=series, release=release)


def dataflow_to_dataset(dataflow: str) -> str:
    """``ESTAT:PAT_EP_RTOT(1.0)`` -> ``pat_ep_rtot``."""
    code = dataflow.split(":", 1)[-1]
    return code.split("(", 1)[0].strip().lower()


# --------------------------------------------------------------------------------------------
# JSON-stat 2.0


def parse_json_stat(text: str, what: str) -> ParsedTable:
    """Read a JSON-stat 2.0 dataset (Eurostat Statistics API).

    ``value`` and ``status`` are flat over the cube in ``id`` order and may be objects (sparse,
    keyed by position) or arrays. A position listed in either is a published cell; Eurostat's
    status combines the observation flag and the confidentiality status as ``"flags|C"``.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{what}: JSON is truncated or malformed ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("class", "dataset") != "dataset" or "id" not in doc:
        if isinstance(doc, dict) and "error" in doc:
            raise SourceError(f"{what}: the content is an API error: {doc['error']}")
        raise SourceError(f"{what}: not a JSON-stat 2.0 dataset")
    ids: list[str] = list(doc["id"])
    sizes: list[int] = [int(s) for s in doc["size"]]
    categories = [
        _category_codes(doc["dimension"][d]["category"], n) for d, n in zip(ids, sizes, strict=True)
    ]
    time_dim = next((d for d in ids if d in TIME_DIMENSIONS), None)
    if GEO_DIMENSION not in ids or time_dim is None:
        raise SourceError(f"{what}: JSON-stat dimensions {ids} lack geo or time")
    extension = doc.get("extension") or {}
    dataset = str(extension["id"]).lower() if extension.get("id") else None
    release = parse_release_date(doc.get("updated") or _annotation(extension, "UPDATE_DATA"))

    values = _sparse(doc.get("value"))
    status = _sparse(doc.get("status"))
    positions = sorted(set(values) | set(status))
    notes: list[str] = []
    total = int(np.prod(sizes)) if sizes else 0
    if total == 0 or not positions:
        notes.append(f"{what}: the dataset is empty (no observations)")
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in CELL_COLUMNS})
        return ParsedTable(
            dataset=dataset, fmt="json-stat", cells=empty, series={}, release=release, notes=notes
        )
    pos = np.array(positions, dtype=np.int64)
    if pos.max() >= total:
        raise SourceError(f"{what}: value position {pos.max()} outside the cube of {total} cells")
    index = np.unravel_index(pos, sizes)
    code_of = {
        d: np.array(cats, dtype=object)[idx] for d, cats, idx in zip(ids, categories, index, strict=True)
    }
    other = [d for d in ids if d not in (GEO_DIMENSION, time_dim)]
    series_key = pd.Series([""] * len(pos), dtype=object)
    for i, d in enumerate(other):
        part = pd.Series(code_of[d], dtype=object)
        series_key = part if i == 0 else series_key + "." + part
    series = {
        key: dict(zip(other, key.split("."), strict=True)) if other else {} for key in pd.unique(series_key)
    }
    status_text = [str(status.get(p, "")) for p in positions]
    flag_text = [s.split("|", 1)[0] for s in status_text]
    conf_text = [s.split("|", 1)[1] if "|" in s else "" for s in status_text]
    value_text = ["" if values.get(p) is None else repr(values[p]) for p in positions]
    cells = pd.DataFrame(
        {
            "series_key": series_key.to_numpy(dtype=object),
            "geo": code_of[GEO_DIMENSION],
            "time": code_of[time_dim],
            "value_text": value_text,
            "flag_text": flag_text,
            "conf_text": conf_text,
            "cell_ref": [f"value[{p}]" for p in positions],
        },
        dtype=object,
    )
    return ParsedTable(
        dataset=dataset, fmt="json-stat", cells=cells, series=series, release=release, notes=notes
    )


def _category_codes(category: dict, size: int) -> list[str]:
    """Category codes in cube order; ``index`` is an object (code -> position) or an array."""
    index = category.get("index")
    if index is None:  # a single category may be given by its label only
        labels = category.get("label") or {}
        return list(labels)[:size]
    if isinstance(index, list):
        return [str(c) for c in index]
    ordered = [""] * size
    for code, position in index.items():
        ordered[int(position)] = str(code)
    return ordered


def _sparse(section: object) -> dict[int, object]:
    """JSON-stat ``value``/``status``: object keyed by position, array, or a single string."""
    if section is None:
        return {}
    if isinstance(section, dict):
        return {int(k): v for k, v in section.items()}
    if isinstance(section, list):
        return {i: v for i, v in enumerate(section) if v is not None}
    return {}


def _annotation(extension: dict, kind: str) -> str | None:
    for item in extension.get("annotation", []) or []:
        if item.get("type") == kind:
            return item.get("date") or item.get("title")
    return None


# --------------------------------------------------------------------------------------------
# Dates

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
    """A last-update date in any of Eurostat's spellings, as a calendar date (local, as written).

    SDMX-CSV writes ``29/04/16 23:00:00``, the table of contents ``25.04.2024``, JSON-stat
    ``2026-08-01T11:00:00+0200``. Only the date is kept: Eurostat releases at most daily and
    the date is what analysts cite.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    iso = _ISO_PREFIX.match(value)
    if iso:
        return date(int(iso[1]), int(iso[2]), int(iso[3]))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
