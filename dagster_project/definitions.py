"""Assembles the Dagster definitions: assets, jobs, schedules, sensors, resources. Nothing else."""

import os

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job

from dagster_project.assets.briefings import briefings
from dagster_project.assets.dbt import dbt_resource, regiocode_dbt_assets
from dagster_project.assets.ingest import SOURCE_ASSETS, raw_layer
from dagster_project.assets.publish import published_warehouse
from dagster_project.resources import RegiocodeResource, sources_from_env
from dagster_project.sensors import INBOX_SOURCES, make_inbox_sensor

PIPELINE_ASSETS = [raw_layer, regiocode_dbt_assets, published_warehouse, briefings]


def refresh_selection(sources: list[str]) -> AssetSelection:
    """The named sources' assets, the reference seeds, and everything downstream of the raw layer."""
    unknown = [s for s in sources if s not in SOURCE_ASSETS]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known: {sorted(SOURCE_ASSETS)}")
    return (
        AssetSelection.assets(*(SOURCE_ASSETS[s] for s in sources))
        | (AssetSelection.assets(raw_layer) | AssetSelection.groups("reference")).downstream()
    )


refresh_job = define_asset_job(
    "refresh",
    selection=refresh_selection(sources_from_env()),
    description="Full refresh of the configured sources (REGIOCODE_SOURCES): ingest, dbt build, publish, briefings.",
)

inbox_jobs = {
    source: define_asset_job(
        f"{source}_inbox_refresh",
        selection=refresh_selection([source]),
        description=f"Import files dropped into the {source} inbox, then rebuild, publish and render.",
    )
    for source in INBOX_SOURCES
}
inbox_sensors = [make_inbox_sensor(source, job.name) for source, job in inbox_jobs.items()]

monthly_refresh = ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_job,
    cron_schedule=os.environ.get("REGIOCODE_REFRESH_CRON", "0 3 1 * *"),
    execution_timezone=os.environ.get("REGIOCODE_TIMEZONE", "UTC"),
    description="Monthly full refresh (cron from REGIOCODE_REFRESH_CRON).",
)

defs = Definitions(
    assets=[*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
    jobs=[refresh_job, *inbox_jobs.values()],
    schedules=[monthly_refresh],
    sensors=inbox_sensors,
    resources={"dbt": dbt_resource(), "regiocode": RegiocodeResource()},
)
