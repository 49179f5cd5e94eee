"""Dagster asset keys are the SQL names users query: ``[schema, alias]`` for dbt models and seeds, the raw
assets for dbt's sources, and one ``<name>_source`` per source of the registry."""

from __future__ import annotations

from dagster import AssetKey


def test_asset_keys_are_the_sql_names() -> None:
    from dagster_project.definitions import defs

    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"marts/regions", "marts/indicators", "marts/defining_codes", "marts/observations", "seeds/regions",
            "staging/stg_raw__observations", "intermediate/int_indicator_values", "raw_observations",
            "raw_rejects", "published_warehouse", "briefings"} <= keys
    assert not {key for key in keys if "mart_" in key}
    assert {"demo_source", "rosstat_source", "eurostat_source", "csv_source"} <= keys
    deps = defs.resolve_assets_def(AssetKey(["staging", "stg_raw__observations"])).asset_deps
    assert AssetKey("raw_observations") in deps[AssetKey(["staging", "stg_raw__observations"])]
