"""Bad data never reaches readers: each gate stops publish and briefings, names the check and the
offending rows, and leaves the published warehouse byte for byte as it was.

Runs the real graph in-process on copies of a refreshed home, with the bad rows written into the
working warehouse the way a source would have loaded them (a later release, so they win).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions, define_asset_job, materialize
from dagster._core.utils import make_new_run_id
from fixtures.refresh_runs import error_chain

from dagster_project.assets.dbt import dbt_resource
from dagster_project.assets.ingest import SOURCE_ASSETS
from dagster_project.checks import raw_observation_checks
from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import Paths

from .conftest import file_digest

pytestmark = pytest.mark.e2e
ASSETS = [*SOURCE_ASSETS.values(), *PIPELINE_ASSETS]


def resources(home: Path) -> dict:
    return {"dbt": dbt_resource(), "regiocode": RegiocodeResource(home=str(home), sources=["demo"])}


def work(home: Path, sql: str) -> None:
    con = duckdb.connect(str(Paths(home).work_db))
    try:
        con.execute(sql)
    finally:
        con.close()


def later_release(where: str, value: str, release: str = "demo v9", **columns: str) -> str:
    """SQL inserting a copy of the demo rows matching ``where`` as a later release with ``value`` (and other
    ``columns`` replaced by SQL expressions, e.g. ``period="NULL"``)."""
    replaced = "".join(f"{sql} AS {name}, " for name, sql in columns.items())
    return (
        f"INSERT INTO raw.observations SELECT * REPLACE ({value} AS value, {replaced}'{release}' AS release, "
        f"DATE '2030-01-01' AS release_date, 'bad.xlsx' AS origin) FROM raw.observations "
        f"WHERE source = 'demo' AND release = 'demo v1' AND {where}"
    )


def run(home: Path, selection) -> dict:
    with DagsterInstance.ephemeral() as instance:
        result = materialize(ASSETS, selection=selection, resources=resources(home), raise_on_error=False,
                             instance=instance)
        return outcome(result, instance)


def outcome(result, instance: DagsterInstance) -> dict:
    """Step outcomes, asset check evaluations and the log lines (what a CLI user reads) of a run."""
    failed_steps = {e.step_key: error_chain(e.event_specific_data.error) for e in result.all_events
                    if e.event_type_value == "STEP_FAILURE"}
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    materialized = {e.asset_key.to_user_string() for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    checks = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            checks[evaluation.check_name] = evaluation
    logs = "\n".join(entry.user_message for entry in instance.all_logs(result.run_id))
    return {"failed": failed_steps, "started": started, "materialized": materialized, "checks": checks, "logs": logs}


def assert_untouched(home: Path, digest: str, briefings_before: set[str], out: dict) -> None:
    assert file_digest(Paths(home).published_db) == digest
    assert {p.name for p in Paths(home).briefings.rglob("*")} == briefings_before
    assert "published_warehouse" not in out["materialized"] and "briefings" not in out["materialized"]


def test_negative_population_and_duplicates_stop_before_dbt(home_copy: Path) -> None:
    home = home_copy
    work(home, later_release("indicator_code = 'population' AND region_code = 'RU-SVE' AND period = 2023", "-4290.0"))
    work(home, later_release("indicator_code = 'grp_per_capita' AND region_code = 'RU-PER' AND period = 2020",
                             "value", release="demo dup"))
    work(home, later_release("indicator_code = 'grp_per_capita' AND region_code = 'RU-PER' AND period = 2020",
                             "value * 2", release="demo dup"))
    digest, before = file_digest(Paths(home).published_db), {p.name for p in Paths(home).briefings.rglob("*")}
    out = run(home, refresh_selection(["demo"]))
    assert "raw_observation_checks" in out["failed"]
    message = out["failed"]["raw_observation_checks"]
    assert "no_negative_values" in message and "no_duplicate_observations" in message
    negative = out["checks"]["no_negative_values"]
    assert not negative.passed and negative.metadata["offending_rows"].value == 1
    assert "RU-SVE" in negative.metadata["preview"].value and "-4290" in negative.metadata["preview"].value
    duplicate = out["checks"]["no_duplicate_observations"]
    assert not duplicate.passed and duplicate.metadata["offending_rows"].value == 2
    assert "demo dup" in duplicate.metadata["preview"].value
    assert out["checks"]["units_as_mapped"].passed and out["checks"]["no_sudden_row_drop"].passed
    # The log a CLI user sees names the rows, too.
    assert "population" in out["logs"] and "RU-SVE" in out["logs"] and "-4290" in out["logs"]
    assert not {"regiocode_dbt_assets", "published_warehouse", "briefings"} & out["started"]  # never ran
    assert_untouched(home, digest, before, out)


def test_sudden_row_drop_against_published_build_stops_before_dbt(home_copy: Path) -> None:
    """The last published build had 40 Rosstat rows (as the record its publish wrote says); the working
    warehouse lost them (deleted, restored from an old backup ...): publishing would silently drop that source."""
    home = home_copy
    record = Paths(home).published_record
    facts = json.loads(record.read_text(encoding="utf-8"))
    facts["observations_by_source"]["rosstat"] = 40
    record.write_text(json.dumps(facts), encoding="utf-8")
    digest, before = file_digest(Paths(home).published_db), {p.name for p in Paths(home).briefings.rglob("*")}
    out = run(home, refresh_selection(["demo"]))
    drop = out["checks"]["no_sudden_row_drop"]
    assert not drop.passed and drop.metadata["offending_rows"].value == 40
    assert "rosstat" in drop.metadata["preview"].value
    assert out["checks"]["no_negative_values"].passed and out["checks"]["no_duplicate_observations"].passed
    assert "no_sudden_row_drop" in out["failed"]["raw_observation_checks"]
    assert_untouched(home, digest, before, out)


def test_failing_dbt_test_stops_publish(home_copy: Path) -> None:
    """A dbt data test that fails (here: an observation without a year, which the raw checks are left out
    of) stops the run before publish."""
    home = home_copy
    work(home, later_release("indicator_code = 'population' AND region_code = 'RU-SVE' AND period = 2023",
                             "value", period="NULL"))
    digest, before = file_digest(Paths(home).published_db), {p.name for p in Paths(home).briefings.rglob("*")}
    selection = (
        AssetSelection.assets(SOURCE_ASSETS["demo"], "raw_observations", "raw_rejects", "published_warehouse",
                              "briefings").without_checks()
        | AssetSelection.assets(AssetKey(["staging", "stg_raw__observations"]),
                                AssetKey(["intermediate", "int_observations_ranked"]))
    ) - AssetSelection.checks(raw_observation_checks)
    out = run(home, selection)
    assert "regiocode_dbt_assets" in out["failed"]
    failed = [name for name, check in out["checks"].items() if not check.passed]
    assert failed == ["not_null_stg_raw__observations_period"], failed
    assert not {"published_warehouse", "briefings"} & out["started"]
    assert_untouched(home, digest, before, out)


def _publish_only(home: Path, run_id: str):
    job = define_asset_job("publish_only", selection=AssetSelection.assets("published_warehouse", "briefings"))
    defs = Definitions(assets=ASSETS, jobs=[job], resources=resources(home))
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("publish_only").execute_in_process(
            run_id=run_id, raise_on_error=False, instance=instance)
        return outcome(result, instance)


def test_publication_gate_refuses_codes_outside_unit_interval_and_shrunk_marts(home_copy: Path) -> None:
    """A build that passed dbt but whose marts are wrong (a code of 1.37, half the contributions
    gone) is refused by the gate inside the publish step, naming both checks and the rows."""
    home = home_copy
    run_id = make_new_run_id()
    work(home, "UPDATE marts.defining_codes SET production_code = 1.37 WHERE region_code = 'RU-SVE' AND year = 2023")
    work(home, "DELETE FROM marts.code_contributions WHERE year % 2 = 0")
    work(home, f"UPDATE marts.build_info SET build_id = '{run_id.split('-')[0]}'")  # as if this run built it
    digest, before = file_digest(Paths(home).published_db), {p.name for p in Paths(home).briefings.rglob("*")}
    out = _publish_only(home, run_id)
    message = out["failed"]["published_warehouse"]
    assert "publication refused" in message
    assert "codes_in_unit_interval" in message and "RU-SVE" in message and "1.37" in message
    assert "no_sudden_mart_drop" in message and "code_contributions" in message
    assert "briefings" not in out["started"]
    assert_untouched(home, digest, before, out)
