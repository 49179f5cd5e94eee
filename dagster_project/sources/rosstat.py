"""Importer for Rosstat's yearbook «Регионы России. Социально-экономические показатели» (xlsx/xls).

One workbook per section; its first sheet lists the section's tables, every other sheet is one table
named by its code («8.1.»): title row, units row, a header row of years, then one row per territory
in Rosstat's order (RF total, each federal district followed by its subjects, nested autonomous
okrugs), then footnotes. The quirks (see ``shared/data/SOURCES.md``) are handled here and in
``rosstat_cells`` / ``rosstat_names``; the result is the raw contract of ``base``.

Every table in the region × year layout is imported, mapped to the catalog or not; a table in
another layout is skipped with a note; a territory name the register does not know is a reject.
Nested rows (an oblast with and without its okrugs, districts, the RF total) each keep their own
region code: nothing is summed here.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .base import OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch, SourceError
from .rosstat_cells import (
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    Cell,
    Workbook,
    open_workbook,
    parse_cell,
    parse_year,
)
from .rosstat_names import RegionMatcher, normalize_name

SOURCE = "rosstat"
DATASET = "regions_of_russia"
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
HEADER_SEARCH_ROWS = 15

# Rows that are parts of the RF total but not territories (2.15: civil servants «на федеральном
# уровне» / «на региональном уровне»; 1.23–1.24: «Межрегиональное управление», persons registered
# by the Interregional Directorate). They are kept as breakdowns of the RF row (region RU, the
# label appended to indicator_key) rather than rejected or forced onto a region.
NON_TERRITORIAL_COMPONENTS = frozenset(
    normalize_name(label)
    for label in ("на федеральном уровне", "на региональном уровне", "Межрегиональное управление")
)

_CODE = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})*)\.?(?=\s|$|[А-ЯЁA-Zа-яё])")
_FOOTNOTE_ROW = re.compile(r"^\s*(?:\d{1,2}\)|[¹²³⁴⁵⁶⁷⁸⁹⁰]+⁾|\*+\)|[_¾=~\-–—]{3,})")
_FOOTNOTE_TEXT = re.compile(r"^\s*(\d{1,2})\)\s*(.*)$", re.S)
_SEPARATOR_ROW = re.compile(r"^\s*[_¾=~\-–—]{3,}\s*$")
_TRAILING_MARKS = re.compile(r"(?:\s*[;,]?\s*(?:\d|\*)\))+\s*$")
_LABEL_ROW = re.compile(r"^в том числе|^из (?:них|него)|^включая")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_CONFIDENTIAL = "конфиденц"
# A table with more years split into several columns than this is another layout (a breakdown).
MAX_SPLIT_YEARS = 2


def normalize_table_code(raw: object) -> str | None:
    """«8.1.», «8.1», « 3.12. » → «8.1.»; None when the text does not start with a table code."""
    found = _CODE.match(unicodedata.normalize("NFKC", str(raw or "")))
    return f"{found.group(1)}." if found else None


def clean_text(raw: object) -> str:
    """One-line text with footnote marks removed (for titles, units and column labels)."""
    text = " ".join(unicodedata.normalize("NFKC", str(raw or "")).replace("\u00ad", "").split())
    return _TRAILING_MARKS.sub("", text).strip()


# --------------------------------------------------------------------------- sheet structure


@dataclass
class Column:
    """A value column of a table: its Excel index, year, and sub-label when a year has several."""

    index: int
    year: int
    label: str | None = None
    primary: bool = True  # the first column of its year: the one the catalog mapping applies to


@dataclass
class TableLayout:
    """Where things are in one sheet."""

    header_row: int
    first_data_row: int
    columns: list[Column]
    title_lines: list[str]
    unit: str | None


@dataclass
class SheetResult:
    """What one sheet gave: observations as tuples, rejects as dicts, notes."""

    observations: list[tuple] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    imported: bool = False
    other_layout: bool = False  # a table sheet, but not region × year (skipped with a note)


def find_header_row(rows: list[list[object]]) -> int | None:
    """Index of the first row (within the first rows) holding at least two years after column A."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row[1:] if parse_year(cell) is not None) >= 2:
            return index
    return None


def _has_data(row: list[object], start: int = 1) -> bool:
    return any(cell not in (None, "") and str(cell).strip() for cell in row[start:])


def read_layout(rows: list[list[object]]) -> TableLayout | str:
    """Locate header, value columns, title and unit; or return why the sheet is not region × year."""
    header = find_header_row(rows)
    if header is None:
        return f"no header row of years in the first {HEADER_SEARCH_ROWS} rows"
    first_data = header + 1
    sub_rows: list[list[object]] = []
    while first_data < len(rows) and not str(rows[first_data][0] or "").strip():
        sub_rows.append(rows[first_data])
        first_data += 1
        if len(sub_rows) > 3:
            break
    columns = _columns(rows[header], sub_rows, rows[first_data:])
    by_year: dict[int, list[Column]] = {}
    for column in columns:
        by_year.setdefault(column.year, []).append(column)
    split = [year for year, cols in by_year.items() if len(cols) > 1]
    if len(split) > MAX_SPLIT_YEARS:
        labels = ", ".join(sorted({c.label for c in columns if c.label})[:4]) or "unlabelled"
        return (
            f"several columns per year in {len(split)} years (a breakdown: {labels}), "
            "not the region × year layout"
        )
    for cols in by_year.values():
        for position, column in enumerate(cols):
            column.primary = position == 0
            if len(cols) == 1:
                column.label = None
    titles, unit = _title_and_unit(rows[:header])
    return TableLayout(header, first_data, columns, titles, unit)


def _columns(header: list[object], sub_rows: list[list[object]], body: list[list[object]]) -> list[Column]:
    """Value columns: a year cell starts a year; empty header cells after it with data continue it."""
    columns: list[Column] = []
    current: int | None = None
    width = max([len(header)] + [len(r) for r in body[:120]])
    for index in range(1, width):
        cell = header[index] if index < len(header) else None
        year = parse_year(cell)
        if year is None:
            if str(cell or "").strip():
                current = None  # a text header («Справочно»…) ends the run of years
                continue
            if current is None or not any(index < len(r) and _has_data([None, r[index]]) for r in body[:120]):
                continue
            year = current
        current = year
        label = _sub_label(sub_rows, index, year)
        columns.append(Column(index, year, label))
    return columns


def _sub_label(sub_rows: list[list[object]], index: int, year: int) -> str | None:
    for row in sub_rows:
        if index < len(row):
            cell = row[index]
            if parse_year(cell) == year or not str(cell or "").strip():
                continue
            return clean_text(cell)
    return None


def _title_and_unit(top: list[list[object]]) -> tuple[list[str], str | None]:
    """Title lines (from the first line carrying a table code) and the «(unit)» line if any."""
    texts = [clean_text(row[0]) for row in top if row and str(row[0] or "").strip()]
    unit = None
    titles: list[str] = []
    for text in texts:
        if text.startswith("(") and unit is None:
            unit = text.strip("() ").strip() or None
        elif normalize_table_code(text):
            titles.append(text)
    return titles, unit


def footnotes(rows: list[list[object]], start: int) -> dict[int, str]:
    """Footnote number → text, read from the rows below the table."""
    notes: dict[int, str] = {}
    for row in rows[start:]:
        found = _FOOTNOTE_TEXT.match(unicodedata.normalize("NFKC", str(row[0] or "")))
        if found:
            notes.setdefault(int(found.group(1)), found.group(2))
    return notes


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


def release_from(path: Path, rows: list[list[object]] | None = None) -> str | None:
    """Edition year from the file name, then its folder name, then the first rows' text."""
    candidates = [path.stem, path.parent.name]
    if rows:
        candidates.extend(str(cell) for row in rows[:5] for cell in row[:3] if isinstance(cell, str))
    for text in candidates:
        found = _YEAR_IN_TEXT.search(text)
        if found:
            return found.group(1)
    return None


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


def read_contents(rows: list[list[object]]) -> dict[str, str]:
    """Table code → title from a contents sheet («8.1.» | «Валовой региональный продукт»)."""
    contents: dict[str, str] = {}
    for row in rows:
        cells = [c for c in row if str(c or "").strip()]
        if (
            len(cells) >= 2
            and (code := normalize_table_code(cells[0]))
            and not normalize_table_code(cells[1])
        ):
            contents.setdefault(code, clean_text(cells[1]))
        elif cells and re.match(r"^\s*Раздел\s+\d+", str(cells[0])):
            contents.setdefault(f"section:{len(contents)}", clean_text(cells[0]))
    return contents


def table_title(code: str, contents: dict[str, str], title_lines: list[str]) -> str:
    """The table's title: from the contents sheet (parent title + own for sub-tables), else the sheet."""
    own = contents.get(code)
    if own:
        parent = code.rsplit(".", 2)[0] + "."
        if parent != code and parent.count(".") >= 2 and contents.get(parent):
            return f"{contents[parent]}: {own}"
        return own
    for line in title_lines:
        if normalize_table_code(line) == code:
            return _CODE.sub("", unicodedata.normalize("NFKC", line), count=1).strip(" .")
    return title_lines[-1] if title_lines else ""


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
        layout.unit or _unit_from_title(layout.title_lines) or (mapped.unit_as_published if mapped else None)
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


def _unit_from_title(lines: list[str]) -> str | None:
    """Units Rosstat prints in lower case after an upper-case title: «… на 1000 человек населения»."""
    for line in reversed(lines):
        found = re.search(r"\b(на \d[\d\s]*(?:человек|родившихся)[^()]*)$", line)
        if found:
            return found.group(1).strip()
    return None


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
            if _has_data(row):
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
            if _has_data(row):
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


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def load_regions(path: Path | None = None) -> pd.DataFrame:
    """The region register seed as strings (OKATO codes keep their leading zeros)."""
    return pd.read_csv(
        path or repo_root() / "dbt" / "seeds" / "regions.csv", dtype=str, keep_default_na=False
    )


def load_mapping(path: Path | None = None) -> pd.DataFrame:
    """The Rosstat → catalog mapping seed."""
    frame = pd.read_csv(
        path or repo_root() / "dbt" / "seeds" / "indicator_sources_rosstat.csv",
        dtype=str,
        keep_default_na=False,
    )
    frame["scale"] = pd.to_numeric(frame["scale"].replace("", "1"), errors="coerce").fillna(1.0)
    return frame
