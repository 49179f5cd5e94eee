"""Operations tests: one real `regiocode refresh` (subprocess, demo data) builds a home that the
tests copy, so the suite pays for a full refresh once and each test damages its own copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.settings import Paths
from dagster_project.sources.base import ImportBatch
from dagster_project.warehouse import load_batch

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "dagster_project.cli"]
REFRESH_TIMEOUT_S = 900


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIOCODE_TEST_")}
    return {**env, "REGIOCODE_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1", **extra}


def start_refresh(home: Path, log: Path, **env: str) -> subprocess.Popen:
    """`regiocode refresh --home` in its own process group (so a kill takes dbt with it)."""
    handle = open(log, "wb")  # noqa: SIM115 - closed by the caller through proc.stdout
    return subprocess.Popen([*CLI, "refresh", "--home", str(home)], cwd=REPO_ROOT, env=cli_env(home, **env),
                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def finish(proc: subprocess.Popen, log: Path, timeout: float = REFRESH_TIMEOUT_S) -> str:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise
    return log.read_text(errors="replace")


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the refresh and everything it started (dbt), as a power cut or OOM killer would."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def run_refresh(home: Path, log: Path, **env: str) -> tuple[int, str]:
    proc = start_refresh(home, log, **env)
    text = finish(proc, log)
    return proc.returncode, text


def wait_for(condition: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll (bounded) until ``condition``; fail naming ``what`` (and say if the process ended first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the refresh ended (exit {proc.returncode}) before {what}")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def seeded_batch() -> ImportBatch:
    """Three Eurostat rows imported before the crashes: they must survive every one of them."""
    obs = pd.DataFrame({
        "source": ["eurostat"] * 3, "dataset": ["nama_10r_2gdp"] * 3, "table_code": ["unit=EUR_HAB"] * 3,
        "region_key": ["DE11", "DE12", "DE13"], "region_code": [None] * 3, "indicator_key": ["EUR_HAB"] * 3,
        "indicator_code": ["grp_per_capita"] * 3, "period": [2021] * 3, "value": [51000.0, 47000.0, 40000.0],
        "flag": [None] * 3, "unit": ["EUR_HAB"] * 3, "release": ["2024-04-01"] * 3,
        "release_date": [date(2024, 4, 1)] * 3, "retrieved_at": [datetime(2024, 5, 1)] * 3,
        "origin": ["seeded.tsv"] * 3, "cell_ref": ["r1", "r2", "r3"],
    })
    return ImportBatch(source="eurostat", observations=obs)


def seed_other_source(home: Path) -> None:
    """Import the three Eurostat rows into the home's working warehouse (changes the build inputs)."""
    con = duckdb.connect(str(Paths(home).work_db))
    try:
        load_batch(con, seeded_batch())
    finally:
        con.close()


def published_build(home: Path) -> str:
    con = duckdb.connect(str(Paths(home).published_db), read_only=True)
    try:
        return con.execute("SELECT build_id FROM marts.build_info").fetchone()[0]
    finally:
        con.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home after one complete demo refresh through the CLI (published warehouse, briefings)."""
    root = tmp_path_factory.mktemp("ops-base")
    home = root / "home"
    reuse = os.environ.get("REGIOCODE_TEST_BASE_HOME")  # developers: reuse a refreshed home while iterating
    if reuse and (Path(reuse) / "warehouse" / "regiocode.duckdb").exists():
        return copy_home(Path(reuse), home)
    code, text = run_refresh(home, root / "refresh.log")
    assert code == 0, text[-4000:]
    return home


@pytest.fixture()
def home_copy(base_home: Path, tmp_path: Path) -> Path:
    return copy_home(base_home, tmp_path / "home")


# The fault-injection tests' small home (no dbt): fixtures defined in faults.py, registered here.
from .faults import fault_home, small_home_template  # noqa: E402, F401
