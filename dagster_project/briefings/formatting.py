"""Locale-aware formatting of numbers and dates for the briefings (Russian and English), and the
reading of single values from a briefing context.

Hand-written rather than Babel: the briefings need a handful of fixed patterns, and the same
strings must appear in the HTML and in the PDF, so they are made once here and handed to both
templates as data. Every function accepts ``None`` (and other non-values) and returns a dash,
because a briefing must render whatever gaps the warehouse has; for the same reason the readers of
a context value (:func:`as_float`, :func:`as_mapping`, :func:`records`, :func:`is_demo`) turn
whatever the warehouse wrote into a usable value or an empty one, never an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

SUPPORTED_LANGS: tuple[str, ...] = ("ru", "en")

NBSP = "\u00a0"  # Russian digit-group separator: a number never breaks across lines
MINUS = "\u2212"  # typographic minus, the same width as the plus sign
DASH = "\u2014"  # shown for a missing value in both languages
CODE_DIGITS = 3  # decimals of a code (P, I, S, their changes, ID, NID) wherever a briefing prints one

_MONTHS = {
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

# a month on its own (``май 2024 г.``): the nominative, where a day's date takes the genitive
_MONTHS_NOMINATIVE_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
                         "октябрь", "ноябрь", "декабрь")
_YEAR_LABEL = re.compile(r"^(\d{4})$")
_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")

_LEADING_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?![\dT:])(.*)$", re.DOTALL)


def check_lang(lang: str) -> str:
    """Return ``lang`` if a message catalog exists for it; fail early with the choices otherwise."""
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported briefing language {lang!r}; expected one of {SUPPORTED_LANGS}")
    return lang


def as_float(value: object) -> float | None:
    """Coerce a context value to a finite float, or ``None`` when it is not a usable number.

    Booleans are refused (``True`` is not 1.0 in a statistics table) and NaN/inf count as missing.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_mapping(value: object) -> Mapping[str, Any]:
    """A context field that should be a record: itself, or an empty record when it is anything else."""
    return value if isinstance(value, Mapping) else {}


def records(value: object) -> list[Mapping[str, Any]]:
    """A context field that should be a list of records: its records, skipping anything that is not one."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def text_or_dash(value: object) -> str:
    """Free text from the context (source names, reasons): as given, or a dash when missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DASH
    return str(value)


def is_demo(value: object) -> bool:
    """The context's ``demo`` flag, whether the warehouse wrote it as a boolean or as text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def format_number(value: object, lang: str, digits: int = 1, signed: bool = False) -> str:
    """Format a number as ``1 234,5`` (ru, no-break space, decimal comma) or ``1,234.5`` (en).

    ``signed`` adds ``+`` to positive values (for changes); negatives always get a real minus.
    A value that rounds to zero gets no sign, so a change never reads ``−0,000``.
    """
    check_lang(lang)
    number = as_float(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.{digits}f}"
    rounds_to_zero = not text.strip("0,.")  # only zeros and separators once rounded
    if lang == "ru":
        text = text.replace(",", NBSP).replace(".", ",")
    if rounds_to_zero:
        return text
    if number < 0:
        return MINUS + text
    return "+" + text if signed else text


def format_int(value: object, lang: str) -> str:
    """Format a count with digit grouping (``4 321`` / ``4,321``)."""
    return format_number(value, lang, digits=0)


def format_code(value: object, lang: str, signed: bool = False) -> str:
    """A code (P, I, S, a dynamic code, ID, NID) to :data:`CODE_DIGITS` decimals; ``signed`` for changes."""
    return format_number(value, lang, digits=CODE_DIGITS, signed=signed)


def format_year(value: object) -> str:
    """Format a year as plain digits: a year is never digit-grouped (``2023``, not ``2 023``)."""
    number = as_float(value)
    if number is None or number != int(number):
        return DASH
    return str(int(number))


def parse_datetime(value: object) -> datetime | None:
    """Parse an ISO date or timestamp (``Z`` and offsets accepted); ``None`` when it is not one."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _format_day(moment: date, lang: str) -> str:
    month = _MONTHS[lang][moment.month - 1]
    if lang == "ru":
        return f"{moment.day}{NBSP}{month} {moment.year}{NBSP}г."
    return f"{moment.day}{NBSP}{month} {moment.year}"


def _format_offset(offset: timedelta | None) -> str:
    if offset is None:
        return ""
    if not offset:
        return " UTC"
    sign = "+" if offset >= timedelta(0) else MINUS
    minutes = abs(int(offset.total_seconds())) // 60
    return f" UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_release_date(value: object, release: object, lang: str) -> str:
    """A release's date as precise as its label states it.

    A release labelled by a year or a month (``2024``, ``2024-05``) is dated by the end of that period when its
    source gives no day (sources/csv ``release_date``, sources/base: 31 December of the year): such a date is
    printed as the period (``2024 г.`` / ``2024``, ``май 2024 г.`` / ``May 2024``), never as a day the data does
    not state. Any other date is :func:`format_date`'s.
    """
    check_lang(lang)
    moment = parse_datetime(value) if value is not None else None
    label = str(release).strip() if release is not None else ""
    if moment is not None and (year := _YEAR_LABEL.match(label)) and (moment.year, moment.month, moment.day) == (
            int(year[1]), 12, 31):
        return f"{moment.year}{NBSP}г." if lang == "ru" else str(moment.year)
    month = _MONTH_LABEL.match(label)
    if moment is not None and month and (moment.year, moment.month) == (int(month[1]), int(month[2])) \
            and (moment + timedelta(days=1)).month != moment.month:
        name = _MONTHS_NOMINATIVE_RU[moment.month - 1] if lang == "ru" else _MONTHS[lang][moment.month - 1]
        return f"{name} {moment.year}{NBSP}г." if lang == "ru" else f"{name} {moment.year}"
    return format_date(value, lang)


def format_date(value: object, lang: str, with_time: bool = False) -> str:
    """Format a date as ``23 ноября 2026 г.`` / ``23 November 2026``, optionally with ``, 23:15 UTC``.

    A string that is not an ISO date is returned unchanged (it is still information);
    a missing value is a dash.
    """
    check_lang(lang)
    if value is None or (isinstance(value, str) and not value.strip()):
        return DASH
    moment = parse_datetime(value)
    if moment is None:
        return str(value)
    text = _format_day(moment, lang)
    is_timestamp = isinstance(value, datetime) or (isinstance(value, str) and len(value.strip()) > 10)
    if with_time and is_timestamp:
        text += f", {moment:%H:%M}{_format_offset(moment.utcoffset())}"
    return text


def format_vintage(value: object, lang: str) -> str:
    """Format a data-vintage label, localising a leading ISO date: ``2024-03-01 (demo v2)``
    becomes ``1 марта 2024 г. (demo v2)``; any other text is kept as the warehouse wrote it."""
    check_lang(lang)
    if value is None or (isinstance(value, str) and not value.strip()):
        return DASH
    text = str(value)
    match = _LEADING_ISO_DATE.match(text)
    if not match:
        return text
    moment = parse_datetime(match.group(1))
    if moment is None:
        return text
    return _format_day(moment, lang) + match.group(2)


def format_percent(value: object, lang: str, digits: int = 1, share: bool = False) -> str:
    """Format a percentage: ``49,0 %`` (ru: a no-break space before the sign, as Russian typography
    wants) or ``49.0%`` (en). ``share=True`` reads the value as a share (0.183 → 18,3 %)."""
    number = as_float(value)
    if number is None:
        return DASH
    text = format_number(number * 100 if share else number, lang, digits=digits)
    return f"{text}{NBSP}%" if lang == "ru" else f"{text}%"


def format_p_value(value: object, lang: str, alpha: float | None = None) -> str:
    """A p-value to three decimals, or ``< 0,001`` when it is smaller (a 1e-19 is not more informative).

    Near the significance level ``alpha`` three decimals can round across it (0.0496 prints as 0.050 and is
    marked significant); there the value gets one more decimal, so the printed p and the mark agree.
    """
    number = as_float(value)
    if number is None:
        return DASH
    if number < 0.001:
        return f"<{NBSP}{format_number(0.001, lang, digits=3)}"
    if alpha is not None and round(number, 3) == round(alpha, 3) and number != alpha:
        return format_number(number, lang, digits=4)
    return format_number(number, lang, digits=3)


def plural(count: object, forms: str, lang: str) -> str:
    """The word for ``count`` from ``forms`` (``one|other`` in English, ``one|few|many`` in Russian)."""
    words = forms.split("|")
    number = as_float(count)
    n = abs(int(number)) if number is not None else 0
    if lang == "ru" and len(words) == 3:
        if n % 10 == 1 and n % 100 != 11:
            return words[0]
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return words[1]
        return words[2]
    return words[0] if n == 1 else words[-1]


def format_ordinal(value: object, lang: str) -> str:
    """A rank as an ordinal: ``3rd`` / ``3-е`` (место); a dash when there is none."""
    number = as_float(value)
    if number is None:
        return DASH
    n = int(number)
    if lang == "ru":
        return f"{format_int(n, lang)}\u2011е"
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{format_int(n, lang)}{suffix}"


def format_list(items: list[str], lang: str) -> str:
    """Join words as a sentence does: ``A, B and C`` / ``A, B и C``."""
    items = [i for i in items if i]
    if len(items) < 2:
        return "".join(items)
    conjunction = " и " if lang == "ru" else " and "
    return ", ".join(items[:-1]) + conjunction + items[-1]


_RU_SHORT_WORD = re.compile(r"(?<![\w\u00a0.,])([А-Яа-яЁёA-Za-z]{1,2}) (?=\S)")
_RU_NUMBER_UNIT = re.compile(r"(\d) (?=(г\.|гг\.|%|тыс\.|млн|чел\.|руб\.|евро|года|лет|п\.|на\b|км))")
_RU_DASH = re.compile(r" (—|–) ")
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}\b)")


def typograph(text: str, lang: str) -> str:
    """Russian typography for running text: a no-break space after one- and two-letter words
    (prepositions, conjunctions: «в регионе», «и S»), before a dash and inside digit groups, so a
    line never ends on «в», begins with «—» or splits «10 000». English text is returned unchanged."""
    if lang != "ru" or not isinstance(text, str):
        return text
    text = _RU_DASH.sub(f"{NBSP}\\1 ", text)
    text = _RU_NUMBER_UNIT.sub(f"\\1{NBSP}", text)
    text = _DIGIT_GROUP.sub(NBSP, text)  # «10 000» from a catalog name stays on one line
    return _RU_SHORT_WORD.sub(f"\\1{NBSP}", text)


def safe_code(code: object) -> str:
    """A file-name-safe form of a region code (``RU-SVE`` stays, ``../x y`` becomes ``x_y``)."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", str(code or "")).strip("_-")
    return text or "region"
