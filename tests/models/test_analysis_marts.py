"""The analysis marts on the demo data: a real dbt build into a temporary DuckDB file, then checks of
the numbers against independent recomputations in Python (numpy/pandas on the same inputs).

It also shows *why* Moscow, St Petersburg and Moscow oblast get the strategy they get: their three
scores against the thresholds are printed (run with ``-s``) and the decision is asserted to follow
from them, whatever it is.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pandas as pd
import pytest
from fixtures.dbt_builds import dbt_build
from test_analysis_statistics import student_t_p_value

from dagster_project.sources.demo import demo_batch
from dagster_project.warehouse import load_batch

ANALYSIS_MARTS = ("code_correlations", "strategy", "peers", "instruments", "rank_intervals")
CAPITAL_TRIO = ("RU-MOW", "RU-SPE", "RU-MOS")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Demo data loaded and the analysis marts (with everything upstream and their tests) built by dbt."""
    tmp = tmp_path_factory.mktemp("analysis")
    db = tmp / "work.duckdb"
    con = duckdb.connect(str(db))
    load_batch(con, demo_batch())
    con.close()
    dbt_build(db, tmp, ["+mart_regions", *[f"+{m}" for m in ANALYSIS_MARTS]])
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_every_analysis_mart_is_built_with_build_columns(warehouse: duckdb.DuckDBPyConnection) -> None:
    for mart in ANALYSIS_MARTS:
        rows, labels = warehouse.execute(
            f"SELECT count(*), list(DISTINCT data_label) FROM marts.{mart}").fetchone()
        assert rows > 0, mart
        assert labels == ["synthetic demo data"], mart


def test_region_correlation_matches_numpy_and_the_t_distribution(warehouse: duckdb.DuckDBPyConnection) -> None:
    """GRP vs education for Sverdlovsk oblast, 2005-2016, recomputed from the comparable values."""
    values = _df(warehouse, """
        SELECT period, indicator_code, comparable_value FROM intermediate.int_indicator_values_comparable
        WHERE region_code = 'RU-SVE' AND period BETWEEN 2005 AND 2016
          AND indicator_code IN ('grp_per_capita', 'higher_education_share_employed')""")
    wide = values.pivot(index="period", columns="indicator_code", values="comparable_value").dropna()
    x, y = wide["higher_education_share_employed"].to_numpy(), wide["grp_per_capita"].to_numpy()
    r = float(np.corrcoef(x, y)[0, 1])
    slope, intercept = np.polyfit(x, y, 1)
    n = len(x)
    t = r * np.sqrt((n - 2) / (1 - r * r))
    row = warehouse.execute("""
        SELECT n, r, slope, intercept, r_squared, p_value, education_measure FROM marts.code_correlations
        WHERE pair_code = 'grp_vs_education' AND scope = 'region' AND group_code = 'RU-SVE' AND method = 'levels'
    """).fetchone()
    assert row[0] == n
    assert row[1] == pytest.approx(r, rel=1e-10)
    assert row[2] == pytest.approx(slope, rel=1e-9)
    assert row[3] == pytest.approx(intercept, rel=1e-9)
    assert row[4] == pytest.approx(r * r, rel=1e-10)
    assert row[5] == pytest.approx(student_t_p_value(t, n - 2), rel=1e-9)
    assert row[6] == "employed_with_higher_education"  # the demo source has the paper's measure


def test_pooled_and_change_rows_are_consistent(warehouse: duckdb.DuckDBPyConnection) -> None:
    """A country pool holds exactly the points of its regions; changes have one point fewer per unbroken run."""
    pooled, summed = warehouse.execute("""
        SELECT
            (SELECT n FROM marts.code_correlations WHERE pair_code = 'income_vs_education'
               AND scope = 'country_pooled' AND group_code = 'RU' AND method = 'levels'),
            (SELECT sum(n) FROM marts.code_correlations WHERE pair_code = 'income_vs_education'
               AND scope = 'region' AND method = 'levels' AND group_code LIKE 'RU-%')
    """).fetchone()
    assert pooled == summed > 900
    cross = warehouse.execute("""
        SELECT count(*), min(n), max(n) FROM marts.code_correlations
        WHERE pair_code = 'income_vs_education' AND scope = 'country_pooled' AND group_code = 'RU'
          AND method = 'cross_section'""").fetchone()
    assert cross[0] == 12 and 75 <= cross[1] <= cross[2] <= 85  # one row per year 2005-2016, up to 85 regions


def test_every_region_has_a_strategy_row_with_reasons(warehouse: duckdb.DuckDBPyConnection) -> None:
    latest = _df(warehouse, "SELECT * FROM marts.strategy WHERE is_latest_year")
    register = _df(warehouse, "SELECT region_code FROM intermediate.int_region_universes "
                              "WHERE universe IS NOT NULL AND measured")
    assert set(latest["region_code"]) == set(register["region_code"])  # 85 subjects + the papers' EU regions
    assert len(register) == 85 + 11
    assert latest["reasons_en"].str.len().min() > 100 and latest["reasons_ru"].str.len().min() > 100
    assert latest["sector_note_en"].str.contains("No sector data").all()


def test_market_score_is_the_within_country_percentile(warehouse: duckdb.DuckDBPyConnection) -> None:
    """Recompute the 2020 market score of every Russian region: percent rank of population x income."""
    inputs = _df(warehouse, """
        SELECT v.region_code,
               max(CASE WHEN indicator_code = 'population' THEN value END) AS population,
               max(CASE WHEN indicator_code = 'money_income_per_capita' THEN value END) AS income,
               max(CASE WHEN indicator_code = 'consumer_spending_per_capita' THEN value END) AS spending
        FROM intermediate.int_indicator_values_comparable AS v
        WHERE v.period = 2020 AND v.universe = 'RU' AND v.level = 'subject'
        GROUP BY v.region_code""")
    country = warehouse.execute("""
        SELECT max(CASE WHEN indicator_code = 'money_income_per_capita' THEN value END)
             / max(CASE WHEN indicator_code = 'consumer_spending_per_capita' THEN value END)
        FROM intermediate.int_indicator_values WHERE region_code = 'RU' AND period = 2020""").fetchone()[0]
    # a missing income is replaced by spending at the country's income / spending ratio
    capacity = inputs["population"] * inputs["income"].fillna(inputs["spending"] * country)
    expected = (capacity.rank(method="min") - 1) / (capacity.notna().sum() - 1)
    mart = _df(warehouse, "SELECT region_code, market_score FROM marts.strategy WHERE year = 2020 AND country = 'RU'")
    merged = inputs.assign(expected=expected).merge(mart, on="region_code")
    assert len(merged) == 85
    assert np.allclose(merged["market_score"], merged["expected"], rtol=0, atol=1e-12)


def test_capital_regions_strategy_follows_their_scores(warehouse: duckdb.DuckDBPyConnection) -> None:
    """Moscow, St Petersburg and Moscow oblast are diversification candidates only if all three scores say so."""
    rows = _df(warehouse, f"""
        SELECT region_code, year, market_score, market_threshold, location_score, location_threshold,
               significance_score, significance_threshold, decision, reasons_en
        FROM marts.strategy WHERE is_latest_year AND region_code IN {CAPITAL_TRIO}
        ORDER BY region_code""")
    assert len(rows) == 3
    for row in rows.itertuples():
        print(f"\n{row.region_code} {row.year}: market {row.market_score:.3f} (>= {row.market_threshold}), "
              f"location {row.location_score:.3f} (>= {row.location_threshold}), "
              f"significance {row.significance_score:.3f} (>= {row.significance_threshold}) -> {row.decision}")
        print(f"  {row.reasons_en}")
        all_met = (row.market_score >= row.market_threshold and row.location_score >= row.location_threshold
                   and row.significance_score >= row.significance_threshold)
        assert row.decision == ("comprehensive_diversification" if all_met else "smart_specialisation")


def test_rank_interval_contains_the_point_rank_and_draws_are_md5_reproducible(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    bad = warehouse.execute("""
        SELECT count(*) FROM marts.rank_intervals
        WHERE NOT (rank_low <= point_rank AND point_rank <= rank_high) OR draws <> 100""").fetchone()[0]
    assert bad == 0
    composite = warehouse.execute(
        "SELECT count(*) FROM marts.rank_intervals WHERE measure = 'composite' AND universe = 'RU'").fetchone()[0]
    assert composite > 1500
    # draw 1's normalisation from the MD5 of '<seed>/1/normalisation', recomputed in Python
    methods = ["minmax", "minmax_no_transform", "percentile", "zscore"]
    u = (int(hashlib.md5(b"20240901/1/normalisation").hexdigest()[:13], 16) + 0.5) / 2**52
    drawn = warehouse.execute(
        "SELECT DISTINCT normalisation FROM intermediate.int_analysis_rank_draws WHERE draw_id = 1").fetchall()
    assert drawn == [(methods[int(u * len(methods))],)]
    # Gamma(4)/4 weight draws have mean 1
    mean = warehouse.execute("SELECT avg(weight) FROM intermediate.int_analysis_rank_draws "
                             "WHERE item_type = 'indicator'").fetchone()[0]
    assert mean == pytest.approx(1.0, abs=0.05)


def test_nearest_domestic_peer_matches_a_python_recomputation(warehouse: duckdb.DuckDBPyConnection) -> None:
    profiles = _df(warehouse, "SELECT region_code, feature, weight, z FROM intermediate.int_analysis_peer_profiles "
                              "WHERE universe = 'RU' AND z IS NOT NULL")
    z = profiles.pivot(index="region_code", columns="feature", values="z")
    w = profiles.groupby("feature")["weight"].first().reindex(z.columns)
    region = "RU-SVE"
    assert not z.isna().any().any()  # every Russian region has every feature: all weights count
    distance = np.sqrt((((z.drop(index=region) - z.loc[region]) ** 2) * w).sum(axis=1) / w.sum())
    nearest = distance.rename("distance").reset_index().sort_values(["distance", "region_code"]).head(5)
    nearest = nearest.set_index("region_code")["distance"]
    mart = _df(warehouse, f"SELECT peer_code, distance FROM marts.peers WHERE region_code = '{region}' "
                          "AND peer_type = 'domestic' ORDER BY peer_rank")
    assert list(mart["peer_code"]) == list(nearest.index)
    assert np.allclose(mart["distance"], nearest.to_numpy(), rtol=1e-10)


def test_instruments_for_the_weakest_codes(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = _df(warehouse, "SELECT * FROM marts.instruments")
    # production has no survey section: said so in the row, never an invented instrument
    no_section = rows[rows["match_type"] == "no_survey_section"]
    assert set(no_section["weak_code"]) <= {"production", "innovation_code"}
    assert no_section["instrument_code"].isna().all() and no_section["note_en"].str.contains("no loaded survey").all()
    matched = rows[rows["match_type"].isin(["survey", "fallback_next_weakest"])]
    # the survey says where, when and whom it asked, and which paper reports it
    assert matched["survey_sample_en"].str.contains("208 respondents").all()
    assert (matched["survey_reference"] == "paper_code_model").all() and (matched["survey_period"] == "2011–2016").all()
    assert set(matched["survey_scope"]) <= {"population", "country", "abroad"}
    # abroad, the instruments of Russian national policy are left out
    abroad = matched[matched["survey_scope"] == "abroad"]
    assert len(abroad) > 0 and not abroad["instrument_code"].isin(
        ["import_substitution_subsidies", "patent_assistance", "economic_independence",
         "manufacturers_competitiveness"]).any()
    # the top instrument for a weak institutional family is the survey's most relevant one (66.3 %)
    institutional = matched[(matched["addressed_code"] == "institutional") & (matched["instrument_rank"] == 1)]
    assert (institutional["instrument_code"] == "preferential_lending").all() and len(institutional) > 0
    # every Russian region has a weakest family row
    ru = rows[rows["region_code"].str.startswith("RU-")]
    assert ru.loc[ru["target_type"] == "weakest_family", "region_code"].nunique() == 85
