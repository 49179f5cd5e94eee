"""Briefings: one HTML and one PDF per region and language from the published warehouse.

Two assets share one renderer and one render state (``$REGIOCODE_HOME/state/briefings/<region>.json``),
so a region rendered by either is not rendered again by the other while its inputs are unchanged:

* ``briefings`` — every region in one step, in parallel processes, then the indexes and
  ``manifest.json``. This is what ``regiocode refresh`` and the monthly job run.
* ``briefing_per_region`` — partitioned by region (static partitions from the register seed), so
  Dagster's multiprocess executor, or its Kubernetes/Celery executors on a cluster, spread the
  regions; a run given a range of partitions renders each of them. Run ``briefings`` afterwards
  (it reuses every region the partitions rendered) to refresh the indexes and the manifest.
"""

from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from dagster_project.assets.publish import published_warehouse
from dagster_project.briefings.batch import render_all, render_regions
from dagster_project.briefings.context import BRIEFING_LEVELS, build_contexts
from dagster_project.resources import RegiocodeResource
from dagster_project.seeds import read_seed
from dagster_project.settings import Paths


def briefing_region_codes(seeds_dir: Path | None = None) -> list[str]:
    """Region codes that may get a briefing: the subjects and NUTS-2 regions of the register seed, those that left
    their classification included (the United Kingdom's, whose data end in 2020, are briefed on their last years).
    A partition of a region without codes renders nothing."""
    regions = read_seed("regions", seeds_dir)
    return sorted(regions.loc[regions["level"].isin(BRIEFING_LEVELS), "region_code"])


REGION_PARTITIONS = StaticPartitionsDefinition(briefing_region_codes())


def briefings_folder(paths: Paths, now: datetime) -> Path:
    """``$REGIOCODE_HOME/briefings/<date>``: one folder per day, unchanged files hard-linked from the last."""
    return paths.briefings / now.strftime("%Y-%m-%d")


def _data_versions(con) -> dict:
    versions = con.execute("SELECT build_id, data_label, built_at, releases, sources FROM marts.build_info").df()
    return versions.iloc[0].to_dict() if len(versions) else {}


@asset(
    group_name="briefings",
    kinds={"html", "pdf"},
    deps=[published_warehouse],
    description="Region briefings, HTML and PDF, Russian and English, with index.html and manifest.json: "
    "$REGIOCODE_HOME/briefings/<date>/<lang>/.",
)
def briefings(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    now = datetime.now(UTC)
    with regiocode.published_connection() as con:
        contexts = build_contexts(con, generated_at=now)
        versions = _data_versions(con)
    summary = render_all(
        contexts,
        briefings_folder(paths, now),
        paths.state / "briefings",
        workers=regiocode.render_workers,
        data_versions=versions,
    )
    context.log.info("briefings: %d rendered, %d unchanged", len(summary.rendered), len(summary.reused))
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(summary.folder)),
            "regions": len(contexts),
            "rendered": len(summary.rendered),
            "unchanged": len(summary.reused),
            "files": summary.files,
            "manifest": MetadataValue.path(str(summary.manifest)),
            "build_id": str(versions.get("build_id", "")),
        }
    )


@asset(
    group_name="briefings",
    kinds={"html", "pdf"},
    deps=[published_warehouse],
    partitions_def=REGION_PARTITIONS,
    description="One region's briefing (HTML and PDF, Russian and English), partitioned by region so the "
    "executor spreads regions over processes or machines; re-rendered only when its inputs or the templates changed.",
)
def briefing_per_region(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    now = datetime.now(UTC)
    codes = list(context.partition_keys)
    with regiocode.published_connection() as con:
        contexts = build_contexts(con, generated_at=now, regions=codes)
    found = {c["region"]["code"] for c in contexts}
    missing = [code for code in codes if code not in found]
    if missing:
        context.log.warning("no codes in the published warehouse for %s: no briefing", ", ".join(missing))
    # Within one run the partitions are rendered one after another: the executor does the spreading.
    summary, results, _ = render_regions(contexts, briefings_folder(paths, now), paths.state / "briefings", workers=1)
    return MaterializeResult(
        metadata={
            "regions": MetadataValue.json(codes),
            "rendered": len(summary.rendered),
            "unchanged": len(summary.reused),
            "without_codes": MetadataValue.json(missing),
            "files": MetadataValue.json({code: files for code, files in sorted(results.items())}),
        }
    )
