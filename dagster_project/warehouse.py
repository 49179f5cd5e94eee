"""The DuckDB files: the raw layer of the working warehouse, and the atomic publish.

DuckDB allows one writing process *or* many readers per file. The pipeline therefore writes a
working database and, once dbt tests and checks have passed, publishes a copy: it is written
beside the published file, made read-only (mode 0444) and renamed over it, so a reader opens either
the previous complete build or the new one, never a half-written file.

The published file is the readers': the pipeline never opens it. What the pipeline needs to know
about it (its build, its sources, the rows of each mart, which file it is) is recorded at publish
time from the working warehouse it was copied from (:func:`published_record`), so a BI tool that
holds the published file — even read-write, which locks it — never blocks a refresh: the next
publish renames a new file over the path.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dagster_project import settings
from dagster_project.files import read_json, write_json_atomic
from dagster_project.processes import pid_alive
from dagster_project.sources.base import OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch

# One process may write a DuckDB file at a time: every Dagster step that writes the working warehouse runs
# in this concurrency pool (limited to 1 in dagster.yaml: concurrency.pools.default_limit).
DUCKDB_POOL = "duckdb_writer"
# The natural key of an observation: the same key and release re-imported replaces the row.
OBSERVATION_KEY = ("source", "dataset", "table_code", "region_key", "indicator_key", "period", "release")
# Free space kept beyond the copy's size when publishing (the file system needs room for metadata).
PUBLISH_SPACE_MARGIN = 16 * 1024 * 1024
# The published file's mode: readable by everyone, writable by no one (a tool cannot write to it by mistake).
PUBLISHED_MODE = 0o444


def pause_for_test(stage: str) -> None:
    """Crash-safety tests: at a stage boundary, write a marker file and sleep so that a test can kill the
    process at a known point. Inert unless the test-pause setting names this stage (``settings.test_pause``)."""
    pause = settings.test_pause()
    if pause is None or pause[0] != stage:
        return
    _, marker, seconds = pause
    marker.write_text(f"{os.getpid()} {stage}\n", encoding="utf-8")
    time.sleep(seconds)


def _ddl(table: str, columns: dict[str, str]) -> str:
    cols = ",\n  ".join(f"{name} {sqltype}" for name, sqltype in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``raw`` with ``raw.observations`` and ``raw.rejects`` (the contract's columns) if missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_ddl("raw.observations", OBSERVATION_COLUMNS))
    con.execute(_ddl("raw.rejects", REJECT_COLUMNS))


@dataclass(frozen=True)
class LoadResult:
    """What :func:`load_batch` did: rows loaded, rejects loaded, rows of an earlier load replaced."""

    observations: int
    rejects: int
    replaced: int


def load_batch(con: duckdb.DuckDBPyConnection, batch: ImportBatch) -> LoadResult:
    """Load a batch in bulk (Arrow through DuckDB's replacement scan, no row-by-row inserts).

    Idempotent: rows with the same natural key and release are replaced, so loading the same
    input twice leaves one copy; a new release is added beside the old one (both are kept, the
    dbt models pick the latest). Rejects of the same origin and release are replaced likewise.
    Runs in one transaction: a failure leaves the raw layer as it was.
    """
    ensure_raw_schema(con)
    obs = batch.observations  # noqa: F841 - read by DuckDB's replacement scan
    rej = batch.rejects  # noqa: F841
    cast_obs = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in OBSERVATION_COLUMNS.items())
    cast_rej = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in REJECT_COLUMNS.items())
    key_match = " AND ".join(f"o.{k} IS NOT DISTINCT FROM b.{k}" for k in OBSERVATION_KEY)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE batch_obs AS SELECT {cast_obs} FROM obs")
        con.execute(f"CREATE OR REPLACE TEMP TABLE batch_rej AS SELECT {cast_rej} FROM rej")
        before = con.execute("SELECT count(*) FROM raw.observations").fetchone()[0]
        con.execute(f"DELETE FROM raw.observations o WHERE EXISTS (SELECT 1 FROM batch_obs b WHERE {key_match})")
        after_delete = con.execute("SELECT count(*) FROM raw.observations").fetchone()[0]
        pause_for_test("ingest")  # the replaced rows are deleted, the new ones not yet in
        con.execute("INSERT INTO raw.observations SELECT * FROM batch_obs")
        con.execute(
            "DELETE FROM raw.rejects r WHERE EXISTS (SELECT 1 FROM batch_rej b WHERE r.source = b.source "
            "AND r.origin IS NOT DISTINCT FROM b.origin AND r.release IS NOT DISTINCT FROM b.release)"
        )
        con.execute("INSERT INTO raw.rejects SELECT * FROM batch_rej")
        n_obs = con.execute("SELECT count(*) FROM batch_obs").fetchone()[0]
        n_rej = con.execute("SELECT count(*) FROM batch_rej").fetchone()[0]
        con.execute("DROP TABLE batch_obs")
        con.execute("DROP TABLE batch_rej")
        con.execute("COMMIT")
    except Exception:
        _rollback_quietly(con)  # a failed COMMIT (disk full) has already ended the transaction
        raise
    return LoadResult(observations=n_obs, rejects=n_rej, replaced=before - after_delete)


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open; never let the rollback hide the original error."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


def connect_work(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the working warehouse for writing (its folder created); one such connection at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


_TMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def remove_stale_copies(published_db: Path) -> list[Path]:
    """Delete half-written copies left by a publish that was killed (their process is gone):
    a crash must not leave a warehouse-sized file behind at every attempt."""
    removed = []
    for path in published_db.parent.glob(f".{published_db.name}.*.tmp"):
        match = _TMP_PATTERN.match(path.name)
        if match and match["name"] == published_db.name and not pid_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def ensure_space(folder: Path, needed: int) -> None:
    """Refuse before copying when the disk cannot hold the copy: a clear message, not a half file."""
    free = shutil.disk_usage(folder).free
    if free < needed + PUBLISH_SPACE_MARGIN:
        raise OSError(
            f"not enough free disk space in {folder} to publish: {needed / 1e6:.1f} MB needed "
            f"(+{PUBLISH_SPACE_MARGIN / 1e6:.0f} MB margin), {free / 1e6:.1f} MB free. The published warehouse "
            "was left as it was; free space (old briefings, downloads) or move REGIOCODE_HOME, then refresh again."
        )


def publish(work_db: Path, published_db: Path, record: Path | None = None) -> Path:
    """Copy the working warehouse beside the published one, make it read-only and rename it into place.

    The copy is checkpointed first (no WAL left behind), fsynced, set to mode 0444, then ``os.replace``-d:
    atomic on POSIX, so a concurrent reader sees the old or the new file, never a partial one, and a
    process holding the old file (even locked for writing) keeps it while new readers get the new one.
    A failed copy leaves the published file untouched and removes the temporary file; copies left by a
    killed publish are removed by the next one; a disk too full for the copy is refused up front.
    ``record``: where to write :func:`published_record` (what later checks compare against).
    """
    published_db.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(published_db)
    con = duckdb.connect(str(work_db))
    try:
        con.execute("CHECKPOINT")
        facts = build_facts(con)
    finally:
        con.close()
    ensure_space(published_db.parent, work_db.stat().st_size)
    tmp = published_db.with_name(f".{published_db.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(work_db, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, PUBLISHED_MODE)
        pause_for_test("publish")  # the copy is complete, the rename not yet done
        os.replace(tmp, published_db)
        dir_fd = os.open(published_db.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp.exists():
            tmp.unlink()
    if record is not None:
        write_json_atomic(record, {**facts, "file": file_identity(published_db)})
    return published_db


def build_facts(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What a build holds, read from the warehouse being published: its build id and sources
    (``marts.build_info``), the rows of every mart, and the rows of ``marts.observations`` per source."""
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'marts' "
        "ORDER BY table_name").fetchall()]
    facts: dict[str, object] = {
        "marts": {t: con.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for t in tables},
        "build_id": None, "sources": None, "observations_by_source": {},
    }
    def columns(table: str) -> set[str]:
        return {c[0] for c in con.execute(f"DESCRIBE marts.{table}").fetchall()} if table in tables else set()

    wanted = [c for c in ("build_id", "sources") if c in columns("build_info")]
    if wanted:
        row = con.execute(f"SELECT {', '.join(wanted)} FROM marts.build_info LIMIT 1").fetchone()
        facts.update(dict(zip(wanted, row or (), strict=False)))
    if "source" in columns("observations"):
        facts["observations_by_source"] = dict(con.execute(
            "SELECT source, count(*) FROM marts.observations GROUP BY source ORDER BY source").fetchall())
    return facts


def file_identity(path: Path) -> dict[str, int]:
    """Which file ``path`` is, as far as a copy or a backup keeps it: its size and modification time (seconds)."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime": int(stat.st_mtime)}


def published_record(record: Path) -> dict[str, Any] | None:
    """The facts recorded by the last publish (build id, sources, rows per mart and per source, the file's
    identity), or None when nothing was published with a record yet: then nothing can be compared."""
    facts = read_json(record)
    return facts if isinstance(facts, dict) else None


def still_published(facts: Mapping[str, Any] | None, published_db: Path) -> bool:
    """Whether the file at ``published_db`` is the one ``facts`` describe (not deleted, replaced or restored
    from elsewhere since), told without opening it."""
    return bool(facts) and published_db.exists() and facts.get("file") == file_identity(published_db)


def connect_read_only(path: Path) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """A read-only connection to a DuckDB file, closed on exit."""
    return closing(duckdb.connect(str(path), read_only=True))


def connect_published(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (many readers may do so at once)."""
    if not path.exists():
        raise FileNotFoundError(
            f"no published warehouse at {path}: run `regiocode refresh` first (or set REGIOCODE_HOME)"
        )
    return duckdb.connect(str(path), read_only=True)
