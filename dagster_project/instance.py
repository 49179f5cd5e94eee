"""The persistent Dagster instance of a home, as `regiocode refresh` uses it.

``$REGIOCODE_HOME/dagster`` is the ``DAGSTER_HOME`` of ``make dev``; the CLI records its runs there, so
``dagster dev`` shows them like its own (materialisations with their metadata, asset checks, logs with the
stack traces). The instance is made from the project's ``dagster.yaml`` (copied there when missing, as
``make dev`` does), so a CLI refresh and a run of the daemon share the ``duckdb_writer`` pool.

Two things keep this from surprising anyone:

* **Speed.** Dagster's SQLite event log opens and closes a connection for every read and write of an
  event, and closing the last connection of a WAL database checkpoints it and syncs the disk: ~40 ms per
  event, 20 s for the ~550 events of a refresh on a busy disk. While the CLI runs, the same files are
  written through :class:`KeptOpenSqliteEventLogStorage`, which keeps one connection per database open
  for the run (and commits with ``synchronous=NORMAL``, safe with WAL): about 1 ms per event. The files
  and tables are Dagster's own, so ``dagster dev`` reads them as usual; another configured storage
  (Postgres) is used as it is.
* **A killed CLI.** A process that was killed cannot end its run; the next refresh marks such runs failed
  and frees the pool slots they held (:func:`end_dead_runs`), so no run waits for a dead process.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from dagster_project import settings
from dagster_project.processes import pid_alive
from dagster_project.settings import Paths

PID_TAG, HOST_TAG = "regiocode/pid", "regiocode/host"
_UNFINISHED = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED]


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage (same files, same tables) with one connection per database kept
    open for the life of the instance, instead of one opened and closed per event."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: dict[str, Engine] = {}  # before the parent's __init__, which may connect (a new home)
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> KeptOpenSqliteEventLogStorage:
        """Made from its ``dagster.yaml``-style config, as every configurable Dagster storage is."""
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                     "check_same_thread": False})
                event.listen(engine, "connect", _synchronous_normal)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close the kept connections (the last close checkpoints each database once)."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


def _synchronous_normal(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA synchronous=NORMAL")


def instance_for(paths: Paths) -> DagsterInstance:
    """The persistent Dagster instance of ``paths.home`` (its folder and ``dagster.yaml`` made when missing),
    its SQLite event log kept open (see the module's docstring)."""
    folder = paths.dagster_home
    folder.mkdir(parents=True, exist_ok=True)
    config, template = folder / "dagster.yaml", settings.PROJECT_DIR / "dagster.yaml"
    if not config.exists() and template.exists():
        shutil.copyfile(template, config)
    ref = InstanceRef.from_dir(str(folder))
    storage = ref.event_storage_data
    if storage.module_name.startswith("dagster") and storage.class_name == "SqliteEventLogStorage":
        kept = {"module": __name__, "class": KeptOpenSqliteEventLogStorage.__name__,
                "config": {"base_dir": str(folder / "history" / "runs")}}
        ref = InstanceRef.from_dir(str(folder), overrides={"event_log_storage": kept})
    return DagsterInstance.from_ref(ref)


def end_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark runs failed whose regiocode process on this machine is gone (killed), freeing their pool slots."""
    host, ended = socket.gethostname(), []
    for run in instance.get_runs(RunsFilter(statuses=_UNFINISHED, tags={HOST_TAG: host})):
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            instance.report_run_failed(run, f"process {pid} ended before the run did (killed or crashed)")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            ended.append(run.run_id)
    return ended


def run_tags() -> dict[str, str]:
    """Tags that tie a run to this process (:func:`end_dead_runs` reads them)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), "regiocode/cli": "refresh"}
