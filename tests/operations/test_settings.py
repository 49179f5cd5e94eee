"""One owner per setting: the environment is read in ``settings.py`` (nowhere else in the package), every
setting is documented in the README, the CLI honours the source settings of the environment, and dbt gets
its working warehouse from a profile written per home, not from this process's environment."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import yaml

from dagster_project import settings
from dagster_project.sources import registry

PACKAGE = Path(settings.__file__).parent
README = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")


def _modules_matching(pattern: str) -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if re.search(pattern, path.read_text(encoding="utf-8")):
            found.add(path.relative_to(PACKAGE.parent).as_posix())
    return found


def test_the_environment_is_read_in_settings_only() -> None:
    assert _modules_matching(r"os\.environ|getenv") == {"dagster_project/settings.py"}


def test_the_default_home_is_written_once() -> None:
    assert _modules_matching(r"""["']var["']""") == {"dagster_project/settings.py"}


def test_every_setting_is_in_the_readme() -> None:
    names = [s.env for s in settings.ALL_SETTINGS]
    names += [source.env(s) for source in registry.SOURCES for s in source.settings]
    names.append(settings.SMTP_ENV_PREFIX)
    missing = [name for name in names if name not in README]
    assert missing == []


def test_values_follow_the_environment_and_bad_ones_name_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("REGIOCODE_HOME", str(tmp_path))
    monkeypatch.setenv("REGIOCODE_SOURCES", " rosstat, eurostat ,")
    monkeypatch.setenv("REGIOCODE_RENDER_WORKERS", "")  # empty = unset: the default
    assert settings.Paths.from_env().work_db == tmp_path / "work" / "regiocode.duckdb"
    assert settings.sources() == ["rosstat", "eurostat"] and settings.render_workers() == 0
    monkeypatch.setenv("REGIOCODE_RENDER_WORKERS", "two")
    with pytest.raises(settings.SettingError, match="REGIOCODE_RENDER_WORKERS='two': expected a number"):
        settings.render_workers()
    monkeypatch.setenv("REGIOCODE_MAX_ROW_DROP", "1")
    assert settings.max_row_drop(0.25) == 1.0


def test_the_cli_honours_source_settings_of_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`REGIOCODE_ROSSTAT_PATH=… REGIOCODE_EUROSTAT_PATH=… regiocode refresh --source rosstat --source eurostat`
    imports both (it said "nothing to import" when the CLI passed empty paths over the environment)."""
    from dagster_project.cli import parse_source_settings
    from dagster_project.resources import RegiocodeResource

    rosstat, eurostat = tmp_path / "rosstat", tmp_path / "eurostat"
    rosstat.mkdir(), eurostat.mkdir()
    monkeypatch.setenv("REGIOCODE_ROSSTAT_PATH", str(rosstat))
    monkeypatch.setenv("REGIOCODE_EUROSTAT_PATH", str(eurostat))
    sources = ["rosstat", "eurostat"]
    resource = RegiocodeResource(home=str(tmp_path), sources=sources, **parse_source_settings(sources))
    assert resource.source_run("rosstat").setting("path") == str(rosstat)
    assert resource.source_run("eurostat").setting("path") == str(eurostat)


def test_each_named_source_gets_its_own_path(tmp_path: Path) -> None:
    from dagster_project.cli import parse_source_settings

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    given = parse_source_settings(["rosstat", "eurostat"], [f"rosstat={a}", f"eurostat={b}"],
                                  ["rosstat.urls=https://x/1.xlsx"], base_url="https://mirror/api")
    assert given == {"rosstat_path": str(a), "eurostat_path": str(b), "rosstat_urls": "https://x/1.xlsx",
                     "eurostat_base_url": "https://mirror/api"}
    assert parse_source_settings(["demo", "rosstat"], [str(a)]) == {"rosstat_path": str(a)}  # one reads a path
    with pytest.raises(ValueError, match="several named sources read a path; say which"):
        parse_source_settings(["rosstat", "eurostat"], [str(a)])
    with pytest.raises(ValueError, match="none of the named sources"):
        parse_source_settings(["demo"], [str(a)])
    with pytest.raises(ValueError, match="does not exist"):
        parse_source_settings(["rosstat"], [str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="eurostat is not among the sources"):
        parse_source_settings(["rosstat"], [f"eurostat={a}"])
    with pytest.raises(ValueError, match="has no setting 'url'"):
        parse_source_settings(["eurostat"], sets=["eurostat.url=x"])


def test_dbt_is_the_one_beside_the_interpreter_whatever_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert settings.dbt_executable() == str(Path(sys.executable).with_name("dbt"))


def test_the_dbt_profile_is_written_per_home_without_touching_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    from dagster_project.assets.dbt import write_profile

    monkeypatch.setenv("REGIOCODE_DUCKDB_MEMORY_LIMIT", "3GB")
    before = dict(os.environ)
    paths = settings.Paths(tmp_path)
    folder = write_profile(paths)
    profile = yaml.safe_load((folder / "profiles.yml").read_text(encoding="utf-8"))
    output = profile["regiocode"]["outputs"][profile["regiocode"]["target"]]
    assert output["path"] == str(paths.work_db) and output["settings"]["memory_limit"] == "3GB"
    assert output["threads"] == 2  # the rest as the project sets it
    assert dict(os.environ) == before
