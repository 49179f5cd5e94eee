"""Briefings: one HTML and one PDF per region and language from the published warehouse,
rendered in parallel processes, and only for regions whose inputs or templates changed."""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from dagster_project.assets.publish import published_warehouse
from dagster_project.briefings.batch import render_all
from dagster_project.briefings.context import build_contexts
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import TEMPLATES_DIR


@asset(
    group_name="briefings",
    kinds={"html", "pdf"},
    deps=[published_warehouse],
    description="Region briefings, HTML and PDF, Russian and English: $REGIOCODE_HOME/briefings/<date>/<lang>/.",
)
def briefings(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    now = datetime.now(UTC)
    with regiocode.published_connection() as con:
        contexts = build_contexts(con, generated_at=now)
        versions = con.execute("SELECT build_id, data_label, releases, sources FROM marts.build_info").df()
    folder = paths.briefings / now.strftime("%Y-%m-%d")
    summary = render_all(
        contexts,
        folder,
        paths.state / "briefings.json",
        TEMPLATES_DIR,
        workers=regiocode.render_workers,
        data_versions=versions.iloc[0].to_dict() if len(versions) else {},
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
        }
    )
