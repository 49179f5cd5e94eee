"""`regiocode refresh` runs the refresh graph in this process, recorded in the persistent Dagster instance of
the home (:mod:`dagster_project.instance`), so that ``dagster dev`` shows the CLI's runs like its own: the
last materialisations with their metadata, the asset checks, the logs with every stack trace.

What a user reads is taken from the run's events: one line per stage (:class:`Progress`), and for a failure
the one line that says what went wrong (:func:`failure_message`); the stack traces stay in the run log
(and are printed with ``--verbose``).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dagster_project.failures import one_line
from dagster_project.instance import end_dead_runs, instance_for, run_tags
from dagster_project.settings import Paths

CLI_JOB = "cli_refresh"
_QUALIFIED = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?P<name>[A-Za-z_]\w*): ")


def failure_message(event: Any) -> str:
    """The one line a user reads for a failed step: a ``Failure``'s description, else the message of the first
    error below Dagster's wrappers (an importer's ``ValueError``, dbt's error), its module path dropped."""
    data = event.event_specific_data
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return one_line(user.description)
    error = getattr(data, "error", None)
    if error is None:
        return one_line(event.message or "failed")
    while error.cause is not None and error.cls_name and error.cls_name.startswith("Dagster"):
        error = error.cause
    text = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "failed"
    match = _QUALIFIED.match(text)
    if match and "dagster_project" in text[: match.end()]:
        text = text[match.end():]  # our own errors read as sentences
    elif match:
        text = f"{match['name']}: {text[match.end():]}"
    return one_line(text)


def error_trace(event: Any) -> str:
    """The full error of a failed step, every cause with its stack trace (for ``--verbose``)."""
    error = getattr(event.event_specific_data, "error", None)
    return error.to_string() if error is not None else ""


@dataclass
class Progress:
    """Turns Dagster step events into one line per stage (``say``), and keeps the failures and timings."""

    say: Callable[[str, str], None]
    stage_names: Mapping[str, str]
    started: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)

    def __call__(self, entry: Any) -> None:
        event = getattr(entry, "dagster_event", None)
        if event is None:
            return
        step = event.step_key or ""
        name = self.stage_names.get(step, step)
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            self.say("start", f"{name} …")
        elif kind == "STEP_SUCCESS":
            self.timings[name] = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.say("done", f"{name} {self.timings[name]:.1f} s")
        elif kind == "STEP_UP_FOR_RETRY":
            self.say("retry", f"{name}: {failure_message(event)} — trying again (a transient error)")
        elif kind == "STEP_FAILURE":
            self.failures.append((name, failure_message(event)))
            self.traces.append(f"{name}:\n{error_trace(event)}")
            self.say("failed", f"{name} failed")
        elif kind == "STEP_SKIPPED":
            self.say("skipped", f"{name} skipped (an upstream step failed)")


@contextmanager
def stdout_silenced(silenced: bool = True) -> Iterator[None]:
    """Send this process's standard output (file descriptor 1) to /dev/null for the block. The instance's
    compute log manager still captures what the steps print (it reads the descriptor before it)."""
    if not silenced:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def execute(defs: Any, job_name: str, paths: Paths, progress: Progress, run_config: Mapping[str, Any],
            listeners: Sequence[Callable[[Any], None]] = (), step_output: bool = True,
            ) -> tuple[Any, dict[str, dict[str, Any]]]:
    """Execute ``job_name`` of ``defs`` in this process, recorded in the home's instance; returns the result
    and each materialised asset's metadata (by asset key). ``step_output=False``: what the steps print
    goes to the run's compute log only."""
    from dagster._core.utils import make_new_run_id

    run_id = make_new_run_id()
    with instance_for(paths) as instance, stdout_silenced(not step_output):
        end_dead_runs(instance)
        for listener in (progress, *listeners):
            instance.add_event_listener(run_id, listener)
        result = defs.resolve_job_def(job_name).execute_in_process(
            run_config=dict(run_config), instance=instance, raise_on_error=False, run_id=run_id, tags=run_tags())
        metadata: dict[str, dict[str, Any]] = {}
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return result, metadata
