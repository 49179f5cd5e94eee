"""Opening Rosstat workbooks safely and reading their cells (years, numbers, missing-value tokens).

Kept apart from the table logic in ``rosstat.py`` because these rules are about Excel files and
Rosstat's cell conventions, not about tables: a downloaded file may be an HTML error page, a
truncated zip or a zip bomb; a year may be printed «20223)» or «2015/2016»; a number may be the
string «1 194,6»; a missing value is «-», «…» or «…1)».
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook

from ..base import SourceError

# An xlsx that unpacks to more than this is refused (zip-bomb guard); the yearbook's largest
# section unpacks to about 15 MB.
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (BIFF in an OLE container)

# Footnote marks glued to a year or a number: «1)», «1);2)», « 4)». Rosstat's marks are one digit.
_FOOTNOTE_TAIL = r"(?:\s*[;,]?\s*\d\))*"
_YEAR = re.compile(
    r"^\s*((?:19|20)\d{2})"  # the year (an academic year keeps the year it starts)
    r"(?:\s*[/\-–]\s*(?:(?:19|20)\d{2}|\d{2}))?"  # «2015/2016», «2015-16»
    r"\s*(?:г\.|гг\.|год)?" + _FOOTNOTE_TAIL + r"\s*$"
)
_DASH_TOKENS = {"-", "–", "—", "−", "‐", "‑"}
_MISSING = re.compile(r"^(?:…+|\.{2,}|…\.+)\s*(?:\((\d)\)|(\d)\))?\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_NUMBER_FOOTNOTE = re.compile(r"^(.*?\d)\s*(\d\))(?:\s*[;,]?\s*\d\))*\s*$")


def check_workbook_file(path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES) -> str:
    """Return "xlsx" or "xls" after checking ``path`` really is one, else raise SourceError.

    Why before opening: a failed download saved as .xlsx (an HTML page, half a zip) or a
    zip bomb must give a message naming the file, not a library traceback or an exhausted machine.
    """
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP_MAGIC):
        _check_xlsx_zip(path, max_uncompressed_bytes)
        return "xlsx"
    if head == _OLE_MAGIC:
        return "xls"
    if not head:
        raise SourceError(f"{path}: the file is empty (a failed download?)")
    if head.lstrip().startswith(b"<"):
        raise SourceError(f"{path}: the file is an HTML/XML page, not an Excel workbook (a failed download?)")
    raise SourceError(f"{path}: not an Excel workbook (expected .xlsx or .xls content)")


def _check_xlsx_zip(path: Path, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{path}: the xlsx (zip) is damaged or truncated: {exc}") from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise SourceError(f"{path}: a zip file but not an Excel workbook (no xl/workbook.xml)")
    total = sum(member.file_size for member in members)
    if total > limit:
        raise SourceError(
            f"{path}: refusing to open: it unpacks to {total / 1e6:.0f} MB, over the "
            f"{limit / 1e6:.0f} MB limit (a zip bomb or not a yearbook section?)"
        )


@dataclass
class Workbook:
    """An opened workbook: its sheet names and a way to read one sheet's rows from A1."""

    path: Path
    book: CalamineWorkbook

    @property
    def sheet_names(self) -> list[str]:
        return list(self.book.sheet_names)

    def rows(self, sheet: str) -> list[list[object]]:
        """Cell values of ``sheet`` from A1 (row index 0 is Excel row 1); formulas give cached values."""
        return self.book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    def close(self) -> None:
        self.book.close()


def open_workbook(path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES) -> Workbook:
    """Open an .xlsx or legacy .xls with calamine (fast; reads formulas' cached values)."""
    check_workbook_file(path, max_uncompressed_bytes)
    try:
        return Workbook(path, CalamineWorkbook.from_path(str(path)))
    except Exception as exc:  # calamine raises its own error types for damaged parts
        raise SourceError(f"{path}: cannot be read as an Excel workbook: {exc}") from None


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
    value withheld under a footnote (the caller decides ``c`` from the footnote text).
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
