"""The demo source: deterministic, complete, plausible, labelled, with gaps, flags and a revision."""

from __future__ import annotations

import pandas as pd
import pytest

from dagster_project.settings import SEEDS_DIR
from dagster_project.sources.demo import REVISED_INDICATOR, demo_batch, load_register


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return demo_batch().observations


def test_deterministic(demo: pd.DataFrame) -> None:
    again = demo_batch().observations
    pd.testing.assert_frame_equal(demo.reset_index(drop=True), again.reset_index(drop=True))


def test_covers_the_register_and_the_catalog(demo: pd.DataFrame) -> None:
    register = load_register()
    subjects = set(register.regions.loc[register.regions["level"] == "subject", "region_code"])
    assert len(subjects) == 85
    assert subjects <= set(demo["region_code"])
    districts = set(register.regions.loc[register.regions["level"] == "district", "region_code"])
    assert len(districts) == 8 and districts <= set(demo["region_code"])
    assert {"RU", "DEC0", "FRE1", "UKE4"} <= set(demo["region_code"])
    # Components (numerators of derived indicators) are only needed where a source lacks the indicator itself;
    # the transport densities (context of real data's location score, weight 0) are not drawn: the demo's marts
    # stay as they were.
    components = set(pd.read_csv(SEEDS_DIR / "derived_indicators.csv")["numerator_code"])
    not_drawn = components | {"road_density", "rail_density"}
    assert set(register.indicators["indicator_code"]) - not_drawn == set(demo["indicator_code"])
    assert (demo["period"].min(), demo["period"].max()) == (2000, 2023)


def test_crimea_and_sevastopol_only_from_2014(demo: pd.DataFrame) -> None:
    for code in ("RU-CR", "RU-SEV"):
        assert demo.loc[demo["region_code"] == code, "period"].min() == 2014


def test_missing_cells_flags_and_one_revision(demo: pd.DataFrame) -> None:
    assert demo["value"].isna().sum() > 0
    assert (demo.loc[demo["value"].isna(), "flag"].isin(["na", "c"])).all()
    assert (demo["flag"] == "c").any()
    revised = demo[demo["release"] == "demo v2"]
    assert set(revised["indicator_code"]) == {REVISED_INDICATOR}
    assert set(demo["release"]) == {"demo v1", "demo v2"}


def test_federal_total_is_the_sum_of_top_level_subjects(demo: pd.DataFrame) -> None:
    """Autonomous okrugs lie within their oblast: the total must not count them twice."""
    register = load_register().regions.set_index("region_code")
    pop = demo[(demo["indicator_code"] == "population") & (demo["period"] == 2020)].set_index("region_code")["value"]
    top_level = [c for c in register.index
                 if register.at[c, "level"] == "subject" and not register.at[c, "within_code"] and c in pop.index]
    assert pop["RU"] == pytest.approx(pop[top_level].sum(), abs=0.001 * len(top_level))  # values rounded to 0.001
    nested = [c for c in register.index if register.at[c, "within_code"] and register.at[c, "level"] == "subject"]
    assert nested, "the register lists autonomous okrugs within their oblast"
    assert pop["RU"] < pop[top_level].sum() + pop[nested].sum()


def test_plausible_magnitudes(demo: pd.DataFrame) -> None:
    ru = demo[demo["region_code"] == "RU"].set_index(["indicator_code", "period"])["value"]
    assert 130_000 < ru[("population", 2023)] < 160_000  # thousand persons
    assert 500_000 < ru[("grp_per_capita", 2023)] < 1_500_000  # roubles
    assert 60 < ru[("life_expectancy", 2023)] < 80
    assert ru[("grp_per_capita", 2023)] > 5 * ru[("grp_per_capita", 2000)]


def test_eu_regions_are_the_papers_in_their_seed_order(demo: pd.DataFrame) -> None:
    """The register holds every NUTS-2 region; the demo invents data for the papers' comparison regions only, in
    the seed's order (so the panel does not change when the register grows), and none for the UK after 2020."""
    paper = pd.read_csv(SEEDS_DIR / "paper_regions.csv", dtype=str).region_code.tolist()
    regions = load_register().regions
    nuts2 = regions.loc[regions["level"] == "nuts2", "region_code"].tolist()
    assert nuts2 == paper and len(paper) == 11
    full = pd.read_csv(SEEDS_DIR / "regions.csv", dtype=str, keep_default_na=False)
    assert (full["level"] == "nuts2").sum() == 334
    drawn = set(demo["region_code"]) & set(full.loc[full["level"] == "nuts2", "region_code"])
    assert drawn == set(paper)
    uk = demo[demo["region_code"].isin(["UKE4", "UKD3", "UK"])]
    assert uk["period"].max() == 2020 and demo.loc[demo["region_code"] == "DEC0", "period"].max() == 2023
