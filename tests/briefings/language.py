"""What a reader must never meet in a briefing: internal jargon, identifiers, or the other language.

Used by the language tests on every rendered briefing (HTML text and PDF text from ``pdftotext``):

- **jargon**: the project's file names for the papers ("seed 000", "seed 004"), dbt/seed/dataset
  identifiers in snake_case (``demo_panel``, ``regions_of_russia``, ``smart_specialisation``), and
  ASCII stand-ins for mathematical signs (``>=``, ``<=``);
- **runs of the other script**: in a Russian briefing, any English word (consecutive ones are one run); in
  an English briefing, any Cyrillic word. All-capital tokens in Russian text are symbols and codes, not
  language (P, I, S, ID, NID, R², NUTS, NACE, PDF, UTC, RU-SVE), and so are the statistical letters r, p, n, x,
  y, t, k and the product's name; the bibliographic title of an English-language paper in a Russian reference
  list is passed in ``allowed``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

JARGON = (
    re.compile(r"\bseed\s*0\d\d\b", re.IGNORECASE),
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),  # snake_case identifiers
    re.compile(r"(?<![<>=!])(?:>=|<=)(?![<>=])"),
)

# A word of the other language: Latin letters with at least one lower-case letter (an all-capital token such as
# NUTS, PDF, UTC, RU-SVE, P, ID is a symbol or a code, not English).
_LATIN_WORD = re.compile(r"(?<![\w/])[A-Za-z]*[a-z][A-Za-z]*(?:['’-][A-Za-z]+)*(?![\w])")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]{2,}")
_URL = re.compile(r"https?://\S+")
# Latin words a Russian briefing legitimately prints: statistical symbols and the product's name.
_ALLOWED_LATIN = {"r", "p", "n", "t", "k", "x", "y", "regiocode"}


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
    """Words of the other language's script: Latin words in Russian text (each English word counts, and
    consecutive ones count as one run), Cyrillic words in English text. ``allowed`` phrases (the bibliographic
    title of an English-language paper in a Russian reference list) are taken out first."""
    text = _URL.sub(" ", _normalise(text))
    for phrase in allowed:
        text = text.replace(_normalise(phrase), " ")
    if lang == "en":
        return _CYRILLIC_WORD.findall(text)
    runs: list[str] = []
    last_end = -10
    for match in _LATIN_WORD.finditer(text):
        word = match.group(0)
        if word.lower() in _ALLOWED_LATIN:
            continue
        if runs and re.fullmatch(r"[\s\dA-Z,.:;&()\-–]*", text[last_end:match.start()]):
            runs[-1] += text[last_end:match.end()]
        else:
            runs.append(word)
        last_end = match.end()
    return runs


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
