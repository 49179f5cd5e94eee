"""What a reader must never meet in a briefing: internal jargon, identifiers, or the other language.

Used by the language tests on every rendered briefing (HTML text and PDF text from ``pdftotext``):

- **jargon**: the project's file names for the papers ("seed 000", "seed 004"), dbt/seed/dataset
  identifiers in snake_case (``demo_panel``, ``regions_of_russia``, ``smart_specialisation``), and
  ASCII stand-ins for mathematical signs (``>=``, ``<=``);
- **runs of the other script**: in a Russian briefing, two or more consecutive Latin words (an
  English phrase); in an English briefing, any Cyrillic word. Single Latin tokens in Russian text are
  symbols, not language (P, I, S, ID, NID, r, p, n, R², NUTS, PDF, UTC), and are allowed; so is the
  bibliographic title of an English-language paper in a Russian reference list, passed in ``allowed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

JARGON = (
    re.compile(r"\bseed\s*0\d\d\b", re.IGNORECASE),
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),  # snake_case identifiers
    re.compile(r"(?<![<>=!])(?:>=|<=)(?![<>=])"),
)

_LATIN_WORD = r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]"
# Two or more Latin words separated by spaces or light punctuation: an English phrase in Russian text.
_LATIN_RUN = re.compile(rf"{_LATIN_WORD}(?:[ \u00a0,:;&/()\-–]+{_LATIN_WORD})+")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]{2,}")
_URL = re.compile(r"https?://\S+")
# Latin tokens a Russian briefing legitimately strings together: symbols and names of classifications.
_SYMBOL_RUNS = re.compile(r"^(?:(?:P|I|S|ID|NID|NUTS|NACE|PDF|UTC|OKVED|R&D|r|p|n)[ \u00a0,:;/()\-–]*)+$")


def _normalise(text: str) -> str:
    """Join words hyphenated across lines (pdftotext) and collapse white space."""
    text = text.replace("\u00ad", "")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text)


def jargon(text: str) -> list[str]:
    """Internal names, identifiers and ASCII comparison signs found in ``text``."""
    text = _URL.sub(" ", _normalise(text))
    return [m.group(0) for pattern in JARGON for m in pattern.finditer(text)]


def other_script_runs(text: str, lang: str, allowed: Iterable[str] = ()) -> list[str]:
    """Phrases in the other language's script: Latin runs in Russian text, Cyrillic words in English text."""
    text = _URL.sub(" ", _normalise(text))
    for phrase in allowed:
        text = text.replace(_normalise(phrase), " ")
    if lang == "en":
        return _CYRILLIC_WORD.findall(text)
    return [m.group(0) for m in _LATIN_RUN.finditer(text) if not _SYMBOL_RUNS.match(m.group(0))]


def html_text(html: str) -> str:
    """The words of an HTML page a reader can see or hear (text, alt texts, titles), without CSS or scripts."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "script"):
                self._skip += 1
            for name, value in attrs:
                if name in ("title", "alt", "aria-label", "placeholder") and value:
                    self.parts.append(value)

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "script"):
                self._skip -= 1

        def handle_data(self, data: str) -> None:
            if not self._skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)
