"""End to end on Eurostat data: `regiocode refresh --source eurostat` in a subprocess (real Dagster,
dbt, DuckDB, Typst), once offline from a folder of files (`--path`), once online (`--base-url`)
against a stand-in dissemination API on 127.0.0.1, then online again with nothing new.

The folder holds the two real GDP TSVs of ``shared/data/eurostat`` (linked, not copied) and payloads
written by ``fixtures.eurostat_payloads`` in Eurostat's formats for every other dataset the mapping
seed names, for the register's EU NUTS-2 regions and their countries, 2008–2014. Payload values follow
a closed formula (``payload_value``); the cells checked by hand below say how they were computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fixtures.eurostat_payloads import (
    API_GDP_FILE,
    LEGACY_GDP_FILE,
    YEARS,
    Dataset,
    FakeEurostat,
    eu_geos,
    expected_observations,
    legacy_gdp_cube,
    payload_datasets,
    serve,
    write_payload_files,
)
from fixtures.refresh_runs import CliRun, keep_published, query, run_cli

from dagster_project.settings import OFFICIAL_LABEL

pytestmark = pytest.mark.e2e

EU_NUTS2 = ["BE32", "CZ08", "DEA1", "DEA5", "DEC0", "ES21", "FRE1", "FRF3", "PL22", "UKD3", "UKE4"]
TOC_REQUEST = "/eurostat/api/dissemination/catalogue/toc/txt?lang=en"
OBS_COLUMNS = "dataset, region_key, region_code, period, indicator_code, value, flag, release"
COMPARED_MARTS = ("observations", "defining_codes", "dynamic_codes", "basic_code", "code_contributions", "revisions")
RAW_FINGERPRINT = "SELECT count(*) AS n, sum(hash(o)) AS h FROM raw.observations AS o"


@dataclass(frozen=True)
class Refresh:
    home: Path
    published: Path
    run: CliRun


@dataclass(frozen=True)
class OnlineRefreshes:
    first: Refresh  # its published build kept aside (hard link)
    second: Refresh
    first_requests: list[str]
    second_requests: list[str]
    raw_after_first: pd.DataFrame
    raw_after_second: pd.DataFrame


@pytest.fixture(scope="module")
def eurostat_files(shared_data: Path) -> Path:
    folder = shared_data / "eurostat"
    if not (folder / LEGACY_GDP_FILE).exists():
        pytest.skip(f"the real Eurostat GDP files are not in {folder}")
    return folder


@pytest.fixture(scope="module")
def cubes() -> dict[str, Dataset]:
    return payload_datasets(eu_geos())


@pytest.fixture(scope="module")
def expected(cubes: dict[str, Dataset]) -> pd.DataFrame:
    return expected_observations(cubes)


@pytest.fixture(scope="module")
def offline(eurostat_files: Path, cubes: dict[str, Dataset], tmp_path_factory: pytest.TempPathFactory) -> Refresh:
    folder = tmp_path_factory.mktemp("eurostat_downloads")
    for name in (API_GDP_FILE, LEGACY_GDP_FILE):
        (folder / name).symlink_to(eurostat_files / name)
    write_payload_files(cubes, folder)
    home = tmp_path_factory.mktemp("eurostat_offline_home")
    run = run_cli(home, "refresh", "--source", "eurostat", "--path", str(folder))
    assert run.returncode == 0, run.tail()
    return Refresh(home, home / "warehouse" / "regiocode.duckdb", run)


@pytest.fixture(scope="module")
def online(
    eurostat_files: Path, cubes: dict[str, Dataset], tmp_path_factory: pytest.TempPathFactory
) -> OnlineRefreshes:
    api = FakeEurostat(datasets={**cubes, "nama_10r_2gdp": legacy_gdp_cube(eurostat_files / LEGACY_GDP_FILE)})
    home = tmp_path_factory.mktemp("eurostat_online_home")
    work_db = home / "work" / "regiocode.duckdb"
    with serve(api) as base_url:
        first = run_cli(home, "refresh", "--source", "eurostat", "--base-url", base_url)
        assert first.returncode == 0, first.tail()
        first_requests = list(api.requests)
        kept = keep_published(home, tmp_path_factory.mktemp("builds") / "eurostat_online_1.duckdb")
        raw_after_first = query(work_db, RAW_FINGERPRINT)
        api.requests.clear()
        second = run_cli(home, "refresh", "--source", "eurostat", "--base-url", base_url)
        assert second.returncode == 0, second.tail()
        second_requests = list(api.requests)
    return OnlineRefreshes(Refresh(home, kept, first), Refresh(home, home / "warehouse" / "regiocode.duckdb", second),
                           first_requests, second_requests, raw_after_first, query(work_db, RAW_FINGERPRINT))


def _payload_rows(published: Path, cubes: dict[str, Dataset]) -> pd.DataFrame:
    marks = ", ".join(f"'{c}'" for c in cubes)
    return query(published, f"SELECT {OBS_COLUMNS} FROM marts.observations WHERE dataset IN ({marks})")


def _assert_equal_to_payloads(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["dataset", "region_key", "period"]
    merged = expected.merge(got, on=key, how="outer", suffixes=("", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head().to_string()
    assert len(merged) == len(expected) == 15 * 18 * len(YEARS)
    assert (merged.indicator_code == merged.indicator_code_got).all()
    assert (merged.region_code == merged.region_key).all()  # register codes, as published
    same = (merged.value == merged.value_got) | (merged.value.isna() & merged.value_got.isna())
    assert same.all(), merged[~same].head().to_string()
    assert (merged.flag.fillna("") == merged.flag_got.fillna("")).all()


# ------------------------------------------------------------------ offline: files in a folder


def test_offline_payload_values_reach_the_marts(offline: Refresh, cubes: dict, expected: pd.DataFrame) -> None:
    _assert_equal_to_payloads(_payload_rows(offline.published, cubes), expected)


def test_offline_hand_checked_cells(offline: Refresh) -> None:
    """life expectancy, DEC0 (geo 7 of 18), 2014: 78 x (1 + 0.06 x 7/18) x (1 + 0.003 x 6) = 81.256 -> 81.3 (p);
    net migration, BE32 (1 of 18), 2008: 1 x (1 + 2 x 1/18) - 2 = -0.889 -> -0.9 per 1 000 -> -9 per 10 000;
    area, DEC0: 8000 x (1 + 0.8 x 7/18) = 10488.9 -> 10489 km2 -> 10.489 thousand km2 (scale 0.001)."""
    obs = query(offline.published, "SELECT region_code, indicator_code, period, value, flag, unit "
                                   "FROM marts.observations WHERE source = 'eurostat'")
    obs = obs.set_index(["region_code", "indicator_code", "period"])
    assert tuple(obs.loc[("DEC0", "life_expectancy", 2014)]) == (81.3, "p", "YR")
    assert obs.loc[("BE32", "migration_balance_per_10000", 2008)].value == -0.9
    cz = obs.loc[("CZ08", "rd_expenditure_share_grp", 2010)]
    assert math.isnan(cz.value) and cz.flag == "c"
    values = query(offline.published, "SELECT region_code, indicator_code, period, value "
                                      "FROM intermediate.int_indicator_values").set_index(
        ["region_code", "indicator_code", "period"]).value
    assert values["BE32", "migration_balance_per_10000", 2008] == pytest.approx(-9.0)
    assert values["DEC0", "area_km2", 2010] == pytest.approx(10.489)


def test_offline_real_gdp_files(offline: Refresh, eurostat_files: Path) -> None:
    """Legacy bulk TSV (NUTS 2013): FR30 is today's FRE1; `EUR_HAB,FR30 … 25700` for 2014, DEC0 32600
    for 2012, `MIO_EUR,DEC0` 33685 for 2014. API TSV of nama_10r_3gdp: `A,EUR_HAB,DEC0 … 39200 e` for
    2022, imported although the catalog does not map that dataset."""
    obs = query(offline.published, "SELECT dataset, table_code, region_key, region_code, indicator_code, period, "
                                   "value, flag, release FROM marts.observations "
                                   "WHERE dataset IN ('nama_10r_2gdp', 'nama_10r_3gdp')")
    legacy = obs[obs.dataset == "nama_10r_2gdp"].set_index(["region_key", "indicator_code", "period"])
    fr30 = legacy.loc[("FR30", "grp_per_capita", 2014)]
    assert (fr30.region_code, fr30.value) == ("FRE1", 25700.0)
    assert legacy.loc[("DEC0", "grp_per_capita", 2012)].value == 32600.0
    assert legacy.loc[("DEC0", "grp_total", 2014)].value == 33685.0
    assert legacy.loc[("FR41", "grp_per_capita", 2014)].region_code == "FRF3"
    # the retired bulk file says nothing of its release: its era orders it before every dated release
    assert set(legacy.release) == {f"release not stated (bulk download, before 2023-02): {LEGACY_GDP_FILE}"}
    mapped = legacy.reset_index()
    mapped = mapped[mapped.region_code.isin(EU_NUTS2) & mapped.indicator_code.notna()]
    assert set(mapped.region_code) == set(EU_NUTS2)
    nuts2 = legacy.reset_index().drop_duplicates("region_key")
    nuts2 = nuts2[nuts2.region_key.str.fullmatch(r"[A-Z]{2}[0-9A-Z]{2}")]
    assert nuts2.region_code.notna().sum() >= 250  # the whole NUTS-2 map of 2013 resolves (splits aside)
    current = obs[obs.dataset == "nama_10r_3gdp"]
    assert current.indicator_code.isna().all() and len(current) > 100_000
    dec = current[(current.region_key == "DEC0") & (current.period == 2022) & (current.table_code == "unit=EUR_HAB")]
    assert dec[["region_code", "value", "flag"]].values.tolist() == [["DEC0", 39200.0, "e"]]


def test_offline_eu_regions_get_codes_in_the_eu_universe(offline: Refresh) -> None:
    """Every payload region (the papers' eleven) gets all three defining codes for every payload year,
    normalised over the EU universe: no country has ten measured regions (the real GDP files cover every region,
    but GDP alone is a quarter of the production basket), so every region is compared over the pool. The EU
    basket (seed universe_indicator_weights: weight 0 where Eurostat publishes no NUTS 2 series) is production 4
    indicators (GDP, manufacturing GVA and GFCF
    per inhabitant, GERD share), institutional 2 (household internet and broadband access), social 7
    (all but consumer spending). The 2/3 rule still applies within the basket: CZ08's GERD of 2010 is
    confidential, so its production coverage is 3/4 and its code the mean of the other three."""
    regions = query(offline.published, "SELECT region_code, universe, measured FROM marts.regions "
                                       "WHERE level = 'nuts2'")
    assert len(regions) == 334 and set(regions.universe) == {"EU"}
    assert sorted(regions[regions.measured].region_code) == EU_NUTS2
    codes = query(offline.published, "SELECT * FROM marts.defining_codes")
    assert set(codes.dropna(subset=["production_code"]).region_code) == set(EU_NUTS2)
    codes = codes[codes.region_code.isin(EU_NUTS2)]
    assert set(codes.data_label) == {OFFICIAL_LABEL}
    window = codes[codes.year.between(YEARS[0], YEARS[-1])].set_index(["region_code", "year"])
    assert len(window) == len(EU_NUTS2) * len(YEARS)
    for family in ("production", "institutional", "social"):
        assert window[f"{family}_code"].notna().all() and window[f"{family}_code"].between(0, 1).all(), family
        assert window[f"{family}_null_reason"].isna().all() and window[f"{family}_null_reason_ru"].isna().all()
    assert window.production_coverage.drop(("CZ08", 2010)).eq(1.0).all()
    assert window.production_coverage["CZ08", 2010] == pytest.approx(3 / 4)
    assert window.institutional_coverage.eq(1.0).all() and window.social_coverage.eq(1.0).all()

    # The basket as the warehouse applied it: the Eurostat-mapped indicators with weight 1, no others.
    normalised = query(offline.published, "SELECT region_code, period AS year, indicator_code, family, weight, "
                                           "normalised_value FROM intermediate.int_indicator_values_normalised "
                                           "WHERE universe = 'EU'")
    basket = normalised[normalised.weight > 0].groupby("family").indicator_code.unique().map(sorted).to_dict()
    assert basket == {
        "production": ["fixed_investment_per_capita", "grp_per_capita", "manufacturing_shipments_per_capita",
                       "rd_expenditure_share_grp"],
        "institutional": ["broadband_subscriptions_per_100", "organisations_using_internet"],
        "social": ["employment_rate", "higher_education_share_employed", "life_expectancy",
                   "migration_balance_per_10000", "money_income_per_capita", "researchers", "students_per_10000"],
    }
    assert set(normalised.weight) == {1.0}  # no value of a weight-0 indicator comes from Eurostat
    # Each code is the plain mean (all weights 1) of its basket's normalised values that year.
    means = normalised.groupby(["region_code", "year", "family"]).normalised_value.agg(["mean", "size"])
    for family in ("production", "institutional", "social"):
        fam = means.xs(family, level="family").reindex(window.index)
        assert (fam["mean"] - window[f"{family}_code"]).abs().max() < 1e-12, family
    assert means.loc[("CZ08", 2010, "production"), "size"] == 3
    cz = normalised.query("region_code == 'CZ08' and year == 2010 and family == 'production'")
    assert "rd_expenditure_share_grp" not in set(cz.indicator_code)
    assert window.production_code["CZ08", 2010] == pytest.approx(cz.normalised_value.sum() / 3)
    contributions = query(offline.published, "SELECT region_code, year, family, indicator_code, weight, weight_share, "
                                              "contribution FROM marts.code_contributions")
    sizes = contributions.groupby(["region_code", "year", "family"]).indicator_code.transform("size")
    assert (contributions.weight_share - 1 / sizes).abs().max() < 1e-12  # equal shares: 1/4, 1/3, 1/2, 1/7

    # Outside the payload years only the real GDP files feed the build: 1 of the 4 production indicators.
    outside = codes[~codes.year.between(YEARS[0], YEARS[-1])]
    assert len(outside) > 0 and outside.production_code.isna().all()
    assert outside.production_null_reason.str.startswith("insufficient coverage: 1 of 4 indicators, 0.25").all()
    assert outside.production_null_reason_ru.str.startswith("недостаточное покрытие: 1 из 4 показателей").all()

    life = query(offline.published, "SELECT universe, min(normalised_value) AS lo, max(normalised_value) AS hi, "
                                    "count(DISTINCT region_code) AS regions FROM "
                                    "intermediate.int_indicator_values_normalised "
                                    "WHERE indicator_code = 'life_expectancy' GROUP BY universe")
    assert life.values.tolist() == [["EU", 0.0, 1.0, len(EU_NUTS2)]]


def test_offline_catalog_publishes_the_eu_weights(offline: Refresh) -> None:
    """marts.indicators says which catalog weights the EU universe overrides, and why (en + ru)."""
    catalog = query(offline.published, "SELECT indicator_code, weight, universe_weights, universe_weights_reason_en, "
                                       "universe_weights_reason_ru FROM marts.indicators").set_index("indicator_code")
    overridden = catalog[catalog.universe_weights.notna()]
    assert sorted(overridden.index) == sorted([
        "advanced_technologies_used", "innovative_goods_share", "innovation_activity",
        "budget_expenditure_per_capita", "budget_revenue_per_capita", "consumer_spending_per_capita",
        "urban_population_share"])
    assert set(overridden.universe_weights) == {"EU: 0.0"}
    assert overridden.universe_weights_reason_en.str.startswith("EU: no regional Eurostat series").all()
    assert overridden.universe_weights_reason_ru.str.startswith("EU: у Евростата нет региональных рядов").all()


def test_offline_briefings_for_the_eu_regions(offline: Refresh) -> None:
    assert f"{len(EU_NUTS2)} regions × 2 languages: {len(EU_NUTS2)} rendered" in offline.run.stdout
    (folder,) = (offline.home / "briefings").iterdir()
    assert sorted(p.stem for p in (folder / "en").glob("*.pdf")) == EU_NUTS2


# ------------------------------------------------------------------ online: the stand-in API


def test_online_pull_asks_each_dataset_once(online: OnlineRefreshes, cubes: dict) -> None:
    requests = online.first_requests
    assert requests.count(TOC_REQUEST) == 1
    data = [r for r in requests if "/sdmx/2.1/data/" in r]
    datasets = sorted(r.split("/sdmx/2.1/data/")[1].split("/")[0].split("?")[0] for r in data)
    assert datasets == sorted([*cubes, "nama_10r_2gdp"])  # one request each, no 413 splits here
    assert all("format=SDMX-CSV&compressed=true" in r for r in data)
    gdp = next(r for r in data if "/nama_10r_2gdp/" in r)
    assert "/nama_10r_2gdp/.EUR_HAB+MIO_EUR.?" in gdp  # only the mapped units, every geo


def test_online_values_equal_the_payloads(online: OnlineRefreshes, cubes: dict, expected: pd.DataFrame) -> None:
    got = _payload_rows(online.first.published, cubes)
    _assert_equal_to_payloads(got, expected)
    # The release is the table of contents' "last update of data" (10.03.2024 for the first cube).
    releases = got.groupby("dataset").release.unique()
    assert releases["demo_r_gind3"].tolist() == ["2024-03-10"]
    assert all(len(r) == 1 for r in releases)


def test_online_gdp_equals_the_real_file(online: OnlineRefreshes, offline: Refresh) -> None:
    sql = ("SELECT region_key, region_code, indicator_code, period, value FROM marts.observations "
           "WHERE dataset = 'nama_10r_2gdp' AND indicator_code IS NOT NULL AND value IS NOT NULL ORDER BY ALL")
    pulled, from_file = query(online.first.published, sql), query(offline.published, sql)
    assert len(pulled) > 10_000
    pd.testing.assert_frame_equal(pulled, from_file)


def test_online_second_refresh_fetches_no_data(online: OnlineRefreshes) -> None:
    assert online.second_requests == [TOC_REQUEST]  # the table of contents only: no data, no DSD
    state = (online.second.home / "state" / "eurostat.json").read_text()
    assert '"release": "2024-03-10"' in state


def test_online_second_refresh_leaves_the_warehouse_unchanged(online: OnlineRefreshes) -> None:
    pd.testing.assert_frame_equal(online.raw_after_first, online.raw_after_second)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{online.first.published}' AS before_ (READ_ONLY)")
        con.execute(f"ATTACH '{online.second.published}' AS after_ (READ_ONLY)")
        # Either nothing was republished (same build) or a new build holds the same rows.
        for mart in COMPARED_MARTS:
            cols = "* EXCLUDE (build_id, data_label)"
            rows = con.execute(f"SELECT count(*) FROM before_.marts.{mart}").fetchone()[0]
            diff = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM before_.marts.{mart} EXCEPT ALL "
                               f"SELECT {cols} FROM after_.marts.{mart})").fetchone()[0]
            back = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM after_.marts.{mart} EXCEPT ALL "
                               f"SELECT {cols} FROM before_.marts.{mart})").fetchone()[0]
            assert (diff, back) == (0, 0), mart
            # All three codes in the payload years, so NID too; no revision: empty.
            assert (rows > 0) == (mart != "revisions"), mart
    finally:
        con.close()
