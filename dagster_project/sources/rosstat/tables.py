"""Importer for Rosstat's yearbook «Регионы России. Социально-экономические показатели» (xlsx/xls).

One workbook per section; its first sheet lists the section's tables, every other sheet is one table
named by its code («8.1.»): title row, units row, a header row of years, then one row per territory
in Rosstat's order (RF total, each federal district followed by its subjects, nested autonomous
okrugs), then footnotes. The layout of a sheet is read by ``layout``, cells by ``cells``, territory
names by ``names``; the result is the raw contract of :mod:`dagster_project.sources.base`.

Every table in the region × year layout is imported, mapped to the catalog or not; a table in
another layout is skipped with a note; a territory name the register does not know is a reject.
Nested rows (an oblast with and without its okrugs, districts, the RF total) each keep their own
region code: nothing is summed here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from dagster_project.seeds import read_seed

from ..base import OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch, SourceError
from .cells import DEFAULT_MAX_UNCOMPRESSED_BYTES, Cell, Workbook, open_workbook, parse_cell
from .layout import (
    clean_text,
    find_header_row,
    footnotes,
    has_data,
    normalize_table_code,
    read_contents,
    read_layout,
    release_from,
    table_title,
    unit_from_title,
)
from .names import RegionMatcher, normalize_name

SOURCE = "rosstat"
DATASET = "regions_of_russia"
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
MAPPING_SEED = "indicator_sources_rosstat"


# Rows that are parts of the RF total but not territories (2.15: civil servants «на федеральном
# уровне» / «на региональном уровне»; 1.23–1.24: «Межрегиональное управление», persons registered
# by the Interregional Directorate). They are kept as breakdowns of the RF row (region RU, the
# label appended to indicator_key) rather than rejected or forced onto a region.
NON_TERRITORIAL_COMPONENTS = frozenset(
    normalize_name(label)
    for label in ("на федеральном уровне", "на региональном уровне", "Межрегиональное управление")
)


_FOOTNOTE_ROW = re.compile(r"^\s*(?:\d{1,2}\)|[¹²³⁴⁵⁶⁷⁸⁹⁰]+⁾|\*+\)|[_¾=~\-–—]{3,})")
_SEPARATOR_ROW = re.compile(r"^\s*[_¾=~\-–—]{3,}\s*$")
_LABEL_ROW = re.compile(r"^в том числе|^из (?:них|него)|^включая")
_CONFIDENTIAL = "конфиденц"


@dataclass
class SheetResult:
    """What one sheet gave: observations as tuples, rejects as dicts, notes."""

    observations: list[tuple] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    imported: bool = False
    other_layout: bool = False  # a table sheet, but not region × year (skipped with a note)


# --------------------------------------------------------------------------- catalog mapping


@dataclass(frozen=True)
class Mapping:
    """How one table maps to the catalog: indicator and the factor into the catalog unit."""

    indicator_code: str
    scale: float
    unit_as_published: str | None


def mapping_by_table(mapping: pd.DataFrame | None) -> dict[str, Mapping]:
    """Index ``indicator_sources_rosstat.csv`` rows by normalised table code (rows without one skip)."""
    result: dict[str, Mapping] = {}
    if mapping is None or mapping.empty:
        return result
    for row in mapping.to_dict("records"):
        code = normalize_table_code(row.get("table_code"))
        if not code or not isinstance(row.get("indicator_code"), str):
            continue
        scale = pd.to_numeric(row.get("scale"), errors="coerce")
        unit = row.get("unit_as_published")
        result[code] = Mapping(
            row["indicator_code"],
            1.0 if pd.isna(scale) else float(scale),
            unit if isinstance(unit, str) and unit.strip() else None,
        )
    return result


# --------------------------------------------------------------------------- the importer


@dataclass
class _Context:
    """Per-file facts every row needs."""

    path: Path
    release: str | None
    retrieved_at: datetime
    matcher: RegionMatcher
    mapping: dict[str, Mapping]
    contents: dict[str, str]
    origin: str = ""

    def __post_init__(self) -> None:
        self.origin = str(self.path)


def import_rosstat(
    paths: list[Path],
    regions: pd.DataFrame,
    mapping: pd.DataFrame,
    release: str | None = None,
    release_date: date | None = None,
    *,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> ImportBatch:
    """Import yearbook workbooks (files or folders of them) into one :class:`ImportBatch`.

    ``regions`` is the register (``dbt/seeds/regions.csv``), ``mapping`` the catalog mapping
    (``dbt/seeds/indicator_sources_rosstat.csv``). ``release`` defaults to the edition year read
    from the file name, its folder or its title rows («2023»). A file that cannot be read at all
    raises :class:`SourceError` naming it; a sheet that cannot be used becomes a note.
    """
    matcher = RegionMatcher(regions)
    by_table = mapping_by_table(mapping)
    observations: list[dict] = []
    rejects: list[dict] = []
    notes: list[str] = []
    for path in expand_paths(paths):
        result = _import_file(path, matcher, by_table, release, max_uncompressed_bytes)
        observations.extend(result.observations)
        rejects.extend(result.rejects)
        notes.extend(result.notes)
    frame = observations_frame(observations, release_date)
    return ImportBatch(
        source=SOURCE,
        observations=frame,
        rejects=pd.DataFrame(rejects, columns=list(REJECT_COLUMNS)),
        notes=notes,
    )


_ARROW_TYPES = {
    "INTEGER": pa.int64(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
}


def observations_frame(rows: list[tuple], release_date: date | None) -> pd.DataFrame:
    """Observation tuples → DataFrame, column by column through Arrow (3× faster than pandas' inference)."""
    names = list(OBSERVATION_COLUMNS)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    arrays = {}
    for name, values in zip(names, columns, strict=True):
        kind = _ARROW_TYPES.get(OBSERVATION_COLUMNS[name], pa.string())
        if name == "release_date":
            values = [release_date] * len(rows)
        arrays[name] = pa.array(values, type=kind)
    frame = pa.table(arrays).to_pandas()
    frame["period"] = frame["period"].astype("Int64")
    return frame


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded to their Excel files (sorted; Office lock files skipped)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.suffix.lower() in EXCEL_SUFFIXES and not p.name.startswith("~$")
                )
            )
        else:
            files.append(path)
    return files


def _import_file(
    path: Path, matcher: RegionMatcher, by_table: dict[str, Mapping], release: str | None, limit: int
) -> SheetResult:
    book = open_workbook(path, limit)
    try:
        return _import_book(book, matcher, by_table, release)
    finally:
        book.close()


def _read_rows(book: Workbook, sheet: str) -> list[list[object]] | str:
    try:
        return book.rows(sheet)
    except Exception as exc:  # one damaged sheet must not stop the others
        return f"cannot be read: {exc}"


def _import_book(
    book: Workbook, matcher: RegionMatcher, by_table: dict[str, Mapping], release: str | None
) -> SheetResult:
    path = book.path
    names = book.sheet_names
    first_rows = _read_rows(book, names[0]) if names else "the workbook has no sheets"
    total = SheetResult()
    if isinstance(first_rows, str):
        total.notes.append(f"{path.name}: first sheet skipped: {first_rows}")
        first_rows = []
    contents = read_contents(first_rows)
    edition = release or release_from(path, first_rows)
    stat = path.stat()
    context = _Context(
        path=path,
        release=edition,
        retrieved_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC).replace(tzinfo=None),
        matcher=matcher,
        mapping=by_table,
        contents=contents,
    )
    if edition is None:
        total.notes.append(
            f"{path.name}: edition not found in the file name, folder or title; release left empty"
        )
    recognised = False
    for position, sheet in enumerate(names):
        rows = first_rows if position == 0 else _read_rows(book, sheet)
        if isinstance(rows, str):
            total.notes.append(f"{path.name}: sheet {sheet!r} skipped: {rows}")
            continue
        if position == 0 and find_header_row(rows) is None:
            continue  # the contents sheet
        result = _import_sheet(context, sheet, rows)
        recognised = recognised or result.imported or result.other_layout
        total.observations.extend(result.observations)
        total.rejects.extend(result.rejects)
        total.notes.extend(result.notes)
    if not recognised and not contents:
        raise SourceError(
            f"{path}: no sheet has a header row of years and there is no contents sheet: "
            "not a «Регионы России» section workbook"
        )
    if not recognised:
        total.notes.append(f"{path.name}: contents only ({len(contents)} entries), no tables to import")
    else:
        tables = len({row[2] for row in total.observations})
        total.notes.append(
            f"{path.name}: {len(total.observations)} observations from {tables} tables, "
            f"{len(total.rejects)} rejects (release {edition})"
        )
    return total


def _import_sheet(ctx: _Context, sheet: str, rows: list[list[object]]) -> SheetResult:
    result = SheetResult()
    name = ctx.path.name
    layout = read_layout(rows)
    code = normalize_table_code(sheet)
    if isinstance(layout, str):
        result.notes.append(f"{name}: table {code or sheet!r} skipped: {layout}")
        result.other_layout = find_header_row(rows) is not None
        return result
    code = code or next(
        (normalize_table_code(t) for t in layout.title_lines if normalize_table_code(t)), None
    )
    if code is None:
        result.notes.append(f"{name}: sheet {sheet!r} skipped: no table code in its name or title")
        return result
    title = table_title(code, ctx.contents, layout.title_lines)
    mapped = ctx.mapping.get(code)
    unit = (
        layout.unit or unit_from_title(layout.title_lines) or (mapped.unit_as_published if mapped else None)
    )
    table = _Table(
        ctx,
        sheet,
        code,
        f"{code} {title}".strip(),
        unit,
        mapped,
        layout,
        footnotes(rows, layout.first_data_row),
    )
    for index in range(layout.first_data_row, len(rows)):
        if table.read_row(index, rows[index], result) == "end":
            break
    result.imported = True
    return result


class _Table:
    """Turns the rows of one region × year table into observations and rejects."""

    def __init__(self, ctx, sheet, code, key, unit, mapped, layout, notes_by_number) -> None:  # noqa: ANN001
        self.ctx, self.sheet, self.code, self.key = ctx, sheet, code, key
        self.unit, self.mapped, self.layout = unit, mapped, layout
        self.footnotes = notes_by_number
        self.in_footer = False

    def read_row(self, index: int, row: list[object], out: SheetResult) -> str | None:
        raw_name = row[0] if row else None
        name = str(raw_name or "")
        if self.in_footer or _SEPARATOR_ROW.match(name):
            self.in_footer = True
            return None
        if _FOOTNOTE_ROW.match(name):
            return None
        if not name.strip():
            if has_data(row):
                out.rejects.append(
                    self._reject(index, 0, _row_text(row), "values in a row with no territory name")
                )
            return None
        folded = normalize_name(name)
        if _LABEL_ROW.match(folded):
            return None
        self._territory_row(index, row, name, folded, out)
        return None

    def _territory_row(self, index: int, row: list[object], name: str, folded: str, out: SheetResult) -> None:
        match = self.ctx.matcher.match(name)
        unit, key, mappable = self.unit, self.key, True
        if match is None and "," in name:
            head, _, tail = name.rpartition(",")
            match = self.ctx.matcher.match(head)
            if match is not None:
                unit, mappable = clean_text(tail), False  # «Российская Федерация, млрд руб.»
        if match is None and folded in NON_TERRITORIAL_COMPONENTS:
            match = self.ctx.matcher.match("Российская Федерация")
            key, mappable = f"{self.key} | {clean_text(name)}", False
        if match is None:
            if has_data(row):
                out.rejects.append(
                    self._reject(
                        index,
                        0,
                        name.strip(),
                        "territory name not found in the region register (regions.csv)",
                    )
                )
            return
        for column in self.layout.columns:
            cell = row[column.index] if column.index < len(row) else None
            parsed = (
                Cell(value=cell) if type(cell) is float and cell == cell else parse_cell(cell)
            )  # fast path: numbers
            if parsed is None:
                continue
            if parsed.problem:
                out.rejects.append(
                    self._reject(
                        index, column.index, str(cell), f"{parsed.problem} ({name.strip()}, {column.year})"
                    )
                )
                continue
            out.observations.append(
                self._observation(index, column, name, match.region_code, parsed, unit, key, mappable)
            )

    def _observation(self, index, column, name, region_code, parsed: Cell, unit, key, mappable) -> tuple:  # noqa: ANN001
        """One observation as a tuple in ``OBSERVATION_COLUMNS`` order (tuples keep 350k rows cheap)."""
        # The value stays as published (raw contract); the mapping's scale is applied in dbt.
        indicator_code = None
        value = parsed.value
        if mappable and column.primary and self.mapped is not None:
            indicator_code = self.mapped.indicator_code
        if column.label:
            key = f"{key} | {column.label}"
        ctx = self.ctx
        return (
            SOURCE,
            DATASET,
            self.code,
            name.strip(),
            region_code,
            key,
            indicator_code,
            column.year,
            value,
            self._flag(parsed),
            unit,
            ctx.release,
            None,
            ctx.retrieved_at,
            ctx.origin,
            f"{self.sheet}!{_column_letter(column.index)}{index + 1}",
        )

    def _flag(self, parsed: Cell) -> str | None:
        if parsed.flag != "na" or parsed.footnote is None:
            return parsed.flag
        text = self.footnotes.get(parsed.footnote)
        # «…1)»: withheld under a footnote; confidential unless the footnote says something else.
        return "c" if text is None or _CONFIDENTIAL in text.lower() else "na"

    def _reject(self, index: int, column: int, raw: str, reason: str) -> dict:
        return {
            "source": SOURCE,
            "dataset": DATASET,
            "table_code": self.code,
            "origin": str(self.ctx.path),
            "cell_ref": f"{self.sheet}!{_column_letter(column)}{index + 1}",
            "raw_value": raw,
            "reason": reason,
            "release": self.ctx.release,
            "retrieved_at": self.ctx.retrieved_at,
        }


def _row_text(row: list[object]) -> str:
    return " | ".join(str(c) for c in row if str(c or "").strip())[:200]


@functools.lru_cache(maxsize=512)
def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --------------------------------------------------------------------------- seeds


def load_regions() -> pd.DataFrame:
    """The region register seed as strings (OKATO codes keep their leading zeros)."""
    return read_seed("regions")


def load_mapping() -> pd.DataFrame:
    """The Rosstat → catalog mapping seed, ``scale`` as a number (1 where empty)."""
    frame = read_seed(MAPPING_SEED)
    frame["scale"] = pd.to_numeric(frame["scale"].replace("", "1"), errors="coerce").fillna(1.0)
    return frame
