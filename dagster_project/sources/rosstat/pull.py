"""Downloading yearbook workbooks from Rosstat: retries, timeouts, atomic writes, skip-if-unchanged.

Rosstat's site is slow and sometimes answers 5xx or 429; a half-written file must never be taken
for a release; and a monthly schedule should not re-import a section that did not change. So each
URL is fetched with connect/read timeouts and retried with exponential backoff on 5xx/429/timeouts,
streamed into a temporary file beside the target and renamed into place only when complete, and
compared by SHA-256 with the hash recorded in a JSON state file. Beside each download goes a sidecar
``<file>.release.json`` (:mod:`.release`): the URL, when it was retrieved and the server's ``Last-Modified``,
which the importer takes as release evidence when the workbook itself states none.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from dagster_project.files import write_json_atomic

from ..base import SourceError
from .release import sidecar_path

USER_AGENT = "regiocode/0.1 (+regional statistics warehouse)"
_RETRY_STATUS = {429, 500, 502, 503, 504}
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.U)


_SECRET_PARAM = re.compile(r"(token|key|pass|secret|sig|auth|credential)", re.I)


def redact_url(url: str) -> str:
    """``url`` as it may appear in errors and logs: no user:password, secret-looking query values masked
    (token, api_key, password, signature, …); the host, path and other parameters kept so the URL is named."""
    parts = urlparse(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return parts._replace(netloc=netloc, query=query).geturl()


class _RetryableHTTPError(Exception):
    """A response worth trying again (5xx, 429)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{redact_url(url)}: HTTP {status}")
        self.status = status


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, (_RetryableHTTPError, httpx.TimeoutException, httpx.TransportError))


def file_name_for(url: str) -> str:
    """A safe local file name for ``url``: its last path segment, else a hash of the URL."""
    name = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")
    return name or hashlib.sha1(url.encode()).hexdigest()[:16]


def load_state(state_path: Path) -> dict[str, dict]:
    """The pull state: URL → {sha256, path, etag, last_modified, retrieved_at}; empty if absent."""
    if not state_path.exists():
        return {}
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"{state_path}: pull state is not readable JSON: {exc}") from None
    return state if isinstance(state, dict) else {}



def _download_once(client: httpx.Client, url: str, target: Path, known: dict) -> tuple[Path | None, dict]:
    """One attempt: stream ``url`` into a temp file; return (temp path or None if 304, response facts)."""
    headers = {}
    if known.get("etag") and target.exists():
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified") and target.exists():
        headers["If-Modified-Since"] = known["last_modified"]
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code in _RETRY_STATUS:
            raise _RetryableHTTPError(url, response.status_code)
        if response.status_code == 304:
            return None, {}
        if response.status_code >= 400:
            raise SourceError(f"{redact_url(url)}: HTTP {response.status_code} (not retried)")
        facts = {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in response.iter_bytes(1 << 16):
                    digest.update(chunk)
                    fh.write(chunk)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    facts["sha256"] = digest.hexdigest()
    return Path(tmp), facts


def pull_rosstat_urls(
    urls: list[str],
    download_dir: Path,
    state_path: Path,
    timeout: float = 30,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    client: httpx.Client | None = None,
) -> list[Path]:
    """Download ``urls`` into ``download_dir``; return the files that are new or changed.

    ``retries`` is the number of extra attempts after the first on 5xx/429/timeouts/connection
    errors (backoff ``backoff`` × 2^n seconds, capped at 30 s). Unchanged content (same SHA-256 as
    recorded in ``state_path``, or a 304 to a conditional request) is not rewritten nor returned.
    A URL that still fails raises :class:`SourceError` naming it; files pulled before it are kept
    and recorded.
    """
    download_dir.mkdir(parents=True, exist_ok=True)
    state = load_state(state_path)
    changed: list[Path] = []
    own_client = client is None
    if client is None:
        limits = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        client = httpx.Client(timeout=limits, follow_redirects=True, headers={"User-Agent": USER_AGENT})
    try:
        for url in urls:
            path = _pull_one(client, url, download_dir, state, retries, backoff)
            write_json_atomic(state_path, state)
            if path is not None:
                changed.append(path)
    finally:
        if own_client:
            client.close()
    return changed


def _pull_one(
    client: httpx.Client, url: str, download_dir: Path, state: dict, retries: int, backoff: float
) -> Path | None:
    target = download_dir / file_name_for(url)
    known = state.get(url, {})
    retrying = Retrying(
        stop=stop_after_attempt(max(0, retries) + 1),
        wait=wait_exponential(multiplier=backoff, max=30),
        retry=retry_if_exception(_is_retryable),
        reraise=False,
    )
    try:
        tmp, facts = retrying(_download_once, client, url, target, known)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise SourceError(f"{redact_url(url)}: failed after {retries + 1} attempts: {last or exc}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{redact_url(url)}: {type(exc).__name__}: {exc}") from None
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if tmp is None:  # 304 Not Modified
        state[url] = {**known, "checked_at": now}
        return None
    if facts["sha256"] == known.get("sha256") and target.exists():
        tmp.unlink(missing_ok=True)
        state[url] = {**known, **facts, "path": str(target), "checked_at": now}
        return None
    os.replace(tmp, target)
    state[url] = {**facts, "path": str(target), "retrieved_at": now, "checked_at": now}
    write_json_atomic(sidecar_path(target), {"url": redact_url(url), "retrieved_at": now,
                                             "http_last_modified": facts.get("last_modified"),
                                             "etag": facts.get("etag"), "sha256": facts["sha256"]})
    return target
