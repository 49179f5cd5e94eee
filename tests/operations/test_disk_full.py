"""A full disk, simulated by a per-process file-size quota (RLIMIT_FSIZE, what a small quota does
to a writer: EFBIG on the write that crosses it). The refresh fails with a clear error, nothing
already imported is lost, and the published warehouse keeps serving the last good build."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import Paths

from .faults import digest, raw_state, read_published

REPO_ROOT = Path(__file__).resolve().parents[2]


def quota(limit_bytes: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


def python(code: str, limit_bytes: int, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=quota(limit_bytes), env={"REGIOCODE_HOME": str(home), "PATH": "/usr/bin:/bin"})


def test_publish_on_a_full_disk_keeps_the_published_warehouse(home: Path) -> None:
    paths = Paths(home)
    before = digest(paths.published_db)
    done = python(
        "from pathlib import Path; from dagster_project.warehouse import publish; "
        f"publish(Path({str(paths.work_db)!r}), Path({str(paths.published_db)!r}))",
        limit_bytes=paths.work_db.stat().st_size // 2, home=home)
    assert done.returncode != 0
    assert "File too large" in done.stderr  # the OS error, not a silent half file
    assert digest(paths.published_db) == before
    assert list(paths.published_db.parent.glob("*.tmp")) == []  # the half copy was removed
    assert read_published(paths.published_db, "SELECT build_id FROM marts.build_info") == [("last-good",)]


def test_ingest_on_a_full_disk_loses_nothing(home: Path) -> None:
    """A new release of the whole demo panel does not fit: the load fails and rolls back."""
    paths = Paths(home)
    before = raw_state(home)
    done = python(
        "import duckdb; from dagster_project.sources.demo import demo_batch; "
        "from dagster_project.warehouse import load_batch; b = demo_batch(); "
        "b.observations['release'] = 'demo v3'; "
        f"con = duckdb.connect({str(paths.work_db)!r}); load_batch(con, b); con.close()",
        limit_bytes=paths.work_db.stat().st_size, home=home)
    assert done.returncode != 0
    # The write error itself, not "cannot rollback - no transaction is active" on top of it.
    assert 'Could not write file' in done.stderr and "File too large" in done.stderr, done.stderr[-2000:]
    assert "cannot rollback" not in done.stderr
    assert raw_state(home) == before  # reopened without the quota: every earlier row is there
