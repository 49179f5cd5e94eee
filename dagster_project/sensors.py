"""Inbox sensors: files dropped into ``$REGIOCODE_HOME/inbox/<source>/`` trigger an import and the
downstream refresh, one sensor per source of the registry that accepts files.

The sensor reads the same ``regiocode`` resource as the assets (so the same home and sources), and
watches the same files the source imports (:func:`dagster_project.sources.inbox.inbox_files`). The
cursor remembers each file's (size, mtime), so a file is acted on once, and again only when it is
replaced or dropped in again.
"""

import json

from dagster import DefaultSensorStatus, RunRequest, SensorDefinition, SensorEvaluationContext, SkipReason, sensor

from dagster_project.resources import RegiocodeResource
from dagster_project.sources import registry
from dagster_project.sources.inbox import snapshot


def inbox_run_sources(source: str, configured: list[str]) -> list[str]:
    """The sources a run triggered by an inbox file uses: the ``configured`` ones that are not synthetic,
    plus this one (never the demo: dropping real files means real data)."""
    return sorted({name for name in configured if not registry.get(name).synthetic} | {source})


def make_inbox_sensor(source: str, job_name: str) -> SensorDefinition:
    """The sensor of ``source``'s inbox, asking ``job_name`` for a run when a file is new or changed."""
    kinds = registry.get(source).file_kinds

    @sensor(
        name=f"{source}_inbox_sensor",
        job_name=job_name,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Imports files dropped into $REGIOCODE_HOME/inbox/{source}/ and refreshes downstream.",
    )
    def inbox_sensor(context: SensorEvaluationContext, regiocode: RegiocodeResource):  # noqa: ANN202
        inbox = regiocode.paths.inbox / source
        inbox.mkdir(parents=True, exist_ok=True)
        seen = json.loads(context.cursor) if context.cursor else {}
        current = snapshot(inbox, kinds)
        changed = sorted(name for name, stamp in current.items() if seen.get(name) != stamp)
        if not changed:
            if current != seen:  # files left (quarantined, moved away): forget them, so that the same
                context.update_cursor(json.dumps(current))  # file dropped in again is acted on again
            return SkipReason(f"no new or changed files in {inbox}")
        context.update_cursor(json.dumps(current))
        sources = inbox_run_sources(source, regiocode.sources)
        return RunRequest(
            run_key=f"{source}:" + ",".join(f"{n}@{current[n][1]}" for n in changed),
            run_config={"resources": {"regiocode": {"config": {"sources": sources}}}},
            tags={"regiocode/inbox": source, "regiocode/files": ", ".join(changed)[:200]},
        )

    return inbox_sensor


def inbox_sources() -> list[str]:
    """The sources with an inbox (those that accept files), in registry order."""
    return [source.name for source in registry.SOURCES if source.file_kinds]
