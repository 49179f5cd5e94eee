"""Tables recognised by what they are: a sheet's title, parent title and unit, normalised, matched against the
title patterns of the mapping seed (``dbt/seeds/indicator_sources_rosstat.csv``).

Rosstat renumbers tables between editions (GRP is 9.1 in the 2019 yearbook and 8.1 in 2023; 9.1 in 2023 is
fixed assets) and prints the same series in thematic tables and EMISS exports, so the table code is kept only as
provenance. :func:`table_identity` reads a sheet's own title (the line with the sheet's code; a thematic
sheet's title line; an EMISS export's indicator name), its parent title (the line with the parent code, or the
uncoded line just above a sub-table's own line, as in 1.16.1) and its unit (the last «(…)» above the header),
confirmed or completed by the contents sheet. :func:`normalise_title` folds them (footnote marks, case, quotes,
dashes, a year range, the qualifier «по субъектам Российской Федерации»), and :func:`match_rules` finds the
seed rows whose patterns all match. A sheet that matches a row's title but not its unit or parent, or whose
title contains a catalog title without being it, is reported as *resembling* that indicator (a loud warning).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from .layout import Contents, clean_text, normalize_table_code, strip_table_code
from .names import fix_homoglyphs

# Footnote marks: one digit glued after any non-space character, even a digit («ОКВЭД21)» = ОКВЭД2 + 1)).
_FOOTNOTES = re.compile(r"(?<=[^\s(])\s?\d\)(?:\s*[;,]?\s*\d\))*|\*\)")
_DASH = re.compile(r"\s*[‐‑‒–—−]\s*|\s+-\s+")
_YEAR_RANGE = re.compile(r"\s*\(?\s*(?:в|за)?\s*(?:19|20)\d{2}\s*-\s*(?:19|20)\d{2}\s*(?:гг|г)?\.?\s*\)?")
_TRAILING_YEARS = re.compile(r"(?:\s*,\s*(?:19|20)\d{2})+\s*$")
_BY_REGION = re.compile(r",?\s*по (?:[а-я, ]+ и )?субъектам российской федерации$")
_BANNER = re.compile(r"^(?:социально-экономические показатели|регионы россии|содержание|к содержанию)")


def normalise_title(text: object) -> str:
    """A title or unit folded for matching: NFKC, no soft hyphens, Latin homoglyphs in Cyrillic words fixed,
    footnote marks removed, lower case, ё→е, no quotes, dashes as « - », one space, no trailing punctuation."""
    value = unicodedata.normalize("NFKC", str(text or "")).replace("\u00ad", "")
    value = fix_homoglyphs(value)
    value = _FOOTNOTES.sub("", value).lower().replace("ё", "е")
    value = re.sub(r"[«»\"“”„]", "", value)
    value = _DASH.sub(" - ", value)
    return " ".join(value.split()).strip(" .;:,")


def title_identity(text: object) -> str:
    """What a title says the table *is*: :func:`normalise_title` without the table code, a year range
    («в 2005-2019 гг.», «(2005-2016 гг.)», «, 2010, 2015-2024 гг.») and «по субъектам Российской Федерации»
    (every table here is by region). The classification word stays («оквэд» vs «оквэд2»)."""
    value = normalise_title(strip_table_code(unicodedata.normalize("NFKC", str(text or "")).strip()))
    value = _TRAILING_YEARS.sub("", _YEAR_RANGE.sub("", value).strip(" .;:,")).strip(" .;:,")
    return _BY_REGION.sub("", value).strip(" .;:,")


@dataclass(frozen=True)
class TableIdentity:
    """What a sheet is: its table code (provenance), own and parent titles as identities, the unit normalised,
    and the printable title (``title``: the contents' wording where there is one)."""

    code: str | None
    own: str
    parent: str
    unit: str
    title: str
    contents_own: str = ""


def table_identity(sheet: str, title_cells: list[tuple[int, int, str]], contents: Contents,
                   unit: str | None = None, own: str | None = None) -> TableIdentity:
    """The identity of one sheet from the texts above its header (``title_cells`` as (row, column, text)),
    its sheet name and the workbook's contents; ``unit``/``own`` given for an EMISS export."""
    lines = [(row, clean_text(text)) for row, col, text in title_cells if col == 0]
    lines = [(row, text) for row, text in lines if text and not _BANNER.match(normalise_title(text))]
    units = [clean_text(text) for _, _, text in title_cells if re.fullmatch(r"\(.*\)", clean_text(text), re.S)]
    code = normalize_table_code(sheet) or next(
        (c for _, text in lines if (c := normalize_table_code(text)) and c.count(".") >= 2), None)
    titled = [(row, text) for row, text in lines if not text.startswith("(")]
    own_row = next((row for row, text in titled if code and normalize_table_code(text) == code), None)
    if own is None:
        if own_row is None and titled:
            own_row = titled[-1][0]
        own = " ".join(text for row, text in titled if own_row is not None and row >= own_row)
    parent = ""
    if code and code.count(".") >= 3:
        parent_code = code.rsplit(".", 2)[0] + "."
        parent = next((t for _, t in titled if normalize_table_code(t) == parent_code), "")
        if not parent and own_row is not None:
            parent = next((t for r, t in reversed(titled) if r < own_row and not normalize_table_code(t)), "")
        parent = parent or contents.titles.get(parent_code, "")
    if unit is None:
        unit = units[-1][1:-1] if units else ""
    listed = contents.titles.get(code or "", "")
    shown = listed or strip_table_code(own)
    if parent and listed:
        shown = f"{contents.titles.get(code.rsplit('.', 2)[0] + '.', clean_text(strip_table_code(parent)))}: {listed}"
    return TableIdentity(code, title_identity(own or listed), title_identity(parent), normalise_title(unit),
                         clean_text(shown), title_identity(listed))


@dataclass(frozen=True)
class MappingRule:
    """One row of the mapping seed: which tables are a catalog indicator (regular expressions on the
    normalised own title, parent title, unit and column label), for which datasets and years, with the scale
    into the catalog unit (applied in dbt) and the years a series break is flagged at (``break_from``:
    the first year after each break, ``|``-separated)."""

    indicator_code: str
    datasets: frozenset[str]
    own: re.Pattern
    parent: re.Pattern | None = None
    unit: re.Pattern | None = None
    column: re.Pattern | None = None
    valid_from: int | None = None
    valid_to: int | None = None
    break_years: frozenset[int] = frozenset()
    note: str = ""
    core: re.Pattern | None = field(default=None, compare=False)

    def covers(self, year: int) -> bool:
        """Whether ``year`` is within the rule's validity."""
        return (self.valid_from is None or year >= self.valid_from) and (self.valid_to is None or year <= self.valid_to)

    def takes_column(self, label: str | None, single: bool) -> bool:
        """Whether a column of its table carries the indicator: one whose label matches the rule's column
        pattern, or, when the rule names none, the only column of its year."""
        if label is None:
            return single
        return bool(self.column and self.column.search(normalise_title(label)))


def _pattern(text: object) -> re.Pattern | None:
    text = str(text or "").strip()
    return re.compile(text) if text else None


def _year(text: object) -> int | None:
    text = str(text or "").strip()
    return int(float(text)) if text else None


def load_rules(mapping: pd.DataFrame | None) -> list[MappingRule]:
    """The seed rows that have an own-title pattern, as :class:`MappingRule` (rows without one only document
    an indicator the yearbook does not print). Raises ValueError naming a row whose pattern does not compile."""
    rules: list[MappingRule] = []
    if mapping is None or mapping.empty:
        return rules
    for number, row in enumerate(mapping.to_dict("records"), start=2):
        own = str(row.get("own_pattern") or "").strip()
        if not own or not str(row.get("indicator_code") or "").strip():
            continue
        try:
            rules.append(MappingRule(
                indicator_code=str(row["indicator_code"]).strip(),
                datasets=frozenset(d.strip() for d in str(row.get("dataset") or "").split("|") if d.strip()),
                own=re.compile(own), parent=_pattern(row.get("parent_pattern")), unit=_pattern(row.get("unit_pattern")),
                column=_pattern(row.get("column_pattern")), valid_from=_year(row.get("valid_from")),
                valid_to=_year(row.get("valid_to")),
                break_years=frozenset(int(y) for y in str(row.get("break_from") or "").split("|") if y.strip()),
                note=str(row.get("note") or ""), core=re.compile(own.removeprefix("^").removesuffix("$")),
            ))
        except (re.error, ValueError) as exc:
            raise ValueError(f"indicator_sources_rosstat.csv line {number}: {exc}") from None
    return rules


def _fits(pattern: re.Pattern | None, text: str) -> bool:
    return pattern is None or bool(pattern.search(text))


@dataclass
class Recognition:
    """What the catalog makes of a sheet: the rules it matches, and warnings of near misses."""

    rules: list[MappingRule] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (indicator it resembles, why)


def match_rules(rules: list[MappingRule], identity: TableIdentity, dataset: str) -> Recognition:
    """The rules of ``dataset`` whose own, parent and unit patterns all match the sheet (own title, else the
    contents' title), and warnings when none does but the sheet resembles one: its own title matches but
    exactly one of unit and parent does not, or it contains a catalog title (with the unit right)."""
    result = Recognition()
    candidates = [r for r in rules if not r.datasets or dataset in r.datasets]
    for rule in candidates:
        owns = [t for t in (identity.own, identity.contents_own) if t]
        context = _fits(rule.parent, identity.parent) and _fits(rule.unit, identity.unit)
        if context and any(rule.own.search(t) for t in owns):
            if identity.own and identity.contents_own and not rule.own.search(identity.contents_own):
                result.warnings.append(("", f"mapped to {rule.indicator_code}, but the contents sheet calls it "
                                            f"«{identity.contents_own}»"))
            result.rules.append(rule)
    if result.rules:
        return result
    for rule in candidates:
        unit_ok, parent_ok = _fits(rule.unit, identity.unit), _fits(rule.parent, identity.parent)
        if rule.own.search(identity.own) and unit_ok != parent_ok:
            what = (f"unit «{identity.unit}» is not /{rule.unit.pattern}/" if not unit_ok
                    else f"parent title «{identity.parent}» is not /{rule.parent.pattern}/")
            result.warnings.append((rule.indicator_code,
                                    f"resembles {rule.indicator_code} but did not map: its {what}"))
        elif rule.core and rule.core.search(identity.own) and unit_ok and not rule.parent:
            result.warnings.append((rule.indicator_code, f"resembles {rule.indicator_code} but did not map: its title "
                                    f"«{identity.own}» contains the catalog title /{rule.own.pattern}/"))
    return result
