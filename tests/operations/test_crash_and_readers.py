"""Crash safety and readers during a refresh, on the real CLI in subprocesses.

One scenario on a copy of a refreshed home (a full refresh costs about a minute, so it is paid
once): rows of another source are imported first ("already imported" data); then a refresh is
SIGKILLed during ingest (inside the raw-load transaction, after the replaced rows were deleted),
during dbt (while ``dbt build`` writes models), and during publish (the copy written, not yet
renamed); after each kill the published warehouse must be the last good build and open. Finally a
refresh runs to completion while readers query the published warehouse in a loop, through
``regiocode sql`` and through a plain read-only DuckDB connection. Each test checks one part.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from dagster_project.settings import Paths

from .conftest import (
    CLI,
    REPO_ROOT,
    cli_env,
    copy_home,
    file_digest,
    finish,
    kill_group,
    published_build,
    seed_other_source,
    start_refresh,
    wait_for,
)

pytestmark = pytest.mark.e2e
MARTS = ("defining_codes", "dynamic_codes", "basic_code", "code_contributions", "observations", "revisions",
         "regions", "indicators", "build_info")
BUILDS_SQL = " UNION ALL ".join(f"SELECT DISTINCT '{m}' AS mart, build_id FROM marts.{m}" for m in MARTS)
STAGE_TIMEOUT_S = 600


def raw_counts(home: Path) -> tuple[int, int]:
    """(demo rows, seeded eurostat rows) in the working warehouse."""
    con = duckdb.connect(str(Paths(home).work_db), read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FILTER (source = 'demo'), count(*) FILTER (origin = 'seeded.tsv') FROM raw.observations"
        ).fetchone()
    finally:
        con.close()


def builds_seen(rows: list[tuple[str, str]]) -> set[str]:
    marts = {m for m, _ in rows}
    assert marts == set(MARTS), f"marts missing from one query: {set(MARTS) - marts}"
    return {b for _, b in rows}


@dataclass
class Readers:
    """Two reader loops against the published warehouse while a refresh runs."""

    home: Path
    stop: threading.Event = field(default_factory=threading.Event)
    direct: list[set[str]] = field(default_factory=list)
    cli: list[set[str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _direct(self) -> None:
        path = str(Paths(self.home).published_db)
        while not self.stop.is_set():
            try:
                con = duckdb.connect(path, read_only=True)
                try:
                    self.direct.append(builds_seen(con.execute(BUILDS_SQL).fetchall()))
                finally:
                    con.close()
            except Exception as err:  # noqa: BLE001 - every failure is a finding
                self.errors.append(f"duckdb: {type(err).__name__}: {err}")
            time.sleep(0.01)

    def _cli(self) -> None:
        while not self.stop.is_set():
            done = subprocess.run([*CLI, "sql", BUILDS_SQL, "--format", "json"], cwd=REPO_ROOT,
                                  env=cli_env(self.home), capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                self.errors.append(f"regiocode sql exit {done.returncode}: {done.stderr[-500:]}")
                continue
            try:
                self.cli.append(builds_seen([(r["mart"], r["build_id"]) for r in json.loads(done.stdout)]))
            except (AssertionError, ValueError, KeyError) as err:
                self.errors.append(f"regiocode sql output: {err}")

    def __enter__(self) -> Readers:
        self.threads = [threading.Thread(target=self._direct, daemon=True),
                        threading.Thread(target=self._cli, daemon=True)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=180)


def _descendant_dbt_target(pid: int) -> Path | None:
    """The DBT_TARGET_PATH of a running ``dbt build`` started by the refresh, if one runs."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pid:
                continue
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if any(part.endswith(b"dbt") for part in cmdline) and b"build" in cmdline:
                pairs = (proc / "environ").read_bytes().split(b"\0")
                environ = dict(item.split(b"=", 1) for item in pairs if b"=" in item)
                target = environ.get(b"DBT_TARGET_PATH")
                return Path(target.decode()) if target else Path("/nonexistent")
        except (OSError, ValueError):
            continue
    return None


def _dbt_writing_models(pid: int) -> bool:
    target = _descendant_dbt_target(pid)
    if target is None:
        return False
    if not target.is_absolute():
        target = REPO_ROOT / "dbt" / target
    return (target / "run").is_dir()


def _after_kill(home: Path, base_build: str) -> dict[str, object]:
    """What a reader and the next refresh find after a kill."""
    paths = Paths(home)
    state: dict[str, object] = {"published_build": published_build(home)}
    con = duckdb.connect(str(paths.published_db), read_only=True)
    try:
        state["published_rows"] = con.execute("SELECT count(*) FROM marts.defining_codes").fetchone()[0]
    finally:
        con.close()
    state["raw"] = raw_counts(home)
    state["tmp_files"] = sorted(p.name for p in paths.published_db.parent.glob("*.tmp"))
    state["base_build"] = base_build
    return state


@pytest.fixture(scope="module")
def scenario(base_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("crash")
    home = copy_home(base_home, root / "home")
    paths = Paths(home)
    seed_other_source(home)
    out: dict[str, object] = {
        "base_build": published_build(home), "raw_before": raw_counts(home),
        "published_digest": file_digest(paths.published_db),
    }
    for stage in ("ingest", "dbt", "publish"):
        marker = root / f"{stage}.marker"
        log = root / f"{stage}.log"
        hook = {} if stage == "dbt" else {"REGIOCODE_TEST_PAUSE_AT": f"{stage}:{marker}"}
        proc = start_refresh(home, log, **hook)
        try:
            if stage == "dbt":
                wait_for(lambda p=proc: _dbt_writing_models(p.pid), STAGE_TIMEOUT_S, "dbt writing models", proc)
            else:
                wait_for(marker.exists, STAGE_TIMEOUT_S, f"the {stage} pause marker", proc)
        finally:
            kill_group(proc)
        out[stage] = _after_kill(home, out["base_build"])
        out[f"{stage}_digest"] = file_digest(paths.published_db)
    log = root / "recovery.log"
    with Readers(home) as readers:
        time.sleep(1.0)  # readers see the old build first
        proc = start_refresh(home, log)
        text = finish(proc, log)
        time.sleep(1.0)  # and the new one after
    out["recovery"] = {"code": proc.returncode, "log": text, **_after_kill(home, out["base_build"])}
    out["readers"] = readers
    return out


@pytest.mark.parametrize("stage", ["ingest", "dbt", "publish"])
def test_kill_leaves_last_good_warehouse_and_keeps_imported_rows(scenario: dict, stage: str) -> None:
    after = scenario[stage]
    assert after["published_build"] == scenario["base_build"]  # still the last good build
    assert scenario[f"{stage}_digest"] == scenario["published_digest"]  # byte for byte
    assert after["published_rows"] > 2000  # and it opens and answers
    demo_rows, seeded = after["raw"]
    assert seeded == 3  # the other source's import survived
    assert demo_rows == scenario["raw_before"][0]  # the killed load rolled back: no row lost
    if stage == "publish":
        assert len(after["tmp_files"]) == 1  # killed with the copy written, before the rename


def test_next_refresh_completes_and_cleans_up(scenario: dict) -> None:
    recovery = scenario["recovery"]
    assert recovery["code"] == 0, recovery["log"][-3000:]
    assert recovery["published_build"] != scenario["base_build"]
    assert recovery["raw"] == scenario["raw_before"]  # nothing lost, nothing duplicated
    assert recovery["tmp_files"] == []  # the killed publish's half copy was removed


def test_readers_never_fail_and_see_one_build_per_query(scenario: dict) -> None:
    readers: Readers = scenario["readers"]
    assert readers.errors == []
    assert len(readers.direct) > 50 and len(readers.cli) >= 3
    for seen in readers.direct + readers.cli:
        assert len(seen) == 1  # every mart of one query comes from the same refresh
    builds = {next(iter(s)) for s in readers.direct}
    # The loop spanned the publication: it saw the old build and then the new one, nothing else.
    assert builds == {scenario["base_build"], scenario["recovery"]["published_build"]}
