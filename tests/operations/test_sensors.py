"""The inbox sensors, evaluated as the daemon does (``evaluate_tick`` on a built sensor context, with the
``regiocode`` resource the assets use) against a temporary REGIOCODE_HOME: a new file asks for one run of
its source's job, the cursor makes the next tick skip, a replaced file (new size and mtime) or a file
dropped again asks again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dagster import build_sensor_context

from dagster_project.resources import RegiocodeResource
from dagster_project.sensors import inbox_run_sources, inbox_sources, make_inbox_sensor

ROSSTAT_JOB, EUROSTAT_JOB = "rosstat_inbox_refresh", "eurostat_inbox_refresh"
WORKBOOK = "Регионы России 2024 - Раздел 8.xlsx"
FIRST, CORRECTED = b"PK\x03\x04 first edition", b"PK\x03\x04 corrected edition"  # 18 and 22 bytes


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGIOCODE_HOME", str(tmp_path))
    monkeypatch.delenv("REGIOCODE_SOURCES", raising=False)  # default: demo
    return tmp_path


def drop(folder: Path, name: str, data: bytes, mtime: float) -> Path:
    """Write a file as a copy into the inbox leaves it, with a given modification time."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def tick(sensor, cursor: str | None):  # noqa: ANN001 - a SensorDefinition
    """One evaluation, as the daemon runs it (the resource read from the environment, as in Definitions);
    returns the tick data (run requests, skip, cursor)."""
    with build_sensor_context(cursor=cursor, sensor_name=sensor.name,
                              resources={"regiocode": RegiocodeResource()}) as context:
        return sensor.evaluate_tick(context)


def test_new_file_requests_one_rosstat_run_then_the_cursor_skips(home: Path) -> None:
    sensor = make_inbox_sensor("rosstat", ROSSTAT_JOB)
    assert sensor.job_name == ROSSTAT_JOB
    empty = tick(sensor, None)
    assert empty.run_requests == [] and "no new or changed files" in empty.skip_message
    assert (home / "inbox" / "rosstat").is_dir()  # created so that users see where to drop files

    drop(home / "inbox" / "rosstat", WORKBOOK, FIRST, 1_700_000_000.0)
    first = tick(sensor, empty.cursor)
    (request,) = first.run_requests
    assert request.run_config == {"resources": {"regiocode": {"config": {"sources": ["rosstat"]}}}}
    assert request.run_key == f"rosstat:{WORKBOOK}@1700000000.0"
    assert request.tags["regiocode/inbox"] == "rosstat" and request.tags["regiocode/files"] == WORKBOOK
    assert json.loads(first.cursor) == {WORKBOOK: [18, 1_700_000_000.0]}

    again = tick(sensor, first.cursor)
    assert again.run_requests == [] and again.skip_message.startswith("no new or changed files in ")


def test_replaced_file_requests_again(home: Path) -> None:
    sensor = make_inbox_sensor("rosstat", ROSSTAT_JOB)
    inbox = home / "inbox" / "rosstat"
    drop(inbox, WORKBOOK, FIRST, 1_700_000_000.0)
    first = tick(sensor, None)
    drop(inbox, WORKBOOK, CORRECTED, 1_700_086_400.0)
    replaced = tick(sensor, first.cursor)
    (request,) = replaced.run_requests
    assert request.run_key == f"rosstat:{WORKBOOK}@1700086400.0" != first.run_requests[0].run_key
    assert json.loads(replaced.cursor) == {WORKBOOK: [22, 1_700_086_400.0]}
    # Same size, new mtime (a re-download of the same file): a change too.
    drop(inbox, WORKBOOK, CORRECTED, 1_700_090_000.0)
    assert len(tick(sensor, replaced.cursor).run_requests) == 1


def test_only_new_files_are_named_and_others_ignored(home: Path) -> None:
    sensor = make_inbox_sensor("rosstat", ROSSTAT_JOB)
    inbox = home / "inbox" / "rosstat"
    drop(inbox, WORKBOOK, b"PK one", 1_700_000_000.0)
    first = tick(sensor, None)
    # Not workbooks, Office lock files, hidden files, the quarantine folder: no run.
    drop(inbox, "readme.txt", b"notes", 1_700_000_100.0)
    drop(inbox, f"~${WORKBOOK}", b"lock", 1_700_000_100.0)
    drop(inbox, ".partial.xlsx", b"PK", 1_700_000_100.0)
    drop(inbox / "quarantine", "broken.xlsx", b"PK", 1_700_000_100.0)
    assert tick(sensor, first.cursor).run_requests == []
    drop(inbox, "Раздел 1 - Население.xls", b"\xd0\xcf\x11\xe0 legacy", 1_700_000_200.0)
    (request,) = tick(sensor, first.cursor).run_requests
    assert request.tags["regiocode/files"] == "Раздел 1 - Население.xls"


def test_file_dropped_again_after_it_left_requests_again(home: Path) -> None:
    """A quarantined file put back unchanged (same size and mtime, e.g. `mv` back after fixing the
    register) must be imported again: the cursor forgets files that left the inbox."""
    sensor = make_inbox_sensor("rosstat", ROSSTAT_JOB)
    inbox = home / "inbox" / "rosstat"
    path = drop(inbox, WORKBOOK, b"PK one", 1_700_000_000.0)
    first = tick(sensor, None)
    (inbox / "quarantine").mkdir()
    path.replace(inbox / "quarantine" / WORKBOOK)
    gone = tick(sensor, first.cursor)
    assert gone.run_requests == [] and json.loads(gone.cursor) == {}
    (inbox / "quarantine" / WORKBOOK).replace(path)
    assert len(tick(sensor, gone.cursor).run_requests) == 1


def test_eurostat_sensor_watches_its_own_folder(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rosstat, eurostat = make_inbox_sensor("rosstat", ROSSTAT_JOB), make_inbox_sensor("eurostat", EUROSTAT_JOB)
    drop(home / "inbox" / "rosstat", WORKBOOK, b"PK", 1_700_000_000.0)
    assert tick(eurostat, None).run_requests == []
    drop(home / "inbox" / "eurostat", "estat_demo_r_mlifexp.tsv", b"freq,unit,geo\\TIME_PERIOD\t2022 \n", 1.7e9)
    (request,) = tick(eurostat, None).run_requests
    assert request.run_config["resources"]["regiocode"]["config"]["sources"] == ["eurostat"]
    # Configured real sources join the run (the demo never does: dropped files mean real data).
    monkeypatch.setenv("REGIOCODE_SOURCES", "demo,eurostat")
    (request,) = tick(rosstat, None).run_requests
    assert request.run_config["resources"]["regiocode"]["config"]["sources"] == ["eurostat", "rosstat"]
    assert inbox_run_sources("eurostat", ["demo"]) == ["eurostat"]
    assert inbox_run_sources("rosstat", ["demo", "eurostat"]) == ["eurostat", "rosstat"]


def test_every_source_that_accepts_files_has_a_sensor() -> None:
    """The sensors follow the registry: one per source with file kinds (not the demo)."""
    from dagster_project.definitions import defs
    from dagster_project.sources.registry import SOURCES

    assert inbox_sources() == [s.name for s in SOURCES if s.file_kinds] and "demo" not in inbox_sources()
    for name in inbox_sources():
        assert defs.resolve_sensor_def(f"{name}_inbox_sensor").job_name == f"{name}_inbox_refresh"


def test_definitions_wire_each_sensor_to_its_source_job() -> None:
    """The sensors in Definitions target the inbox jobs, whose selection is the source's asset plus
    everything downstream (never the demo), and accept the sensor's run config."""
    from dagster import AssetKey, validate_run_config

    from dagster_project.definitions import defs

    for source, job_name in (("rosstat", ROSSTAT_JOB), ("eurostat", EUROSTAT_JOB)):
        sensor = defs.resolve_sensor_def(f"{source}_inbox_sensor")
        assert sensor.job_name == job_name
        job = defs.resolve_job_def(job_name)
        keys = job.asset_layer.executable_asset_keys
        other = "eurostat" if source == "rosstat" else "rosstat"
        assert AssetKey(f"{source}_source") in keys
        assert AssetKey("demo_source") not in keys and AssetKey(f"{other}_source") not in keys
        assert {AssetKey("raw_observations"), AssetKey("published_warehouse"), AssetKey("briefings")} <= keys
        config = {"resources": {"regiocode": {"config": {"sources": [source]}}}}
        assert validate_run_config(job, config)["resources"]["regiocode"]["config"]["sources"] == [source]
