"""dbt re-uses its parse from one build to the next in the same home (dagster_project/assets/dbt.py): the
per-build values (build id, data label, active sources) reach the models by environment, not as vars, and the
home keeps the parse of its last build. Real refreshes (subprocess, demo data, real dbt), forced to build."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from dagster_project import settings
from dagster_project.assets.dbt import LEGACY_BUILDS, prune_builds
from dagster_project.settings import DEMO_LABEL, Paths
from tests.operations.conftest import published_build, run_refresh

REPARSE = "Unable to do partial parsing"


def _dbt_log(home: Path, build_id: str) -> str:
    """The dbt log of the build ``build_id`` (its folder is named after the run id's first 7 digits)."""
    folders = sorted(Paths(home).dbt_builds.glob(f"regiocode_dbt_assets-{build_id[:7]}-*"))
    assert len(folders) == 1, folders
    return (folders[0] / "dbt.log").read_text(errors="replace")


def test_a_second_build_in_a_home_reuses_the_parse_and_carries_its_own_build_id(home_copy: Path,
                                                                                 tmp_path: Path) -> None:
    builds = []
    for run in ("first", "second"):
        code, text = run_refresh(home_copy, tmp_path / f"{run}.log", REGIOCODE_DBT_ALWAYS_BUILD="1")
        assert code == 0, text[-3000:]
        builds.append(published_build(home_copy))
    first, second = builds
    assert first != second
    # The copied home's last parse named the original home's warehouse in its profile: the first build
    # parses again for that reason only (not because of the vars); the second re-uses the first's parse.
    reasons = [line for line in _dbt_log(home_copy, first).splitlines() if REPARSE in line]
    assert reasons and all("profile has changed" in line for line in reasons), reasons
    assert REPARSE not in _dbt_log(home_copy, second)
    assert (Paths(home_copy).dbt_profiles / "partial_parse.msgpack").is_file()
    # Every mart carries the second build's id and label, read from the environment at compile time.
    con = duckdb.connect(str(Paths(home_copy).published_db), read_only=True)
    try:
        for mart in ("build_info", "defining_codes", "basic_code", "strategy"):
            assert con.execute(f"SELECT list(DISTINCT build_id), list(DISTINCT data_label) FROM marts.{mart}"
                               ).fetchone() == ([second], [DEMO_LABEL]), mart
    finally:
        con.close()


def test_old_build_folders_are_pruned_but_never_the_newest_the_running_or_a_recent_one(tmp_path: Path) -> None:
    """Every build writes a folder (compiled SQL, manifest, run results, dbt.log: ~5 MB) into the home; a monthly
    or daily schedule must not fill the disk with them."""
    now = 1_000_000_000.0
    ages_h = {f"b{i:02d}": 10.0 + i for i in range(9)}  # b00 newest … b08 oldest, all older than an hour
    ages_h.update(recent=0.5, running=50.0)  # a concurrent run's young build; this run's own (kept by name)
    for name, hours in ages_h.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "dbt.log").write_text("x")
        os.utime(folder, (now - hours * 3600, now - hours * 3600))
    (tmp_path / "not-a-build.txt").write_text("files are left alone")

    removed = prune_builds(tmp_path, keep={"running"}, now=now)

    assert settings.KEEP_DBT_BUILDS == 5
    # Newest first: recent, b00..b03 are the five newest; b04..b08 and "running" are older, "running" is kept.
    assert sorted(p.name for p in removed) == ["b04", "b05", "b06", "b07", "b08"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b00", "b01", "b02", "b03", "not-a-build.txt",
                                                          "recent", "running"]
    assert prune_builds(tmp_path / "missing") == []


def test_build_folders_left_in_the_dbt_project_by_earlier_versions_are_removed(tmp_path: Path) -> None:
    """Before builds moved into the home, dagster-dbt left them in dbt/target beside the start-up parse: those
    folders go (but not the parse's own files and folders, nor a build younger than an hour)."""
    now = 1_000_000_000.0
    for name, hours in {"regiocode_dbt_assets-abc1234-0000001": 30.0, "regiocode_dbt_assets-abc1235-0000002": 0.2,
                        "compiled": 30.0, "regiocode_parse_profile": 30.0}.items():
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - hours * 3600, now - hours * 3600))
    (tmp_path / "manifest.json").write_text("{}")

    removed = prune_builds(tmp_path, pattern=LEGACY_BUILDS, keep_newest=0, now=now)

    assert [p.name for p in removed] == ["regiocode_dbt_assets-abc1234-0000001"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compiled", "manifest.json",
                                                          "regiocode_dbt_assets-abc1235-0000002",
                                                          "regiocode_parse_profile"]
