"""Assembles the Dagster definitions: assets, jobs, schedules, sensors, resources. Nothing else."""

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job, multiprocess_executor

from dagster_project import settings
from dagster_project.assets.briefings import REGION_PARTITIONS, briefing_per_region, briefings
from dagster_project.assets.dbt import dbt_resource, regiocode_dbt_assets
from dagster_project.assets.delivery import briefing_delivery
from dagster_project.assets.ingest import SOURCE_ASSETS, raw_layer
from dagster_project.assets.publish import published_warehouse
from dagster_project.checks import freshness_checks, freshness_sensor, raw_observation_checks
from dagster_project.resources import RegiocodeResource
from dagster_project.sensors import inbox_sources, make_inbox_sensor
from dagster_project.sources import registry

# raw_observation_checks are blocking asset checks: listed with the assets so every way of running
# the graph (CLI, tests, dagster dev) stops before dbt when the raw layer is bad.
# briefing_per_region is defined with the rest but selected only by its own partitioned job.
PIPELINE_ASSETS = [
    raw_layer, raw_observation_checks, regiocode_dbt_assets, published_warehouse, briefings, briefing_delivery,
    briefing_per_region,
]
SOURCE_FRESHNESS_CHECKS = freshness_checks(list(SOURCE_ASSETS.values()))


def refresh_selection(sources: list[str]) -> AssetSelection:
    """The named sources' assets, the reference seeds, and everything downstream of the raw layer."""
    registry.check_names(sources)
    return (
        # without_checks: the sources' freshness checks are evaluated by their sensor, not by the jobs
        AssetSelection.assets(*(SOURCE_ASSETS[s] for s in sources)).without_checks()
        | (AssetSelection.assets(raw_layer) | AssetSelection.groups("reference")).downstream()
        # the per-region partitioned briefings run in their own job (a job cannot mix partitioned assets)
        - AssetSelection.assets(briefing_per_region)
    )


refresh_job = define_asset_job(
    "refresh",
    selection=refresh_selection(settings.sources()),
    description="Full refresh of the configured sources (REGIOCODE_SOURCES): ingest, dbt build, publish, briefings.",
)

inbox_jobs = {
    source: define_asset_job(
        f"{source}_inbox_refresh",
        selection=refresh_selection([source]),
        description=f"Import files dropped into the {source} inbox, then rebuild, publish and render.",
    )
    for source in inbox_sources()
}
inbox_sensors = [make_inbox_sensor(source, job.name) for source, job in inbox_jobs.items()]

briefings_by_region_job = define_asset_job(
    "briefings_by_region",
    selection=AssetSelection.assets(briefing_per_region),
    partitions_def=REGION_PARTITIONS,
    executor_def=multiprocess_executor.configured({"max_concurrent": 2}),
    description="Briefings partitioned by region, spread over processes (or a cluster executor); "
    "backfill it from the UI.",
)

monthly_refresh = ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_job,
    cron_schedule=settings.refresh_cron(),
    execution_timezone=settings.timezone(),
    description="Monthly full refresh (cron from REGIOCODE_REFRESH_CRON).",
)

defs = Definitions(
    assets=[*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
    asset_checks=SOURCE_FRESHNESS_CHECKS,
    jobs=[refresh_job, briefings_by_region_job, *inbox_jobs.values()],
    schedules=[monthly_refresh],
    sensors=[*inbox_sensors, freshness_sensor(SOURCE_FRESHNESS_CHECKS)],
    resources={"dbt": dbt_resource(), "regiocode": RegiocodeResource()},
)
