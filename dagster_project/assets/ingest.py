"""Source assets: each pulls one source into ``raw.observations`` / ``raw.rejects`` of the working
warehouse, with provenance metadata, retries with backoff, and all DuckDB writers in one pool."""


import ctypes
import gc
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow
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

from dagster_project.coverage import coverage_report
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import SEEDS_DIR
from dagster_project.sources import eurostat, rosstat
from dagster_project.sources.base import OBSERVATION_COLUMNS, ImportBatch, SourceError, empty_frame
from dagster_project.sources.demo import demo_batch
from dagster_project.sources.rosstat_pull import pull_rosstat_urls
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


def _inbox_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith(("~$", ".")))


def _quarantine(path: Path, inbox: Path, reason: str) -> Path | None:
    """Move a file that could not be read out of the inbox, with the reason beside it; returns where
    it went (None for a file given by --path, which is not ours to move)."""
    if inbox not in path.parents:
        return None
    target = inbox / "quarantine"
    target.mkdir(exist_ok=True)
    dest = target / path.name
    if dest.exists():  # an earlier file of the same name stays: nothing quarantined is overwritten
        dest = target / f"{path.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S%f}{path.suffix}"
    path.replace(dest)
    dest.with_name(dest.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return dest


def _release_dates(batch: ImportBatch) -> ImportBatch:
    """An edition labelled by its year ("2023") is dated the end of that year, so editions order."""
    obs = batch.observations
    missing = obs["release_date"].isna() & obs["release"].astype(str).str.fullmatch(r"\d{4}")
    if missing.any():
        obs.loc[missing, "release_date"] = obs.loc[missing, "release"].map(lambda y: date(int(y), 12, 31))
    return batch


def import_files_one_by_one(
    files: list[Path], importer: Callable[[Path], ImportBatch], source: str, inbox: Path
) -> ImportBatch:
    """Import each file on its own: a broken file becomes a reject (and leaves the inbox for
    quarantine) while the others load; nothing already in the raw layer is touched by it."""
    batches, failures = [], []
    for path in files:
        try:
            batches.append(importer(path))
        except SourceError as err:
            moved = _quarantine(path, inbox, str(err))
            reason = f"file not imported: {err}" + (f"; moved to {moved}" if moved else "")
            failures.append({"source": source, "origin": str(path), "cell_ref": None, "raw_value": None,
                             "reason": reason, "retrieved_at": datetime.now(UTC)})
    observations = pd.concat([b.observations for b in batches], ignore_index=True) if batches else None
    rejects = pd.concat([b.rejects for b in batches] + [pd.DataFrame(failures)], ignore_index=True)
    notes = [n for b in batches for n in b.notes] + [f["reason"] for f in failures]
    if observations is None:
        observations = empty_frame(OBSERVATION_COLUMNS)
    return ImportBatch(source=source, observations=observations, rejects=rejects, notes=notes)


@asset(
    group_name="sources",
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    description="Rosstat's yearbook «Регионы России» (xlsx/xls): REGIOCODE_ROSSTAT_PATH, "
    "REGIOCODE_ROSSTAT_URLS and the inbox folder $REGIOCODE_HOME/inbox/rosstat/.",
)
def rosstat_source(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    inbox = paths.inbox / "rosstat"
    files = []
    if regiocode.rosstat_path:
        files += rosstat.expand_paths([Path(regiocode.rosstat_path)])
    urls = [u for u in os.environ.get("REGIOCODE_ROSSTAT_URLS", "").split() if u]
    if urls:
        files += pull_rosstat_urls(urls, paths.downloads / "rosstat", paths.state / "rosstat_pull.json")
    files += _inbox_files(inbox, rosstat.EXCEL_SUFFIXES)
    if not files:
        raise SourceError(
            "rosstat: no files to import. Pass --path (REGIOCODE_ROSSTAT_PATH), list URLs in REGIOCODE_ROSSTAT_URLS, "
            f"or drop yearbook files into {inbox}"
        )
    regions, mapping = rosstat.load_regions(), rosstat.load_mapping()
    batch = import_files_one_by_one(
        files, lambda p: rosstat.import_rosstat([p], regions, mapping), "rosstat", inbox)
    batch = _release_dates(batch)
    if batch.observations.empty:
        raise SourceError("rosstat: none of the files could be imported: " + "; ".join(batch.notes[-5:]))
    loaded = load_into_raw(regiocode, batch)
    context.log.info("rosstat: %s rows from %s files, %s rejects", loaded.observations, len(files), loaded.rejects)
    coverage = coverage_report(batch.observations, batch.rejects)
    return MaterializeResult(metadata={
        **batch_metadata(batch, loaded),
        "files": len(files),
        "coverage": MetadataValue.md(coverage.to_markdown(index=False)),
    })


@asset(
    group_name="sources",
    kinds={"python", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=SOURCE_RETRY,
    description="Eurostat regional statistics: pulled from the dissemination API (REGIOCODE_EUROSTAT_BASE_URL) "
    "and/or downloaded files (REGIOCODE_EUROSTAT_PATH, $REGIOCODE_HOME/inbox/eurostat/).",
)
def eurostat_source(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    inbox = paths.inbox / "eurostat"
    mapping, correspondence = _seed("indicator_sources_eurostat"), _seed("nuts_correspondence")
    regions = _seed("regions")
    batches: list[ImportBatch] = []
    if regiocode.eurostat_base_url:
        pulled, notes = eurostat.pull_eurostat(
            mapping, correspondence, regiocode.eurostat_base_url, paths.state / "eurostat.json",
            paths.downloads / "eurostat", regions=regions,
        )
        pulled.notes.extend(notes)
        batches.append(pulled)
    files = []
    if regiocode.eurostat_path:
        files.append(Path(regiocode.eurostat_path))
    if inbox.is_dir():
        files += [p for p in sorted(inbox.iterdir()) if p.is_file() and not p.name.startswith(".")]
    if files:
        batches.append(import_files_one_by_one(
            files, lambda p: eurostat.import_eurostat_files([p], mapping, correspondence, regions), "eurostat", inbox))
    if not batches:
        raise SourceError(
            "eurostat: nothing to import. Pass --path (REGIOCODE_EUROSTAT_PATH), --base-url "
            f"(REGIOCODE_EUROSTAT_BASE_URL), or drop files into {inbox}"
        )
    batch = ImportBatch(
        source="eurostat",
        observations=pd.concat([b.observations for b in batches], ignore_index=True),
        rejects=pd.concat([b.rejects for b in batches], ignore_index=True),
        notes=[n for b in batches for n in b.notes],
    )
    loaded = load_into_raw(regiocode, batch)
    context.log.info("eurostat: %s rows, %s rejects", loaded.observations, loaded.rejects)
    coverage = coverage_report(batch.observations, batch.rejects)
    return MaterializeResult(metadata={
        **batch_metadata(batch, loaded), "coverage": MetadataValue.md(coverage.to_markdown(index=False)),
    })


def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


SOURCE_ASSETS = {"demo": demo_source, "rosstat": rosstat_source, "eurostat": eurostat_source}


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
