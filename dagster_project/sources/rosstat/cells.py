"""Rosstat's cell conventions: years in headers and values in data cells.

Kept apart from the table logic because these rules are about how Rosstat prints a cell, not about
tables: a year may be printed «20223)», «2015/2016» or «2018 г.»; a number may be the string «1 194,6» or
carry a footnote «1202)»; a missing value is «-», «…» or «…1)»; an index above 200 % is «в 2,3 р.»
(2.3 times, i.e. 230).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Footnote marks glued to a year: «1)», «1);2)», « 4)», «10)» (innovations_1.xls: «202210)»). A mark never
# starts with 0, so «20210)» (a misprint in the same sheet) is not taken for 2021.
_FOOTNOTE_TAIL = r"(?:\s*[;,]?\s*[1-9]\d?\))*"
_YEAR = re.compile(
    r"^\s*((?:19|20)\d{2})"  # the year (an academic year keeps the year it starts)
    r"(?:\s*[/\-–]\s*(?:(?:19|20)\d{2}|\d{2}))?"  # «2015/2016», «2015-16»
    r"\s*(?:г\.|гг\.|год)?" + _FOOTNOTE_TAIL + r"\s*$"
)
_DASH_TOKENS = {"-", "–", "—", "−", "‐", "‑"}
_MISSING = re.compile(r"^(?:…+|\.{2,}|…\.+)\s*(?:\((\d)\)|(\d)\))?\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_NUMBER_FOOTNOTE = re.compile(r"^(.*?\d)\s*(\d\))(?:\s*[;,]?\s*\d\))*\s*$")
# «в 2,3 р.», «в 2.3 р.», «в 2,2р.»: N times (in an index table in per cent of the previous year: N x 100).
_TIMES = re.compile(r"^в\s*(\d+(?:[.,]\d+)?)\s*р\.?$")
TIMES_FLAG = "times"


def parse_year(cell: object) -> int | None:
    """The year a header cell stands for, or None: 2022, 2022.0, «2022 4)», «20223)», «2015/2016»."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        year = int(cell)
        return year if year == cell and 1900 <= year <= 2100 else None
    if not isinstance(cell, str):
        return None
    found = _YEAR.match(unicodedata.normalize("NFKC", cell))
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Cell:
    """A parsed data cell: a value, or a missing-value flag, or a problem to reject."""

    value: float | None = None
    flag: str | None = None
    footnote: int | None = None
    problem: str | None = None


def parse_cell(cell: object) -> Cell | None:
    """Parse one data cell; None means an empty cell (no observation).

    «-» means the phenomenon is absent (flag ``none``), «…»/«...» not available (``na``), «…1)» a
    value withheld under a footnote (the caller decides ``c`` from the footnote text), «в 2,3 р.» an index
    printed as a multiple: value 230.0 with flag ``times`` (Rosstat prints indices above 200 % so, in tables
    «в процентах к предыдущему году»).
    """
    if cell is None or isinstance(cell, bool):
        return None if cell is None else Cell(problem="a boolean where a number was expected")
    if isinstance(cell, (int, float)):
        return Cell(value=float(cell)) if cell == cell else None  # NaN → empty
    if not isinstance(cell, str):
        return Cell(problem=f"a {type(cell).__name__} where a number was expected")
    text = cell.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ").strip()
    if not text:
        return None
    if text in _DASH_TOKENS:
        return Cell(flag="none")
    times = _TIMES.match(text)
    if times:
        return Cell(value=round(float(times.group(1).replace(",", ".")) * 100, 9), flag=TIMES_FLAG)  # 2.2 x 100 = 220
    missing = _MISSING.match(text)
    if missing:
        mark = missing.group(1) or missing.group(2)
        return Cell(flag="na", footnote=int(mark) if mark else None)
    return _parse_number_text(text)


def _parse_number_text(text: str) -> Cell:
    compact = text.replace(" ", "").replace(",", ".").replace("−", "-").replace("–", "-")
    if _NUMBER.match(compact):
        return Cell(value=float(compact))
    glued = _NUMBER_FOOTNOTE.match(compact)
    if glued and _NUMBER.match(glued.group(1)):
        return Cell(value=float(glued.group(1)), footnote=int(glued.group(2)[0]))
    return Cell(problem="not a number nor a known missing-value token")
