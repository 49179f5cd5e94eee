"""Territory names as Rosstat prints them, resolved to the region register (``dbt/seeds/regions.csv``).

The same territory is spelled many ways across the yearbook, the thematic tables and EMISS: runs of spaces,
newlines, soft hyphens, mixed dashes, Latin homoglyphs («Hенецкий», «Калинингpадская»), glued footnote marks
(«Кемеровская область3)»), «г. Москва» vs «Город Москва», abbreviations («авт.округ», «обл.», «респ.», «АО»),
a hyphen printed as a space («Ханты Мансийский»), a label glued on («в том числе Ненецкий автономный округ»), a
suffix dropped or spilled over from the row above («Ямало-Ненецкий автономный округ – Югра»), a name cut short
(«Еврейская автономная», «Северо-Западный»). :class:`RegionMatcher` resolves all of these by general rules,
tried in order, each only when the previous found nothing (:meth:`RegionMatcher.resolve`); what the rules cannot
explain (Rosstat's own typos, historical names) are aliases in the register. Anything still unknown is rejected
by the importer, never guessed; a prefix that names several register rows is ambiguous and unknown.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

# Latin letters that look like Cyrillic ones; replaced only inside words that contain Cyrillic,
# so «Калинингpадская» (Latin p) matches while «Saarland» is left alone.
_HOMOGLYPHS = str.maketrans("aceopxyABCEHKMOPTXk", "асеорхуАВСЕНКМОРТХк")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_]+\s*")
# Footnote marks at the end of a name: «…округ3)», «…округ 2); 3)», «…округ3);4)», «*)».
_TRAILING_FOOTNOTES = re.compile(r"(?:\s*[,;]?\s*(?:\d{1,2}|\*)\))+\s*$")
_CITY_PREFIX = re.compile(r"^(?:г\.|город)\s*")
_SPACES = re.compile(r"\s+")

# Rows that name no territory of their own: a label («в том числе:»), or a label glued to a name.
_LABEL = re.compile(r"^(?:в том числе|из них|из него|включая)\b\s*:?\s*")
# Abbreviations, as whole words of a folded key.
_ABBREVIATIONS = (
    (re.compile(r"\bавт\.\s*округа\b"), "автономного округа"),
    (re.compile(r"\bавт\.\s*округов\b"), "автономных округов"),
    (re.compile(r"\bавт\.\s*округ\b"), "автономный округ"),
    (re.compile(r"\bавт\.\s*обл(?:\.|асть)"), "автономная область"),
    (re.compile(r"(?<!\S)ао(?!\S)"), "автономный округ"),
    (re.compile(r"(?<!\S)фо(?!\S)"), "федеральный округ"),
    (re.compile(r"(?<!\S)обл\.?(?!\S)"), "область"),
    (re.compile(r"(?<!\S)респ\.?(?!\S)"), "республика"),
)
# «X без автономного округа», «X кроме Ненецкого авт.округа», «X (кроме … и Ямало-Ненецкого …)»: X's part
# without its autonomous okrugs (the register's subject_part row within X).
_WITHOUT_OKRUGS = re.compile(r"^(.*?)\s*\(?\s*(?:без|кроме)\s+.*(?:автономн|округ)")
# A trailing «- Югра», «– Кузбасс», «(Адыгея)»: dropped when the head alone names a register row.
_SUFFIX = re.compile(r"(?:\s*\([^()]*\)|-[^-\s]+(?: [^-\s]+)?)$")
_MIN_PREFIX = 6  # characters; a shorter cut-off name is not taken as a prefix of a register name

# Rows that are parts of the RF total but not territories: 2.15 civil servants «на федеральном уровне» /
# «на региональном уровне»; 1.23–1.24 «Межрегиональное управление»; 10.4.x «Не распределено по субъектам
# Российской Федерации» (investment not assigned to a region). Kept as breakdowns of the RF row.
NON_TERRITORIAL = (
    re.compile(r"^на (?:федеральном|региональном) уровне$"),
    re.compile(r"^межрегиональное управление$"),
    re.compile(r"^(?:не распределено|без распределения) по субъектам российской федерации$"),
)


def fix_homoglyphs(text: str) -> str:
    """``text`` with the Latin look-alike letters of its Cyrillic words made Cyrillic («Hенецкий» → «Ненецкий»,
    «Калинингpадская» → «Калининградская»), its spacing folded to single spaces; Latin words are left alone."""
    return " ".join(word.translate(_HOMOGLYPHS) if _CYRILLIC.search(word) else word for word in text.split())


def normalize_name(raw: object) -> str:
    """Fold a territory name to its matching key: NFKC, no soft hyphens, Latin homoglyphs in Cyrillic words
    fixed, no trailing footnote marks, lower case, ё→е, one dash «-» with no spaces around it, no quotes,
    parentheses kept as « (…)», one space, no «г.»/«город» prefix, no trailing punctuation.

    Why: the same region appears in dozens of spellings across sheets; comparing folded keys is
    what lets one alias list and the rules of :class:`RegionMatcher` cover them all.
    """
    if raw is None:
        return ""
    return _normalize_text(str(raw))


@functools.lru_cache(maxsize=8192)
def _normalize_text(raw: str) -> str:
    """Cached body of :func:`normalize_name` (the same few hundred spellings recur in every sheet)."""
    text = unicodedata.normalize("NFKC", raw)  # superscripts ¹⁾ -> 1), NBSP -> space
    text = text.replace("\u00ad", "").replace("\u200b", "")  # soft hyphen, zero-width space
    text = _TRAILING_FOOTNOTES.sub("", text)
    text = fix_homoglyphs(text)
    text = text.lower().replace("ё", "е")
    text = _DASHES.sub("-", text)
    text = text.replace("«", "").replace("»", "").replace('"', "").replace("(", " (").replace(")", ") ")
    text = _SPACES.sub(" ", text).replace("( ", "(").replace(" )", ")").strip(" .,;:")
    return _CITY_PREFIX.sub("", text)


def _loose(key: str) -> str:
    """A key with hyphens as spaces: «ханты мансийский…» and «ханты-мансийский…» are the same name."""
    return key.replace("-", " ")


@dataclass(frozen=True)
class RegionMatch:
    """A register row a name resolved to, and how (``rule``: ``name`` for a name or alias of the register,
    else the rule that found it, for the import notes; ``source_name``: the fuller name the source gave
    elsewhere that decided it, kept as the row's region key)."""

    region_code: str
    level: str
    rule: str = "name"
    source_name: str = ""  # the name that decided, when not the row's own (an EMISS ОКАТО entry)


class RegionMatcher:
    """Resolve source spellings to register codes through names, ``|``-separated aliases and general rules.

    Built once per import from the register DataFrame (``country`` limits it to Russia's rows by default).
    Two register rows claiming the same folded name is a register error (it would make matching
    ambiguous), so it raises ValueError at build time.
    """

    def __init__(self, regions: pd.DataFrame, countries: tuple[str, ...] | None = ("RU",)) -> None:
        self._by_key: dict[str, RegionMatch] = {}
        frame = regions
        if countries is not None and "country" in frame.columns:
            frame = frame[frame["country"].isin(countries)]
        self._parts: dict[str, str] = {}  # code of a subject -> its part without the autonomous okrugs
        self.okrugs: dict[str, str] = {}  # code of an okrug -> the subject it lies within
        for row in frame.itertuples(index=False):
            level = str(getattr(row, "level", "") or "")
            match = RegionMatch(str(row.region_code), level)
            within = str(getattr(row, "within_code", "") or "")
            if within and level == "subject_part":
                self._parts[within] = match.region_code
            elif within:
                self.okrugs[match.region_code] = within
            for spelling in self._spellings(row):
                self._add(spelling, match)
        self._levels = {m.region_code: m.level for m in self._by_key.values()}
        self._loose: dict[str, set[str]] = {}
        self._heads: dict[str, set[str]] = {}
        for key, found in self._by_key.items():
            self._loose.setdefault(_loose(key), set()).add(found.region_code)
            head = _SUFFIX.sub("", key)
            if head != key:
                self._heads.setdefault(_loose(head), set()).add(found.region_code)
        self._sorted = sorted({*self._loose, *self._heads})
        self._cache: dict[str, RegionMatch | None] = {}

    @staticmethod
    def _spellings(row: object) -> list[str]:
        names = [getattr(row, "name_ru", None), getattr(row, "name_en", None)]
        aliases = getattr(row, "aliases", None)
        if isinstance(aliases, str) and aliases.strip():
            names.extend(aliases.split("|"))
        return [str(name) for name in names if isinstance(name, str) and name.strip()]

    def _add(self, spelling: str, match: RegionMatch) -> None:
        key = normalize_name(spelling)
        if not key:
            return
        known = self._by_key.get(key)
        if known is not None and known.region_code != match.region_code:
            raise ValueError(
                f"region register is ambiguous: {spelling!r} names both "
                f"{known.region_code} and {match.region_code}"
            )
        self._by_key[key] = match

    def match(self, raw: object) -> RegionMatch | None:
        """Return the register row ``raw`` names, or None when it names nothing known (or is a label)."""
        return self.resolve(normalize_name(raw))

    def resolve(self, key: str) -> RegionMatch | None:
        """Resolve a folded key (:func:`normalize_name`) by the rules, in order: the register's names and
        aliases; a glued label stripped; abbreviations expanded; hyphen = space; «X без/кроме … автономн…» → X's
        part without its okrugs; a trailing «- suffix» or «(…)» dropped (or a register name's); a unique
        prefix of one register row's names (at a word boundary, at least 6 characters)."""
        if key not in self._cache:
            self._cache[key] = self._resolve(key)
        return self._cache[key]

    def _resolve(self, key: str) -> RegionMatch | None:
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        stripped = _LABEL.sub("", key, count=1)
        if not stripped or self.is_label(key):
            return None
        expanded = stripped
        for pattern, replacement in _ABBREVIATIONS:
            expanded = pattern.sub(replacement, expanded)
        for rule, candidate in (("label", stripped), ("abbreviation", expanded)):
            if candidate != key and (found := self._by_key.get(candidate)):
                return RegionMatch(found.region_code, found.level, rule)
        return self._by_rules(expanded)

    def _by_rules(self, key: str) -> RegionMatch | None:
        loose = _loose(key)
        if found := self._found(self._loose.get(loose), "hyphen as space"):
            return found
        without = _WITHOUT_OKRUGS.match(key)
        if without and (whole := self._by_rules_or_name(without.group(1))):
            part = self._parts.get(whole.region_code)
            return RegionMatch(part, self._levels.get(part, "subject_part"), "without okrugs") if part else None
        head = _loose(_SUFFIX.sub("", key))
        for codes in (self._loose.get(head), self._heads.get(head), self._heads.get(loose)):
            if found := self._found(codes, "suffix dropped"):
                return found
        return self._found(self._prefixed(loose), "name cut short")

    def _by_rules_or_name(self, key: str) -> RegionMatch | None:
        return self._by_key.get(key) or self._by_rules(key)

    def _prefixed(self, loose: str) -> set[str]:
        """Codes of the register names that start with ``loose`` followed by a space (a cut-off name)."""
        if len(loose) < _MIN_PREFIX:
            return set()
        codes: set[str] = set()
        start = loose + " "
        index = bisect.bisect_left(self._sorted, start)
        while index < len(self._sorted) and self._sorted[index].startswith(start):
            name = self._sorted[index]
            codes |= self._loose.get(name, set()) | self._heads.get(name, set())
            index += 1
        return codes

    def _found(self, codes: set[str] | None, rule: str) -> RegionMatch | None:
        if not codes or len(codes) != 1:
            return None  # nothing, or ambiguous (several register rows): never guessed
        (code,) = codes
        return RegionMatch(code, self._levels[code], rule)

    @staticmethod
    def is_label(key: str) -> bool:
        """Whether a folded key is a label row («в том числе:», «из них»), not a territory."""
        return bool(_LABEL.match(key)) and not _LABEL.sub("", key, count=1).strip(" :")

    @staticmethod
    def non_territorial(key: str) -> bool:
        """Whether a folded key is a known part of the RF total that is no territory (:data:`NON_TERRITORIAL`)."""
        return any(pattern.match(key) for pattern in NON_TERRITORIAL)

    def part_of(self, code: str) -> str | None:
        """The register's part of ``code`` without its autonomous okrugs (RU-ARK → RU-ARK-XAO), if any."""
        return self._parts.get(code)

    def __len__(self) -> int:
        return len(self._by_key)

