"""Talking to Eurostat's dissemination API: requests, retries, the table of contents, data structures.

* Data: SDMX 2.1 REST, ``{base}/sdmx/2.1/data/{dataset}/{key}?format=SDMX-CSV&compressed=true``
  (TSV with ``format=TSV`` as a fallback when a format is refused). The key is positional, in the
  order of the dataset's data structure (DSD): :func:`parse_dsd` reads it.
* ``compressed=true`` bodies are gzip without a Content-Encoding header: detected by magic bytes.
* 429 and 5xx are retried with exponential backoff, honouring ``Retry-After``; connection
  errors and timeouts too (:class:`Fetcher`). When they persist, :class:`NetworkError` (``transient``) is
  raised; a body that cannot be read is a content error (``transient = False``), never retried.
* 413 ``EXTRACTION_TOO_BIG``: the request is split, first by halving the geo list, then by
  halving the time range (``startPeriod``/``endPeriod``), and the pieces are merged.
* No ETag: the table of contents (``{base}/catalogue/toc/txt?lang=en``, :func:`parse_toc`) gives each
  dataset's "last update of data", which :mod:`.pull` compares with its state.

What to pull and when, and what is kept of it, is :mod:`.pull`'s business.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import tenacity
from defusedxml import DefusedXmlException, ElementTree

from dagster_project.sources.base import SourceError
from dagster_project.sources.eurostat.formats import GZIP_MAGIC, decompress_if_gzip, parse_release_date

DEFAULT_BASE_URL = "https://ec.europa.eu/eurostat/api/dissemination"
TOC_PATH = "catalogue/toc/txt?lang=en"
FORMATS = ("SDMX-CSV", "TSV")
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on a Retry-After header


@dataclass(frozen=True)
class TocEntry:
    """A dataset's line in the table of contents."""

    last_update: date | None
    structure_change: date | None
    data_start: int | None
    data_end: int | None


@dataclass(frozen=True)
class RequestSpec:
    """One data request: constraints per dimension (DSD order), geos and an optional year range."""

    dimensions: tuple[str, ...]
    constraints: tuple[tuple[str, tuple[str, ...]], ...]
    geos: tuple[str, ...] | None
    start: int | None = None
    end: int | None = None

    def key(self) -> str:
        """The positional SDMX key; '' when every dimension is a wildcard."""
        wanted = dict(self.constraints)
        parts = [
            "+".join(self.geos) if d == "geo" and self.geos else "+".join(wanted.get(d, ()))
            for d in self.dimensions
        ]
        return ".".join(parts) if any(parts) else ""

    def split(self, default_range: tuple[int, int]) -> list[RequestSpec]:
        """Two smaller requests: halve the geo list, else the year range; [] when indivisible."""
        if self.geos and len(self.geos) > 1:
            mid = len(self.geos) // 2
            return [replace(self, geos=self.geos[:mid]), replace(self, geos=self.geos[mid:])]
        start, end = (self.start, self.end) if self.start is not None else default_range
        if self.start is None and start >= end:
            return [replace(self, start=start, end=end)]  # the whole (one-year) range, explicitly
        if end is None or start >= end:
            return []
        mid = (start + end) // 2
        return [replace(self, start=start, end=mid), replace(self, start=mid + 1, end=end)]


@dataclass
class Part:
    """One response body as received."""

    url: str
    fmt: str
    data: bytes  # as received (gzip or not)
    empty: bool = False


class NetworkError(SourceError):
    """The API could not be reached or kept failing (timeouts, lost connections, HTTP 429/5xx) after the
    fetcher's own retries: worth trying again later, so the failure policy may retry the step."""

    transient = True


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _TooBig(Exception):
    pass



# --------------------------------------------------------------------------------------------
# HTTP


class Fetcher:
    """An httpx client with Eurostat's retry, format-fallback and split-on-413 rules."""

    def __init__(
        self, timeout: float, retries: int, backoff: float, auth: tuple[str, str] | None = None
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.client = httpx.Client(
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            headers={
                "User-Agent": "regiocode (Eurostat regional statistics importer)",
                "Accept-Encoding": "gzip",
            },
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, what: str) -> httpx.Response:
        """GET with retries on 429, 5xx and transport errors; other statuses are returned."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type((_Retryable, httpx.TransportError)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self.client.get(url)
                    if response.status_code == 429 or response.status_code >= 500:
                        if _is_too_big(response):
                            return response
                        raise _Retryable(
                            f"HTTP {response.status_code}: {_excerpt(response)}",
                            _retry_after(response.headers.get("Retry-After")),
                        )
                    return response
        except _Retryable as exc:
            raise NetworkError(f"{what}: {url} failed after {self.retries + 1} attempts: {exc}") from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"{what}: {url} failed after {self.retries + 1} attempts: {type(exc).__name__}: {exc}"
            ) from exc
        raise AssertionError("unreachable")

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return self.backoff * 2 ** (retry_state.attempt_number - 1)

    def download(
        self,
        dataset: str,
        base: str,
        spec: RequestSpec,
        formats: tuple[str, ...],
        year_range: tuple[int, int],
    ) -> list[Part]:
        """All pieces of one dataset request, splitting on 413 until each fits."""
        try:
            return [self._one(dataset, base, spec, formats)]
        except _TooBig as exc:
            halves = spec.split(year_range)
            if not halves:
                raise SourceError(f"{dataset}: {exc} is too big even for one geo and one year") from exc
            return [
                part for half in halves for part in self.download(dataset, base, half, formats, year_range)
            ]

    def _one(self, dataset: str, base: str, spec: RequestSpec, formats: tuple[str, ...]) -> Part:
        refused: list[str] = []
        for fmt in formats:
            url = data_url(base, dataset, spec, fmt)
            response = self.get(url, dataset)
            if response.status_code == 413 or _is_too_big(response):
                raise _TooBig(url)
            if response.status_code == 404 or (response.status_code == 400 and "No results" in response.text):
                return Part(url=url, fmt=fmt, data=b"", empty=True)
            if response.status_code >= 400:
                refused.append(f"{url}: HTTP {response.status_code} {_excerpt(response)}")
                continue
            data = response.content
            decompress_if_gzip(data, f"{dataset}: {url}")  # fail fast on a broken gzip body
            return Part(url=url, fmt=fmt, data=data)
        raise SourceError(f"{dataset}: every format was refused: " + "; ".join(refused))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:secret@host/x`` -> (``https://host/x``, (user, secret)).

    A base URL may carry credentials (a proxy or mirror that needs them); they go to the HTTP client
    as auth and never into a URL that is logged, kept as an observation's origin or written to the
    state file.
    """
    parsed = urlsplit(url)
    if parsed.username is None and parsed.password is None:
        return url, None
    host = parsed.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parsed.port is not None:
        netloc += f":{parsed.port}"
    clean = urlunsplit((parsed.scheme, netloc, parsed.path, parsed.query, parsed.fragment))
    return clean, (unquote(parsed.username or ""), unquote(parsed.password or ""))


def data_url(base: str, dataset: str, spec: RequestSpec, fmt: str) -> str:
    """The SDMX 2.1 data URL for ``spec`` in ``fmt`` (compressed)."""
    key = spec.key()
    path = f"{base}/sdmx/2.1/data/{dataset}" + (f"/{key}" if key else "")
    query = f"format={fmt}&compressed=true"
    if spec.start is not None:
        query += f"&startPeriod={spec.start}&endPeriod={spec.end}"
    return f"{path}?{query}"


def _is_too_big(response: httpx.Response) -> bool:
    """413, or EXTRACTION_TOO_BIG in a JSON/SOAP error body whatever the status."""
    if response.status_code == 413:
        return True
    if response.status_code < 400:
        return False
    return "EXTRACTION_TOO_BIG" in response.text[:2000]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo or UTC)).total_seconds())


def _excerpt(response: httpx.Response) -> str:
    text = response.content[:300]
    if text.startswith(GZIP_MAGIC):
        return "<gzip body>"
    return " ".join(text.decode("utf-8", "replace").split())[:200]


# --------------------------------------------------------------------------------------------
# Table of contents and data structure


def load_toc(fetcher: Fetcher, url: str, notes: list[str]) -> dict[str, TocEntry] | None:
    """The table of contents, or None (with a note) when it cannot be had: then data decides."""
    try:
        response = fetcher.get(url, "table of contents")
    except SourceError as exc:
        notes.append(f"table of contents unavailable ({exc}); comparing the data's LAST UPDATE instead")
        return None
    if response.status_code != 200:
        notes.append(
            f"table of contents unavailable (HTTP {response.status_code} from {url}); "
            "comparing the data's LAST UPDATE instead"
        )
        return None
    toc = parse_toc(decompress_if_gzip(response.content, url).decode("utf-8-sig", "replace"))
    if not toc:
        notes.append(f"table of contents at {url} not understood; comparing the data's LAST UPDATE instead")
        return None
    return toc


def parse_toc(text: str) -> dict[str, TocEntry]:
    """Eurostat's TXT table of contents (tab-separated, quoted, one line per item) by dataset code."""
    rows = csv.reader(io.StringIO(text), delimiter="\t", quotechar='"')
    header = [h.strip().lower() for h in next(rows, [])]
    needed = ("code", "last update of data")
    if not all(n in header for n in needed):
        return {}
    col = {name: header.index(name) for name in header}

    def cell(row: list[str], name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    out: dict[str, TocEntry] = {}
    for row in rows:
        code = cell(row, "code").lower()
        if not code or cell(row, "type").lower() == "folder":
            continue
        out[code] = TocEntry(
            last_update=parse_release_date(cell(row, "last update of data")),
            structure_change=parse_release_date(cell(row, "last table structure change")),
            data_start=_year(cell(row, "data start")),
            data_end=_year(cell(row, "data end")),
        )
    return out


def _year(text: str) -> int | None:
    return int(text[:4]) if text[:4].isdigit() else None


def dataset_dimensions(
    fetcher: Fetcher, base: str, dataset: str, entry: TocEntry | None, previous: dict
) -> tuple[str, ...]:
    """Series dimensions in key order, from the cached state or the dataset's DSD."""
    cached = previous.get("dimensions")
    structure = entry.structure_change.isoformat() if entry and entry.structure_change else None
    if cached and (structure is None or previous.get("structure_change") == structure):
        return tuple(cached)
    url = f"{base}/sdmx/2.1/datastructure/ESTAT/{dataset.upper()}"
    response = fetcher.get(url, dataset)
    if response.status_code != 200:
        raise SourceError(
            f"{dataset}: data structure not available from {url} "
            f"(HTTP {response.status_code} {_excerpt(response)})"
        )
    return parse_dsd(decompress_if_gzip(response.content, url), f"{dataset}: {url}")


def parse_dsd(xml: bytes, what: str) -> tuple[str, ...]:
    """Dimension ids (without the time dimension) of an SDMX 2.1 DataStructure, by position."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise SourceError(f"{what}: data structure is not valid XML ({exc})") from exc
    except DefusedXmlException as exc:  # entities, DTDs: refused, never expanded
        raise SourceError(f"{what}: data structure refused, it declares XML entities or a DTD ({exc!r})") from exc
    found: list[tuple[int, int, str]] = []
    for order, element in enumerate(root.iter()):
        if element.tag.rsplit("}", 1)[-1] == "Dimension" and element.get("id"):
            position = element.get("position")
            found.append(
                (int(position) if position and position.isdigit() else order, order, element.get("id"))
            )
    if not found:
        raise SourceError(f"{what}: data structure lists no dimensions")
    return tuple(dim for _, _, dim in sorted(found))
