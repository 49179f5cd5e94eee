"""The no-change path: `regiocode refresh` decides "nothing changed" from content hashes of its inputs and the
record of the last refresh (dagster_project/refresh_inputs.py) before it loads Dagster or dbt; anything that could
change the result runs the graph."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dagster_project import refresh_inputs
from dagster_project.settings import Paths

from .conftest import CLI, REPO_ROOT, cli_env, copy_home


def _fingerprint(home: Path, sources: list[str], given: dict[str, str] | None = None) -> str | None:
    return refresh_inputs.inputs_fingerprint(Paths(home), sources, given or {})


def test_fingerprint_follows_every_file_a_source_reads(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("region_code,indicator_code,year,value\nRU-MOW,population,2020,1\n")
    given = {"csv_path": str(data)}
    first = _fingerprint(home, ["csv"], given)
    assert first is not None and _fingerprint(home, ["csv"], given) == first
    (data / "a.csv").write_text("region_code,indicator_code,year,value\nRU-MOW,population,2020,2\n")
    changed = _fingerprint(home, ["csv"], given)
    assert changed != first
    inbox = Paths(home).inbox / "csv"
    inbox.mkdir(parents=True)
    (inbox / "b.csv").write_text("region_code,indicator_code,year,value\n")
    assert _fingerprint(home, ["csv"], given) not in (first, changed)
    assert _fingerprint(home, ["demo"]) != _fingerprint(home, ["demo", "csv"], given)


def test_a_source_that_pulls_or_an_always_build_cannot_be_judged(tmp_path: Path, monkeypatch) -> None:
    assert _fingerprint(tmp_path, ["eurostat"], {"eurostat_base_url": "https://example.org/api"}) is None
    assert _fingerprint(tmp_path, ["rosstat"], {"rosstat_urls": "https://example.org/a.xlsx"}) is None
    assert _fingerprint(tmp_path, ["demo"]) is not None
    monkeypatch.setenv("REGIOCODE_DBT_ALWAYS_BUILD", "1")
    assert _fingerprint(tmp_path, ["demo"]) is None


def _outputs(home: Path) -> Paths:
    paths = Paths(home)
    for path in (paths.work_db, paths.published_db,
                 refresh_inputs.briefings_manifest(paths)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("build 1")
    return paths


def test_the_record_holds_only_while_the_outputs_are_as_left(tmp_path: Path) -> None:
    paths = _outputs(tmp_path)
    meta = {"briefings": {"rendered": 3}}
    refresh_inputs.record_refresh(paths, "inputs-1", meta)
    record = refresh_inputs.unchanged_refresh(paths, "inputs-1")
    assert record is not None and record["metadata"] == meta
    assert refresh_inputs.unchanged_refresh(paths, "inputs-2") is None
    assert refresh_inputs.unchanged_refresh(paths, None) is None
    paths.work_db.write_text("build 1 + a Dagster run in between")
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is None
    refresh_inputs.record_refresh(paths, "inputs-1", meta)
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is not None
    (refresh_inputs.briefings_manifest(paths)).unlink()  # e.g. the briefings folder cleared
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is None


def test_a_failed_delivery_or_a_forgotten_record_runs_again(tmp_path: Path) -> None:
    paths = _outputs(tmp_path)
    refresh_inputs.record_refresh(paths, "inputs-1", {"briefing_delivery": {"configured": True, "failed": 1}})
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is None
    refresh_inputs.record_refresh(paths, "inputs-1", {"briefing_delivery": {"configured": True, "failed": 0}})
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is not None
    refresh_inputs.record_refresh(paths, None, {})
    assert not (paths.state / refresh_inputs.REFRESH_STATE).exists()
    assert refresh_inputs.unchanged_refresh(paths, "inputs-1") is None


def _refresh(home: Path, **env: str) -> subprocess.CompletedProcess:
    """`regiocode refresh` with Python's import log on stderr (``-X importtime``: one line per module)."""
    return subprocess.run([*CLI[:1], "-X", "importtime", *CLI[1:], "refresh", "--home", str(home)], cwd=REPO_ROOT,
                          env=cli_env(home, **env), capture_output=True, text=True, timeout=900, check=False)


def _imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.e2e
def test_unchanged_refresh_loads_neither_dagster_nor_dbt(base_home: Path, tmp_path: Path) -> None:
    home = copy_home(base_home, tmp_path / "home")
    first = _refresh(home)  # another home path: the inputs differ from the recorded ones, so the graph runs
    assert first.returncode == 0, first.stderr[-3000:]
    assert "dagster" in _imported(first.stderr)
    assert refresh_inputs.UNCHANGED not in first.stdout
    published = Paths(home).published_db.stat().st_mtime_ns
    second = _refresh(home)
    assert second.returncode == 0, second.stderr[-3000:]
    assert refresh_inputs.UNCHANGED in second.stdout.replace("\n", " ")
    # the table is the recorded refresh's, titled so; only its time is this run's
    assert second.stdout.index(refresh_inputs.UNCHANGED) < second.stdout.index("(nothing changed since)")
    assert "(nothing to do)" in second.stdout
    modules = _imported(second.stderr)
    assert not {"dagster", "dagster_dbt", "dbt"} & modules
    assert Paths(home).published_db.stat().st_mtime_ns == published
    third = _refresh(home, REGIOCODE_RENDER_WORKERS="1")  # a setting changed: the graph runs again
    assert third.returncode == 0, third.stderr[-3000:]
    assert "dagster" in _imported(third.stderr)
    assert refresh_inputs.UNCHANGED not in third.stdout.replace("\n", " ")
