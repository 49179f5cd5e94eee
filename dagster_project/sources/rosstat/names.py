"""Territory names as Rosstat prints them, resolved to the region register (``dbt/seeds/regions.csv``).

The yearbook spells the same territory many ways: runs of spaces, embedded newlines, soft hyphens,
mixed dashes, a Latin «p» inside a Cyrillic word, footnote marks glued on («Кемеровская область3)»),
«г. Москва» vs «Москва», a trailing full stop. ``normalize_name`` folds all of these into one key, and
:class:`RegionMatcher` looks the key up among the register's names and aliases, which are folded the
same way. Anything still unknown is reported by the importer as a reject, never guessed.
"""

from __future__ import annotations

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


def _fix_homoglyphs(word: str) -> str:
    return word.translate(_HOMOGLYPHS) if _CYRILLIC.search(word) else word


def normalize_name(raw: object) -> str:
    """Fold a territory name to its matching key (lower case, one spacing, one dash, no footnotes).

    Why: the same region appears in dozens of spellings across sheets; comparing folded keys is
    what lets one alias list cover them all.
    """
    if raw is None:
        return ""
    return _normalize_text(str(raw))


@functools.lru_cache(maxsize=4096)
def _normalize_text(raw: str) -> str:
    """Cached body of :func:`normalize_name` (the same few hundred spellings recur in every sheet)."""
    text = unicodedata.normalize("NFKC", raw)  # superscripts ¹⁾ -> 1), NBSP -> space
    text = text.replace("\u00ad", "").replace("\u200b", "")  # soft hyphen, zero-width space
    text = _TRAILING_FOOTNOTES.sub("", text)
    text = " ".join(_fix_homoglyphs(word) for word in text.split())
    text = text.lower().replace("ё", "е")
    text = _DASHES.sub("-", text)
    text = text.replace("(", " ").replace(")", " ").replace("«", "").replace("»", "").replace('"', "")
    text = _SPACES.sub(" ", text).strip(" .,;:")
    return _CITY_PREFIX.sub("", text)


@dataclass(frozen=True)
class RegionMatch:
    """A register row a name resolved to."""

    region_code: str
    level: str


class RegionMatcher:
    """Resolve source spellings to register codes through names and ``|``-separated aliases.

    Built once per import from the register DataFrame. Two register rows claiming the same folded
    name is a register error (it would make matching ambiguous), so it raises at build time.
    """

    def __init__(self, regions: pd.DataFrame, countries: tuple[str, ...] | None = ("RU",)) -> None:
        self._by_key: dict[str, RegionMatch] = {}
        frame = regions
        if countries is not None and "country" in frame.columns:
            frame = frame[frame["country"].isin(countries)]
        for row in frame.itertuples(index=False):
            match = RegionMatch(str(row.region_code), str(getattr(row, "level", "") or ""))
            for spelling in self._spellings(row):
                self._add(spelling, match)

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
        """Return the register row ``raw`` names, or None when it names nothing known."""
        return self._by_key.get(normalize_name(raw))

    def __len__(self) -> int:
        return len(self._by_key)
