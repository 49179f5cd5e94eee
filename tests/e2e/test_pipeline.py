"""End to end on the real stack: a Dagster materialisation of the whole graph into a temporary
REGIOCODE_HOME (real dbt, a real DuckDB file, real Typst PDFs), then checks on the numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dagster import materialize

from dagster_project.assets.dbt import dbt_resource
from dagster_project.assets.ingest import SOURCE_ASSETS
from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import DEMO_LABEL, Paths

pytestmark = pytest.mark.e2e
MARTS = ("defining_codes", "dynamic_codes", "basic_code", "code_contributions", "observations", "revisions",
         "regions", "indicators")


def _materialize(home: Path):
    return materialize(
        [*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
        selection=refresh_selection(["demo"]),
        resources={"dbt": dbt_resource(), "regiocode": RegiocodeResource(home=str(home), sources=["demo"])},
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    result = _materialize(home)
    failures = [e.message for e in result.all_events if e.is_failure]
    assert result.success, failures
    return home


@pytest.fixture(scope="module")
def published(demo_home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(Paths(demo_home).published_db), read_only=True)
    yield con
    con.close()


def test_published_warehouse_has_the_sql_surface_and_one_build(published: duckdb.DuckDBPyConnection) -> None:
    builds = set()
    for mart in MARTS:
        rows, ids = published.execute(f"SELECT count(*), list(DISTINCT build_id) FROM marts.{mart}").fetchone()
        assert rows > 0, mart
        builds.update(ids)
    assert len(builds) == 1  # every mart comes from the same refresh
    label = published.execute("SELECT DISTINCT data_label FROM marts.defining_codes").fetchall()
    assert label == [(DEMO_LABEL,)]


def test_codes_in_unit_interval_for_every_subject(published: duckdb.DuckDBPyConnection) -> None:
    codes = published.execute("SELECT * FROM marts.defining_codes").df()
    for col in ("production_code", "institutional_code", "social_code"):
        values = codes[col].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    subjects = published.execute("SELECT count(*) FROM marts.regions WHERE level = 'subject'").fetchone()[0]
    latest = codes[(codes["year"] == 2023) & codes["region_code"].str.match(r"RU-[A-Z]+$")]
    assert subjects == 85 and latest["region_code"].nunique() == 85
    complete = latest.dropna(subset=["production_code", "institutional_code", "social_code"])
    assert len(complete) >= 80  # a few subjects miss cells in the demo: their codes are null with a reason
    incomplete = latest[~latest.index.isin(complete.index)]
    reasons = incomplete[["production_null_reason", "institutional_null_reason", "social_null_reason"]]
    assert reasons.notna().any(axis=1).all()


def test_coverage_rule_nulls_carry_a_reason(published: duckdb.DuckDBPyConnection) -> None:
    codes = published.execute("SELECT * FROM marts.defining_codes").df()
    for family in ("production", "institutional", "social"):
        below = codes[codes[f"{family}_coverage"] < 2 / 3 - 1e-9]
        assert below[f"{family}_code"].isna().all()
        assert below[f"{family}_null_reason"].str.contains("insufficient coverage").all()
        above = codes[codes[f"{family}_coverage"] >= 2 / 3 - 1e-9]
        assert above[f"{family}_code"].notna().all()
    # The demo publishes no Internet/broadband figures before 2003: 2 of 4 institutional indicators.
    early = codes[(codes["year"] == 2001) & codes["region_code"].str.startswith("RU-")]
    assert early["institutional_code"].isna().all()
    assert (early["institutional_coverage"] <= 0.5).all() and (early["institutional_coverage"] == 0.5).mean() > 0.9


def test_dynamic_codes_are_differences_of_defining_codes(published: duckdb.DuckDBPyConnection) -> None:
    codes = published.execute("SELECT * FROM marts.defining_codes ORDER BY region_code, year").df()
    dyn = published.execute("SELECT * FROM marts.dynamic_codes").df().set_index(["region_code", "year"])
    checked = 0
    for family, dynamic in (("production", "innovation_code"), ("institutional", "information_code"),
                            ("social", "value_competence_code")):
        series = codes.dropna(subset=[f"{family}_code"])[["region_code", "year", f"{family}_code"]]
        series = series.assign(prev=series.groupby("region_code")[f"{family}_code"].shift(),
                               prev_year=series.groupby("region_code")["year"].shift()).dropna()
        expected = (series[f"{family}_code"] - series["prev"]) / (series["year"] - series["prev_year"])
        got = dyn.loc[list(zip(series["region_code"], series["year"], strict=True)), dynamic].to_numpy()
        np.testing.assert_allclose(got, expected.to_numpy(), atol=1e-12)
        checked += len(series)
    assert checked > 5000
    ids = dyn.dropna(subset=["id_code"])
    np.testing.assert_allclose(
        ids["id_code"], ids["innovation_code"] + ids["information_code"] + ids["value_competence_code"], atol=1e-12)


def test_nid_telescopes_with_lambda_one(published: duckdb.DuckDBPyConnection) -> None:
    codes = published.execute(
        "SELECT region_code, year, production_code + institutional_code + social_code AS s FROM marts.defining_codes "
        "WHERE region_code = 'RU-SVE' ORDER BY year").df().dropna()
    nid = published.execute("SELECT year, nid, first_id_year FROM marts.basic_code WHERE region_code = 'RU-SVE'").df()
    nid = nid.set_index("year")
    run = codes[codes["year"] >= nid["first_id_year"].min() - 1]
    consecutive = run["year"].diff().fillna(1).eq(1).cumprod().astype(bool)
    run = run[consecutive]
    t0 = run.iloc[0]
    assert len(run) > 10
    for row in run.iloc[1:].itertuples():
        assert nid.at[row.year, "nid"] == pytest.approx(row.s - t0.s, abs=1e-9)


def test_revision_supersedes_and_is_listed(published: duckdb.DuckDBPyConnection) -> None:
    revisions = published.execute("SELECT * FROM marts.revisions").df()
    assert set(revisions["indicator_code"]) == {"money_income_per_capita"}
    assert (revisions["old_release"] == "demo v1").all() and (revisions["new_release"] == "demo v2").all()
    row = revisions.iloc[0]
    latest = published.execute(
        "SELECT value, release FROM marts.observations WHERE source = 'demo' AND region_code = ? "
        "AND indicator_code = 'money_income_per_capita' AND period = ?", [row["region_code"], int(row["period"])]
    ).fetchone()
    assert latest == (pytest.approx(row["new_value"]), "demo v2")


def test_briefings_for_every_region_in_both_languages(demo_home: Path) -> None:
    builds = [p for p in (demo_home / "briefings" / ".builds").iterdir() if p.name != "regions"]
    assert len(builds) == 1  # one build's folder; briefings/latest and briefings/<date> link to it
    folder = (demo_home / "briefings" / "latest").resolve(strict=True)
    assert folder == builds[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    regions = {f["region"] for f in manifest["files"] if f["region"]}
    assert len(regions) == 85 + 11
    for lang in ("ru", "en"):
        pdf = (folder / lang / "RU-SVE.pdf").read_bytes()
        pages = re.search(rb"/Type\s*/Pages\s*/Count\s+(\d+)", pdf)
        assert pdf.startswith(b"%PDF") and pages and int(pages.group(1)) >= 1
        html = (folder / lang / "RU-SVE.html").read_text()
        assert ("Синтетические" if lang == "ru" else "Synthetic") in html
        assert (folder / lang / "index.html").exists()
    assert "Свердловская область" in (folder / "ru" / "RU-SVE.html").read_text()


def test_regiocode_sql_answers_and_refuses_writes(demo_home: Path) -> None:
    env = {**os.environ, "REGIOCODE_HOME": str(demo_home)}
    cli = [sys.executable, "-m", "dagster_project.cli"]
    ok = subprocess.run([*cli, "sql", "select count(*) AS n from marts.defining_codes", "--format", "json"],
                        capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["n"] > 2000
    for statement in ("insert into marts.regions select * from marts.regions", "drop table marts.regions",
                      "attach 'x.duckdb' as x"):
        refused = subprocess.run([*cli, "sql", statement], capture_output=True, text=True, env=env, timeout=60)
        assert refused.returncode == 3
        assert "not allowed" in refused.stderr
    bad = subprocess.run([*cli, "sql", "select * from marts.nope"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 1 and "Table with name nope does not exist" in bad.stderr


def test_unchanged_rerun_renders_no_briefing(demo_home: Path) -> None:
    def raw_rows() -> int:
        con = duckdb.connect(str(Paths(demo_home).work_db), read_only=True)
        try:
            return con.execute("SELECT count(*) FROM raw.observations").fetchone()[0]
        finally:
            con.close()

    before = raw_rows()
    result = _materialize(demo_home)
    assert result.success
    meta = {m.asset_key.to_user_string(): m.metadata
            for m in (ev.event_specific_data.materialization for ev in result.get_asset_materialization_events())}
    assert meta["briefings"]["rendered"].value == 0
    assert meta["briefings"]["unchanged"].value == 96
    assert raw_rows() == before  # the same input re-imported replaces, never duplicates


def test_the_first_build_in_a_home_reuses_the_start_up_parse(published: duckdb.DuckDBPyConnection,
                                                               demo_home: Path) -> None:
    """dbt re-parses the whole project when the vars or the profile differ from its last parse (~6-16 s on
    2 cores): a home's first build gets the start-up parse re-keyed to its profile (assets/dbt.py)."""
    build_id = published.execute("SELECT build_id FROM marts.build_info").fetchone()[0]
    logs = list(Paths(demo_home).dbt_builds.glob(f"regiocode_dbt_assets-{build_id[:7]}-*/dbt.log"))
    assert len(logs) == 1, logs
    text = logs[0].read_text(errors="replace")
    assert "Unable to do partial parsing" not in text
