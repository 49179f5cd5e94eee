"""Configuration that works the same everywhere, and CLI runs the scheduler's UI can see.

Two sources configured only through their settings (``REGIOCODE_ROSSTAT_PATH``, ``REGIOCODE_EUROSTAT_PATH``)
refreshed twice through the CLI: both import the first time, the second is unchanged (dbt not run, nothing
republished) and succeeds. Both runs are then read back through the Dagster instance API of the home, as
``dagster dev`` reads them: the runs, the last materialisation of each asset with its metadata, the raw
layer's checks. A CLI process killed mid-run does not leave its run "started" nor its pool slot taken."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus
from fixtures.eurostat_payloads import eu_geos, payload_datasets, write_payload_files
from fixtures.refresh_runs import run_cli

from dagster_project.checks import RAW_CHECK_NAMES
from dagster_project.instance import HOST_TAG, PID_TAG, end_dead_runs, instance_for, run_tags
from dagster_project.settings import Paths

from .faults import GOOD_ROWS, write_grp_workbook

WIDE = {"COLUMNS": "400"}


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("settings-twice")
    rosstat = write_grp_workbook(root / "rosstat" / "regions_2023_razdel8.xlsx", GOOD_ROWS).parent
    eurostat = root / "eurostat"
    write_payload_files(payload_datasets(eu_geos()), eurostat)
    env = {**WIDE, "REGIOCODE_ROSSTAT_PATH": str(rosstat), "REGIOCODE_EUROSTAT_PATH": str(eurostat)}
    home = root / "home"
    first = run_cli(home, "refresh", "--source", "rosstat", "--source", "eurostat", env=env)
    second = run_cli(home, "refresh", "--source", "rosstat", "--source", "eurostat", env=env)
    return {"home": home, "first": first, "second": second}


@pytest.mark.e2e
def test_two_sources_from_their_settings_import_both_then_are_unchanged(twice: dict) -> None:
    first, second = twice["first"], twice["second"]
    assert first.returncode == 0, first.tail()
    out = " ".join(first.stdout.split())
    assert "rosstat: 6 rows from 1 files" in out and "eurostat:" in out and "nothing to import" not in out
    assert second.returncode == 0, second.tail()
    again = " ".join(second.stdout.split())
    assert "inputs unchanged: dbt not run, nothing republished" in again
    assert "unchanged: the briefings of build" in again


@pytest.mark.e2e
def test_cli_runs_are_visible_through_the_dagster_instance_of_the_home(twice: dict) -> None:
    with DagsterInstance.from_config(str(Paths(twice["home"]).dagster_home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2 and all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        assert {run.job_name for run in runs} == {"cli_refresh"}
        latest, earlier = runs  # newest first

        def meta(key: AssetKey) -> tuple[str, dict]:
            event = instance.get_latest_materialization_event(key)
            assert event is not None, key
            return event.run_id, {k: v.value for k, v in event.asset_materialization.metadata.items()}

        run_id, rosstat = meta(AssetKey("rosstat_source"))
        assert run_id == latest.run_id and rosstat["rows"] == 6 and rosstat["data_label"] == "official statistics"
        run_id, published = meta(AssetKey("published_warehouse"))
        assert run_id == latest.run_id and published["unchanged"] is True
        assert published["build_id"] == earlier.run_id.split("-")[0]  # the build the first run published
        assert meta(AssetKey(["marts", "defining_codes"]))[0] == latest.run_id
        assert meta(AssetKey("briefings"))[1]["rendered"] == 0

        checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [AssetCheckKey(AssetKey("raw_observations"), name) for name in RAW_CHECK_NAMES])
        assert len(checks) == len(RAW_CHECK_NAMES)
        assert {record.run_id for record in checks.values()} == {latest.run_id}
        assert all(record.status.value == "SUCCEEDED" for record in checks.values())


def test_a_killed_cli_run_is_ended_and_its_pool_slot_freed(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with instance_for(paths) as instance:
        run = instance.add_run(DagsterRun(job_name="cli_refresh", run_id=str(uuid.uuid4()),
                                          status=DagsterRunStatus.STARTED,
                                          tags={**run_tags(), PID_TAG: dead.stdout.strip()}))
        alive = instance.add_run(DagsterRun(job_name="cli_refresh", run_id=str(uuid.uuid4()),
                                            status=DagsterRunStatus.STARTED, tags=run_tags()))  # this process
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb_writer")
        assert storage.claim_concurrency_slot("duckdb_writer", run.run_id, "demo_source").is_claimed
        assert end_dead_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("duckdb_writer").active_slot_count == 0
        assert run.tags[HOST_TAG] == alive.tags[HOST_TAG]
