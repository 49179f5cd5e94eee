"""Source assets: each pulls one source into ``raw.observations`` / ``raw.rejects`` of the working
warehouse, with provenance metadata, retries with backoff, and all DuckDB writers in one pool."""


from collections.abc import Iterator

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    multi_asset,
)

from dagster_project.resources import RegiocodeResource
from dagster_project.sources.base import ImportBatch
from dagster_project.sources.demo import demo_batch
from dagster_project.warehouse import LoadResult, ensure_raw_schema, load_batch

# One process may write a DuckDB file at a time: every writer asset runs in this pool
# (limit it to 1 in dagster.yaml: concurrency.pools.default_limit).
DUCKDB_POOL = "duckdb_writer"
SOURCE_RETRY = RetryPolicy(max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL)


def batch_metadata(batch: ImportBatch, loaded: LoadResult) -> dict[str, object]:
    """Metadata a person can use: how much, which territories and years, what was rejected."""
    obs = batch.observations
    years = pd.to_numeric(obs["period"], errors="coerce")
    meta: dict[str, object] = {
        "rows": loaded.observations,
        "rows_replaced": loaded.replaced,
        "rejects": loaded.rejects,
        "regions": int(obs["region_code"].nunique()),
        "unresolved_region_rows": int(obs["region_code"].isna().sum()),
        "indicators": int(obs["indicator_code"].nunique()),
        "years": f"{int(years.min())}–{int(years.max())}" if len(obs) else "none",
        "releases": ", ".join(sorted(map(str, obs["release"].dropna().unique()))) or "none",
    }
    if len(batch.rejects):
        meta["rejects_preview"] = MetadataValue.md(
            batch.rejects.head(10)[["origin", "cell_ref", "raw_value", "reason"]].to_markdown(index=False)
        )
    if batch.notes:
        meta["notes"] = MetadataValue.md("\n".join(f"- {n}" for n in batch.notes[:50]))
    return meta


def load_into_raw(regiocode: RegiocodeResource, batch: ImportBatch) -> LoadResult:
    with regiocode.work_connection() as con:
        return load_batch(con, batch)


@asset(
    group_name="sources",
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    description="The bundled demo source: a deterministic synthetic panel "
    "(synthetic demo data, not official statistics).",
)
def demo_source(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    batch = demo_batch()
    loaded = load_into_raw(regiocode, batch)
    context.log.info("demo source: %s rows (synthetic demo data)", loaded.observations)
    return MaterializeResult(metadata={**batch_metadata(batch, loaded), "data_label": "synthetic demo data"})


SOURCE_ASSETS = {"demo": demo_source}


@multi_asset(
    specs=[
        AssetSpec("raw_observations", group_name="raw", kinds={"duckdb"}, deps=list(SOURCE_ASSETS.values()),
                  description="raw.observations: every source's cells as received, with provenance."),
        AssetSpec("raw_rejects", group_name="raw", kinds={"duckdb"}, deps=list(SOURCE_ASSETS.values()),
                  description="raw.rejects: cells that could not be used, with the reason and location."),
    ],
    pool=DUCKDB_POOL,
)
def raw_layer(context: AssetExecutionContext, regiocode: RegiocodeResource) -> Iterator[MaterializeResult]:
    """Checks and summarises the raw layer for the active sources (the source assets write it)."""
    with regiocode.work_connection() as con:
        ensure_raw_schema(con)
        active = regiocode.sources
        marks = ", ".join("?" for _ in active)
        rows, regions, first, last = con.execute(
            f"SELECT count(*), count(DISTINCT region_code), min(period), max(period) "
            f"FROM raw.observations WHERE source IN ({marks})",
            active,
        ).fetchone()
        rejects = con.execute(f"SELECT count(*) FROM raw.rejects WHERE source IN ({marks})", active).fetchone()[0]
        per_source = con.execute(
            "SELECT source, count(*) AS rows, count(DISTINCT release) AS releases "
            "FROM raw.observations GROUP BY source ORDER BY source"
        ).df()
    if not rows:
        raise RuntimeError(
            f"raw.observations holds no rows for the active sources {active}: nothing to build. "
            "Check the source assets' logs (a failed import keeps the previous data, an empty one adds none)."
        )
    yield MaterializeResult(
        asset_key="raw_rejects",
        metadata={"rejects": int(rejects), "active_sources": ", ".join(active)},
    )
    yield MaterializeResult(
        asset_key="raw_observations",
        metadata={
            "active_sources": ", ".join(active),
            "rows": int(rows),
            "regions": int(regions),
            "years": f"{first}–{last}",
            "rejects": int(rejects),
            "by_source": MetadataValue.md(per_source.to_markdown(index=False)),
        }
    )
