"""The benchmark panel generator (sizes, aggregates, catalog) and the raw-layer fingerprint that lets an
unchanged refresh skip dbt."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.panel import (  # noqa: E402
    PanelSize,
    generate_observations,
    synthetic_catalog,
    synthetic_regions,
    write_project,
)
from dagster_project.assets.dbt_reuse import inputs_fingerprint, raw_layer_fingerprint  # noqa: E402
from dagster_project.sources.base import OBSERVATION_COLUMNS  # noqa: E402
from dagster_project.warehouse import ensure_raw_schema  # noqa: E402


def test_register_has_country_districts_of_25_and_subjects() -> None:
    regions = synthetic_regions(51)
    assert list(regions["level"].value_counts().sort_index().items()) == [
        ("country", 1), ("district", 3), ("subject", 51)]
    subjects = regions[regions["level"] == "subject"]
    assert subjects["parent_code"].value_counts().to_dict() == {"RU-BD-000": 25, "RU-BD-001": 25, "RU-BD-002": 1}
    assert (subjects["universe"] == "RU").all() and subjects["capital_region"].tolist().count("true") == 1


def test_catalog_keeps_context_then_takes_families_in_turn() -> None:
    small = synthetic_catalog(10)
    assert small["indicator_code"].tolist()[:4] == ["population", "employed", "area_km2", "grp_total"]
    assert small["family"].tolist()[4:] == ["production", "institutional", "social"] * 2
    big = synthetic_catalog(50)
    assert len(big) == 50 and big["indicator_code"].is_unique
    assert big["indicator_code"].str.startswith("bench_").sum() == 50 - 4 - 19  # 19 real coded indicators
    with pytest.raises(ValueError):
        synthetic_catalog(6)


def test_panel_rows_and_aggregates_are_consistent() -> None:
    size = PanelSize(regions=30, years=5, indicators=10)
    regions, catalog = synthetic_regions(size.regions), synthetic_catalog(size.indicators)
    panel = generate_observations(regions, catalog, size.year_list, seed=3)
    assert list(panel.columns) == list(OBSERVATION_COLUMNS)
    assert len(panel) == size.expected_rows() == (30 + 2 + 1) * 5 * 10
    assert panel["period"].min() == 2019 and panel["period"].max() == 2023
    pop = panel[panel["indicator_code"] == "population"].pivot(index="region_code", columns="period", values="value")
    subjects = [c for c in pop.index if c.startswith("RU-B0")]
    # the country's population is the sum of its subjects (rounded to 3 decimals per row)
    np.testing.assert_allclose(pop.loc["RU"], pop.loc[subjects].sum(), atol=0.001 * 31)
    rates = panel[panel["unit"] == "%"]["value"].dropna()
    assert ((rates > 0) & (rates < 100)).all()
    assert set(panel["flag"].dropna()) <= {"na", "p"}
    assert (panel.loc[panel["period"] < 2023, "flag"].dropna() == "na").all()


def test_project_copy_filters_seeds_and_can_make_intermediates_tables(tmp_path: Path) -> None:
    catalog = synthetic_catalog(10)
    dest = write_project(tmp_path, synthetic_regions(5), catalog, intermediate_tables=True)
    seeds = dest / "dbt" / "seeds"
    assert len(pd.read_csv(seeds / "regions.csv")) == 1 + 1 + 5
    pairs = pd.read_csv(seeds / "correlation_pairs.csv")
    assert set(pairs["y_indicator"]) <= set(catalog["indicator_code"])
    project = (dest / "dbt" / "dbt_project.yml").read_text()
    assert "+schema: intermediate\n      +materialized: table" in project
    assert "within_code: varchar" in project


def _raw(tmp_path: Path, values: list[float]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    con.register("frame", pd.DataFrame({"source": "demo", "region_code": ["A", "B", "C"][: len(values)],
                                        "value": values, "period": 2020}))
    con.execute("INSERT INTO raw.observations BY NAME SELECT * FROM frame")
    return con


def test_raw_fingerprint_ignores_row_order_and_receipt_time_and_sees_one_changed_value(tmp_path: Path) -> None:
    con = _raw(tmp_path, [1.0, 2.0, 3.0])
    first = raw_layer_fingerprint(con)
    assert first.startswith("raw.observations:3:") and first.endswith("raw.rejects:0:0")
    con.register("reordered", con.execute("SELECT * FROM raw.observations ORDER BY value DESC").df())
    con.execute("DELETE FROM raw.observations")
    con.execute("INSERT INTO raw.observations SELECT * FROM reordered")
    assert raw_layer_fingerprint(con) == first
    con.execute("UPDATE raw.observations SET retrieved_at = TIMESTAMP '2026-11-30 12:00:00'")  # received again
    assert raw_layer_fingerprint(con) == first
    con.execute("UPDATE raw.observations SET value = 2.0000001 WHERE region_code = 'B'")
    assert raw_layer_fingerprint(con) != first
    con.close()


def test_inputs_fingerprint_ignores_the_build_id_only(tmp_path: Path) -> None:
    _raw(tmp_path, [1.0]).close()
    db = tmp_path / "w.duckdb"
    base = {"build_id": "a", "data_label": "synthetic demo data", "active_sources": ["demo"]}
    same = inputs_fingerprint(db, base)
    assert inputs_fingerprint(db, {**base, "build_id": "b"}) == same
    assert inputs_fingerprint(db, {**base, "nid_lambda": 0.5}) != same
    assert inputs_fingerprint(db, {**base, "active_sources": ["rosstat"]}) != same
