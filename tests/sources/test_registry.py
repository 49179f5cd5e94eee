"""The source registry drives everything source-specific: the assets, the resource fields, the sensors, the
CLI's options and stage labels, and the dbt union of mapping seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dagster_project.settings import DBT_PROJECT_DIR, DEMO_LABEL, OFFICIAL_LABEL, Paths
from dagster_project.sources import registry


def test_dbt_var_source_mappings_equals_the_registry() -> None:
    """int_indicator_values loops over the dbt var: it must list exactly the registry's mapping seeds."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["source_mappings"] == registry.dbt_source_mappings()
    seeds = {path.stem for path in (DBT_PROJECT_DIR / "seeds").glob("*.csv")}
    assert {m["seed"] for m in registry.dbt_source_mappings()} <= seeds


def test_the_union_of_mapping_seeds_names_no_source() -> None:
    """Adding a source must not need the model edited: no source name is written in its SQL."""
    model = next(DBT_PROJECT_DIR.glob("models/**/int_indicator_values.sql")).read_text(encoding="utf-8")
    for source in registry.SOURCES:
        assert f"'{source.name}'" not in model


def test_every_source_has_an_asset_a_stage_and_resource_fields() -> None:
    from dagster_project.assets.ingest import SOURCE_ASSETS
    from dagster_project.cli import STAGE_NAMES
    from dagster_project.resources import RegiocodeResource

    fields = set(RegiocodeResource.model_fields)
    for source in registry.SOURCES:
        assert SOURCE_ASSETS[source.name].key.to_user_string() == f"{source.name}_source"
        assert STAGE_NAMES[f"{source.name}_source"] == f"ingest ({source.name})"
        assert {f"{source.name}_{s.name}" for s in source.settings} <= fields
        assert callable(source.import_source) and source.description


def test_settings_come_from_the_environment_by_the_naming_rule(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    from dagster_project.resources import RegiocodeResource

    monkeypatch.setenv("REGIOCODE_ROSSTAT_URLS", "https://a/1.xlsx https://a/2.xlsx")
    monkeypatch.setenv("REGIOCODE_EUROSTAT_BASE_URL", "https://mirror/api")
    resource = RegiocodeResource(home=str(tmp_path), sources=["rosstat"])
    run = resource.source_run("rosstat")
    assert run.setting("urls") == "https://a/1.xlsx https://a/2.xlsx" and run.setting("path") == ""
    assert run.inbox == tmp_path / "inbox" / "rosstat" and run.downloads == tmp_path / "downloads" / "rosstat"
    assert resource.source_run("eurostat").setting("base_url") == "https://mirror/api"
    assert "REGIOCODE_ROSSTAT_PATH" in run.feeds and "--set rosstat.urls=" in run.feeds


def test_data_label_of_a_build() -> None:
    assert registry.data_label(["demo", "rosstat"]) == DEMO_LABEL
    assert registry.data_label(["rosstat", "eurostat"]) == OFFICIAL_LABEL
    assert registry.data_label([]) == OFFICIAL_LABEL


def test_unknown_sources_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown source.*known: demo, rosstat"):
        registry.get("rosstatt")
    with pytest.raises(ValueError, match=r"unknown source\(s\) \['x'\]"):
        registry.check_names(["demo", "x"])


def test_a_source_run_holds_only_declared_settings(tmp_path: Path) -> None:
    run = registry.get("eurostat").run({"path": "/data", "urls": "ignored"}, Paths(tmp_path))
    assert dict(run.settings) == {"path": "/data", "base_url": ""}
    assert run.file_kinds == registry.get("eurostat").file_kinds
