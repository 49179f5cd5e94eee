"""The structure of one yearbook sheet: where its header row of years, value columns, title, unit and
footnotes are, and the section's contents sheet.

A «Регионы России» table sheet is: title lines (the first carries the table code «8.1.»), a unit line
in parentheses, a header row of years (a year may span several columns with sub-labels), one row per
territory, then footnotes «1) …». A sheet whose header does not fit (a breakdown with several columns
per year) is reported as "another layout" with the reason, so the importer can skip it with a note.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .cells import parse_year

HEADER_SEARCH_ROWS = 15
_CODE = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})*)\.?(?=\s|$|[А-ЯЁA-Zа-яё])")
_FOOTNOTE_TEXT = re.compile(r"^\s*(\d{1,2})\)\s*(.*)$", re.S)
_TRAILING_MARKS = re.compile(r"(?:\s*[;,]?\s*(?:\d|\*)\))+\s*$")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
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


def find_header_row(rows: list[list[object]]) -> int | None:
    """Index of the first row (within the first rows) holding at least two years after column A."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row[1:] if parse_year(cell) is not None) >= 2:
            return index
    return None


def has_data(row: list[object], start: int = 1) -> bool:
    """Whether ``row`` holds anything from column ``start`` on (column A is the territory's name)."""
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
            if current is None or not any(index < len(r) and has_data([None, r[index]]) for r in body[:120]):
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


def unit_from_title(lines: list[str]) -> str | None:
    """Units Rosstat prints in lower case after an upper-case title: «… на 1000 человек населения»."""
    for line in reversed(lines):
        found = re.search(r"\b(на \d[\d\s]*(?:человек|родившихся)[^()]*)$", line)
        if found:
            return found.group(1).strip()
    return None
