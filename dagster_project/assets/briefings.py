"""Briefings: one HTML and one PDF per region and language from the published warehouse.

Two assets share one renderer and one render state (``$REGIOCODE_HOME/state/briefings/<region>.json``),
so a region rendered by either is not rendered again by the other while its inputs are unchanged:

* ``briefings`` — every region in one step, in parallel processes, then the indexes and
  ``manifest.json``. This is what ``regiocode refresh`` and the monthly job run.
* ``briefing_per_region`` — partitioned by region (static partitions from the register seed), so
  Dagster's multiprocess executor, or its Kubernetes/Celery executors on a cluster, spread the
  regions; a run given a range of partitions renders each of them into a work folder
  (``briefings/.builds/regions/``). Run ``briefings`` afterwards (it reuses every region the
  partitions rendered) to publish them with the indexes and the manifest.

Each build's briefings go to a fresh folder, ``briefings/.builds/<date>_<build>/``, and are switched in
atomically once complete (indexes and manifest written): ``briefings/<date>`` and ``briefings/latest`` are
symbolic links replaced by a rename, so a reader (or the delivery step) sees one build's files and the
index that lists them, never a mix. A build that superseded another of the same day removes that one's
folder. When the published build is the one the latest folder was made from (and the templates are
unchanged), nothing is rendered and nothing switched.
"""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from dagster_project.assets.publish import published_warehouse
from dagster_project.briefings.batch import render_all, render_regions, templates_fingerprint
from dagster_project.briefings.context import BRIEFING_LEVELS, build_contexts
from dagster_project.files import read_json
from dagster_project.resources import RegiocodeResource
from dagster_project.seeds import read_seed
from dagster_project.settings import LATEST_BRIEFINGS as LATEST
from dagster_project.settings import Paths
from dagster_project.warehouse import published_record

BUILDS = ".builds"  # under $REGIOCODE_HOME/briefings: one folder per build


def briefing_region_codes(seeds_dir: Path | None = None) -> list[str]:
    """Region codes that may get a briefing: the subjects and NUTS-2 regions of the register seed, those that left
    their classification included (the United Kingdom's, whose data end in 2020, are briefed on their last years).
    A partition of a region without codes renders nothing."""
    regions = read_seed("regions", seeds_dir)
    return sorted(regions.loc[regions["level"].isin(BRIEFING_LEVELS), "region_code"])


REGION_PARTITIONS = StaticPartitionsDefinition(briefing_region_codes())


def build_folder(paths: Paths, now: datetime, build_id: str) -> Path:
    """``briefings/.builds/<date>T<time>_<build>``: a fresh folder for one rendering of a build's briefings."""
    folder = paths.briefings / BUILDS / f"{now:%Y-%m-%dT%H%M%S}_{build_id or 'unknown'}"
    return folder.with_name(f"{folder.name}_{os.getpid()}") if folder.exists() else folder


def regions_folder(paths: Paths) -> Path:
    """Where the per-region partitions render (a work folder: ``briefings`` publishes from it)."""
    return paths.briefings / BUILDS / "regions"


def switch_to(paths: Paths, folder: Path, now: datetime) -> list[Path]:
    """Point ``briefings/<date>`` and ``briefings/latest`` at the complete ``folder``, each by renaming a new
    symbolic link over the old one (atomic); remove the folders they pointed to that no link names any more
    (an earlier build of the same day). Returns the folders removed."""
    names = (now.strftime("%Y-%m-%d"), LATEST)
    for name in names:
        link = paths.briefings / name
        if link.is_dir() and not link.is_symlink():  # a day folder of the layout before builds had their own
            link.rename(paths.briefings / BUILDS / f"{name}_earlier")
            (paths.briefings / f".{name}.moved").symlink_to(Path(BUILDS) / f"{name}_earlier")
            os.replace(paths.briefings / f".{name}.moved", link)
    before = {_target(paths.briefings / name) for name in names}
    for name in names:
        link = paths.briefings / name
        tmp = link.with_name(f".{name}.{os.getpid()}.link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.relative_to(paths.briefings))
        os.replace(tmp, link)
    linked = {_target(link) for link in paths.briefings.iterdir() if link.is_symlink()}
    removed = [old for old in before - linked if old is not None and old != folder and old.is_dir()]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def _target(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def current(paths: Paths) -> dict[str, Any] | None:
    """The manifest of ``briefings/latest`` when it was made from the published build with these templates
    (then the briefings need no work at all), else None."""
    published = published_record(paths.published_record) or {}
    manifest = read_json(paths.latest_briefings / "manifest.json")
    if not isinstance(manifest, dict) or not published.get("build_id"):
        return None
    same_build = str(manifest.get("data_versions", {}).get("build_id")) == str(published["build_id"])
    return manifest if same_build and manifest.get("templates") == templates_fingerprint() else None


def _data_versions(con) -> dict:
    versions = con.execute("SELECT build_id, data_label, built_at, releases, sources FROM marts.build_info").df()
    return versions.iloc[0].to_dict() if len(versions) else {}


@asset(
    group_name="briefings",
    kinds={"html", "pdf"},
    deps=[published_warehouse],
    description="Region briefings, HTML and PDF, Russian and English, with index.html and manifest.json: "
    "$REGIOCODE_HOME/briefings/latest/<lang>/ (and briefings/<date>/), one fresh folder per build, switched "
    "atomically.",
)
def briefings(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    folder = paths.latest_briefings.resolve()
    manifest = current(paths)
    if manifest is not None:
        regions = len({f["region"] for f in manifest.get("files", []) if f.get("region")})
        build = manifest["data_versions"]["build_id"]
        context.log.info("briefings of build %s are current: %s", build, folder)
        return MaterializeResult(metadata={
            "folder": MetadataValue.path(str(folder)), "regions": regions, "rendered": 0, "unchanged": regions,
            "build_id": str(build), "outcome": f"unchanged: the briefings of build {build} are current → {folder}"})
    now = datetime.now(UTC)
    with regiocode.published_connection() as con:
        contexts = build_contexts(con, generated_at=now)
        versions = _data_versions(con)
    summary = render_all(
        contexts,
        build_folder(paths, now, str(versions.get("build_id", ""))),
        paths.state / "briefings",
        workers=regiocode.render_workers,
        data_versions=versions,
    )
    switch_to(paths, summary.folder, now)
    context.log.info("briefings: %d rendered, %d unchanged", len(summary.rendered), len(summary.reused))
    shown = paths.briefings / now.strftime("%Y-%m-%d")
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(shown)),
            "regions": len(contexts),
            "rendered": len(summary.rendered),
            "unchanged": len(summary.reused),
            "files": summary.files,
            "manifest": MetadataValue.path(str(shown / "manifest.json")),
            "build_id": str(versions.get("build_id", "")),
            "outcome": f"{len(contexts)} regions × 2 languages: {len(summary.rendered)} rendered, "
                       f"{len(summary.reused)} unchanged → {shown}",
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
    summary, results, _ = render_regions(contexts, regions_folder(paths), paths.state / "briefings", workers=1)
    return MaterializeResult(
        metadata={
            "regions": MetadataValue.json(codes),
            "rendered": len(summary.rendered),
            "unchanged": len(summary.reused),
            "without_codes": MetadataValue.json(missing),
            "files": MetadataValue.json({code: files for code, files in sorted(results.items())}),
            # the build each region's files were rendered in (an earlier one when its figures did not change)
            "rendered_build_id": MetadataValue.json(dict(sorted(summary.builds.items()))),
        }
    )
