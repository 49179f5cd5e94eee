"""Reading one long-format table (CSV or Parquet) into the raw contract, row by row checked.

A row is ``region_code, indicator_code, year, value[, flag, unit, release]``. It becomes an observation
when it is usable, else a reject with its file, row and every reason:

* ``region_code`` must be a code of the region register (``dbt/seeds/regions.csv``);
* ``indicator_code`` is kept as given (``indicator_key``); it is mapped (``indicator_code``) when the
  catalog (``dbt/seeds/indicators.csv``) has it, else kept unmapped, with a note;
* ``year`` is a whole year (four digits);
* ``value`` is a finite number written with a decimal point (``1234.5``, ``-0.25``, ``1.2e3``); an empty
  value is a missing one, whose flag says why (``c``, ``na``, ``none``; ``na`` when none is given);
* ``flag`` is one of the contract's: ``p``, ``e``, ``b``, ``c``, ``na``, ``none``;
* the same region, indicator, year and release twice in a file: the later row is a reject.

The release of a row is its ``release`` cell, else the file's sidecar ``<file>.meta.json``
(``{"release": "2024-05"}``), else the ``release`` the caller gives (the source's setting); never the
file's modification time. A release that is a date (``2024``, ``2024-05``, ``2024-05-31``) is dated at the
end of that period, so later releases supersede earlier ones.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.sources.base import FLAGS, OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch, SourceError

SOURCE = "csv"
REQUIRED = ("region_code", "indicator_code", "year", "value")
OPTIONAL = ("flag", "unit", "release")
META_SUFFIX = ".meta.json"
MISSING_FLAGS = ("c", "na", "none")  # the flags that say why a value is absent
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_NOT_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_YEAR = re.compile(r"^\d{4}$")
_RELEASE_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Reference:
    """What rows are checked against: the register's codes and the catalog's units by indicator."""

    region_codes: frozenset[str]
    catalog_units: Mapping[str, str]


@dataclass(frozen=True)
class RawTable:
    """A file's cells as text (``""`` for empty), the column names lower-cased, with each row's place."""

    cells: pd.DataFrame
    refs: list[str]  # "line 2" (CSV, the header is line 1) or "row 1" (Parquet)


def release_date(label: str | None) -> date | None:
    """The end of the period a release label names (``2024`` → 2024-12-31, ``2024-05`` → 2024-05-31,
    ``2024-05-03`` → itself); None for a label that is not a date (``wave 3``)."""
    found = _RELEASE_DATE.match(label.strip()) if isinstance(label, str) else None
    if not found:
        return None
    year, month, day = int(found[1]), found[2], found[3]
    try:
        if month is None:
            return date(year, 12, 31)
        if day is None:
            return date(year, int(month), calendar.monthrange(year, int(month))[1])
        return date(year, int(month), int(day))
    except ValueError:
        return None


def sidecar_release(path: Path) -> str | None:
    """The ``release`` of the sidecar ``<file>.meta.json`` beside ``path``, if there is one.

    Raises :class:`SourceError` naming the sidecar when it is not JSON or its release is not text.
    """
    meta = path.with_name(path.name + META_SUFFIX)
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SourceError(f"{meta}: not a readable JSON sidecar ({err}); expected {{\"release\": \"2024-05\"}}"
                          ) from None
    release = data.get("release") if isinstance(data, dict) else None
    if release is None:
        return None
    if not isinstance(release, str | int):
        raise SourceError(f"{meta}: \"release\" must be text such as \"2024-05\", not {release!r}")
    return str(release).strip() or None


def read_table(path: Path) -> RawTable:
    """The cells of a ``.csv`` (UTF-8, comma, semicolon or tab separated) or ``.parquet`` file as text.

    Raises :class:`SourceError` naming the file when it cannot be read as such.
    """
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    return _read_csv(path)


def _read_csv(path: Path) -> RawTable:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise SourceError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as CSV UTF-8") from None
    except OSError as err:
        raise SourceError(f"{path}: cannot read ({err})") from None
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise SourceError(f"{path}: empty file: expected a header line {', '.join(REQUIRED)}")
    delimiter = max((",", ";", "\t"), key=header.count)
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    names = [name.strip().lower() for name in rows[0]]
    body = [row for row in rows[1:]]
    lines = [f"line {number}" for number in range(2, len(body) + 2)]
    keep = [i for i, row in enumerate(body) if any(cell.strip() for cell in row)]  # blank lines are not rows
    wrong = [lines[i] for i in keep if len(body[i]) != len(names)]
    if wrong:
        raise SourceError(f"{path}: {len(wrong)} row(s) do not have the header's {len(names)} fields "
                          f"(first: {wrong[0]}); is the separator {delimiter!r} used inside a value without quotes?")
    frame = pd.DataFrame([[cell.strip() for cell in body[i]] for i in keep], columns=names, dtype=object)
    return RawTable(frame if len(frame) else pd.DataFrame(columns=names, dtype=object), [lines[i] for i in keep])


def _read_parquet(path: Path) -> RawTable:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise SourceError(f"{path}: not a readable Parquet file ({err})") from None
    columns = {}
    for name in table.column_names:
        year = name.strip().lower() == "year"
        columns[name.strip().lower()] = [_text(value, year) for value in table.column(name).to_pylist()]
    frame = pd.DataFrame(columns, dtype=object)
    return RawTable(frame, [f"row {number}" for number in range(1, len(frame) + 1)])


def _text(value: object, whole: bool = False) -> str:
    """A Parquet cell as the text a CSV would hold (a float year 2023.0 as "2023"; a float as Python
    writes it, so that it reads back exactly)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if whole and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def import_table(path: Path, reference: Reference, release: str | None = None) -> ImportBatch:
    """One long-format file as an :class:`ImportBatch` of the ``csv`` source (``release``: the release of
    rows that name none, when there is no sidecar either).

    The dataset is the file's name without suffix; the table code of a row is its indicator as given.
    Raises :class:`SourceError` naming the file when it cannot be read or lacks a required column.
    """
    raw = read_table(path)
    cells = raw.cells
    missing = [name for name in REQUIRED if name not in cells.columns]
    if missing:
        raise SourceError(f"{path}: missing column(s) {', '.join(missing)}; a long-format file has the columns "
                          f"{', '.join(REQUIRED)}[, {', '.join(OPTIONAL)}] (found: {', '.join(cells.columns)})")
    notes = []
    ignored = [name for name in cells.columns if name not in REQUIRED + OPTIONAL]
    if ignored:
        notes.append(f"{path.name}: columns ignored: {', '.join(ignored)}")
    for name in OPTIONAL:
        if name not in cells.columns:
            cells[name] = ""
    file_release = sidecar_release(path) or (release or "").strip() or None
    releases = pd.Series([given or file_release for given in cells["release"]], index=cells.index, dtype=object)
    if releases.isna().any():
        notes.append(f"{path.name}: {int(releases.isna().sum())} row(s) without a release: give a release column, "
                     f"a {path.name}{META_SUFFIX} sidecar or the source's release setting, so that a corrected "
                     "file supersedes this one")
    checked = _check_rows(cells, releases, reference)
    rows = _rows(cells, checked, releases, raw.refs, path, list(reference.catalog_units))
    good = checked["problem"] == ""
    observations = rows.loc[good, list(OBSERVATION_COLUMNS)]
    rejects = rows.loc[~good, list(REJECT_COLUMNS)]
    unmapped = sorted(set(cells.loc[good, "indicator_code"]) - set(reference.catalog_units))
    if unmapped:
        notes.append(f"{path.name}: indicator codes not in the catalog, kept unmapped (indicator_key only; add "
                     f"them to dbt/seeds/indicators.csv to use them in the codes): {', '.join(unmapped)}")
    notes.extend(_unit_notes(observations, reference, path))
    undated = sorted({r for r in releases[good].dropna() if release_date(r) is None})
    if undated:
        notes.append(f"{path.name}: release(s) {', '.join(undated)} are not dates (YYYY, YYYY-MM, YYYY-MM-DD): "
                     "they do not order against other releases")
    notes.append(f"{path.name}: {len(observations)} observations, {len(rejects)} rejects")
    return ImportBatch(source=SOURCE, observations=observations, rejects=rejects, notes=notes, files=[path])


def _check_rows(cells: pd.DataFrame, releases: pd.Series, reference: Reference) -> pd.DataFrame:
    """Per row: value (float or NaN), flag (contract flag or None) and problem ("" when usable)."""
    values, flags, problems = [], [], []
    seen: dict[tuple, int] = {}
    rows = zip(cells["region_code"], cells["indicator_code"], cells["year"], cells["value"], cells["flag"],
               releases, strict=True)
    for position, (region, indicator, year, text, flag_text, release) in enumerate(rows):
        reasons = []
        if region not in reference.region_codes:
            reasons.append(f"region_code {region!r} is not in the region register (dbt/seeds/regions.csv)")
        if not indicator:
            reasons.append("indicator_code is empty")
        if not _YEAR.match(year):
            reasons.append(f"year {year!r} is not a year (four digits)")
        flag = flag_text.strip().lower() or None
        if flag is not None and flag not in FLAGS:
            reasons.append(f"flag {flag_text!r} is not one of {', '.join(sorted(FLAGS))}")
        value = math.nan
        if not text:
            if flag is None:
                flag = "na"
            elif flag not in MISSING_FLAGS:
                reasons.append(f"the value is empty, but flag {flag} marks a published value "
                               f"(an absent one is flagged {', '.join(MISSING_FLAGS)})")
        elif text.lower() in _NOT_FINITE:
            reasons.append(f"value {text!r} is not a finite number")
        elif not _NUMBER.match(text):
            reasons.append(f"value {text!r} is not a number (write it with a decimal point, no thousands separators)")
        else:
            value = float(text)
            if not math.isfinite(value):
                reasons.append(f"value {text!r} is not a finite number")
        key = (region, indicator, year, release)
        if not reasons:
            if key in seen:
                reasons.append(f"the same region, indicator, year and release as an earlier row ({seen[key]})")
            else:
                seen[key] = position
        values.append(value)
        flags.append(flag)
        problems.append("; ".join(reasons))
    return pd.DataFrame({"value": values, "flag": flags, "problem": problems}, index=cells.index)


def _rows(cells: pd.DataFrame, checked: pd.DataFrame, releases: pd.Series, refs: list[str], path: Path,
          catalog: list[str]) -> pd.DataFrame:
    """Every row with the columns of both contracts: a usable row is kept with those of raw.observations, a
    rejected one with those of raw.rejects (its text as given and its reasons)."""
    retrieved = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)  # not the release
    return pd.DataFrame({
        "source": SOURCE,
        "dataset": path.stem,
        "table_code": cells["indicator_code"],
        "region_key": cells["region_code"],
        "region_code": cells["region_code"],
        "indicator_key": cells["indicator_code"],
        "indicator_code": cells["indicator_code"].where(cells["indicator_code"].isin(catalog), None),
        "period": pd.to_numeric(cells["year"].where(cells["year"].map(lambda y: bool(_YEAR.match(y)))),
                                errors="coerce").astype("Int64"),
        "value": checked["value"],
        "flag": checked["flag"],
        "unit": cells["unit"].where(cells["unit"] != "", None),
        "release": releases,
        "release_date": releases.map(release_date),
        "retrieved_at": retrieved,
        "origin": str(path),
        "cell_ref": refs,
        "raw_value": [" | ".join(row) for row in cells[list(REQUIRED) + ["flag"]].itertuples(index=False)],
        "reason": checked["problem"],
    }, index=cells.index)


def _unit_notes(observations: pd.DataFrame, reference: Reference, path: Path) -> list[str]:
    """A note per catalog indicator given in another unit than the catalog's (values are used as given)."""
    if observations.empty:
        return []
    given = observations.dropna(subset=["unit"]).groupby("indicator_key")["unit"].first()
    return [
        f"{path.name}: {indicator} is given in {unit!r}, the catalog's unit is {reference.catalog_units[indicator]!r}: "
        "the values are used as given (convert them to the catalog unit)"
        for indicator, unit in given.items()
        if indicator in reference.catalog_units
        and unit.strip().lower() != reference.catalog_units[indicator].strip().lower()
    ]
