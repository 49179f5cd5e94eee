"""SDMX-CSV as Eurostat writes it: version 1.0 (the API, ``DATAFLOW,LAST UPDATE,<dims>,TIME_PERIOD,OBS_VALUE,…``)
and version 2.0 (the API and the data browser, ``STRUCTURE,STRUCTURE_ID[,STRUCTURE_NAME][,ACTION],<dims>,…``),
with or without labels.

Labels come two ways: ``labels=both`` in 1.0 writes ``geo:Geopolitical entity`` headers and ``BE32:Prov. Hainaut``
cells (the code is what precedes the colon); the data browser's 2.0 download adds a label column after every
code column (``geo,Geopolitical entity (reporting),TIME_PERIOD,Time,OBS_VALUE,Observation value,…``). Label
columns are told apart by position, not by their text (labels are in the user's language and contain dots and
commas: «Prov. Hainaut», «Anatoliki Makedonia, Thraki»), and are never read: no label enters a series key.

The dataset is the ``DATAFLOW`` (1.0) or ``STRUCTURE_ID`` (2.0) cell (``ESTAT:NAMA_10R_2GDP(1.0)`` ->
``nama_10r_2gdp``); the release is the latest ``LAST UPDATE`` when there is that column. The delimiter is the
one that splits the header into a row holding ``OBS_VALUE`` (comma; semicolon or tab when re-saved).

Shapes: in, the decoded text of one file; out, a :class:`~.parsed.ParsedTable`, one cell per line (``cell_ref``
``line N``). Raises :class:`~dagster_project.sources.base.SourceError` naming the input (and line) for a header
without ``TIME_PERIOD``/``OBS_VALUE``/``geo``, label columns that do not pair with code columns, a line with
another number of fields than the header, or a file mixing datasets.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from dagster_project.sources.eurostat.parsed import (
    GEO_DIMENSION,
    ContentError,
    ParsedTable,
    check_field_counts,
    empty_cells,
    parse_release_date,
    series_index,
    strip_label,
)

DELIMITERS = (",", ";", "\t")
V1_STRUCTURE = ("DATAFLOW", "LAST UPDATE")
V2_STRUCTURE = ("STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION")
ATTRIBUTES = {"OBS_FLAG": "flag_text", "CONF_STATUS": "conf_text"}


def header_delimiter(first_line: str) -> str | None:
    """The delimiter that splits ``first_line`` into fields one of which is ``OBS_VALUE``; None if none does."""
    for sep in DELIMITERS:
        fields = next(csv.reader([first_line], delimiter=sep), [])
        if "OBS_VALUE" in (strip_label(f) for f in fields):
            return sep
    return None


def parse_sdmx_csv(text: str, what: str) -> ParsedTable:
    """Read SDMX-CSV 1.0 or 2.0, labelled or not (``what`` names the input in errors); see the module docstring."""
    lines = text.replace("\r\n", "\n").split("\n")
    sep = header_delimiter(lines[0])
    if sep is None:
        raise ContentError(f"{what}: line 1: SDMX-CSV header has no OBS_VALUE column")
    header = next(csv.reader([lines[0]], delimiter=sep))
    names = [strip_label(h) for h in header]
    version = "2.0" if names[0] == "STRUCTURE" else "1.0"
    structure = V2_STRUCTURE if version == "2.0" else V1_STRUCTURE
    start = 0
    while start < len(names) and names[start] in structure:
        start += 1
    for required in ("TIME_PERIOD", "OBS_VALUE"):
        if required not in names[start:]:
            raise ContentError(f"{what}: line 1: SDMX-CSV header lacks {required}: {header}")
    time_at, value_at = names.index("TIME_PERIOD", start), names.index("OBS_VALUE", start)
    labelled = value_at != time_at + 1  # a label column follows every code column
    step = 2 if labelled else 1
    if labelled and ((time_at - start) % 2 or (value_at - start) % 2 or value_at != time_at + 2):
        raise ContentError(f"{what}: line 1: SDMX-CSV header mixes code and label columns in a way that does not "
                          f"pair each code column with one label column: {header}")
    dims = [names[i] for i in range(start, time_at, step)]
    if GEO_DIMENSION not in dims:
        raise ContentError(f"{what}: line 1: SDMX-CSV has no geo column among the dimensions {dims}")
    attributes = {names[i]: i for i in range(value_at + step, len(names), step) if names[i] in ATTRIBUTES}
    check_field_counts(lines[1:], sep, len(header), what, quoted='"' in text)

    dataset_col = "STRUCTURE_ID" if version == "2.0" else "DATAFLOW"
    wanted = {i: names[i] for i in range(len(names))
              if names[i] in (*dims, "TIME_PERIOD", "OBS_VALUE", *attributes, dataset_col, "LAST UPDATE")
              and (i < start or (i - start) % step == 0)}
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                            usecols=list(wanted), engine="c")
    except (ValueError, pd.errors.ParserError) as exc:
        raise ContentError(f"{what}: SDMX-CSV cannot be read: {str(exc).strip().splitlines()[-1]}") from exc
    frame.columns = [wanted[i] for i in sorted(wanted)]
    fmt = f"sdmx-csv-{version}"
    if frame.empty:
        return ParsedTable(dataset=None, fmt=fmt, cells=empty_cells(), series={}, dimensions=tuple(
            d for d in dims if d != GEO_DIMENSION), notes=[f"{what}: the file holds no observations"])

    dataset = _dataset(frame, dataset_col, what)
    release = None
    if "LAST UPDATE" in frame.columns:
        release = max((d for d in map(parse_release_date, pd.unique(frame["LAST UPDATE"])) if d), default=None)
    codes = {d: _codes(frame[d]) for d in dims}
    other = [d for d in dims if d != GEO_DIMENSION]
    series_key, series = series_index({d: codes[d] for d in other}, len(frame), what)
    blank = pd.Series("", index=frame.index, dtype=object)
    cells = pd.DataFrame(
        {
            "series_key": series_key,
            "geo": codes[GEO_DIMENSION],
            "time": frame["TIME_PERIOD"].str.strip().to_numpy(dtype=object),
            "value_text": frame["OBS_VALUE"].str.strip().to_numpy(dtype=object),
            "flag_text": _codes(frame.get("OBS_FLAG", blank)),
            "conf_text": _codes(frame.get("CONF_STATUS", blank)),
            "cell_ref": [f"line {n}" for n in range(2, len(frame) + 2)],
            "problem": None,
        },
        dtype=object,
    )
    return ParsedTable(dataset=dataset, fmt=fmt, cells=cells, series=series, dimensions=tuple(other),
                       release=release)


def _codes(column: pd.Series) -> object:
    """The codes of a column as an object array, labels (``BE32:Prov. Hainaut``) cut off where there are any."""
    if column.str.contains(":", regex=False).any():
        column = column.str.split(":", n=1).str[0]
    return column.str.strip().to_numpy(dtype=object)


def _dataset(frame: pd.DataFrame, column: str, what: str) -> str | None:
    """The one dataset the ``DATAFLOW``/``STRUCTURE_ID`` column names (lower case); None without that column."""
    if column not in frame.columns:
        return None
    named = sorted({dataflow_to_dataset(v) for v in pd.unique(frame[column]) if str(v).strip()})
    if len(named) > 1:
        raise ContentError(f"{what}: the file mixes datasets {', '.join(named)} in its {column} column; "
                          "download one dataset per file")
    return named[0] if named else None


def dataflow_to_dataset(dataflow: str) -> str:
    """``ESTAT:PAT_EP_RTOT(1.0)`` -> ``pat_ep_rtot``."""
    code = str(dataflow).split(":", 1)[-1]
    return code.split("(", 1)[0].strip().lower()
