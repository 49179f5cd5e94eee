"""The structure of one Rosstat sheet: its header row of years, value columns, title area and footnotes, and a
workbook's contents sheet.

A region × year sheet is: title lines, a unit line «(…)», a header row of years (column A empty or «Регион»),
optional sub-header rows with a label per column, one row per territory, then footnotes «1) …». The header is
searched in the whole sheet (7.1.1 starts at row 92 after 91 empty rows). Several columns may share a year:

* **column groups with sub-labels** (3.10: five income sources per year; 17.2: mobile / fixed Internet; 18.12.1:
  2017 by the 3rd and the 4th edition of the Oslo Manual). A group starts at each column carrying the first
  sub-label of the cycle, or at a year cell without a sub-label; its year is the year cell inside it, wherever
  it sits (3.10 prints 2018–2022 two columns right of their groups' start);
* **blocks** that repeat the years (nauka_2.xls sheet 2: personnel in total, researchers, technicians, …): a
  block starts where the years start again, and is labelled by the nearest text above the header in its first
  column;
* a **column without a year** (6.2.2!AB repeats 2022 in twelve Far-East rows with no header) is never given its
  neighbour's year: it is skipped with a note, as is a year printed twice outside blocks. A header cell that is
  not a year between two years one apart (12.10!K6 «20009» between 2008 and 2010) is read as the year between,
  with a note.

Every column gets its own series key (the year and its label), so no two columns of a sheet can load the same
observation twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .cells import parse_year

_CODE = re.compile(r"^\s*(\d{1,2}(?:\s*\.\s*\d{1,2})*)\s*\.?(?=[^\d.]|$)")
_FOOTNOTE_TEXT = re.compile(r"^\s*(\d{1,2})\)\s*(.*)$", re.S)
_TRAILING_MARKS = re.compile(r"(?:\s*[;,]?\s*(?:\d|\*)\))+\s*$")
# Column A of a header row: empty, or a word heading the names (EMISS: «Регион»).
_NAMES_HEADING = re.compile(r"^(?:регион\w*|субъект\w*|территори\w*|наименовани\w*)$", re.I)
_SECTION = re.compile(r"^\s*Раздел\s*(\d+)\s*\.?\s*(.*)$", re.S)
_SUB_ROWS = 3  # sub-header rows at most
_SAMPLE_ROWS = 150  # body rows looked at to find the columns that hold data


def normalize_table_code(raw: object) -> str | None:
    """«8.1.», «8.1», « 3.12. », «6.2.3 . Спортивные залы», «3.19.СТРУКТУРА» → the code with a trailing dot;
    None when the text does not start with a table code."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    found = _CODE.match(text)
    if not found or not text.strip()[:1].isdigit():
        return None
    return re.sub(r"\s", "", found.group(1)).rstrip(".") + "."


def strip_table_code(text: str) -> str:
    """The text after its leading table code («8.1. ВРП» → «ВРП»)."""
    found = _CODE.match(text)
    return text[found.end():].lstrip(" .") if found and normalize_table_code(text) else text


def clean_text(raw: object) -> str:
    """One-line text with footnote marks at its end removed (for titles, units and column labels)."""
    text = " ".join(unicodedata.normalize("NFKC", str(raw or "")).replace("\u00ad", "").split())
    return _TRAILING_MARKS.sub("", text).strip()


def _filled(cell: object) -> bool:
    """Whether a cell holds something (not None, not an empty or blank string); fast for numbers."""
    kind = cell.__class__
    return kind is float or kind is int or (kind is str and bool(cell.strip())) or (
        cell is not None and kind is not str)


def _text(cell: object) -> str:
    return cell.strip() if isinstance(cell, str) else ("" if cell is None else str(cell).strip())


@dataclass
class Column:
    """A value column: its index (0 = column A), year, and label when its year has several columns."""

    index: int
    year: int
    label: str | None = None


@dataclass
class TableLayout:
    """Where things are in one sheet: header and first data row (0-based), value columns, the texts above the
    header as (row, column, text), and notes on columns skipped or years inferred."""

    header_row: int
    first_data_row: int
    columns: list[Column]
    title_cells: list[tuple[int, int, str]]
    notes: list[str] = field(default_factory=list)

    def columns_per_year(self) -> dict[int, int]:
        """How many columns each year has."""
        counts: dict[int, int] = {}
        for column in self.columns:
            counts[column.year] = counts.get(column.year, 0) + 1
        return counts


def find_header_row(rows: list[list[object]]) -> int | None:
    """Index of the first row whose column A is empty and that holds at least two years after it, or whose column
    A is a heading of the names («Регион») and that holds a year."""
    for index, row in enumerate(rows):
        first = _text(row[0]) if row else ""
        if not row or (first and not _NAMES_HEADING.match(first)):
            continue
        years = sum(1 for cell in row[1:] if cell is not None and parse_year(cell) is not None)
        if years >= 2 or (years == 1 and first):  # one year is enough under a heading «Регион» (an EMISS export)
            return index
    return None


def has_data(row: list[object], start: int = 1) -> bool:
    """Whether ``row`` holds anything from column ``start`` on (column A is the territory's name)."""
    return any(_filled(cell) for cell in row[start:])


def read_layout(rows: list[list[object]]) -> TableLayout | str:
    """Locate header, value columns and title area; or return why the sheet is not region × year."""
    header = find_header_row(rows)
    if header is None:
        return "no header row of years (a row with at least two years after an empty column A)"
    first_data = header + 1
    while first_data < len(rows) and not _text(rows[first_data][0] if rows[first_data] else None):
        if first_data - header > _SUB_ROWS or not has_data(rows[first_data]):
            break
        first_data += 1
    sub_rows = [r for r in rows[header + 1:first_data] if has_data(r)]
    body = rows[first_data:first_data + _SAMPLE_ROWS]
    title_cells = [(i, j, _text(c)) for i, row in enumerate(rows[:header]) for j, c in enumerate(row) if _text(c)]
    notes: list[str] = []
    columns = _columns(rows[header], sub_rows, body, title_cells, header, notes)
    if not columns:
        return "the header row has years but no column under them holds data"
    return TableLayout(header, first_data, columns, title_cells, notes)


def _columns(header: list[object], sub_rows: list[list[object]], body: list[list[object]],
             title_cells: list[tuple[int, int, str]], header_index: int, notes: list[str]) -> list[Column]:
    width = max([len(header)] + [len(r) for r in body] + [len(r) for r in sub_rows])
    filled = {j for r in body for j, c in enumerate(r) if j and _filled(c)}
    years = _header_years(header, width, header_index, notes)
    labels: dict[int, str] = {}
    for j in range(1, width):
        for row in sub_rows:
            cell = row[j] if j < len(row) else None
            if _text(cell) and parse_year(cell) is None:
                labels[j] = clean_text(cell)
                break
    groups = _groups(years, labels, filled, width)
    columns: list[Column] = []
    for start, members in groups:
        inside = [j for j in members if j in years]
        if len(inside) != 1:
            used = [j for j in members if j in filled]
            if used:
                notes.append(f"columns {_span(members)}: {len(inside)} years in one column group; skipped")
            continue
        year = years[inside[0]]
        for j in members:
            if j not in filled and j not in labels:
                continue
            if j != start and j not in labels:
                if j in filled:
                    notes.append(f"column {column_letter(j)} has no header (a copy beside {year}?); skipped")
                continue
            columns.append(Column(j, year, labels.get(j)))
    for j in sorted(filled - {j for _, members in groups for j in members}):
        text = _text(header[j]) if j < len(header) else ""
        reason = f"headed {text!r}, not a year" if text else "has no year in the header"
        notes.append(f"column {column_letter(j)} {reason}; skipped")
    return _blocks(columns, title_cells, header_index, notes)


def _header_years(header: list[object], width: int, header_index: int, notes: list[str]) -> dict[int, int]:
    years = {j: y for j in range(1, min(width, len(header))) if (y := parse_year(header[j])) is not None}
    ordered = sorted(years)
    for left, right in zip(ordered, ordered[1:], strict=False):
        between = [j for j in range(left + 1, right) if _text(header[j])]
        if years[right] - years[left] == 2 and len(between) == 1 and re.fullmatch(r"[\d.]+", _text(header[between[0]])):
            j = between[0]
            years[j] = years[left] + 1
            notes.append(f"{column_letter(j)}{header_index + 1} {_text(header[j])!r} read as {years[j]} "
                         f"(between {years[left]} and {years[right]})")
    return years


def _groups(years: dict[int, int], labels: dict[int, str], filled: set[int], width: int
            ) -> list[tuple[int, list[int]]]:
    """Column groups as (first column, its columns): one per year cell when there are no sub-labels, else
    split where the first sub-label of the cycle comes again or a year cell without a sub-label stands."""
    if not labels:
        return [(j, [j]) for j in sorted(years)]
    first = labels[min(labels)]
    starts = sorted({j for j, text in labels.items() if text == first} | {j for j in years if j not in labels})
    groups = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else width
        members = [j for j in range(start, end) if j in years or j in labels or j in filled]
        if sum(1 for j in members if j in years) > 1:  # two years in one group: split at the year cells
            cuts = [j for j in members if j in years]
            for k, cut in enumerate(cuts):
                stop = cuts[k + 1] if k + 1 < len(cuts) else end
                groups.append((cut, [j for j in members if cut <= j < stop]))
            continue
        groups.append((start, members))
    return groups


def _blocks(columns: list[Column], title_cells: list[tuple[int, int, str]], header_index: int,
            notes: list[str]) -> list[Column]:
    """Label the blocks of a sheet whose years start again; skip a year printed twice outside blocks."""
    runs: list[list[Column]] = []
    for column in columns:
        previous = runs[-1][-1].year if runs else None
        if previous is None or column.year < previous:
            runs.append([column])
        else:
            runs[-1].append(column)
    if len(runs) > 1 and all(len(run) > 1 for run in runs):
        for number, run in enumerate(runs, start=1):
            label = _block_label(run[0].index, title_cells, header_index) or f"block {number}"
            for column in run:
                column.label = f"{label} | {column.label}" if column.label else label
        return columns
    seen: dict[tuple[int, str | None], Column] = {}
    kept = []
    for column in columns:
        key = (column.year, column.label)
        if key in seen:
            notes.append(f"column {column_letter(column.index)} repeats {column.year} of column "
                         f"{column_letter(seen[key].index)}; skipped")
            continue
        seen[key] = column
        kept.append(column)
    return kept


def _block_label(index: int, title_cells: list[tuple[int, int, str]], header_index: int) -> str | None:
    above = [(row, text) for row, col, text in title_cells if col == index and row < header_index]
    return clean_text(max(above)[1]) if above else None


def _span(members: list[int]) -> str:
    first = column_letter(members[0])
    return f"{first}–{column_letter(members[-1])}" if len(members) > 1 else first


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def footnotes(rows: list[list[object]], start: int) -> dict[int, str]:
    """Footnote number → text, read from the rows below the table (the first text of a number wins)."""
    notes: dict[int, str] = {}
    for row in rows[start:]:
        found = _FOOTNOTE_TEXT.match(unicodedata.normalize("NFKC", _text(row[0] if row else None)))
        if found:
            notes.setdefault(int(found.group(1)), found.group(2))
    return notes


@dataclass
class Contents:
    """A contents sheet: table code → title, and every text on it (for the release evidence)."""

    titles: dict[str, str] = field(default_factory=dict)
    texts: list[list[str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.titles)


def read_contents(rows: list[list[object]]) -> Contents:
    """Read a contents sheet: rows «8.1.» | «Валовой региональный продукт» (codes in any spelling), the
    yearbook's list of sections «Раздел 1. Население», and every row's texts («Обновлено: » | «04.04.2025 г.»
    stay side by side)."""
    contents = Contents()
    for row in rows:
        cells = [_text(c) for c in row if _text(c)]
        if not cells:
            continue
        contents.texts.append(cells)
        if len(cells) >= 2 and (code := normalize_table_code(cells[0])) and not normalize_table_code(cells[1]):
            contents.titles.setdefault(code, clean_text(cells[1]))
        elif (code := normalize_table_code(cells[0])) and strip_table_code(cells[0]).strip():
            contents.titles.setdefault(code, clean_text(strip_table_code(cells[0])))
        elif section := _SECTION.match(cells[0]):  # the yearbook's own contents: «Раздел 1.  Население»
            contents.titles.setdefault(f"section {section.group(1)}", clean_text(section.group(2)))
    return contents
