"""Which format a Eurostat file or response body is, told apart by its content (never by its name), and the reader
for it.

Eurostat has shipped the same statistics in several shapes, and all of them are found in archives and inboxes:

* the dissemination API's TSV (``freq,unit,geo\\TIME_PERIOD``) and the retired bulk download's TSV
  (``unit,geo\\time``): :mod:`.tsv`;
* SDMX-CSV 1.0 (``DATAFLOW,LAST UPDATE,…``) and 2.0 (``STRUCTURE,STRUCTURE_ID,…``, the data browser's
  download, with or without a label column after each code column): :mod:`.sdmx_csv`;
* JSON-stat 2.0 from the Statistics API: :mod:`.jsonstat`;

each plain or gzip-compressed (``compressed=true`` bodies are gzip without a Content-Encoding header), UTF-8
(with or without a byte-order mark) or UTF-16 with its byte-order mark. What is not one of them is named:
an HTML page, an API error (JSON or SOAP fault), SDMX-ML, a ZIP or Excel file.

Shapes: :func:`parse_bytes` takes the bytes and a name for errors and returns a
:class:`~.parsed.ParsedTable`. Every content problem raises :class:`~dagster_project.sources.base.SourceError`
with one line naming the input (and the line where there is one); nothing here is retried.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib

from dagster_project.settings import max_unpacked_bytes
from dagster_project.sources.eurostat.jsonstat import parse_json_stat
from dagster_project.sources.eurostat.parsed import ContentError, ParsedTable, parse_release_date
from dagster_project.sources.eurostat.sdmx_csv import header_delimiter, parse_sdmx_csv
from dagster_project.sources.eurostat.tsv import parse_tsv

__all__ = ["GZIP_MAGIC", "ParsedTable", "decompress_if_gzip", "parse_bytes", "parse_release_date", "sniff_format"]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
_FAULT = re.compile(r"<faultstring>(.*?)</faultstring>", re.S)


def decompress_if_gzip(data: bytes, what: str, limit: int | None = None) -> bytes:
    """Undo gzip when the bytes start with its magic number; other bytes are returned as they are.

    Unpacking stops at ``limit`` bytes (default ``REGIOCODE_MAX_UNPACKED_MB``, see
    :func:`dagster_project.settings.max_unpacked_bytes`): a few kilobytes of gzip can expand to gigabytes (a
    compression bomb), which must be a clear error naming the input, not an exhausted machine.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    limit = max_unpacked_bytes() if limit is None else limit
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            unpacked = handle.read(limit + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise ContentError(f"{what}: gzip data is truncated or corrupt ({exc})") from exc
    if len(unpacked) > limit:
        raise ContentError(
            f"{what}: gzip data unpacks to more than {limit / 1e6:.0f} MB (a compression bomb, or a larger "
            "extract than expected: raise REGIOCODE_MAX_UNPACKED_MB); not imported"
        )
    return unpacked


def decode_text(raw: bytes, what: str) -> str:
    """The text of a body: UTF-16 when it starts with a UTF-16 byte-order mark, else UTF-8 (a BOM is dropped)."""
    if raw.startswith(ZIP_MAGIC):
        raise ContentError(f"{what}: a ZIP or Excel file, not data; download Eurostat's TSV, SDMX-CSV or JSON-stat")
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContentError(f"{what}: line {line}: not {encoding.split('-sig')[0].upper()} text ({exc.reason} at byte "
                          f"{exc.start})") from exc


def parse_bytes(data: bytes, what: str) -> ParsedTable:
    """Detect the format of ``data`` (raw or gzip) and read it; ``what`` names the input in errors."""
    text = decode_text(decompress_if_gzip(data, what), what)
    fmt = sniff_format(text, what)
    if fmt == "json-stat":
        return parse_json_stat(text, what)
    if fmt == "sdmx-csv":
        return parse_sdmx_csv(text, what)
    return parse_tsv(text, what)


def sniff_format(text: str, what: str) -> str:
    """``"tsv"``, ``"sdmx-csv"`` or ``"json-stat"`` from the first line; anything else raises
    :class:`~.parsed.ContentError` saying what it is instead (an HTML page, an API error, SDMX-ML …)."""
    stripped = text.lstrip()
    if not stripped:
        raise ContentError(f"{what}: empty content")
    if stripped.startswith(("{", "[")):
        return "json-stat"
    first_line = stripped.split("\n", 1)[0].rstrip("\r")
    if stripped.startswith("<"):
        fault = _FAULT.search(stripped[:20_000])
        if fault:
            raise ContentError(f"{what}: the content is an API error: {fault.group(1).strip()[:300]}")
        if re.search(r"GenericData|StructureSpecificData|<message:", stripped[:2000]):
            raise ContentError(f"{what}: SDMX-ML (XML) data is not read; download Eurostat's TSV, SDMX-CSV or "
                              "JSON-stat instead")
        raise ContentError(f"{what}: got XML/HTML instead of data: {first_line[:200]!r}")
    if "\t" in first_line and "\\" in first_line.split("\t", 1)[0]:
        return "tsv"
    if header_delimiter(first_line) is not None:
        return "sdmx-csv"
    raise ContentError(
        f"{what}: unrecognised format; expected Eurostat TSV, SDMX-CSV or JSON-stat, first line is {first_line[:200]!r}"
    )
