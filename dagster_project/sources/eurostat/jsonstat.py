"""JSON-stat 2.0 datasets, as Eurostat's Statistics API writes them (``…/statistics/1.0/data/{dataset}``).

A dataset is a cube: ``id`` names the dimensions in order, ``size`` their number of categories, each
``dimension[d].category.index`` gives a category's position (an object ``code -> position`` or an array of
codes). ``value`` and ``status`` are flat over the cube in ``id`` order (row-major, the last dimension fastest)
and may be sparse objects keyed by the position as a string, arrays of the cube's length, or (``status``) one
string for every cell. Eurostat's status joins the observation flag and the confidentiality status: ``p``,
``|C``, ``e|C``.

Everything is checked against the document's own ``id`` and ``size`` before anything is built: ``size`` the
length of ``id`` and non-negative integers; every dimension present with as many categories as its size and
positions inside it; the cube at most :data:`MAX_CUBE_CELLS` cells (checked first, so a 450-byte document
declaring a billion cells allocates nothing); every ``value``/``status`` key a whole number inside the cube.
Any failure raises :class:`~dagster_project.sources.base.SourceError` saying which member is wrong.

Shapes: in, the decoded text; out, a :class:`~.parsed.ParsedTable` with one cell per position listed in
``value`` or ``status`` (``cell_ref`` ``value[N]``). Values keep their text as written (``78.1``, ``1e309``,
the ``Infinity`` and ``NaN`` literals Python's JSON reader accepts), so decoding rejects what is not a finite
number with the text as published.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd

from dagster_project.sources.eurostat.parsed import (
    GEO_DIMENSION,
    ContentError,
    ParsedTable,
    empty_cells,
    parse_release_date,
    series_index,
)

# The largest cube a document may declare (cells of the dense cube, observed or not): ten times the 5 million
# observations one request may extract from the API (larger requests get 413 EXTRACTION_TOO_BIG).
MAX_CUBE_CELLS = 50_000_000
JSON_TIME_DIMENSIONS = ("time", "TIME_PERIOD")
_POSITION = re.compile(r"\d+")


def parse_json_stat(text: str, what: str) -> ParsedTable:
    """Read and validate a JSON-stat 2.0 dataset (``what`` names the input in errors); see the module docstring."""
    try:  # numbers that may be values keep their text as published (1e309 stays 1e309, not inf)
        doc = json.loads(text, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise ContentError(f"{what}: JSON is truncated or malformed (line {exc.lineno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise ContentError(f"{what}: JSON is nested too deeply to be a JSON-stat dataset") from exc
    if isinstance(doc, dict) and "error" in doc and "id" not in doc:
        raise ContentError(f"{what}: the content is an API error: {_error_text(doc['error'])}")
    if not isinstance(doc, dict) or doc.get("class", "dataset") != "dataset" or "id" not in doc:
        raise ContentError(f"{what}: not a JSON-stat 2.0 dataset (no 'id', or 'class' is not 'dataset')")
    ids, sizes = _ids_and_sizes(doc, what)
    total = math.prod(sizes)
    if total > MAX_CUBE_CELLS:
        raise ContentError(f"{what}: JSON-stat declares a cube of {total:,} cells (size {sizes}), more than the "
                          f"{MAX_CUBE_CELLS:,} a Statistics API response can hold; not imported")
    time_dim = next((d for d in ids if d in JSON_TIME_DIMENSIONS), None)
    if GEO_DIMENSION not in ids or time_dim is None:
        raise ContentError(f"{what}: JSON-stat dimensions {ids} lack geo or time")
    dimension = doc.get("dimension")
    if not isinstance(dimension, dict):
        raise ContentError(f"{what}: JSON-stat has no 'dimension' object")
    categories = [_category_codes(dimension.get(d), d, n, what) for d, n in zip(ids, sizes, strict=True)]
    extension = doc.get("extension") if isinstance(doc.get("extension"), dict) else {}
    dataset = str(extension["id"]).lower() if extension.get("id") else None
    release = parse_release_date(doc.get("updated") or _annotation(extension, "UPDATE_DATA"))
    other = tuple(d for d in ids if d not in (GEO_DIMENSION, time_dim))

    values = _cells(doc.get("value"), "value", total, what)
    status = _cells(doc.get("status"), "status", total, what)
    positions = sorted(set(values) | set(status))
    if total == 0 or not positions:
        return ParsedTable(dataset=dataset, fmt="json-stat-2.0", cells=empty_cells(), series={}, dimensions=other,
                           release=release, notes=[f"{what}: the dataset is empty (no observations)"])
    index = np.unravel_index(np.array(positions, dtype=np.int64), sizes)
    code_of = {d: np.array(cats, dtype=object)[idx] for d, cats, idx in zip(ids, categories, index, strict=True)}
    series_key, series = series_index({d: code_of[d] for d in other}, len(positions), what)
    status_text = [str(status.get(p) or "") for p in positions]
    cells = pd.DataFrame(
        {
            "series_key": series_key,
            "geo": code_of[GEO_DIMENSION],
            "time": code_of[time_dim],
            "value_text": [_value_text(values.get(p)) for p in positions],
            "flag_text": [s.split("|", 1)[0] for s in status_text],
            "conf_text": [s.split("|", 1)[1] if "|" in s else "" for s in status_text],
            "cell_ref": [f"value[{p}]" for p in positions],
            "problem": None,
        },
        dtype=object,
    )
    return ParsedTable(dataset=dataset, fmt="json-stat-2.0", cells=cells, series=series, dimensions=other,
                       release=release)


def _ids_and_sizes(doc: dict, what: str) -> tuple[list[str], list[int]]:
    """``id`` (dimension names) and ``size`` (their category counts), checked against each other."""
    ids, sizes = doc.get("id"), doc.get("size")
    if not isinstance(ids, list) or not ids or not all(isinstance(d, str) and d for d in ids):
        raise ContentError(f"{what}: JSON-stat 'id' must be a list of dimension names, got {_short(ids)}")
    if len(set(ids)) != len(ids):
        raise ContentError(f"{what}: JSON-stat 'id' names a dimension twice: {ids}")
    if not isinstance(sizes, list) or len(sizes) != len(ids):
        raise ContentError(f"{what}: JSON-stat 'size' {_short(sizes)} does not match 'id' {ids} (one count per "
                          "dimension)")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes):
        raise ContentError(f"{what}: JSON-stat 'size' {_short(sizes)} must hold whole numbers of categories")
    return ids, sizes


def _category_codes(spec: object, name: str, size: int, what: str) -> list[str]:
    """The category codes of one dimension in cube order, checked against its ``size``."""
    category = spec.get("category") if isinstance(spec, dict) else None
    if not isinstance(category, dict):
        raise ContentError(f"{what}: JSON-stat dimension {name!r} has no category")
    index = category.get("index")
    if index is None:  # a single category may be given by its label only
        labels = category.get("label")
        codes = list(labels) if isinstance(labels, dict) else []
    elif isinstance(index, list):
        codes = [str(c) for c in index]
    elif isinstance(index, dict):
        codes = [""] * len(index)
        for code, position in index.items():
            if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(index):
                raise ContentError(f"{what}: JSON-stat dimension {name!r}: category {code!r} has index "
                                  f"{_short(position)}, outside 0..{len(index) - 1}")
            if codes[position]:
                raise ContentError(f"{what}: JSON-stat dimension {name!r}: two categories share index {position}")
            codes[position] = str(code)
    else:
        raise ContentError(f"{what}: JSON-stat dimension {name!r}: category index is neither an object nor a list")
    if len(codes) != size:
        raise ContentError(f"{what}: JSON-stat dimension {name!r} lists {len(codes)} categories, its size says {size}")
    return codes


def _cells(section: object, name: str, total: int, what: str) -> dict[int, object]:
    """``value``/``status`` as position -> entry: an object keyed by position, an array, or one string."""
    if section is None:
        return {}
    if isinstance(section, str) and name == "status":
        return {p: section for p in range(total)} if section else {}
    if isinstance(section, list):
        if len(section) != total:
            raise ContentError(f"{what}: JSON-stat {name} array has {len(section)} entries, the cube {total} cells")
        return {i: v for i, v in enumerate(section) if v is not None}
    if not isinstance(section, dict):
        raise ContentError(f"{what}: JSON-stat {name} is neither an object nor an array")
    out: dict[int, object] = {}
    for key, entry in section.items():
        if not _POSITION.fullmatch(key):
            raise ContentError(f"{what}: JSON-stat {name} key {key!r} is not a cell position (a whole number)")
        position = int(key)
        if position >= total:
            raise ContentError(f"{what}: JSON-stat {name} key {key} is outside the cube of {total} cells")
        out[position] = entry
    return out


def _value_text(value: object) -> str:
    """A cell's value as text: '' for null (missing), Python's spelling of a number, the text of anything else."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()


def _annotation(extension: dict, kind: str) -> str | None:
    for item in extension.get("annotation", []) or []:
        if isinstance(item, dict) and item.get("type") == kind:
            return item.get("date") or item.get("title")
    return None


def _error_text(error: object) -> str:
    """The label of Eurostat's error body (``{"error": [{"status": 413, "label": "EXTRACTION_TOO_BIG: …"}]}``)."""
    items = error if isinstance(error, list) else [error]
    labels = [str(i.get("label") or i) if isinstance(i, dict) else str(i) for i in items]
    return "; ".join(labels)[:300]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
