"""Fault injection through the real source assets: each fault ends in a clear error or a named
reject, loses nothing already imported, and leaves the last good published warehouse serving.

HTTP faults at the level of one request (retry counts, Retry-After, 413 splitting, timeouts) are
tested in tests/sources/test_eurostat_pull.py and test_rosstat_pull.py; here they go through
the asset, its retry policy and the checks downstream.
"""

from __future__ import annotations

import gzip
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dagster_project.assets.ingest import SOURCE_ASSETS, SOURCE_RETRY
from dagster_project.settings import Paths
from dagster_project.sources.rosstat import import_rosstat

from .faults import GOOD_ROWS, digest, query_work, raw_state, read_published, run_source, write_grp_workbook

Responder = Callable[[int, str], tuple[int, dict[str, str], bytes]]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture()
def serve() -> Iterator[Callable[[Responder], str]]:
    """Start a loopback HTTP server answering with ``responder(request_number, path)``."""
    servers: list[_Server] = []

    def start(responder: Responder) -> str:
        count = {"n": 0}
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with lock:
                    count["n"] += 1
                    number = count["n"]
                status, headers, body = responder(number, self.path)
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_last_good_served(home: Path, published_digest: str) -> None:
    published = Paths(home).published_db
    assert digest(published) == published_digest
    assert read_published(published, "SELECT build_id FROM marts.build_info") == [("last-good",)]


TRUNCATED_GZIP = gzip.compress(os.urandom(20000))[:5000]  # incompressible: the cut is mid-stream


@pytest.mark.parametrize(("fault", "expected"), [
    ((500, {"Retry-After": "0"}, b"<html>Internal Server Error</html>"), "HTTP 500"),
    ((429, {"Retry-After": "0"}, b"Too Many Requests"), "HTTP 429"),
    ((503, {"Retry-After": "0"}, b""), "failed after 5 attempts"),
    ((200, {}, TRUNCATED_GZIP), "gzip data is truncated or corrupt"),
])
def test_eurostat_api_faults_keep_the_last_good_data(home: Path, serve, fault, expected: str) -> None:
    base = serve(lambda n, path: fault)
    published, before = digest(Paths(home).published_db), raw_state(home)
    out = run_source(home, "eurostat", downstream=True, eurostat_base_url=base + "/api")
    assert not out["success"]
    message = out["failed"]["eurostat_source"]
    assert expected in message and base in message  # names what failed and where
    assert out["started"] == ["eurostat_source"]  # nothing downstream ran
    assert raw_state(home) == before  # nothing lost, nothing half-loaded
    assert not (Paths(home).state / "eurostat.json").exists()  # a failed pull is retried in full next time
    assert_last_good_served(home, published)


def test_source_asset_is_retried_with_backoff_and_then_succeeds(home: Path, serve, monkeypatch) -> None:
    """Rosstat's site fails the whole first attempt (4 HTTP tries): Dagster retries the step."""
    workbook = write_grp_workbook(home.parent / "src" / "regions_2023.xlsx", GOOD_ROWS).read_bytes()
    base = serve(lambda n, path: (500, {}, b"busy") if n <= 4 else (200, {}, workbook))
    monkeypatch.setenv("REGIOCODE_ROSSTAT_URLS", f"{base}/storage/regions_2023_razdel8.xlsx")
    out = run_source(home, "rosstat", retries=True)
    assert out["success"], out["failed"]
    assert out["retried"] == ["rosstat_source"]
    assert SOURCE_ASSETS["rosstat"].op.retry_policy == SOURCE_RETRY and SOURCE_RETRY.max_retries == 3
    rows = query_work(home, "SELECT region_code, period, value FROM raw.observations WHERE source = 'rosstat' "
                            "AND region_code = 'RU-SVE' ORDER BY period")
    assert rows == [("RU-SVE", 2021, 950000.0), ("RU-SVE", 2022, 1050000.0)]


def test_corrupted_workbook_is_quarantined_and_the_good_one_loads(home: Path) -> None:
    inbox = Paths(home).inbox / "rosstat"
    write_grp_workbook(inbox / "regions_2023_8.xlsx", GOOD_ROWS)
    (inbox / "regions_2023_9.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 100)  # a zip that is not one
    out = run_source(home, "rosstat")
    assert out["success"], out["failed"]
    quarantined = inbox / "quarantine" / "regions_2023_9.xlsx"
    assert quarantined.exists() and not (inbox / "regions_2023_9.xlsx").exists()
    reason = quarantined.with_name(quarantined.name + ".reason.txt").read_text()
    assert "regions_2023_9.xlsx" in reason and ("damaged" in reason or "not" in reason)
    rejects = query_work(home, "SELECT reason FROM raw.rejects WHERE source = 'rosstat' AND reason LIKE 'file not%'")
    assert len(rejects) == 1
    assert query_work(home, "SELECT count(*) FROM raw.observations WHERE source = 'rosstat'") == [(6,)]


def test_only_broken_files_fail_the_source_and_keep_raw(home: Path) -> None:
    inbox = Paths(home).inbox / "rosstat"
    inbox.mkdir(parents=True)
    (inbox / "regions_2023_8.xlsx").write_bytes(b"<html>Service unavailable</html>")  # a failed download
    published, before = digest(Paths(home).published_db), raw_state(home)
    out = run_source(home, "rosstat", retries=True)
    message = out["failed"]["rosstat_source"].splitlines()[0].removeprefix("dagster._core.definitions.events.Failure: ")
    assert message == (f"rosstat: 1 file quarantined (moved to {inbox / 'quarantine'}/ with a .reason.txt): "
                       "regions_2023_8.xlsx: the file is an HTML/XML page, not an Excel workbook (a failed download?). "
                       f"To import it, put a readable copy into {inbox}/ and refresh (what is quarantined is never "
                       "read again)")
    assert out["retried"] == []  # the same file fails the same way: not retried
    assert raw_state(home) == (before[0], before[1] + 1)  # no row lost; the file's reject recorded
    assert_last_good_served(home, published)


def test_a_table_in_another_unit_is_loaded_unmapped_and_the_refresh_warns(home: Path, tmp_path: Path) -> None:
    """8.2. reprinted in thousands of roubles: its title is GRP per capita, its unit is not the mapping's, so it is
    loaded as received but not mapped (no code can be scaled wrong), and the refresh summary warns."""
    folder = write_grp_workbook(tmp_path / "regions_of_russia_2023" / "razdel8.xlsx", GOOD_ROWS,
                                unit="тысяч рублей").parent
    out = run_source(home, "rosstat", rosstat_path=str(folder))
    assert out["success"], out["failed"]
    assert out["checks"]["units_as_mapped"].passed
    rows = query_work(home, "SELECT count(*), count(indicator_code) FROM raw.observations WHERE source = 'rosstat'")
    assert rows == [(6, 0)]
    summary = import_rosstat([folder]).summary
    assert any("WARNING razdel8.xlsx!8.2." in line and "resembles grp_per_capita but did not map: its unit «тысяч "
               "рублей» is not /^рублей$/" in line for line in summary), summary


def test_a_territory_printed_twice_is_a_reject_not_a_duplicate(home: Path, tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, ("Пермский край", 800001.0, 880001.0)]  # the same territory printed twice
    folder = write_grp_workbook(tmp_path / "regions_of_russia_2023" / "razdel8.xlsx", rows).parent
    out = run_source(home, "rosstat", rosstat_path=str(folder))
    assert out["success"], out["failed"]
    assert out["checks"]["no_duplicate_observations"].passed
    rejects = query_work(home, "SELECT cell_ref, reason FROM raw.rejects WHERE source = 'rosstat'")
    assert rejects == [("8.2.!A9", "territory named twice in the table: RU-PER already named in row 8 (never two "
                                   "values under one code)")]
    assert query_work(home, "SELECT value FROM raw.observations WHERE source = 'rosstat' AND region_code = 'RU-PER' "
                            "ORDER BY period") == [(800000.0,), (880000.0,)]


def test_unknown_region_becomes_a_reject_and_the_rest_loads(home: Path, tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, ("Атлантида", 1.0, 2.0)]
    folder = write_grp_workbook(tmp_path / "regions_of_russia_2023" / "razdel8.xlsx", rows).parent
    out = run_source(home, "rosstat", rosstat_path=str(folder))
    assert out["success"], out["failed"]
    assert all(c.passed for c in out["checks"].values())
    unresolved = query_work(home, "SELECT count(*) FROM raw.observations WHERE source = 'rosstat' "
                                  "AND region_code IS NULL AND region_key = 'Атлантида'")
    rejected = query_work(home, "SELECT count(*) FROM raw.rejects WHERE source = 'rosstat' AND raw_value LIKE "
                                "'%Атлантида%'")
    assert unresolved[0][0] + rejected[0][0] >= 1  # kept with the reason, never silently dropped
    resolved = query_work(home, "SELECT count(*) FROM raw.observations WHERE source = 'rosstat' "
                                "AND region_code IN ('RU', 'RU-SVE', 'RU-PER')")
    assert resolved == [(6,)]


def test_credentials_in_the_base_url_are_sent_as_auth_and_never_logged(home: Path, serve) -> None:
    """A mirror that needs a password: it goes to the server as Basic auth, never into an error,
    a log line, an observation's origin or the state file."""
    seen: list[str] = []

    def respond(n: int, path: str) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Retry-After": "0"}, b"down"

    base = serve(respond)
    credentialed = base.replace("http://", "http://analyst:s3cr%40t@") + "/api"
    handler = http.server.BaseHTTPRequestHandler  # record the Authorization header each request carried
    original = handler.send_response

    def record(self, code, message=None):  # noqa: ANN001 - mirrors the stdlib signature
        seen.append(self.headers.get("Authorization", ""))
        return original(self, code, message)

    handler.send_response = record
    try:
        out = run_source(home, "eurostat", eurostat_base_url=credentialed)
    finally:
        handler.send_response = original
    message = out["failed"]["eurostat_source"]
    assert "HTTP 500" in message and "127.0.0.1" in message
    assert "s3cr" not in message and "s3cr" not in out["logs"] and "analyst" not in message
    assert seen and all(h == "Basic YW5hbHlzdDpzM2NyQHQ=" for h in seen)  # analyst:s3cr@t


def test_a_second_broken_file_of_the_same_name_does_not_overwrite_the_first(home: Path) -> None:
    inbox = Paths(home).inbox / "rosstat"
    write_grp_workbook(inbox / "regions_2023_8.xlsx", GOOD_ROWS)  # keeps the source from failing outright
    for attempt in (b"first broken download", b"second broken download"):
        (inbox / "regions_2023_9.xlsx").write_bytes(b"<html>" + attempt + b"</html>")
        assert run_source(home, "rosstat")["success"]
    kept = sorted(p.read_bytes() for p in (inbox / "quarantine").glob("regions_2023_9*.xlsx"))
    assert kept == [b"<html>first broken download</html>", b"<html>second broken download</html>"]
    assert len(list((inbox / "quarantine").glob("regions_2023_9*.reason.txt"))) == 2
