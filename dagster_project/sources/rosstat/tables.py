"""Importer for Rosstat workbooks (xlsx/xls): the yearbook «Регионы России. Социально-экономические показатели»
(one workbook per section, any edition), Rosstat's thematic tables by region, and EMISS exports.

Per file: open it safely (:mod:`.workbook`), read its contents sheet and its release (:mod:`.release`), then
every sheet: its layout (:mod:`.layout`); what it is, by title and unit, matched against the mapping seed
(:mod:`.titles`); its territory rows (:mod:`.rows`, names by :mod:`.names`). Every region × year table is
imported, mapped to the catalog or not; a sheet in another layout, or whose rows are not territories, is skipped
with the reason; a table that resembles a catalog table but did not map is a warning. The result is the raw
contract of :mod:`dagster_project.sources.base`; values stay as published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..base import SourceError
from . import emiss
from .layout import Contents, find_header_row, footnotes, read_contents, read_layout
from .names import RegionMatcher
from .release import UNKNOWN, Release, read_sidecar, resolve_release
from .rows import ObservationBuffer, SheetNames, TableReader, TableRows, TableSpec
from .titles import MappingRule, TableIdentity, match_rules, normalise_title, table_identity
from .workbook import DEFAULT_MAX_UNCOMPRESSED_BYTES, Workbook, document_dates, open_workbook

SOURCE = "rosstat"
YEARBOOK, THEMATIC, EMISS = "regions_of_russia", "thematic", "emiss"
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_YEARBOOK_MARK = re.compile(r"социально-экономические показатели по субъектам|регионы россии|^раздел\s*\d")
# A sheet is a region table when at least this share of its named rows with values are territories.
MIN_TERRITORY_SHARE = 0.5


@dataclass
class Catalog:
    """What the importer maps with: the register matcher, the seed's title rules, the unit conversions
    (indicator, normalised unit) that make a row printed in another unit mappable, and the release setting."""

    matcher: RegionMatcher
    rules: list[MappingRule]
    conversions: frozenset[tuple[str, str]] = frozenset()
    release_setting: str = ""


@dataclass
class FileResult:
    """One file's import: observation tuples, reject dicts, notes, and what the refresh summary needs."""

    path: Path
    dataset: str = ""
    release: Release = UNKNOWN
    retrieved_at: datetime | None = None
    observations: ObservationBuffer = field(default_factory=ObservationBuffer)
    rejects: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    tables: int = 0
    mapped: dict[str, list[str]] = field(default_factory=dict)  # indicator -> "code title" of its tables
    tables_read: list[tuple[str, str]] = field(default_factory=list)  # (table code, sheet) of each table
    near_misses: list[tuple[str, str]] = field(default_factory=list)  # (indicator, warning)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded to their Excel files (sorted; Office lock files skipped)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir()
                                if p.suffix.lower() in EXCEL_SUFFIXES and not p.name.startswith("~$")))
        else:
            files.append(path)
    return files


def import_file(path: Path, catalog: Catalog, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
                ) -> FileResult:
    """Import one workbook. Raises :class:`SourceError` naming the file when it cannot be read at all (not a
    workbook, damaged, unsafe to open, no sheet readable); everything else becomes rejects, notes, warnings."""
    book = open_workbook(path, max_uncompressed_bytes)
    try:
        return _import_book(book, catalog)
    finally:
        book.close()


def _read_sheets(book: Workbook, result: FileResult) -> dict[str, list[list[object]]]:
    sheets: dict[str, list[list[object]]] = {}
    for name in book.sheet_names:
        try:
            sheets[name] = book.rows(name)
        except Exception as exc:  # one damaged sheet must not stop the others  # noqa: BLE001
            result.skipped.append(f"{book.path.name}!{name}: cannot be read ({type(exc).__name__}: {exc})")
    if not sheets:
        raise SourceError(f"{book.path}: none of its {len(book.sheet_names)} sheets can be read")
    return sheets


def _import_book(book: Workbook, catalog: Catalog) -> FileResult:
    path = book.path
    result = FileResult(path)
    sheets = _read_sheets(book, result)
    meta = next((emiss.read_metadata(rows) for name, rows in sheets.items() if emiss.is_metadata_sheet(name)), None)
    headers = {name: find_header_row(rows) for name, rows in sheets.items()}
    contents = Contents()
    texts: list[list[str]] = []
    for name, rows in sheets.items():
        if headers[name] is None and not emiss.is_metadata_sheet(name):
            found = read_contents(rows)
            texts.extend(found.texts)
            if found and not contents:
                contents = found
    texts += meta.texts if meta else []
    marks = " ".join(" ".join(cells) for cells in texts[:40]).lower()
    first_titles = " ".join(str(c) for rows in sheets.values() for row in rows[:4] for c in row[:2] if c).lower()
    result.dataset = EMISS if meta else YEARBOOK if _YEARBOOK_MARK.search(f"{marks} {first_titles}") else THEMATIC
    result.release = resolve_release(path, texts, document_dates(path, book.kind),
                                     yearbook=result.dataset == YEARBOOK, setting=catalog.release_setting)
    sidecar = read_sidecar(path)
    result.retrieved_at = _parse_time(sidecar.get("retrieved_at")) or datetime.fromtimestamp(path.stat().st_mtime)
    okato = emiss.OkatoNames(meta.okato, catalog.matcher) if meta and meta.okato else None
    for name, rows in sheets.items():
        if headers[name] is None:
            continue
        mark = result.observations.mark()
        try:
            _import_sheet(result, catalog, contents, name, rows, meta, okato)
        except Exception as exc:  # a sheet no rule here foresaw must not stop the others  # noqa: BLE001
            result.observations.truncate(mark)
            result.skipped.append(f"{path.name}!{name}: could not be read as a table ({type(exc).__name__}: {exc})")
    # A table resembling a catalog table is worth a warning only when this workbook did not map the indicator.
    result.warnings += [warning for indicator, warning in result.near_misses if indicator not in result.mapped]
    if not result.tables and not contents:
        raise SourceError(f"{path}: no sheet is a table of territories by year and there is no contents sheet: "
                          "not a Rosstat yearbook section, thematic table or EMISS export")
    if not result.tables:
        result.skipped.append(f"{path.name}: contents only ({len(contents.titles)} entries), no tables to import")
    return result


def _import_sheet(result: FileResult, catalog: Catalog, contents: Contents, sheet: str, rows: list[list[object]],
                  meta: emiss.EmissMetadata | None, okato: emiss.OkatoNames | None) -> None:
    where = f"{result.path.name}!{sheet}"
    layout = read_layout(rows)
    if isinstance(layout, str):
        result.skipped.append(f"{where}: {layout}")
        return
    if meta is not None:
        identity = table_identity(sheet, layout.title_cells, contents, unit=meta.unit, own=meta.name)
        identity = TableIdentity(meta.code or identity.code, identity.own, "", identity.unit, meta.name)
    else:
        identity = table_identity(sheet, layout.title_cells, contents)
    code = identity.code or sheet
    recognised = match_rules(catalog.rules, identity, result.dataset)
    rule = recognised.rules[0] if recognised.rules else None
    for indicator, warning in recognised.warnings:
        result.near_misses.append((indicator, f"{where} ({code} «{identity.title}»): {warning}"))
    if len(recognised.rules) > 1:
        others = ", ".join(r.indicator_code for r in recognised.rules[1:])
        result.warnings.append(f"{where}: also matches {others}; mapped to {rule.indicator_code} only")
    unit = _printed_unit(layout.title_cells, meta)
    spec = TableSpec(SOURCE, result.dataset, sheet, code, f"{code} {identity.title}".strip(), unit,
                     result.release.label, result.retrieved_at, str(result.path), rule, catalog.conversions,
                     footnotes(rows, layout.first_data_row))
    mark = result.observations.mark()
    names = SheetNames(catalog.matcher, okato)
    read = TableReader(spec, layout, names, catalog.matcher, result.observations).read(rows)
    if read.named_rows and read.resolved_rows < max(1.0, MIN_TERRITORY_SHARE * read.named_rows):
        result.observations.truncate(mark)
        result.skipped.append(f"{where}: rows are not territories ({read.resolved_rows} of {read.named_rows} "
                              "named rows with values are regions): not a region table")
        return
    _record(result, where, layout.notes, read, rule, spec)


def _record(result: FileResult, where: str, column_notes: list[str], read: TableRows, rule: MappingRule | None,
            spec: TableSpec) -> None:
    result.tables += 1
    result.tables_read.append((spec.code, spec.sheet))
    result.rejects.extend(read.rejects)
    result.notes.extend(f"{where}: {note}" for note in read.notes)
    for note in column_notes:  # a column skipped, or a year read with an assumption (12.10.!K6 «20009»)
        (result.skipped if note.endswith("skipped") else result.notes).append(f"{where}: {note}")
    if rule is not None:
        result.mapped.setdefault(rule.indicator_code, []).append(spec.key)


def _printed_unit(title_cells: list[tuple[int, int, str]], meta: emiss.EmissMetadata | None) -> str | None:
    if meta is not None:
        return meta.unit or None
    units = [text for _, _, text in title_cells if re.fullmatch(r"\(.*\)", " ".join(text.split()), re.S)]
    if not units:
        return None
    inner = " ".join(units[-1].split())[1:-1].strip()
    return re.sub(r"(?:\s*[;,]?\s*\d\))+\s*$", "", inner).strip() or None


def _parse_time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=None) if text else None
    except ValueError:
        return None


def load_catalog(regions: pd.DataFrame, mapping: pd.DataFrame, conversions: pd.DataFrame | None = None,
                 release_setting: str = "") -> Catalog:
    """The :class:`Catalog` from the register, the mapping seed and ``unit_conversions`` (Rosstat rows)."""
    from .titles import load_rules

    pairs = frozenset()
    if conversions is not None and len(conversions):
        rows = conversions[conversions["source"] == SOURCE]
        pairs = frozenset((str(r.indicator_code), normalise_title(r.unit_as_published)) for r in rows.itertuples())
    return Catalog(RegionMatcher(regions), load_rules(mapping), pairs, release_setting)
