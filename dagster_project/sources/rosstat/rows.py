"""The territory rows of one region × year table, read into observations and rejects.

Row by row: a separator («¾¾¾», «____») ends the table, footnote rows «1) …» and label rows («в том числе:»)
are skipped, every other name is resolved to the register (:mod:`.names`, or an EMISS export's ОКАТО list), with
what only the position in the sheet tells:

* the first row naming «… Российской Федерации …» is the federation total (GRP tables print «Валовой
  региональный продукт по субъектам Российской Федерации (…) – всего»);
* a name cut over two rows («Ханты-Мансийский автономный» + «округ – Югра») is read joined;
* a territory named again after its own autonomous okrugs, or first named after them, is its part without them
  (EMISS); any other repeated territory is a reject: never two values under one code;
* the federation row with its own unit after a comma («Российская Федерация, млрд руб.») keeps that unit, and
  is mapped only where ``unit_conversions.csv`` converts it; known non-territorial rows («на федеральном
  уровне», «Не распределено по субъектам Российской Федерации») are breakdowns of the federation row.

Values stay as published; a cell in a mapped column of a mapped row carries the catalog indicator, and the first
year of a series after a documented break (``break_from`` of the mapping rule) carries the flag ``b``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from .cells import TIMES_FLAG, Cell, parse_cell
from .emiss import OkatoNames
from .layout import TableLayout, clean_text, column_letter, has_data
from .names import RegionMatch, RegionMatcher, normalize_name
from .titles import MappingRule, normalise_title

_FOOTNOTE_ROW = re.compile(r"^\s*(?:\d{1,2}\)|[¹²³⁴⁵⁶⁷⁸⁹⁰]+⁾|\*+\)|[_¾=~\-–—]{3,})")
_SEPARATOR_ROW = re.compile(r"^\s*[_¾=~\-–—]{3,}\s*$")
_CONFIDENTIAL = "конфиденц"
_FEDERATION = "российской федерации"
_ROW_TEXT_LIMIT = 200


@dataclass
class TableSpec:
    """Facts every row of one table needs: provenance, series key, unit, release and the catalog rule."""

    source: str
    dataset: str
    sheet: str
    code: str
    key: str
    unit: str | None
    release: str | None
    retrieved_at: object
    origin: str
    rule: MappingRule | None = None
    conversions: frozenset[tuple[str, str]] = frozenset()
    footnotes: dict[int, str] = field(default_factory=dict)


@dataclass
class TableRows:
    """What a table gave besides its observations (written to the file's :class:`ObservationBuffer`): reject
    dicts, notes, and how many named data rows resolved (to tell a region table from another)."""

    rejects: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    named_rows: int = 0
    resolved_rows: int = 0


_FLAGS = (None, "none", "na", "c", "b", "times", "p", "e")
_FLAG_CODE = {flag: code for code, flag in enumerate(_FLAGS)}


class ObservationBuffer:
    """One file's observations, columnar and cheap to append (a million cells): territory rows (table, name,
    code, unit, sheet, Excel row), value columns (series key, catalog indicator, year, column letter) and cells
    (row id, column id, value, flag code). :meth:`frame` expands them to the raw contract."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str | None, str, int]] = []
        self.columns: list[tuple[str, str | None, int, str]] = []
        self._column_ids: dict[tuple, int] = {}
        self.cell_row: list[int] = []
        self.cell_column: list[int] = []
        self.values: list[float | None] = []
        self.flags: list[int] = []

    def __len__(self) -> int:
        return len(self.values)

    def column_id(self, key: str, indicator: str | None, year: int, letter: str) -> int:
        """The id of a value column under a series key (the same key, indicator, year and letter: one id)."""
        ident = (key, indicator, year, letter)
        found = self._column_ids.get(ident)
        if found is None:
            found = self._column_ids[ident] = len(self.columns)
            self.columns.append(ident)
        return found

    def mark(self) -> tuple[int, int]:
        """A point to :meth:`truncate` back to (a table read, then found not to be a region table)."""
        return len(self.rows), len(self.values)

    def truncate(self, mark: tuple[int, int]) -> None:
        """Forget the rows and cells added after ``mark``."""
        rows, cells = mark
        del self.rows[rows:]
        for column in (self.cell_row, self.cell_column, self.values, self.flags):
            del column[cells:]

    def frame(self, columns: dict[str, str], constants: dict[str, object]) -> pd.DataFrame:
        """The observations as a DataFrame with ``columns`` (name → DuckDB type, the raw contract) and the
        file-wide ``constants`` (source, dataset, release, release_date, retrieved_at, origin). Text columns are
        categoricals built from codes (no string is copied per cell); :func:`concat_frames` joins files."""
        size = len(self.values)
        rows, cols = np.asarray(self.cell_row, np.int32), np.asarray(self.cell_column, np.int32)
        data: dict[str, object] = {}
        for position, name in enumerate(("table_code", "region_key", "region_code", "unit")):
            data[name] = _categorical([record[position] for record in self.rows], rows)
        for position, name in enumerate(("indicator_key", "indicator_code")):
            data[name] = _categorical([record[position] for record in self.columns], cols)
        data["period"] = pd.array(np.asarray([c[2] for c in self.columns], np.int64)[cols], dtype="Int64")
        data["value"] = np.asarray([np.nan if v is None else v for v in self.values], np.float64)
        data["flag"] = pd.Categorical.from_codes(np.asarray(self.flags, np.int8) - 1, categories=list(_FLAGS[1:]))
        sheets = pa.array([record[4] for record in self.rows], pa.string()).take(pa.array(rows))
        letters = pa.array([record[3] for record in self.columns], pa.string()).take(pa.array(cols))
        numbers = pc.cast(pa.array(np.asarray([record[5] for record in self.rows], np.int32)[rows]), pa.string())
        data["cell_ref"] = pd.array(pc.binary_join_element_wise(sheets, letters, numbers, ""), dtype="str")
        for name, value in constants.items():
            kind = columns[name]
            if kind == "TIMESTAMP":
                data[name] = np.full(size, np.datetime64(value, "us") if value else np.datetime64("NaT", "us"))
            elif kind == "DATE":
                data[name] = np.full(size, value, dtype=object)
            else:
                data[name] = _categorical([value], np.zeros(size, np.int32))
        return pd.DataFrame({name: data[name] for name in columns})


def _categorical(values: list, codes: np.ndarray) -> pd.Categorical:
    """A categorical of ``values[codes]`` (None as missing) without building a string per element."""
    unique = list(dict.fromkeys(v for v in values if v is not None))
    index = {v: i for i, v in enumerate(unique)}
    mapped = np.asarray([index.get(v, -1) if v is not None else -1 for v in values], np.int32)
    return pd.Categorical.from_codes(mapped[codes] if len(codes) else codes, categories=pd.Index(unique, dtype=object))


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack files' frames, joining the categories of each text column (a plain concat would fall back to
    objects)."""
    if len(frames) == 1:
        return frames[0]
    out = {}
    for name in frames[0].columns:
        parts = [frame[name] for frame in frames]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            out[name] = union_categoricals([p.array for p in parts], ignore_order=True)
        else:
            out[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


class SheetNames:
    """Territory names of one sheet, resolved with the position rules of the module doc."""

    def __init__(self, matcher: RegionMatcher, okato: OkatoNames | None = None) -> None:
        self._matcher, self._okato = matcher, okato
        self._seen: dict[str, int] = {}  # code -> row of its first occurrence
        self._pending = ""  # an unresolved name of a row without values (the first half of a cut name)

    def resolve(self, index: int, name: str, with_data: bool) -> tuple[RegionMatch | None, str]:
        """The register row of the name in row ``index`` (0-based), and a note when a position rule decided
        or why it is refused ("" otherwise). A row without values is only looked at (it may be the first half
        of a name cut over two rows): it takes no place in the sheet."""
        if not with_data:
            self._pending = clean_text(name)
            return (self._okato.resolve(name) if self._okato else self._matcher.match(name)), ""
        found = self._okato.resolve(name) if self._okato else self._matcher.match(name)
        note = ""
        if found is None and self._pending:
            found = self._matcher.match(f"{self._pending} {name}")
            note = f"read with the row above as «{self._pending} {clean_text(name)}»" if found else ""
        if found is None and not self._seen and _FEDERATION in normalize_name(name):
            found, note = self._matcher.match("Российская Федерация"), "the first row: the federation total"
        self._pending = ""
        if found is None:
            return None, ""
        if found.source_name:
            note = f"named «{found.source_name}» by its {found.rule} in the export's metadata"
        return self._place(index, found, note, name)

    def _place(self, index: int, found: RegionMatch, note: str, name: str = "") -> tuple[RegionMatch | None, str]:
        code = found.region_code
        part = self._matcher.part_of(code)
        okrug_seen = part and any(self._matcher.okrugs.get(c) == code and row > self._seen.get(code, -1)
                                  for c, row in self._seen.items())
        if code in self._seen or (part and okrug_seen):
            if part and okrug_seen and part not in self._seen:
                found = RegionMatch(part, "subject_part", "position",
                                    f"{clean_text(name)} (after its okrugs: without them)")
                note = f"named after its autonomous okrugs: read as {part} (without them)"
            else:
                first = self._seen.get(code)
                return None, f"{code} already named in row {first + 1 if first is not None else '?'}"
        self._seen[found.region_code] = index
        return found, note


class TableReader:
    """Turns the rows of one region × year table into observations (in ``buffer``) and rejects."""

    def __init__(self, spec: TableSpec, layout: TableLayout, names: SheetNames, matcher: RegionMatcher,
                 buffer: ObservationBuffer) -> None:
        self.spec, self.layout, self.names, self.matcher, self.buffer = spec, layout, names, matcher, buffer
        per_year = layout.columns_per_year()
        rule = spec.rule
        self.letters = [column_letter(c.index) for c in layout.columns]
        self.indices = [c.index for c in layout.columns]
        self.mapped = [bool(rule and rule.covers(c.year) and rule.takes_column(c.label, per_year[c.year] == 1))
                       for c in layout.columns]
        self.breaks = [bool(m and c.year in rule.break_years) for m, c in zip(self.mapped, layout.columns, strict=True)]
        self.per_cent = "процент" in normalise_title(spec.unit or "") or "%" in (spec.unit or "")
        self._ids: dict[tuple[str, bool], list[int]] = {}
        self.out = TableRows()

    def _column_ids(self, series: str, mappable: bool) -> list[int]:
        """Column ids of the table's value columns under ``series`` (mapped ones carry the indicator)."""
        found = self._ids.get((series, mappable))
        if found is None:
            indicator = self.spec.rule.indicator_code if self.spec.rule else None
            found = self._ids[(series, mappable)] = [
                self.buffer.column_id(f"{series} | {c.label}" if c.label else series,
                                      indicator if mappable and mapped else None, c.year, letter)
                for c, mapped, letter in zip(self.layout.columns, self.mapped, self.letters, strict=True)]
        return found

    def read(self, rows: list[list[object]]) -> TableRows:
        """Read every row from the first data row to the separator."""
        for index in range(self.layout.first_data_row, len(rows)):
            row = rows[index]
            name = row[0] if row and isinstance(row[0], str) else ("" if not row or row[0] is None else str(row[0]))
            if _SEPARATOR_ROW.match(name):
                break
            if not _FOOTNOTE_ROW.match(name):
                self._row(index, row, name)
        return self.out

    def _row(self, index: int, row: list[object], name: str) -> None:
        with_data = has_data(row)
        if not name.strip():
            if with_data:
                self.out.rejects.append(
                    self._reject(index, 0, _row_text(row), "values in a row with no territory name"))
            return
        key = normalize_name(name)
        if self.matcher.is_label(key):
            return
        spec, region_key, unit, mappable = self.spec, name.strip(), self.spec.unit, True
        found, note = self.names.resolve(index, name, with_data)
        if found is None and not note and "," in name:
            head, _, tail = name.rpartition(",")
            found = self.matcher.match(head)
            if found is not None:  # «Российская Федерация, млрд руб.»: the row's own unit
                unit = clean_text(tail)
                mappable = bool(spec.rule) and (spec.rule.indicator_code, normalise_title(unit)) in spec.conversions
        series = spec.key
        if found is None and self.matcher.non_territorial(key):
            found, mappable = self.matcher.match("Российская Федерация"), False
            series = f"{spec.key} | {clean_text(name)}"
        if not with_data:
            return
        self.out.named_rows += 1
        if found is None:
            reason = (f"territory named twice in the table: {note} (never two values under one code)" if note
                      else "territory name not found in the region register (regions.csv)")
            self.out.rejects.append(self._reject(index, 0, region_key, reason))
            return
        self.out.resolved_rows += 1
        if note:
            self.out.notes.append(f"{spec.sheet}!A{index + 1} «{region_key}»: {note}")
            region_key = found.source_name or region_key
        self._values(index, row, region_key, found.region_code, unit, self._column_ids(series, mappable))

    def _values(self, index: int, row: list[object], region_key: str, region_code: str, unit: str | None,
                ids: list[int]) -> None:
        buffer = self.buffer
        row_id = len(buffer.rows)
        buffer.rows.append((self.spec.code, region_key, region_code, unit, f"{self.spec.sheet}!", index + 1))
        cell_row, cell_column, values, flags = buffer.cell_row, buffer.cell_column, buffer.values, buffer.flags
        width = len(row)
        for position, column_index in enumerate(self.indices):
            cell = row[column_index] if column_index < width else None
            if cell.__class__ is float:  # the fast path: a number
                if cell != cell:
                    continue
                value, flag = cell, None
            elif cell is None or cell == "":
                continue
            else:
                parsed = parse_cell(cell)
                if parsed is None:
                    continue
                if parsed.flag == TIMES_FLAG and not self.per_cent:
                    parsed = Cell(problem=f"«в N р.» (N times) in a table whose unit «{unit}» is not per cent")
                if parsed.problem:
                    year = self.layout.columns[position].year
                    self.out.rejects.append(self._reject(index, column_index, str(cell),
                                                         f"{parsed.problem} ({region_key}, {year})"))
                    continue
                value, flag = parsed.value, self._flag(parsed)
            if flag is None and self.breaks[position] and buffer.columns[ids[position]][1]:
                flag = "b"
            cell_row.append(row_id)
            cell_column.append(ids[position])
            values.append(value)
            flags.append(_FLAG_CODE[flag])

    def _flag(self, parsed: Cell) -> str | None:
        if parsed.flag != "na" or parsed.footnote is None:
            return parsed.flag
        text = self.spec.footnotes.get(parsed.footnote)
        # «…1)»: withheld under a footnote; confidential unless the footnote says something else.
        return "c" if text is None or _CONFIDENTIAL in text.lower() else "na"

    def _reject(self, index: int, column: int, raw: str, reason: str) -> dict:
        spec = self.spec
        return {"source": spec.source, "dataset": spec.dataset, "table_code": spec.code, "origin": spec.origin,
                "cell_ref": f"{spec.sheet}!{column_letter(column)}{index + 1}", "raw_value": raw, "reason": reason,
                "release": spec.release, "retrieved_at": spec.retrieved_at}


def _row_text(row: list[object]) -> str:
    return " | ".join(str(c) for c in row if str(c or "").strip())[:_ROW_TEXT_LIMIT]
