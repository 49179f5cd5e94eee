"""One series across Eurostat's releases, and the order of releases from content.

The archive and the fresh download are the excerpts in ``tests/fixtures/eurostat/`` (real lines of the retired
bulk TSV of 2017, NUTS 2013, no ``freq``; and of the API TSV of 2024, NUTS 2021): the same series must have one
key in both, the NUTS 2013 code must resolve to today's region, and the fresh figures must win whatever the
files' modification times say.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sources.test_eurostat_import import _cell

from dagster_project.coverage import coverage_report
from dagster_project.seeds import read_seed
from dagster_project.sources.base import SourceRun
from dagster_project.sources.eurostat import import_eurostat_files, import_source
from dagster_project.sources.eurostat.parsed import API_ERA_START
from dagster_project.sources.eurostat.rules import DIMENSION_DEFAULTS, series_key
from dagster_project.warehouse import load_batch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eurostat"
ARCHIVE = FIXTURES / "nama_10r_2gdp.bulk2017.excerpt.tsv"
FRESH = FIXTURES / "estat_nama_10r_2gdp.api2024.excerpt.tsv"
HHINC = FIXTURES / "nama_10r_2hhinc.bulk2017.excerpt.tsv"
# The latest release of each catalog indicator, region and year: the order int_indicator_values applies.
LATEST = """
    SELECT indicator_code, region_code, period, value, release FROM raw.observations
    WHERE indicator_code IS NOT NULL AND region_code IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY indicator_code, region_code, period
                               ORDER BY release_date DESC NULLS LAST, retrieved_at DESC NULLS LAST) = 1"""


@pytest.fixture(scope="module")
def seeds() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return read_seed("indicator_sources_eurostat"), read_seed("nuts_correspondence"), read_seed("regions")


def test_series_key_is_the_catalog_spelling_without_defaults():
    assert DIMENSION_DEFAULTS == {"freq": "A", "direct": "BAL"}
    assert series_key({"freq": "A", "unit": "EUR_HAB"}) == series_key({"unit": "EUR_HAB"}) == "unit=EUR_HAB"
    assert series_key({"unit": "EUR_HAB", "na_item": "B6N", "direct": "BAL", "freq": "A"}) == "na_item=B6N;unit=EUR_HAB"
    assert series_key({"direct": "PAID", "na_item": "B6N"}) == "direct=PAID;na_item=B6N"
    assert series_key({"freq": "Q", "unit": "X"}) == "freq=Q;unit=X" and series_key({}) == "freq=A"


def test_one_series_across_releases(seeds):
    obs = import_eurostat_files([ARCHIVE, FRESH], *seeds).observations
    old, new = obs[obs.origin == str(ARCHIVE)], obs[obs.origin == str(FRESH)]
    for column in ("dataset", "table_code", "indicator_key", "indicator_code"):
        assert set(old[column]) & set(new[column]), column
    archived = _cell(old, region_key="FR30", period=2014, table_code="unit=EUR_HAB")
    fresh = _cell(new, region_key="FRE1", period=2014, table_code="unit=EUR_HAB")
    same = ["dataset", "table_code", "region_code", "indicator_key", "indicator_code", "period"]
    assert archived[same].tolist() == fresh[same].tolist() == [
        "nama_10r_2gdp", "unit=EUR_HAB", "FRE1", "nama_10r_2gdp/unit=EUR_HAB", "grp_per_capita", 2014]
    assert (archived.value, fresh.value) == (25700, 26200)
    assert archived.release == "release not stated (bulk download, before 2023-02): nama_10r_2gdp.bulk2017.excerpt.tsv"
    assert pd.isna(archived.release_date) and fresh.release_date == API_ERA_START
    assert fresh.release.startswith("release not stated (API download, 2023-02 or later)")


def test_a_rule_applies_to_every_release_of_its_dataset(tmp_path, seeds, caplog):
    """The catalog filters disposable income on direct=BAL, a dimension the 2017 release did not have."""
    batch = import_eurostat_files([HHINC], *seeds)
    income = batch.observations[batch.observations.indicator_code == "money_income_per_capita"]
    assert set(income.table_code) == {"na_item=B6N;unit=EUR_HAB"} and len(income) > 0
    assert _cell(income, region_key="DEC0", period=2013).value == 19600.0  # `EUR_HAB,B6N,DEC0 … 19600.00`
    assert set(batch.observations[batch.observations.table_code == "na_item=B5N;unit=EUR_HAB"].indicator_code
               .isna()) == {True}
    assert any("no dimension direct" in n and "direct=BAL (the documented default)" in n for n in batch.notes)
    assert batch.rejects.empty
    report = coverage_report(batch.observations, batch.rejects).set_index("indicator_code")
    assert report.loc["money_income_per_capita", "status"] == "covered"
    # Today's API release of the same series: direct=BAL is the same series, direct=PAID another.
    api = tmp_path / "estat_nama_10r_2hhinc.tsv"
    api.write_text("freq,unit,direct,na_item,geo\\TIME_PERIOD\t2013 \n"
                   "A,EUR_HAB,BAL,B6N,DEC0\t21500 \nA,EUR_HAB,PAID,B6N,DEC0\t9000 \n", encoding="utf-8")
    obs = import_eurostat_files([api], *seeds).observations.set_index("table_code")
    assert obs.loc["na_item=B6N;unit=EUR_HAB", "indicator_code"] == "money_income_per_capita"
    assert pd.isna(obs.loc["direct=PAID;na_item=B6N;unit=EUR_HAB", "indicator_code"])


def test_a_rule_that_cannot_apply_is_said_and_reported(tmp_path, seeds, caplog):
    path = tmp_path / "rd_e_gerdreg.tsv"  # a release without the sectperf dimension the catalog filters on
    path.write_text("freq,unit,geo\\TIME_PERIOD\t2020 \nA,PC_GDP,DEC0\t1.61 \n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="dagster_project.sources.eurostat"):
        batch = import_eurostat_files([path], *seeds)
    (reject,) = batch.rejects.itertuples()
    assert reject.reason.startswith("mapping of rd_expenditure_share_grp (sectperf=TOTAL;unit=PC_GDP) cannot apply to "
                                    "this file: it has no dimension sectperf, which has no documented default")
    assert reject.table_code == "sectperf=TOTAL;unit=PC_GDP" and reject.origin == str(path)
    assert any("cannot apply" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
    assert batch.observations.indicator_code.isna().all() and len(batch.observations) == 1
    report = coverage_report(batch.observations, batch.rejects).set_index("indicator_code")
    assert report.loc["rd_expenditure_share_grp", "status"].startswith("mapping cannot apply")
    assert report.loc["grp_per_capita", "status"] == "not in this source"
    # When another rule of the same indicator applies to the file, the one that cannot is no news.
    mapping = pd.concat([seeds[0], pd.DataFrame([{"indicator_code": "rd_expenditure_share_grp",
                                                  "dataset": "rd_e_gerdreg", "filters": "unit=PC_GDP",
                                                  "unit_as_published": "PC_GDP", "scale": "1", "note": ""}])])
    other = import_eurostat_files([path], mapping, *seeds[1:])
    assert other.rejects.empty and set(other.observations.indicator_code) == {"rd_expenditure_share_grp"}


def test_release_from_sidecar_content_or_era_never_mtime(tmp_path, seeds):
    sdmx = tmp_path / "a.csv"
    sdmx.write_text("DATAFLOW,LAST UPDATE,freq,unit,geo,TIME_PERIOD,OBS_VALUE\n"
                    "ESTAT:NAMA_10R_2GDP(1.0),12/03/25 23:00:00,A,EUR_HAB,DEC0,2021,37900\n", encoding="utf-8")
    stated = tmp_path / "nama_10r_2gdp.tsv"
    shutil.copy(FRESH, stated)
    (tmp_path / "nama_10r_2gdp.tsv.meta.json").write_text(json.dumps({"release": "2024-04-25"}))
    archive = tmp_path / "old.tsv"
    shutil.copy(ARCHIVE, archive)
    os.utime(archive, (2_000_000_000, 2_000_000_000))  # 2033: the archive looks like the newest file
    os.utime(sdmx, (0, 0))
    before = datetime.now()
    obs = import_eurostat_files([sdmx, stated, archive], *seeds).observations
    dates = obs.groupby("origin").release_date.unique().map(list).to_dict()
    assert dates[str(sdmx)] == [date(2025, 3, 12)]  # the data's own LAST UPDATE
    assert dates[str(stated)] == [date(2024, 4, 25)]  # the sidecar written at download
    assert pd.isna(dates[str(archive)][0])  # the bulk era predates every dated release
    assert obs.retrieved_at.min() >= pd.Timestamp(before) - pd.Timedelta(seconds=1)  # the import's time, not mtime
    assert obs.retrieved_at.nunique() == 1


@pytest.mark.parametrize("fresh_has_sidecar", [True, False])
def test_archive_copied_later_does_not_win(tmp_path, seeds, fresh_has_sidecar):
    """A fresh download imported first, then an archive copied in later with a newer file date: per observation
    the fresh figure stays the latest release; both releases are kept in the raw layer."""
    folder = tmp_path / "eurostat"
    folder.mkdir()
    fresh = folder / "estat_nama_10r_2gdp.tsv"
    shutil.copy(FRESH, fresh)
    if fresh_has_sidecar:
        (folder / (fresh.name + ".meta.json")).write_text(json.dumps(
            {"dataset": "nama_10r_2gdp", "release": "2024-04-25", "retrieved_at": "2024-05-02T08:00:00"}))
    con = duckdb.connect()
    run = SourceRun(source="eurostat", settings={"path": str(folder)}, inbox=tmp_path / "inbox",
                    downloads=tmp_path / "dl", state=tmp_path / "state")
    load_batch(con, import_source(run))
    archive = folder / "nama_10r_2gdp.tsv"
    shutil.copy(ARCHIVE, archive)
    os.utime(fresh, (1_500_000_000, 1_500_000_000))  # 2017
    os.utime(archive, (2_000_000_000, 2_000_000_000))  # 2033
    load_batch(con, import_source(run))
    latest = con.execute(LATEST).df().set_index(["indicator_code", "region_code", "period"])
    assert latest.loc[("grp_per_capita", "DEC0", 2014), "value"] == 33600  # 34000 in the 2017 archive
    assert latest.loc[("grp_per_capita", "FRE1", 2014), "value"] == 26200  # FR30: 25700 in the archive
    assert latest.loc[("grp_per_capita", "BE32", 2014), "value"] == 23000  # 23100 in the archive
    assert latest.loc[("grp_per_capita", "UKE4", 2014), "value"] == 29100  # only the archive has the UK
    fresh_releases = set(latest.xs("DEC0", level="region_code").release)
    assert fresh_releases == ({"2024-04-25"} if fresh_has_sidecar else
                              {f"release not stated (API download, 2023-02 or later): {fresh.name}"})
    kept = con.execute("SELECT count(DISTINCT release) FROM raw.observations WHERE region_code = 'DEC0' "
                       "AND indicator_code = 'grp_per_capita' AND period = 2014").fetchone()[0]
    assert kept == 2


def test_undated_files_of_one_dataset_are_named(tmp_path, seeds):
    names = ("nama_10r_2gdp.copy1.tsv", "nama_10r_2gdp.copy2.tsv")
    for name in names:
        shutil.copy(ARCHIVE, tmp_path / name)
    batch = import_eurostat_files([tmp_path / name for name in names], *seeds)
    assert len(set(batch.observations.release)) == 2  # two undated files never share a release label
    assert any("nama_10r_2gdp: 2 files hold this dataset" in n for n in batch.notes)
