"""Comparison universes on a register with a whole country: the demo's generator drawn for Russia's subjects,
every German NUTS-2 region (38) and the papers' other regions, then dbt up to the codes, ranks and peers.

Germany has ten or more measured regions, so its regions are compared among themselves; the papers' regions of
smaller countries over the pool EU; the Russian subjects over RU. Every region of a pool is measured on the
pool's basket, and foreign analogues are chosen among every universe's regions.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from fixtures.dbt_builds import dbt_build

from dagster_project.seeds import read_seed
from dagster_project.sources.base import ImportBatch
from dagster_project.sources.demo.panel import demo_regions, generate_panel
from dagster_project.warehouse import load_batch


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("universes")
    regions = read_seed("regions")
    germany = regions[(regions.country == "DE") & (regions.level == "nuts2")][["region_code"]]
    chosen = pd.concat([read_seed("paper_regions")[["region_code"]], germany]).drop_duplicates()
    panel = generate_panel(demo_regions(regions, chosen), read_seed("indicators"), list(range(2015, 2024)), seed=7)
    panel["retrieved_at"] = pd.Timestamp("2024-09-01")
    panel["origin"] = "test://universes"
    db = tmp / "work.duckdb"
    con = duckdb.connect(str(db))
    load_batch(con, ImportBatch(source="demo", observations=panel))
    con.close()
    dbt_build(db, tmp, ["+mart_regions", "+peers", "+rank_intervals"], extra=("--exclude", "resource_type:unit_test"))
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_a_country_with_enough_regions_is_its_own_universe(warehouse) -> None:
    regions = _df(warehouse, "SELECT region_code, country, universe, register_universe, country_regions, measured "
                             "FROM marts.regions WHERE universe IS NOT NULL AND measured").set_index("region_code")
    assert set(regions.loc[regions.country == "DE", "universe"]) == {"DE"}
    assert set(regions.loc[regions.country == "DE", "country_regions"]) == {38}
    assert set(regions.loc[regions.country.isin(["FR", "UK", "BE", "PL", "CZ", "ES"]), "universe"]) == {"EU"}
    assert set(regions.loc[regions.country == "RU", "universe"]) == {"RU"}
    assert set(regions.loc[regions.country != "RU", "register_universe"]) == {"EU"}


def test_normalised_within_each_universe_on_the_pools_basket(warehouse) -> None:
    bounds = _df(warehouse, "SELECT universe, indicator_code, min(normalised_value) AS lo, "
                            "max(normalised_value) AS hi, count(DISTINCT region_code) AS regions, "
                            "max(weight) AS weight "
                            "FROM intermediate.int_indicator_values_normalised GROUP BY ALL")
    life = bounds[bounds.indicator_code == "life_expectancy"].set_index("universe")
    assert life.loc["DE", ["lo", "hi", "regions"]].tolist() == [0.0, 1.0, 38]
    assert life.loc["EU", ["lo", "hi", "regions"]].tolist() == [0.0, 1.0, 8]  # the papers' regions outside Germany
    weights = bounds.set_index(["universe", "indicator_code"]).weight
    for universe in ("DE", "EU"):  # the EU basket: no regional Eurostat series of these
        assert weights[universe, "innovation_activity"] == 0 and weights[universe, "grp_per_capita"] == 1
    assert weights["RU", "innovation_activity"] == 1


def test_ranks_within_the_universe(warehouse) -> None:
    ranks = _df(warehouse, "SELECT universe, max(n_regions) AS n FROM marts.rank_intervals "
                           "WHERE measure = 'composite' GROUP BY universe").set_index("universe").n
    assert ranks.to_dict() == {"DE": 38, "EU": 8, "RU": 85}


def test_foreign_analogues_among_every_universe(warehouse) -> None:
    peers = _df(warehouse, "SELECT region_code, peer_code, peer_type, universe, peer_universe FROM marts.peers")
    ural = peers[(peers.region_code == "RU-SVE") & (peers.peer_type == "foreign_analogue")]
    assert len(ural) == 5 and set(ural.peer_universe) <= {"DE", "EU"}
    analogues = set(peers.loc[(peers.peer_type == "foreign_analogue") & peers.region_code.str.startswith("RU-"),
                              "peer_universe"])
    assert analogues == {"DE", "EU"}  # Russian subjects find analogues in Germany and in the pool
    domestic = peers[(peers.region_code == "DEC0") & (peers.peer_type == "domestic")]
    assert set(domestic.peer_universe) == {"DE"} and len(domestic) == 5
