"""The published warehouse is the readers': a BI tool that holds it open read-write (Superset, DBeaver and
TablePlus do by default) neither breaks `regiocode sql` into a traceback nor blocks the refresh, because
the pipeline never opens the published file (its checks compare with the record written at publish) and
publishes by renaming a new read-only file over it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.settings import Paths
from dagster_project.warehouse import PUBLISHED_MODE

from .conftest import CLI, REPO_ROOT, cli_env, copy_home, published_build, run_refresh, seed_other_source

pytestmark = pytest.mark.e2e

HOLD = ("import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])  # read-write, as a BI tool's default\n"
        "print(con.execute('SELECT build_id FROM marts.build_info').fetchone()[0], flush=True)\n"
        "sys.stdin.readline()\n"
        "print(con.execute('SELECT build_id FROM marts.build_info').fetchone()[0], flush=True)\n")


def sql(home: Path, query: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "sql", query, "--format", "csv", "--home", str(home)], cwd=REPO_ROOT,
                          env=cli_env(home), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def held(base_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("held")
    home = copy_home(base_home, root / "home")
    seed_other_source(home)  # new inputs: the refresh must build and publish
    before = published_build(home)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(Paths(home).published_db)], cwd=REPO_ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == before
        while_held = sql(home, "SELECT 1 AS one")
        code, log = run_refresh(home, root / "refresh.log")
        after_refresh = sql(home, "SELECT build_id FROM build_info")
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder_sees = holder.stdout.readline().strip()
    finally:
        holder.kill()
        holder.wait()
    return {"home": home, "before": before, "while_held": while_held, "code": code, "log": log,
            "after_refresh": after_refresh, "holder_sees": holder_sees, "holder_pid": holder.pid}


def test_sql_on_a_held_file_answers_in_one_line_naming_the_process(held: dict) -> None:
    done = held["while_held"]
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert f"held open for writing by process {held['holder_pid']} (" in done.stderr
    assert "read_only=True" in done.stderr and "access_mode=read_only" in done.stderr


def test_the_refresh_publishes_while_the_old_file_is_held(held: dict) -> None:
    assert held["code"] == 0, held["log"][-3000:]
    after = published_build(held["home"])
    assert after != held["before"]
    read = held["after_refresh"]
    assert read.returncode == 0 and read.stdout.split() == ['"build_id"', f'"{after}"']
    assert held["holder_sees"] == held["before"]  # the tool keeps the build it opened, whole


def test_the_published_file_is_read_only_for_everyone(held: dict) -> None:
    assert Paths(held["home"]).published_db.stat().st_mode & 0o777 == PUBLISHED_MODE == 0o444
