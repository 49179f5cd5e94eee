"""Sensors: files dropped into ``$REGIOCODE_HOME/inbox/<source>/`` trigger an import and the
downstream refresh. The cursor remembers each file's (size, mtime), so a file is acted on once,
and again only when it is replaced."""

import json
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from dagster_project.resources import sources_from_env
from dagster_project.settings import Paths

INBOX_SOURCES = {"rosstat": (".xlsx", ".xlsm", ".xls"), "eurostat": (".tsv", ".csv", ".json", ".gz", ".xml")}


def inbox_snapshot(inbox: Path, suffixes: tuple[str, ...]) -> dict[str, list[float]]:
    if not inbox.is_dir():
        return {}
    return {
        p.name: [p.stat().st_size, p.stat().st_mtime]
        for p in sorted(inbox.iterdir())
        if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.startswith(("~$", "."))
    }


def inbox_run_sources(source: str) -> list[str]:
    """The sources a run triggered by an inbox file uses: the configured real sources plus this one
    (never the demo: dropping real files means real data)."""
    return sorted({s for s in sources_from_env() if s != "demo"} | {source})


def make_inbox_sensor(source: str, job_name: str):
    suffixes = INBOX_SOURCES[source]

    @sensor(
        name=f"{source}_inbox_sensor",
        job_name=job_name,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Imports files dropped into $REGIOCODE_HOME/inbox/{source}/ and refreshes downstream.",
    )
    def inbox_sensor(context: SensorEvaluationContext):
        inbox = Paths.from_env().inbox / source
        inbox.mkdir(parents=True, exist_ok=True)
        seen = json.loads(context.cursor) if context.cursor else {}
        current = inbox_snapshot(inbox, suffixes)
        changed = sorted(name for name, stamp in current.items() if seen.get(name) != stamp)
        if not changed:
            if current != seen:  # files left (quarantined, moved away): forget them, so that the same
                context.update_cursor(json.dumps(current))  # file dropped in again is acted on again
            return SkipReason(f"no new or changed files in {inbox}")
        context.update_cursor(json.dumps(current))
        return RunRequest(
            run_key=f"{source}:" + ",".join(f"{n}@{current[n][1]}" for n in changed),
            run_config={"resources": {"regiocode": {"config": {"sources": inbox_run_sources(source)}}}},
            tags={"regiocode/inbox": source, "regiocode/files": ", ".join(changed)[:200]},
        )

    return inbox_sensor
