"""The DuckDB files: the raw layer of the working warehouse, and the atomic publish.

DuckDB allows one writing process *or* many readers per file. The pipeline therefore writes a
working database and, once dbt tests and checks have passed, publishes a copy: it is written
beside the published file and renamed over it, so a reader opens either the previous complete
build or the new one, never a half-written file.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project import settings
from dagster_project.processes import pid_alive
from dagster_project.sources.base import OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch

# One process may write a DuckDB file at a time: every Dagster step that writes the working warehouse runs
# in this concurrency pool (limited to 1 in dagster.yaml: concurrency.pools.default_limit).
DUCKDB_POOL = "duckdb_writer"
# The natural key of an observation: the same key and release re-imported replaces the row.
OBSERVATION_KEY = ("source", "dataset", "table_code", "region_key", "indicator_key", "period", "release")
# Free space kept beyond the copy's size when publishing (the file system needs room for metadata).
PUBLISH_SPACE_MARGIN = 16 * 1024 * 1024


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


def publish(work_db: Path, published_db: Path) -> Path:
    """Copy the working warehouse beside the published one and rename it into place.

    The copy is checkpointed first (no WAL left behind), fsynced, then ``os.replace``-d: atomic
    on POSIX, so a concurrent reader sees the old or the new file, never a partial one. A failed
    copy leaves the published file untouched and removes the temporary file; copies left by a
    killed publish are removed by the next one; a disk too full for the copy is refused up front.
    """
    published_db.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(published_db)
    con = duckdb.connect(str(work_db))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    ensure_space(published_db.parent, work_db.stat().st_size)
    tmp = published_db.with_name(f".{published_db.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(work_db, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
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
    return published_db


def connect_published(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (many readers may do so at once)."""
    if not path.exists():
        raise FileNotFoundError(
            f"no published warehouse at {path}: run `regiocode refresh` first (or set REGIOCODE_HOME)"
        )
    return duckdb.connect(str(path), read_only=True)
