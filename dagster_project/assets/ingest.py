"""Source assets: one per source of the registry (:mod:`dagster_project.sources.registry`), each importing
its source into ``raw.observations`` / ``raw.rejects`` of the working warehouse, with provenance metadata,
and all DuckDB writers in one pool; then the raw layer's summary.

What a source imports, and from where, is the source's business (its folder's ``import_source``); this
module only runs it, loads the batch and describes it, following the failure policy
(:mod:`dagster_project.failures`):

* a file that cannot be read is quarantined with its reason and the others load (``sources/inbox.py``);
  when every file failed, the step fails with "N files quarantined: <file>: <reason>; …" (their rejects
  are loaded first, so the raw layer records them);
* a source given nothing to read is *unchanged*: the step succeeds and the raw layer keeps what it holds;
* only a transient failure (timeout, lost connection, HTTP 429/5xx) is retried, with back-off
  (:data:`SOURCE_RETRY`); any other fails at once with a one-line message.
"""

import ctypes
import gc
from collections.abc import Iterator

import pandas as pd
import pyarrow
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Backoff,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
    multi_asset,
)

from dagster_project.coverage import coverage_report
from dagster_project.failures import is_transient, one_line
from dagster_project.resources import RegiocodeResource
from dagster_project.sources.base import ImportBatch
from dagster_project.sources.inbox import FileReport, NothingToImport, file_report, rejects_of
from dagster_project.sources.registry import SOURCES, Source
from dagster_project.warehouse import DUCKDB_POOL, LoadResult, ensure_raw_schema, load_batch

# For transient failures only: every other failure is raised as a Failure that bypasses it (permanent()).
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
    if batch.summary:  # what `regiocode refresh` prints after its table (the release read, warnings, skipped)
        meta["summary"] = MetadataValue.text("\n".join(batch.summary))
    return meta


def release_memory() -> None:
    """Return freed memory to the OS before dbt runs beside this process. After an import of millions of
    cells, Arrow's memory pool (mimalloc) and glibc keep the freed pages of the frames: measured at 3 M
    observations, 1.1 GB stayed resident through the whole dbt build; released, 0.2 GB."""
    gc.collect()
    pyarrow.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # no glibc
        pass


def load_into_raw(regiocode: RegiocodeResource, batch: ImportBatch) -> LoadResult:
    """Load ``batch`` into the working warehouse's raw layer (one transaction)."""
    with regiocode.work_connection() as con:
        return load_batch(con, batch)


def permanent(message: str) -> Failure:
    """A failure that trying again cannot mend: the one-line ``message``, and no retry."""
    return Failure(description=message, allow_retries=False)


def _rows_kept(regiocode: RegiocodeResource, source: str) -> int:
    with regiocode.work_connection() as con:
        ensure_raw_schema(con)
        return con.execute("SELECT count(*) FROM raw.observations WHERE source = ?", [source]).fetchone()[0]


def unchanged(regiocode: RegiocodeResource, source: Source, nothing: NothingToImport) -> dict[str, object]:
    """Metadata of a source that had nothing to import this time: its earlier rows stay (a scheduled run over a
    source with nothing new succeeds); a source that never had any says where its data could come from."""
    kept = _rows_kept(regiocode, source.name)
    summary = (f"unchanged: nothing new to import; the raw layer keeps its {kept} rows" if kept
               else f"nothing to import: give it {str(nothing).split('nothing to import. Give it ', 1)[-1]}")
    return {"status": "unchanged" if kept else "nothing to import", "outcome": summary, "rows": 0,
            "rows_kept": kept, "rejects": 0, "data_label": source.data_label}


def import_or_fail(source: Source, regiocode: RegiocodeResource, files: FileReport) -> ImportBatch | NothingToImport:
    """Run the source's importer under the failure policy: its batch, the :class:`NothingToImport` it raised, or
    a :class:`Failure` (every file quarantined; any other permanent error) — a transient error is re-raised
    as it is, for :data:`SOURCE_RETRY`."""
    try:
        batch = source.import_source(regiocode.source_run(source.name))
    except NothingToImport as nothing:
        return nothing
    except Exception as err:
        if files.all_failed:
            load_into_raw(regiocode, rejects_of(files.failed, source.name))
            raise permanent(f"{source.name}: {files.failures()}") from err
        if is_transient(err):
            raise
        message = one_line(err)
        raise permanent(message if message.startswith(f"{source.name}:") else f"{source.name}: {message}") from err
    if files.all_failed and batch.observations.empty:  # an importer that returned the rejects alone
        load_into_raw(regiocode, batch)
        raise permanent(f"{source.name}: {files.failures()}")
    return batch


def source_asset(source: Source) -> AssetsDefinition:
    """The asset ``<name>_source`` that imports ``source`` (as its registry entry says) into the raw layer."""

    @asset(
        name=source.asset_name,
        group_name="sources",
        kinds={"python", "duckdb"},
        pool=DUCKDB_POOL,
        retry_policy=SOURCE_RETRY,
        description=source.description,
    )
    def _import(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
        with file_report() as files:
            batch = import_or_fail(source, regiocode, files)
        if isinstance(batch, NothingToImport):
            metadata = unchanged(regiocode, source, batch)
            context.log.info("%s: %s", source.name, metadata["outcome"])
            return MaterializeResult(metadata=metadata)
        loaded = load_into_raw(regiocode, batch)
        summary = import_summary(loaded, batch, files)
        (context.log.warning if files.failed else context.log.info)("%s: %s (%s)", source.name, summary,
                                                                    source.data_label)
        metadata = {**batch_metadata(batch, loaded), "data_label": source.data_label, "status": "imported",
                    "outcome": summary}
        if files.failed:
            metadata["quarantined"] = files.failures()
        if files.links_skipped:
            metadata["links_not_followed"] = ", ".join(str(p) for p in files.links_skipped)
        if batch.files:
            metadata["files"] = len(batch.files)
        if not source.synthetic:
            coverage = coverage_report(batch.observations, batch.rejects)
            metadata["coverage"] = MetadataValue.md(coverage.to_markdown(index=False))
        return MaterializeResult(metadata=metadata)

    return _import


def import_summary(loaded: LoadResult, batch: ImportBatch, files: FileReport) -> str:
    """One line on what an import did: rows, files (how many read, how many unchanged since their last import),
    rejects, files quarantined, links not followed."""
    read = len(files.imported) - files.cached
    cached = f" ({read} read, {files.cached} unchanged since imported: not read again)" if files.cached else ""
    parts = [f"{loaded.observations} rows" + (f" from {len(files.imported)} files{cached}" if batch.files else ""),
             f"{loaded.rejects} rejects"]
    if files.failed:
        parts.append(files.failures())
    if files.links_skipped:
        parts.append(f"{len(files.links_skipped)} symbolic links in the inbox not followed: "
                     + ", ".join(p.name for p in files.links_skipped))
    return "; ".join(parts)


# One asset per source of the registry, by source name.
SOURCE_ASSETS: dict[str, AssetsDefinition] = {source.name: source_asset(source) for source in SOURCES}


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
    release_memory()  # the sources' frames are gone; give their memory back before dbt starts beside us
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
        raise permanent("nothing to build: the raw layer holds no rows of " + ", ".join(active) + ". "
                        + " ".join(f"{name}: give it {regiocode.source_run(name).feeds}." for name in active))
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
