"""EMISS (fedstat.ru) exports: a report sheet «Отчет» (region × year, headers «2018 г.») beside a metadata sheet
«Установленные разрезы» that names the indicator («23110000100040200001 Численность постоянного населения в
среднем за год»), its unit («ЕДИНИЦА ИЗМЕРЕНИЯ» | «Человек»), the periods and the ОКАТО list of the territories.

The report names territories in EMISS's short forms, and names a part the same as its whole: «Архангельская
область» after «Ненецкий автономный округ» is the oblast *without* the okrug, and «Тюменская область» comes twice
(the total, then the oblast without its okrugs). The ОКАТО list spells each out in the same order
(«11001000000 Архангельская область (кроме Ненецкого автономного округа)»), so :class:`OkatoNames` pairs each
report row with the next unused ОКАТО entry that starts with its name and resolves that entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .layout import clean_text
from .names import RegionMatch, RegionMatcher, normalize_name

METADATA_SHEET = "установленные разрезы"
_CODE_AND_NAME = re.compile(r"^\s*(\d{6,})\s+(.+)$", re.S)
# ОКАТО entries «643 Российская Федерация, 030 Центральный федеральный округ, 14000000000 Белгородская область, …»
# (names may contain commas: «57100000000 Коми-Пермяцкий округ, входящий в состав Пермского края»).
_OKATO_ENTRY = re.compile(r"(?:^|,\s*)(\d{3,}(?:\.[^\s,]+)?)\s+(.*?)(?=,\s*\d{3,}(?:\.[^\s,]+)?\s|$)", re.S)


def is_metadata_sheet(name: str) -> bool:
    """Whether a sheet is EMISS's metadata sheet («Установленные разрезы»)."""
    return " ".join(name.lower().split()) == METADATA_SHEET


@dataclass
class EmissMetadata:
    """What «Установленные разрезы» says: indicator code and name, unit, and the ОКАТО list (code, name)."""

    code: str = ""
    name: str = ""
    unit: str = ""
    texts: list[list[str]] = field(default_factory=list)
    okato: list[tuple[str, str]] = field(default_factory=list)


def read_metadata(rows: list[list[object]]) -> EmissMetadata:
    """Read the metadata sheet: A1 «<code> <name>», then label | value rows («ЕДИНИЦА ИЗМЕРЕНИЯ», «ОКАТО», …)."""
    meta = EmissMetadata()
    for row in rows:
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        if not cells:
            continue
        meta.texts.append(cells)
        label = " ".join(cells[0].lower().split())
        if not meta.name and (found := _CODE_AND_NAME.match(cells[0])):
            meta.code, meta.name = found.group(1), clean_text(found.group(2))
        elif label == "единица измерения" and len(cells) > 1:
            meta.unit = clean_text(cells[1])
        elif label == "окато" and len(cells) > 1:
            meta.okato = [(code, clean_text(name)) for code, name in _OKATO_ENTRY.findall(cells[1])]
    return meta


class OkatoNames:
    """Resolve a report's territory names through its ОКАТО list: each row takes the first unused entry whose
    folded name is the row's name or starts with it, searching after the entry the previous row took, then from
    the top; the entry's full name is resolved by the register (a part «… (кроме … автономного округа)» is the
    register's subject_part). Rows with no entry fall back to the register alone."""

    def __init__(self, entries: list[tuple[str, str]], matcher: RegionMatcher) -> None:
        self._entries = [(code, normalize_name(name), name) for code, name in entries]
        self._used: set[int] = set()
        self._last = -1
        self._matcher = matcher

    def resolve(self, raw: object) -> RegionMatch | None:
        """The register row of a report row's name (None: unknown); ``source_name`` is the ОКАТО entry when it
        says more than the row («Архангельская область (кроме Ненецкого автономного округа)»)."""
        key = normalize_name(raw)
        alone = self._matcher.resolve(key)
        order = [*range(self._last + 1, len(self._entries)), *range(self._last + 1)]
        for index in order:
            code, name, printed = self._entries[index]
            if index not in self._used and name.startswith(key) and name[len(key):len(key) + 1] in ("", " ", "-", "("):
                found = self._matcher.resolve(name)
                if found is not None:
                    self._used.add(index)
                    self._last = index
                    if alone is not None and alone.region_code == found.region_code:
                        return alone
                    return RegionMatch(found.region_code, found.level, f"ОКАТО {code}", printed)
        return alone
