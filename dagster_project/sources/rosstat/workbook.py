"""Opening a Rosstat workbook safely, and what the file says about itself.

A downloaded file may be an HTML error page, a truncated zip, a zip bomb, or a small xlsx whose sheet holds a
cell at XFD1048576 (calamine would allocate the whole grid, 512 GiB, and abort the process) or whose shared
strings declare two billion entries (calamine reserves them up front). Each is refused *before* calamine reads
it, with a reason naming the file and the part. Then :class:`Workbook` reads sheets (formulas give their
cached values) and :func:`document_dates` the dates the document carries (xlsx core properties, the legacy
.xls SummaryInformation), which are release evidence (:mod:`.release`).
"""

from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from python_calamine import CalamineWorkbook

from ..base import SourceError

# An xlsx that unpacks to more than this is refused (zip-bomb guard); the yearbook's largest section
# unpacks to about 15 MB.
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# The largest sheet grid (rows x columns, from A1) calamine may build: 10 M cells is about 300 MB. The
# yearbook's largest sheet is 3.10. (116 columns x 111 rows).
MAX_SHEET_CELLS = 10_000_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (BIFF in an OLE container)
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')  # Excel writes r first; other writers: see _ANY_ROW_NUMBER
_ANY_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
# References from column JA (261) on, and with a row number of six digits or more (two cheap scans).
_WIDE_REF = re.compile(rb'r="((?:[J-Z][A-Z]|[A-Z]{3})[A-Z]*)\d')
_TALL_REF = re.compile(rb'r="[A-Z]+(\d{6,})')
_SST_COUNT = re.compile(rb'\buniqueCount="(\d+)"')
_XML_TEXT = re.compile(r"<(?:\w+:)?(\w+)\b[^>/]*>([^<]*)</(?:\w+:)?\1>")


def check_workbook_file(path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES) -> str:
    """Return ``"xlsx"`` or ``"xls"`` after checking ``path`` really is one and is safe to open.

    Raises :class:`SourceError` naming the file: not found, empty, an HTML page, not a workbook, a damaged
    zip, over ``max_uncompressed_bytes`` unpacked, shared strings or a sheet grid too large to allocate.
    """
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP_MAGIC):
        _check_xlsx(path, max_uncompressed_bytes)
        return "xlsx"
    if head == _OLE_MAGIC:
        return "xls"
    if not head:
        raise SourceError(f"{path}: the file is empty (a failed download?)")
    if head.lstrip().startswith(b"<"):
        raise SourceError(f"{path}: the file is an HTML/XML page, not an Excel workbook (a failed download?)")
    raise SourceError(f"{path}: not an Excel workbook (expected .xlsx or .xls content)")


def _check_xlsx(path: Path, limit: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
                raise SourceError(f"{path}: a zip file but not an Excel workbook (no xl/workbook.xml)")
            total = sum(member.file_size for member in members)
            if total > limit:
                raise SourceError(
                    f"{path}: refusing to open: it unpacks to {total / 1e6:.0f} MB, over the "
                    f"{limit / 1e6:.0f} MB limit (a zip bomb or not a yearbook section?)"
                )
            for member in members:
                if member.filename == "xl/sharedStrings.xml":
                    _check_shared_strings(path, archive, member)
                elif member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    _check_sheet_extent(path, archive, member.filename)
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise SourceError(f"{path}: the xlsx (zip) is damaged or truncated: {exc}") from None


def _check_shared_strings(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    with archive.open(member) as fh:
        head = fh.read(4096)
    found = _SST_COUNT.search(head)
    declared = int(found.group(1)) if found else 0
    # Each <si> entry takes at least 13 bytes of XML: a larger count cannot be true.
    if declared > max(1000, member.file_size // 8):
        raise SourceError(
            f"{path}: refusing to open: xl/sharedStrings.xml declares {declared:,} strings in "
            f"{member.file_size:,} bytes (a damaged or malicious file)"
        )


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def _check_sheet_extent(path: Path, archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a sheet whose cells span a grid larger than :data:`MAX_SHEET_CELLS` from A1 (what calamine
    allocates), measured from the row and cell references in its XML, not from its declared dimension."""
    data = archive.read(name)
    numbers = _ROW_NUMBER.findall(data) or _ANY_ROW_NUMBER.findall(data)
    tall = _TALL_REF.findall(data) if _TALL_REF.search(data) else []
    rows = max([0, *(int(r) for r in numbers), *(int(r) for r in tall)])
    wide = _WIDE_REF.findall(data) if _WIDE_REF.search(data) else []
    columns = max([260, *(_column_number(letters) for letters in set(wide))])  # under JA unless a reference says more
    if rows * columns > MAX_SHEET_CELLS:
        raise SourceError(
            f"{path}: refusing to open: sheet part {name} has cells up to row {rows:,} and column {columns:,} "
            f"({rows * columns:,} cells from A1, over the {MAX_SHEET_CELLS:,} limit; a damaged or malicious file)"
        )


@dataclass
class Workbook:
    """An opened workbook: its sheet names and a way to read one sheet's rows from A1."""

    path: Path
    book: CalamineWorkbook
    kind: str = "xlsx"

    @property
    def sheet_names(self) -> list[str]:
        """The sheet names in workbook order."""
        return list(self.book.sheet_names)

    def rows(self, sheet: str) -> list[list[object]]:
        """Cell values of ``sheet`` from A1 (row index 0 is Excel row 1); formulas give cached values."""
        return self.book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    def close(self) -> None:
        """Release the file."""
        self.book.close()


def open_workbook(path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES) -> Workbook:
    """Open an .xlsx or legacy .xls with calamine after :func:`check_workbook_file`; SourceError otherwise."""
    kind = check_workbook_file(path, max_uncompressed_bytes)
    try:
        return Workbook(path, CalamineWorkbook.from_path(str(path)), kind)
    except Exception as exc:  # calamine raises its own error types for damaged parts
        raise SourceError(f"{path}: cannot be read as an Excel workbook: {exc}") from None


# --------------------------------------------------------------------------- document properties


@dataclass(frozen=True)
class DocumentDates:
    """What a workbook's own properties say: when it was last saved, and by what (for the re-save test)."""

    modified: datetime | None = None
    creator: str = ""
    application: str = ""


def document_dates(path: Path, kind: str) -> DocumentDates:
    """The last-saved date, creator and application of an xlsx (``docProps/core.xml``, ``app.xml``) or a
    legacy .xls (the OLE ``SummaryInformation`` stream); empty when absent or unreadable (never an error)."""
    try:
        return _xlsx_dates(path) if kind == "xlsx" else _xls_dates(path)
    except (OSError, ValueError, KeyError, struct.error, zipfile.BadZipFile):
        return DocumentDates()


def _xlsx_dates(path: Path) -> DocumentDates:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        core = archive.read("docProps/core.xml").decode("utf-8") if "docProps/core.xml" in names else ""
        app = archive.read("docProps/app.xml").decode("utf-8") if "docProps/app.xml" in names else ""
    fields = dict(_XML_TEXT.findall(core))
    application = dict(_XML_TEXT.findall(app)).get("Application", "")
    modified = fields.get("modified", "").strip()
    when = datetime.fromisoformat(modified.replace("Z", "+00:00")) if modified else None
    return DocumentDates(when.astimezone(UTC).replace(tzinfo=None) if when else None,
                         fields.get("creator", ""), application)


_PID_AUTHOR, _PID_APPNAME, _PID_LASTSAVED = 4, 18, 13


def _xls_dates(path: Path) -> DocumentDates:
    """Parse the legacy SummaryInformation property set (MS-OLEPS): author, application, last saved."""
    from xlrd import compdoc  # xlrd reads the OLE compound file; it is a dependency already

    doc = compdoc.CompDoc(path.read_bytes(), logfile=open("/dev/null", "w"))  # noqa: SIM115 - xlrd's API
    data = doc.get_named_stream("\x05SummaryInformation")
    if not data:
        return DocumentDates()
    offset = struct.unpack_from("<I", data, 44)[0]
    count = struct.unpack_from("<I", data, offset + 4)[0]
    values: dict[int, object] = {}
    for i in range(count):
        pid, where = struct.unpack_from("<II", data, offset + 8 + 8 * i)
        base = offset + where
        kind = struct.unpack_from("<H", data, base)[0]
        if kind == 0x40:  # VT_FILETIME: 100 ns since 1601
            ticks = struct.unpack_from("<Q", data, base + 4)[0]
            values[pid] = datetime(1601, 1, 1) + timedelta(microseconds=ticks / 10) if ticks else None
        elif kind == 0x1E:  # VT_LPSTR
            size = struct.unpack_from("<I", data, base + 4)[0]
            values[pid] = data[base + 8: base + 8 + size].rstrip(b"\x00").decode("cp1251", "replace")
    saved = values.get(_PID_LASTSAVED)
    return DocumentDates(saved if isinstance(saved, datetime) else None, str(values.get(_PID_AUTHOR) or ""),
                         str(values.get(_PID_APPNAME) or ""))
