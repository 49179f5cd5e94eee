"""Fault injection: a small home (the demo panel in the raw layer, a published warehouse with the
marts the checks compare against) and helpers that run the real source assets and raw checks
in-process. No dbt here: every fault must be stopped before it; the end-to-end gates are proven in
the other tests in this folder."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import openpyxl
import pytest
from dagster import AssetSelection, DagsterInstance, materialize
from fixtures.refresh_runs import error_chain

from dagster_project.assets.dbt import dbt_resource
from dagster_project.assets.ingest import SOURCE_ASSETS
from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import Paths
from dagster_project.sources.demo import demo_batch
from dagster_project.sqlaccess import open_readonly
from dagster_project.warehouse import connect_work, load_batch, publish

ASSETS = [*SOURCE_ASSETS.values(), *PIPELINE_ASSETS]
TOP = "Социально-экономические показатели по субъектам Российской Федерации"


@pytest.fixture(scope="session")
def small_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reliability") / "home"
    paths = Paths(home).ensure()
    con = connect_work(paths.work_db)
    try:
        load_batch(con, demo_batch())
        con.execute("CREATE SCHEMA marts")  # the marts the checks compare against, as a build would leave them
        con.execute("CREATE TABLE marts.observations AS SELECT * FROM raw.observations")
        con.execute("CREATE TABLE marts.build_info AS SELECT 'last-good' AS build_id, 'demo' AS sources")
    finally:
        con.close()
    publish(paths.work_db, paths.published_db, record=paths.published_record)
    return home


@pytest.fixture(name="home")
def fault_home(small_home_template: Path, tmp_path: Path) -> Path:
    """A copy of the small home for one test (requested as ``home``)."""
    return Path(shutil.copytree(small_home_template, tmp_path / "home"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_state(home: Path) -> tuple[int, int]:
    con = duckdb.connect(str(Paths(home).work_db), read_only=True)
    try:
        return con.execute("SELECT (SELECT count(*) FROM raw.observations), (SELECT count(*) FROM raw.rejects)"
                           ).fetchone()
    finally:
        con.close()


def read_published(published: Path, sql: str) -> list[tuple]:
    """``sql`` on the published warehouse as `regiocode sql` opens it (read-only, bounded)."""
    con = open_readonly(published)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def query_work(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(Paths(home).work_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@contextmanager
def source_retries(enabled: bool) -> Iterator[None]:
    """Production retries a failed source step 3 times (5, 10, 20 s apart). A test of a permanent
    fault would wait 35 s for nothing, and in-process runs ignore the executor's retry switch, so
    the policy is lifted from the source ops for the duration of the run."""
    ops = [asset.op for asset in SOURCE_ASSETS.values()]
    saved = [op._retry_policy for op in ops]
    try:
        if not enabled:
            for op in ops:
                op._retry_policy = None
        yield
    finally:
        for op, policy in zip(ops, saved, strict=True):
            op._retry_policy = policy


def run_source(home: Path, source: str, *, downstream: bool = False, retries: bool = False, **config: str) -> dict:
    """Materialise one source asset (and the raw layer with its blocking checks, or everything
    downstream), in-process; return failures, started steps, check results and retries."""
    selection = (refresh_selection([source]) if downstream
                 else AssetSelection.assets(SOURCE_ASSETS[source], "raw_observations", "raw_rejects"))
    regiocode = RegiocodeResource(home=str(home), sources=["demo", source], **config)
    with DagsterInstance.ephemeral() as instance, source_retries(retries):
        result = materialize(ASSETS, selection=selection, raise_on_error=False, instance=instance,
                             resources={"dbt": dbt_resource(), "regiocode": regiocode})
        events = result.all_events
        return {
            "success": result.success,
            "failed": {e.step_key: error_chain(e.event_specific_data.error) for e in events
                       if e.event_type_value == "STEP_FAILURE"},
            "started": [e.step_key for e in events if e.event_type_value == "STEP_START"],
            "retried": [e.step_key for e in events if e.event_type_value == "STEP_UP_FOR_RETRY"],
            "checks": {e.event_specific_data.check_name: e.event_specific_data for e in events
                       if e.event_type_value == "ASSET_CHECK_EVALUATION"},
            "logs": "\n".join(entry.user_message for entry in instance.all_logs(result.run_id)),
        }


def write_grp_workbook(path: Path, rows: list[tuple[str, float | str, float | str]], unit: str = "рублей") -> Path:
    """A yearbook section with table 8.2. (GRP per capita, mapped as «рублей»), years 2021-2022."""
    book = openpyxl.Workbook()
    contents = book.active
    contents.title = "Раздел 8"
    title = "Валовой региональный продукт на душу населения"
    for line in ([TOP], ["  8. ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ"], ["8.2.", title]):
        contents.append(line)
    table = book.create_sheet("8.2.")
    for line in ([TOP], ["8. ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ"], ["8.2. Валовой региональный продукт на душу населения"],
                 [f" ({unit})"], [None, 2021, 2022], *[list(r) for r in rows]):
        table.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


GOOD_ROWS = [("Российская Федерация", 900000.0, 1000000.0), ("Свердловская область", 950000.0, 1050000.0),
             ("Пермский край", 800000.0, 880000.0)]
