"""The failure policy, piece by piece (fast, no dbt): which errors are transient, how an error reads in one
line, any exception of one file quarantines that file (a MemoryError too), a source with nothing to import
is unchanged, symbolic links in the inbox are not followed and the quarantine stays inside the inbox. The
whole behaviour through the CLI: tests/operations/test_bad_inputs.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest
import tenacity

from dagster_project.failures import is_transient, one_line
from dagster_project.settings import Paths
from dagster_project.sources import inbox
from dagster_project.sources.base import ImportBatch, SourceError, SourceRun
from dagster_project.sources.inbox import FileReport, NothingToImport, file_report, import_each_file
from dagster_project.sources.registry import get

from .faults import GOOD_ROWS, query_work, run_source, write_grp_workbook

# ----------------------------------------------------------------------------- transient or not


def _wrapped(cause: BaseException, suppress: bool = False) -> SourceError:
    """A SourceError naming the URL, raised from ``cause`` (or ``from None``, as some pulls do)."""
    try:
        try:
            raise cause
        except BaseException as inner:
            if suppress:
                raise SourceError("https://x/a.xlsx: failed after 4 attempts") from None
            raise SourceError("https://x/a.xlsx: failed after 4 attempts") from inner
    except SourceError as err:
        return err


def _retry_error(last: BaseException) -> tenacity.RetryError:
    def fail() -> None:
        raise last

    try:
        tenacity.Retrying(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none(), reraise=False)(fail)
    except tenacity.RetryError as err:
        return err
    raise AssertionError("unreachable")


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"https://x: HTTP {status}")
        self.status = status


REQUEST = httpx.Request("GET", "https://x")


@pytest.mark.parametrize("err", [
    _wrapped(httpx.ConnectTimeout("timed out")),
    _wrapped(httpx.ConnectError("refused")),
    _wrapped(httpx.ReadTimeout("slow"), suppress=True),  # `from None` keeps the context
    _wrapped(_retry_error(_Status(503)), suppress=True),  # a tenacity RetryError's last attempt
    _wrapped(_Status(429)),
    _wrapped(httpx.HTTPStatusError("x", request=REQUEST, response=httpx.Response(502, request=REQUEST))),
    _wrapped(type("_Retryable", (Exception,), {})("HTTP 500: busy")),  # as a source's retry loop words it
    TimeoutError("timed out"),
])
def test_network_timeouts_429_and_5xx_are_transient(err: BaseException) -> None:
    assert is_transient(err)


@pytest.mark.parametrize("err", [
    SourceError("a.xlsx: not an Excel workbook"),
    ValueError("zip() argument 2 is longer than argument 1"),
    KeyError("time"),
    MemoryError(),
    _wrapped(_Status(404)),
    _wrapped(httpx.HTTPStatusError("x", request=REQUEST, response=httpx.Response(403, request=REQUEST))),
    SourceError("a.json: got XML/HTML instead of data: '<html>HTTP 503 maintenance</html>'"),  # content, not a reply
])
def test_anything_else_is_permanent(err: BaseException) -> None:
    assert not is_transient(err)


def test_an_error_may_say_itself_whether_it_is_transient() -> None:
    err = SourceError("x")
    err.transient = True  # type: ignore[attr-defined]
    assert is_transient(err)


def test_one_line_messages() -> None:
    assert one_line(SourceError("a.xlsx:\n  not a workbook")) == "a.xlsx: not a workbook"
    assert one_line(KeyError("time")) == "KeyError: 'time'"
    assert one_line(MemoryError()) == "ran out of memory"
    assert len(one_line("x" * 5000)) == 600


# ----------------------------------------------------------------------------- one file, any exception


def _run(tmp_path: Path) -> SourceRun:
    return get("rosstat").run({}, Paths(tmp_path / "home"))


@pytest.mark.parametrize(("raised", "reason"), [
    (MemoryError(), "cannot be read (ran out of memory)"),
    (ValueError("zip() argument 2 is longer than argument 1"),
     "cannot be read (ValueError: zip() argument 2 is longer than argument 1)"),
    (KeyError("time"), "cannot be read (KeyError: 'time')"),
    (SourceError("{path}: no sheet has a header row of years"), "no sheet has a header row of years"),
])
def test_any_exception_of_one_file_quarantines_it_with_its_reason_and_the_others_load(
        tmp_path: Path, raised: BaseException, reason: str) -> None:
    run = _run(tmp_path)
    run.inbox.mkdir(parents=True)
    good, bad = run.inbox / "a_good.xlsx", run.inbox / "b_bad.xlsx"
    good.write_bytes(b"good"), bad.write_bytes(b"bad")

    def importer(path: Path) -> ImportBatch:
        if path == bad:
            if isinstance(raised, SourceError):
                raise SourceError(str(raised).format(path=path))
            raise raised
        return ImportBatch(source="rosstat", observations=pd.DataFrame({"source": ["rosstat"], "value": [1.0]}))

    with file_report() as report:
        batch = import_each_file([good, bad], importer, run)
    assert len(batch.observations) == 1 and report.imported == [good]
    (failed,) = report.failed
    moved = run.inbox / "quarantine" / "b_bad.xlsx"
    assert failed.moved_to == moved and moved.read_bytes() == b"bad" and not bad.exists()
    remedy = (f"To import it, put a readable copy into {run.inbox}/ and refresh "
              "(what is quarantined is never read again)")
    assert moved.with_name("b_bad.xlsx.reason.txt").read_text() == f"{failed.reason}\n{remedy}.\n"
    assert batch.rejects["reason"].tolist() == [f"file not imported: {failed.reason}; moved to {moved}. {remedy}"]
    assert report.failures().startswith(f"1 file quarantined (moved to {moved.parent}/ with a .reason.txt): "
                                        f"b_bad.xlsx: ")
    assert report.failures().endswith(f". {remedy}")


def test_symbolic_links_in_the_inbox_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.xlsx"
    secret.write_bytes(b"not yours")
    run = _run(tmp_path)
    run.inbox.mkdir(parents=True)
    (run.inbox / "linked.xlsx").symlink_to(secret)
    (run.inbox / "real.xlsx").write_bytes(b"x")
    with file_report() as report:
        files = inbox.inbox_files(run.inbox, run.file_kinds)
    assert files == [run.inbox / "real.xlsx"]
    assert report.links_skipped == [run.inbox / "linked.xlsx"]
    assert list(inbox.snapshot(run.inbox, run.file_kinds)) == ["real.xlsx"]  # the sensors do not see it either


def test_the_quarantine_stays_inside_the_inbox(tmp_path: Path) -> None:
    """A `quarantine` link planted in the inbox is not followed: the file stays, its reject is still recorded."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = _run(tmp_path)
    run.inbox.mkdir(parents=True)
    (run.inbox / "quarantine").symlink_to(outside, target_is_directory=True)
    bad = run.inbox / "bad.xlsx"
    bad.write_bytes(b"x")
    assert inbox.quarantine(bad, run.inbox, "broken") is None
    assert bad.exists() and list(outside.iterdir()) == []
    given = tmp_path / "given.xlsx"  # a file of the `path` setting is never moved
    given.write_bytes(b"x")
    assert inbox.quarantine(given, run.inbox, "broken") is None and given.exists()


def test_a_reason_file_planted_as_a_link_is_not_written_through(tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run.inbox / "quarantine").mkdir(parents=True)
    target = tmp_path / "victim.txt"
    target.write_text("keep")
    (run.inbox / "quarantine" / "bad.xlsx.reason.txt").symlink_to(target)
    bad = run.inbox / "bad.xlsx"
    bad.write_bytes(b"x")
    moved = inbox.quarantine(bad, run.inbox, "broken")
    assert moved is not None and moved.name != "bad.xlsx" and target.read_text() == "keep"
    assert moved.with_name(moved.name + ".reason.txt").read_text().startswith("broken\nTo import it, put")


def test_all_failed_reads_as_n_files_quarantined() -> None:
    report = FileReport()
    assert not report.all_failed and report.failures() == ""
    report.failed.extend([inbox.FailedFile(Path("/i/a.xlsx"), "/i/a.xlsx: empty", Path("/i/quarantine/a.xlsx")),
                          inbox.FailedFile(Path("/i/b.csv"), "/i/b.csv: cannot be read (KeyError: 'x')",
                                           Path("/i/quarantine/b.csv"))])
    assert report.all_failed
    assert report.failures() == ("2 files quarantined (moved to /i/quarantine/ with a .reason.txt): a.xlsx: empty; "
                                 "b.csv: cannot be read (KeyError: 'x'). To import them, put a readable copy into "
                                 "/i/ and refresh (what is quarantined is never read again)")
    given = FileReport(failed=[inbox.FailedFile(Path("/data/a.xlsx"), "/data/a.xlsx: empty")])  # by the path setting
    assert given.failures() == ("1 file not imported: a.xlsx: empty. To import it, replace the file with a readable "
                                "copy and refresh")


def test_rosstat_summary_lists_rejected_cells_and_leaves_whole_files_to_the_ingest_line() -> None:
    from dagster_project.sources.rosstat.batch import summary_lines

    rejects = pd.DataFrame([
        {"origin": "/i/notes.xlsx", "cell_ref": None, "raw_value": None,
         "reason": "file not imported: /i/notes.xlsx: not an Excel workbook; moved to /i/quarantine/notes.xlsx"},
        {"origin": "/i/Раздел 1.xlsx", "cell_ref": "1.2!C7", "raw_value": "12,5*",
         "reason": "not a number (value '12,5*')"},
    ])
    lines = summary_lines([], ImportBatch(source="rosstat", observations=pd.DataFrame(), rejects=rejects))
    assert lines == ["rejects: 1 × not a number (first: Раздел 1.xlsx!1.2!C7 '12,5*')"]


# ----------------------------------------------------------------------------- through the source asset


def test_every_file_bad_fails_once_naming_each_file_and_records_the_rejects(home: Path) -> None:
    source_inbox = Paths(home).inbox / "rosstat"
    source_inbox.mkdir(parents=True)
    (source_inbox / "a.xlsx").write_bytes(b"<html>Service unavailable</html>")
    (source_inbox / "b.xlsx").write_bytes(b"")
    out = run_source(home, "rosstat", retries=True)
    message = out["failed"]["rosstat_source"].splitlines()[0].split("Failure: ", 1)[-1]
    assert message.startswith("rosstat: 2 files quarantined (moved to ") and "a.xlsx: the file is an HTML" in message
    assert "b.xlsx: the file is empty" in message
    assert out["retried"] == []
    rejects = query_work(home, "SELECT origin FROM raw.rejects WHERE reason LIKE 'file not imported:%' ORDER BY 1")
    assert [Path(r[0]).name for r in rejects] == ["a.xlsx", "b.xlsx"]


def test_a_source_with_nothing_new_is_unchanged_and_succeeds(home: Path) -> None:
    out = run_source(home, "rosstat", rosstat_path=str(write_grp_workbook(home.parent / "src" / "r.xlsx",
                                                                          GOOD_ROWS).parent))
    assert out["success"]
    again = run_source(home, "rosstat")  # no path, no URL, an empty inbox: nothing new
    assert again["success"] and again["retried"] == []
    assert "rosstat: unchanged: nothing new to import; the raw layer keeps its 6 rows" in again["logs"]


def test_a_source_that_never_had_data_says_where_it_could_come_from(home: Path) -> None:
    out = run_source(home, "csv")  # beside the demo, which has rows: the run goes on
    assert out["success"]
    assert "csv: nothing to import: give it --path csv=… (REGIOCODE_CSV_PATH)" in out["logs"]


def test_nothing_to_import_is_not_a_damaged_input() -> None:
    assert issubclass(NothingToImport, SourceError)  # an importer's require_files still raises a SourceError
