"""End to end: Eurostat files as analysts keep them, two refreshes into one home (`regiocode refresh --source
eurostat --path FOLDER` in a subprocess: real Dagster, dbt, DuckDB).

1. The folder holds a fresh download (API TSV of regional GDP, 2024: NUTS 2021 codes, ``freq``), the data
   browser's CSV (SDMX-CSV 2.0 with labels) and the retired bulk TSV of household income (2017, no ``direct``).
2. An archived bulk TSV of the same GDP dataset (2017: NUTS 2013 codes, no ``freq``, other figures) is copied in
   later, and the files' dates are set the wrong way round (the archive the newest, the fresh file from 2017).

The fresh figures must stay the latest release, the older ones listed in ``marts.revisions``; GDP per inhabitant
and disposable income per inhabitant must reach the catalog indicators. The browser CSV and the income TSV are
the shared real files when ``shared/data/eurostat`` is present, else their copies in ``tests/fixtures/eurostat``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SHARED_DATA
from fixtures.refresh_runs import CliRun, query, run_cli

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eurostat"
FRESH_NAME = "estat_nama_10r_2gdp.tsv"
ARCHIVE_NAME = "nama_10r_2gdp.tsv"
FRESH_RELEASE = f"release not stated (API download, 2023-02 or later): {FRESH_NAME}"
ARCHIVE_RELEASE = f"release not stated (bulk download, before 2023-02): {ARCHIVE_NAME}"


@dataclass(frozen=True)
class Homes:
    home: Path
    published: Path
    first: CliRun
    second: CliRun


def _real_or_excerpt(shared: str, excerpt: str) -> Path:
    real = SHARED_DATA / "eurostat" / shared
    return real if real.is_file() else FIXTURES / excerpt


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Homes:
    folder = tmp_path_factory.mktemp("eurostat_files")
    fresh = folder / FRESH_NAME
    shutil.copy(FIXTURES / "estat_nama_10r_2gdp.api2024.excerpt.tsv", fresh)
    shutil.copy(_real_or_excerpt("browser_csv/estat_nama_10r_2gdp_en.csv", "estat_nama_10r_2gdp_en.csv"),
                folder / "estat_nama_10r_2gdp_en.csv")
    shutil.copy(_real_or_excerpt("legacy2017_trimmed/nama_10r_2hhinc.tsv", "nama_10r_2hhinc.bulk2017.excerpt.tsv"),
                folder / "nama_10r_2hhinc.tsv")
    home = tmp_path_factory.mktemp("eurostat_releases_home")
    first = run_cli(home, "refresh", "--source", "eurostat", "--path", str(folder))
    assert first.returncode == 0, first.tail()
    archive = folder / ARCHIVE_NAME
    shutil.copy(FIXTURES / "nama_10r_2gdp.bulk2017.excerpt.tsv", archive)
    os.utime(fresh, (1_500_000_000, 1_500_000_000))  # 14 July 2017
    os.utime(archive, (2_000_000_000, 2_000_000_000))  # 18 May 2033: the archive looks the newest
    second = run_cli(home, "refresh", "--source", "eurostat", "--path", str(folder))
    assert second.returncode == 0, second.tail()
    return Homes(home, home / "warehouse" / "regiocode.duckdb", first, second)


def test_the_catalog_indicators_from_the_browser_csv_and_the_legacy_income_file(refreshed: Homes) -> None:
    obs = query(refreshed.published, "SELECT dataset, table_code, region_key, region_code, indicator_code, period, "
                                     "value, flag, origin FROM marts.observations")
    browser = obs[obs.origin.str.endswith("estat_nama_10r_2gdp_en.csv")].set_index(["region_key", "period"])
    assert set(browser.indicator_code) == {"grp_per_capita"} and set(browser.table_code) == {"unit=EUR_HAB"}
    assert browser.loc[("BE32", 2019), ["value", "flag", "region_code"]].tolist() == [25800, "p", "BE32"]
    income = obs[obs.dataset == "nama_10r_2hhinc"]
    disposable = income[income.table_code == "na_item=B6N;unit=EUR_HAB"]
    assert set(disposable.indicator_code) == {"money_income_per_capita"} and len(disposable) > 50
    assert disposable.set_index(["region_code", "period"]).loc[("DEC0", 2013), "value"] == 19600
    assert income[income.table_code == "na_item=B5N;unit=EUR_HAB"].indicator_code.isna().all()
    values = query(refreshed.published, "SELECT region_code, indicator_code, period, value FROM "
                                        "intermediate.int_indicator_values").set_index(
        ["region_code", "indicator_code", "period"]).value
    assert values["DEC0", "money_income_per_capita", 2013] == 19600  # into the codes' input, scale 1
    report = run_cli(refreshed.home, "sources", "eurostat", "--report", "--format", "csv")
    assert report.returncode == 0, report.tail()
    lines = {line.split(",")[0]: line for line in report.stdout.splitlines()}
    assert lines["money_income_per_capita"].endswith(",covered") and lines["grp_per_capita"].endswith(",covered")


def test_the_fresh_figures_win_whatever_the_file_dates(refreshed: Homes) -> None:
    latest = query(refreshed.published, "SELECT region_key, region_code, period, value, release FROM "
                                        "marts.observations WHERE indicator_code = 'grp_per_capita' "
                                        "AND dataset = 'nama_10r_2gdp' AND period = 2014")
    by_geo = latest.set_index("region_key")
    assert by_geo.loc["DEC0", ["value", "release"]].tolist() == [33600, FRESH_RELEASE]  # 34000 in the archive
    assert by_geo.loc["BE32", ["value", "release"]].tolist() == [23000, FRESH_RELEASE]  # 23100 in the archive
    assert by_geo.loc["UKE4", ["value", "release"]].tolist() == [29100, ARCHIVE_RELEASE]  # only the archive has it
    values = query(refreshed.published, "SELECT region_code, period, value FROM intermediate.int_indicator_values "
                                        "WHERE indicator_code = 'grp_per_capita'").set_index(["region_code", "period"])
    assert values.loc[("FRE1", 2014), "value"] == 26200  # FR30 of NUTS 2013 is FRE1: 25700 in the archive
    assert values.loc[("FRE1", 2013), "value"] == 25800 and values.loc[("DEC0", 2012), "value"] == 32100


def test_the_revisions_are_listed(refreshed: Homes) -> None:
    revisions = query(refreshed.published, "SELECT region_code, indicator_code, period, old_value, new_value, "
                                           "old_release, new_release FROM marts.revisions "
                                           "WHERE indicator_code = 'grp_per_capita'")
    archived = revisions[revisions.old_release == ARCHIVE_RELEASE]
    by_cell = archived.set_index(["region_code", "period"])
    assert by_cell.loc[("DEC0", 2014)].tolist() == ["grp_per_capita", 34000, 33600, ARCHIVE_RELEASE, FRESH_RELEASE]
    assert by_cell.loc[("BE32", 2014), ["old_value", "new_value"]].tolist() == [23100, 23000]
    assert (archived.new_release == FRESH_RELEASE).all() and len(archived) > 20
    assert ("FR", 2013) not in by_cell.index  # the same figure in both releases (32100): not a revision
    # The browser CSV is another undated API-era download of the same dataset (2019-2021): the two are ordered by
    # file name only, and the import warns that their order is unknown; none of them is older than the archive.
    assert not (revisions.new_release == ARCHIVE_RELEASE).any()


def test_both_releases_are_kept_in_the_raw_layer(refreshed: Homes) -> None:
    raw = query(refreshed.home / "work" / "regiocode.duckdb",
                "SELECT release, count(*) AS n FROM raw.observations WHERE dataset = 'nama_10r_2gdp' GROUP BY 1")
    assert set(raw.release) >= {FRESH_RELEASE, ARCHIVE_RELEASE}
