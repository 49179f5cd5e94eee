"""The release of a Rosstat file: what the data says, never the file's name, folder, modification time or order.

Evidence, first that applies (:func:`resolve_release`):

1. a sidecar ``<file>.release.json`` with ``release`` and/or ``release_date`` (written by hand to correct or
   state a release);
2. a dated line on a contents or metadata sheet: «Обновлено: 04.04.2025 г.» (thematic tables; the date may sit
   in the cell to the right), «Дата выгрузки/формирования: …», «по состоянию на …» (EMISS exports);
3. the edition named on a title page: «Регионы России. Социально-экономические показатели. 2023»;
4. the document's own last-saved date (xlsx core properties ``dcterms:modified``, .xls SummaryInformation),
   unless a library wrote the file (creator or application openpyxl, xlsxwriter, …: a re-save, not the
   publisher's). A yearbook edition is labelled by the year it describes: Rosstat publishes «Регионы России
   2023» in December 2023 – March 2024, so a date from July on labels its own year, an earlier one the year
   before (2020-01-20 → 2019; 2023-12-13 → 2023);
5. the HTTP ``Last-Modified`` the URL pull recorded in the sidecar;
6. the source's ``release`` setting (``--set rosstat.release=…``, ``REGIOCODE_ROSSTAT_RELEASE``);
7. otherwise unknown: a warning, and the observation sorts before every dated release (docs/architecture.md).

A year range in a title («… в 2000-2004 гг.», «…, 2010-2024 гг.») is never a release.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from .workbook import DocumentDates

SIDECAR_SUFFIX = ".release.json"
_DATE = r"(\d{1,2})\.(\d{1,2})\.((?:19|20)\d{2})"
_DATED_LINE = re.compile(
    r"(?:обновлено|дата (?:обновления|выгрузки|формирования|публикации)|по состоянию на)\s*:?\s*" + _DATE,
    re.I,
)
_EDITION = re.compile(r"регионы россии\.?[^0-9]*?((?:19|20)\d{2})(?!\s*[-–]\s*\d)", re.I)
_LIBRARY = re.compile(r"openpyxl|xlsxwriter|xlwt|pandas|apache poi|calamine|libreoffice|python", re.I)
_ISO = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


@dataclass(frozen=True)
class Release:
    """A release label (an edition year «2023», a date «2025-04-04» or a stated label), the date that orders
    it (None when unknown), and the evidence it was read from, in words."""

    label: str | None
    when: date | None
    evidence: str

    @property
    def known(self) -> bool:
        """Whether the data states a release."""
        return self.label is not None or self.when is not None


UNKNOWN = Release(None, None, "no release stated by the file, a sidecar or the release setting")


def sidecar_path(path: Path) -> Path:
    """Where the sidecar of ``path`` is: ``<file>.release.json`` beside it."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict:
    """The sidecar of ``path`` as a dict ({} when absent or not JSON; never an error)."""
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_release(text: object) -> Release | None:
    """A stated release («2023», «2024-05», «2025-04-04», «04.04.2025») as a Release; None if empty.
    A label that is no date keeps its text and orders by nothing (unknown date)."""
    value = str(text or "").strip()
    if not value:
        return None
    found = re.fullmatch(_DATE, value)
    if found:
        when = date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        return Release(when.isoformat(), when, "")
    if _ISO.match(value):
        parts = [int(p) for p in value.split("-")]
        parts += [12, 31] if len(parts) == 1 else [1] if len(parts) == 2 else []
        when = date(parts[0], parts[1], parts[2])
        return Release(value, when, "")
    return Release(value, None, "")


def dated_line(texts: list[list[str]]) -> tuple[date, str] | None:
    """The first «Обновлено: dd.mm.yyyy»-like date in rows of texts (a row's cells are read joined, so a
    date in the cell right of its label counts), with the text it was read from."""
    for cells in texts:
        joined = " ".join(cells)
        found = _DATED_LINE.search(joined)
        if found:
            day, month, year = (int(found.group(i)) for i in (1, 2, 3))
            return date(year, month, day), joined.strip()
    return None


def edition_named(texts: list[list[str]]) -> str | None:
    """An edition year written after «Регионы России» on a title or contents page (not a year range)."""
    for cells in texts:
        found = _EDITION.search(" ".join(cells))
        if found:
            return found.group(1)
    return None


def edition_of(modified: datetime) -> str:
    """The yearbook edition a document saved on ``modified`` belongs to (July on: that year; else the year before)."""
    return str(modified.year if modified.month >= 7 else modified.year - 1)


def resolve_release(path: Path, texts: list[list[str]], dates: DocumentDates, *, yearbook: bool,
                    setting: str = "") -> Release:
    """The release of the file at ``path`` by the evidence of the module doc, in that order. ``texts`` are the
    rows of its contents/title/metadata sheets, ``dates`` its document properties, ``yearbook`` whether it is a
    «Регионы России» section (labelled by edition), ``setting`` the source's release setting."""
    sidecar = read_sidecar(path)
    stated = parse_release(sidecar.get("release"))
    stated_date = parse_release(sidecar.get("release_date"))
    if stated or stated_date:
        label = (stated or stated_date).label
        when = (stated_date or stated).when
        return Release(label, when, f"sidecar {sidecar_path(path).name}")
    if found := dated_line(texts):
        when, text = found
        return Release(when.isoformat(), when, f"«{text}»")
    named = edition_named(texts)
    reliable = dates.modified is not None and not _LIBRARY.search(f"{dates.creator} {dates.application}")
    if named:
        when = dates.modified.date() if reliable and edition_of(dates.modified) == named else date(int(named), 12, 31)
        return Release(named, when, f"edition {named} named on its title page")
    if reliable:
        label = edition_of(dates.modified) if yearbook else dates.modified.date().isoformat()
        return Release(label, dates.modified.date(), f"document saved {dates.modified:%Y-%m-%d}")
    if sidecar.get("http_last_modified"):
        try:
            when = parsedate_to_datetime(str(sidecar["http_last_modified"])).date()
        except (TypeError, ValueError):
            when = None
        if when:
            return Release(edition_of(datetime(when.year, when.month, when.day)) if yearbook else when.isoformat(),
                           when, f"HTTP Last-Modified {when} at download")
    if parsed := parse_release(setting):
        return Release(parsed.label, parsed.when, "the rosstat release setting")
    why = f"; its document properties were written by {dates.creator or dates.application}" if dates.modified else ""
    return Release(None, None, UNKNOWN.evidence + why)
