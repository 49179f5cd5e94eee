"""Pulling Eurostat datasets from the dissemination API, incrementally and politely.

What the API does, and what this module does about it:

* Data: SDMX 2.1 REST, ``{base}/sdmx/2.1/data/{dataset}/{key}?format=SDMX-CSV&compressed=true``
  (TSV with ``format=TSV`` as a fallback when a format is refused). The key is positional, in the
  order of the dataset's data structure (DSD), so the DSD is fetched once and cached in the
  state file (refetched when the table of contents says the structure changed).
* ``compressed=true`` bodies are gzip without a Content-Encoding header: detected by magic bytes.
* 429 and 5xx are retried with exponential backoff, honouring ``Retry-After``; connection
  errors and timeouts too. A body that is truncated or malformed raises :class:`SourceError`
  naming the dataset and the URL, and nothing of that dataset is written.
* 413 ``EXTRACTION_TOO_BIG``: the request is split, first by halving the geo list, then by
  halving the time range (``startPeriod``/``endPeriod``), and the pieces are merged.
* No ETag: a dataset is downloaded again only when its "last update of data" in the table of
  contents (``{base}/catalogue/toc/txt?lang=en``) differs from the state file's. With
  ``change_detection="content"`` the SDMX-CSV ``LAST UPDATE`` column decides instead (the data is
  fetched, but an unchanged release is not imported twice).

Every download is kept under ``download_dir/<dataset>/`` (one file per release and request
piece, written atomically, with a ``.meta.json`` sidecar giving URL and release), so a later
:func:`~dagster_project.sources.eurostat.import_eurostat_files` of that folder reproduces the rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pandas as pd
import tenacity
from defusedxml import DefusedXmlException, ElementTree

from dagster_project.sources.base import ImportBatch, SourceError
from dagster_project.sources.eurostat_formats import GZIP_MAGIC, decompress_if_gzip, parse_release_date
from dagster_project.sources.eurostat_mapping import (
    MappingRule,
    RegionResolver,
    load_rules,
    make_batch,
    raw_from_bytes,
)

DEFAULT_BASE_URL = "https://ec.europa.eu/eurostat/api/dissemination"
TOC_PATH = "catalogue/toc/txt?lang=en"
FORMATS = ("SDMX-CSV", "TSV")
META_SUFFIX = ".meta.json"
STATE_VERSION = 1
DEFAULT_FIRST_YEAR = 1990  # time-split range when the table of contents gives none
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on a Retry-After header
ChangeDetection = Literal["toc", "content", "none"]


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


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _TooBig(Exception):
    pass


class _Refused(Exception):
    pass


def pull_eurostat(
    mapping: pd.DataFrame,
    correspondence: pd.DataFrame,
    base_url: str,
    state_path: Path,
    download_dir: Path,
    geos: list[str] | None = None,
    timeout: float = 30,
    retries: int = 4,
    *,
    regions: pd.DataFrame | None = None,
    toc_url: str | None = None,
    change_detection: ChangeDetection = "toc",
    formats: tuple[str, ...] = FORMATS,
    backoff: float = 1.0,
    force: bool = False,
) -> tuple[ImportBatch, list[str]]:
    """Download the datasets the mapping names (changed ones only) and import them.

    ``geos`` restricts the geo dimension (None = all geos); the other dimensions are restricted
    to the codes the mapping's filters name, so only mapped series are downloaded.
    ``state_path`` (JSON) remembers each dataset's last imported release; it is rewritten only
    after every dataset was downloaded and parsed, so a failed pull is retried in full.
    ``toc_url`` defaults to ``{base_url}/catalogue/toc/txt?lang=en``. ``force`` ignores the state.
    Returns the batch (observations of new releases only) and notes (skipped, unchanged, empty).
    """
    state = _load_state(Path(state_path))
    notes: list[str] = []
    observations: list[pd.DataFrame] = []
    rejects: list[pd.DataFrame] = []
    base, auth = split_credentials(base_url.rstrip("/"))
    toc_url, _ = split_credentials(toc_url) if toc_url else (None, None)
    with _Fetcher(timeout=timeout, retries=retries, backoff=backoff, auth=auth) as fetcher:
        toc = (
            _load_toc(fetcher, toc_url or f"{base}/{TOC_PATH}", notes) if change_detection == "toc" else None
        )
        run = _Run(
            fetcher=fetcher,
            base=base,
            rules=load_rules(mapping),
            resolver=RegionResolver(correspondence, regions),
            geos=geos,
            formats=formats,
            # Without a table of contents, the data's own LAST UPDATE decides.
            detection=change_detection if (change_detection != "toc" or toc is not None) else "content",
            force=force,
            download_dir=Path(download_dir),
        )
        for dataset, dataset_rules in _datasets(run.rules).items():
            entry = toc.get(dataset) if toc is not None else None
            if toc is not None and entry is None:
                notes.append(f"{dataset}: not in Eurostat's table of contents (renamed or withdrawn?)")
            pulled = run.pull(dataset, dataset_rules, entry, state["datasets"].get(dataset, {}), notes)
            if pulled is not None:
                obs, rej, state["datasets"][dataset] = pulled
                observations.append(obs)
                rejects.append(rej)
    _write_json_atomic(Path(state_path), state)
    return make_batch(observations, rejects, notes), notes


@dataclass
class _Run:
    """One pull: what to ask for, how to decide what changed, where to keep the downloads."""

    fetcher: _Fetcher
    base: str
    rules: list[MappingRule]
    resolver: RegionResolver
    geos: list[str] | None
    formats: tuple[str, ...]
    detection: ChangeDetection
    force: bool
    download_dir: Path

    def pull(
        self, dataset: str, rules: list[MappingRule], entry: TocEntry | None, previous: dict, notes: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
        """Observations, rejects and the new state entry of one dataset; None when unchanged."""
        dims = _dimensions(self.fetcher, self.base, dataset, entry, previous)
        spec = _request_spec(dataset, dims, rules, self.geos, notes)
        signature = _signature(spec)
        toc_release = entry.last_update if entry else None
        if self.detection == "toc" and self._seen(previous, toc_release, signature):
            notes.append(
                f"{dataset}: unchanged since {toc_release.isoformat()} (table of contents); not downloaded"
            )
            return None
        parts = self.fetcher.download(dataset, self.base, spec, self.formats, _year_range(entry))
        obs, rej, part_notes, release = _import_parts(dataset, parts, self.rules, self.resolver, toc_release)
        if self.detection == "content" and self._seen(previous, release, signature):
            notes.append(
                f"{dataset}: release {release.isoformat()} already imported; downloaded, not imported again"
            )
            return None
        files = _write_parts(self.download_dir, dataset, parts, release, signature)
        notes.extend(part_notes)
        label = release.isoformat() if release else None
        notes.append(
            f"{dataset}: {len(obs)} observations from {len(parts)} request(s), release {label or 'unknown'}"
        )
        structure = entry.structure_change.isoformat() if entry and entry.structure_change else None
        return (
            obs,
            rej,
            {
                "release": label,
                "request": signature,
                "dimensions": list(dims),
                "structure_change": structure,
                "files": [str(f) for f in files],
                "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    def _seen(self, previous: dict, release: date | None, signature: str) -> bool:
        """Was this release already imported with the same request?"""
        return (
            not self.force
            and release is not None
            and previous.get("release") == release.isoformat()
            and previous.get("request") == signature
        )


# --------------------------------------------------------------------------------------------
# HTTP


class _Fetcher:
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

    def __enter__(self) -> _Fetcher:
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
            raise SourceError(f"{what}: {url} failed after {self.retries + 1} attempts: {exc}") from exc
        except httpx.TransportError as exc:
            raise SourceError(
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


def _load_toc(fetcher: _Fetcher, url: str, notes: list[str]) -> dict[str, TocEntry] | None:
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


def _dimensions(
    fetcher: _Fetcher, base: str, dataset: str, entry: TocEntry | None, previous: dict
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


# --------------------------------------------------------------------------------------------
# Requests, imports, files, state


def _datasets(rules: list[MappingRule]) -> dict[str, list[MappingRule]]:
    out: dict[str, list[MappingRule]] = {}
    for rule in rules:
        out.setdefault(rule.dataset, []).append(rule)
    return out


def _request_spec(
    dataset: str, dims: tuple[str, ...], rules: list[MappingRule], geos: list[str] | None, notes: list[str]
) -> RequestSpec:
    """Restrict each dimension to the codes the mapping needs (wildcard unless every rule filters it)."""
    constraints: list[tuple[str, tuple[str, ...]]] = []
    for dim in dims:
        if dim == "geo":
            continue
        if all(dim in r.filters for r in rules):
            codes = sorted(set().union(*(r.filters[dim] for r in rules)))
            constraints.append((dim, tuple(codes)))
    unknown = sorted({d for r in rules for d in r.filters} - set(dims))
    if unknown:
        notes.append(
            f"{dataset}: mapping filters on {unknown}, which the data structure "
            f"({', '.join(dims)}) does not have; the request ignores them"
        )
    geo_list = tuple(sorted(set(geos))) if geos else None
    return RequestSpec(dimensions=dims, constraints=tuple(constraints), geos=geo_list)


def _signature(spec: RequestSpec) -> str:
    """What was asked for: a changed geo list or mapping means the state no longer applies."""
    return json.dumps({"constraints": spec.constraints, "geos": spec.geos}, sort_keys=True)


def _year_range(entry: TocEntry | None) -> tuple[int, int]:
    this_year = date.today().year
    start = entry.data_start if entry and entry.data_start else DEFAULT_FIRST_YEAR
    end = entry.data_end if entry and entry.data_end else this_year
    return start, max(start, end)


def _import_parts(
    dataset: str, parts: list[Part], rules: list[MappingRule], resolver: RegionResolver, release: date | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], date | None]:
    """Parse every piece before anything is written: a bad piece fails the whole dataset."""
    retrieved = datetime.now(UTC).replace(tzinfo=None)
    observations, rejects, notes = [], [], []
    content_release: date | None = None
    for part in parts:
        if part.empty:
            notes.append(f"{dataset}: no results for {part.url}")
            continue
        try:
            obs, rej, part_notes, table = raw_from_bytes(
                part.data,
                origin=part.url,
                rules=rules,
                resolver=resolver,
                dataset=dataset,
                release=release,
                retrieved_at=retrieved,
            )
        except SourceError as exc:
            raise SourceError(f"{dataset}: {exc}") from exc
        content_release = max(filter(None, [content_release, table.release]), default=None)
        observations.append(obs)
        rejects.append(rej)
        notes.extend(part_notes)
    chosen = release or content_release
    batch = make_batch(observations, rejects, [])
    obs, rej = batch.observations, batch.rejects
    if release is None and content_release is not None and not obs.empty:
        obs = obs.assign(release=content_release.isoformat(), release_date=[content_release] * len(obs))
    return obs, rej, notes, chosen


def _write_parts(
    download_dir: Path, dataset: str, parts: list[Part], release: date | None, signature: str
) -> list[Path]:
    """Keep every piece as received, atomically, with a sidecar naming URL and release."""
    folder = download_dir / dataset
    folder.mkdir(parents=True, exist_ok=True)
    label = release.isoformat() if release else datetime.now(UTC).strftime("retrieved-%Y%m%dT%H%M%S")
    digest = hashlib.sha1(signature.encode()).hexdigest()[:8]
    retrieved = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    written: list[Path] = []
    for i, part in enumerate(p for p in parts if not p.empty):
        ext = ("sdmx.csv" if part.fmt == "SDMX-CSV" else "tsv") + (
            ".gz" if part.data.startswith(GZIP_MAGIC) else ""
        )
        path = folder / f"{dataset}_{label}_{digest}_p{i + 1:02d}.{ext}"
        meta = {
            "dataset": dataset,
            "url": part.url,
            "release": release.isoformat() if release else None,
            "retrieved_at": retrieved,
            "format": part.fmt,
            "request": signature,
        }
        _write_json_atomic(path.with_name(path.name + META_SUFFIX), meta)
        _write_bytes_atomic(path, part.data)
        written.append(path)
    return written


def _load_state(path: Path) -> dict:
    if not path.exists():
        return {"version": STATE_VERSION, "datasets": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(
            f"{path}: Eurostat pull state is unreadable ({exc}); delete it to pull everything"
        ) from exc
    state.setdefault("datasets", {})
    return state


def _write_json_atomic(path: Path, payload: dict) -> None:
    _write_bytes_atomic(path, json.dumps(payload, indent=2, sort_keys=True).encode("utf-8"))


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
