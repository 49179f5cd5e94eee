"""``pull_rosstat_urls`` against a local HTTP server on 127.0.0.1 run in a thread.

The server plays a script per path (status, delay, body), so each test shows one behaviour:
retry after a 500 or 429, a read timeout, a 404 that is not retried, and an unchanged file skipped.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dagster_project.sources.base import SourceError
from dagster_project.sources.rosstat.pull import file_name_for, pull_rosstat_urls, redact_url


class ScriptedHandler(BaseHTTPRequestHandler):
    """Answers each GET with the next step of its path's script; the last step repeats."""

    scripts: dict[str, list[tuple[int, float, bytes]]] = {}
    hits: dict[str, int] = {}
    last_modified = ""  # a Last-Modified header to send, when set

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        count = self.hits.get(self.path, 0)
        self.hits[self.path] = count + 1
        script = self.scripts.get(self.path, [(404, 0.0, b"not found")])
        status, delay, body = script[min(count, len(script) - 1)]
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 429:
                self.send_header("Retry-After", "0")
            if self.last_modified:
                self.send_header("Last-Modified", self.last_modified)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture()
def server():
    ScriptedHandler.scripts, ScriptedHandler.hits, ScriptedHandler.last_modified = {}, {}, ""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def pull(urls, tmp_path: Path, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    return pull_rosstat_urls(urls, tmp_path / "inbox", tmp_path / "state.json", **kwargs)


def test_500_then_success_is_retried_and_written_atomically(server, tmp_path):
    _, base = server
    ScriptedHandler.scripts["/files/Razdel_8.xlsx"] = [(500, 0, b"oops"), (200, 0, b"PK-section-8")]
    got = pull([f"{base}/files/Razdel_8.xlsx"], tmp_path, timeout=5, retries=3)
    assert got == [tmp_path / "inbox" / "Razdel_8.xlsx"]
    assert got[0].read_bytes() == b"PK-section-8"
    assert ScriptedHandler.hits["/files/Razdel_8.xlsx"] == 2
    assert not list((tmp_path / "inbox").glob("*.part"))
    state = json.loads((tmp_path / "state.json").read_text())
    assert state[f"{base}/files/Razdel_8.xlsx"]["sha256"] == hashlib.sha256(b"PK-section-8").hexdigest()


def test_each_download_gets_a_release_sidecar(server, tmp_path):
    """The server's Last-Modified and the retrieval time go beside the file, for the importer to read when the
    workbook states no release (the URL is written without its secrets)."""
    _, base = server
    ScriptedHandler.scripts["/Razdel_8.xlsx?token=secret"] = [(200, 0, b"PK-section-8")]
    ScriptedHandler.last_modified = "Tue, 26 Dec 2023 10:00:00 GMT"
    (got,) = pull([f"{base}/Razdel_8.xlsx?token=secret"], tmp_path, timeout=5)
    sidecar = json.loads(got.with_name(got.name + ".release.json").read_text(encoding="utf-8"))
    assert sidecar["http_last_modified"] == "Tue, 26 Dec 2023 10:00:00 GMT"
    assert sidecar["url"] == f"{base}/Razdel_8.xlsx?token=***" and sidecar["retrieved_at"]
    assert sidecar["sha256"] == hashlib.sha256(b"PK-section-8").hexdigest()


def test_429_is_retried(server, tmp_path):
    _, base = server
    ScriptedHandler.scripts["/a.xlsx"] = [(429, 0, b""), (200, 0, b"body")]
    assert len(pull([f"{base}/a.xlsx"], tmp_path, timeout=5, retries=2)) == 1


def test_read_timeout_then_success(server, tmp_path):
    _, base = server
    ScriptedHandler.scripts["/slow.xlsx"] = [(200, 1.0, b"late"), (200, 0, b"on time")]
    started = time.monotonic()
    got = pull([f"{base}/slow.xlsx"], tmp_path, timeout=0.3, retries=2)
    assert got[0].read_bytes() == b"on time"
    assert time.monotonic() - started < 5


def test_timeouts_exhaust_retries_with_an_error_naming_the_url(server, tmp_path):
    _, base = server
    ScriptedHandler.scripts["/never.xlsx"] = [(200, 1.0, b"late")]
    with pytest.raises(SourceError, match=r"never\.xlsx: failed after 2 attempts"):
        pull([f"{base}/never.xlsx"], tmp_path, timeout=0.2, retries=1)
    assert not (tmp_path / "inbox" / "never.xlsx").exists()
    assert not list((tmp_path / "inbox").glob("*.part"))


def test_404_is_not_retried(server, tmp_path):
    _, base = server
    with pytest.raises(SourceError, match="HTTP 404"):
        pull([f"{base}/missing.xlsx"], tmp_path, timeout=5, retries=3)
    assert ScriptedHandler.hits["/missing.xlsx"] == 1


def test_unchanged_file_is_skipped_and_a_changed_one_returned(server, tmp_path):
    _, base = server
    url = f"{base}/Razdel_1.xlsx"
    ScriptedHandler.scripts["/Razdel_1.xlsx"] = [(200, 0, b"v1")]
    first = pull([url], tmp_path, timeout=5)
    mtime = first[0].stat().st_mtime_ns
    assert pull([url], tmp_path, timeout=5) == []  # same content: nothing new
    assert first[0].stat().st_mtime_ns == mtime and first[0].read_bytes() == b"v1"
    ScriptedHandler.scripts["/Razdel_1.xlsx"] = [(200, 0, b"v2")]
    assert pull([url], tmp_path, timeout=5) == first
    assert first[0].read_bytes() == b"v2"


def test_file_names_are_safe():
    assert (
        file_name_for("https://rosstat.gov.ru/storage/Pril%20Region%202023.xlsx?x=1")
        == "Pril Region 2023.xlsx"
    )
    assert file_name_for("https://example.org/a/../../etc/passwd/") != ""
    assert "/" not in file_name_for("https://example.org/%2e%2e%2fsecret")


def test_credentials_in_a_url_never_reach_the_error(server, tmp_path):
    """A yearbook URL with user:password and an access token: the error names the host, path and the harmless
    parameters, never the secrets (errors end up in run logs and the Dagster UI)."""
    _, base = server
    ScriptedHandler.scripts["/private/Razdel_2.xlsx"] = [(404, 0, b"no")]
    url = base.replace("http://", "http://analyst:pa55word@") + "/private/Razdel_2.xlsx?edition=2023&token=s3cr3t"
    with pytest.raises(SourceError) as err:
        pull([url], tmp_path, timeout=5, retries=0)
    message = str(err.value)
    assert "pa55word" not in message and "s3cr3t" not in message and "analyst" not in message
    assert "/private/Razdel_2.xlsx" in message and "edition=2023" in message and "HTTP 404" in message


def test_redact_url_masks_secret_looking_parameters_only() -> None:
    assert redact_url("https://u:p@host.example/a/b.xlsx?api_key=1&x=2&Signature=abc&password=q") == (
        "https://***@host.example/a/b.xlsx?api_key=***&x=2&Signature=***&password=***"
    )
    assert redact_url("https://rosstat.gov.ru/storage/mediabank/Razdel_8.xlsx") == (
        "https://rosstat.gov.ru/storage/mediabank/Razdel_8.xlsx"
    )
