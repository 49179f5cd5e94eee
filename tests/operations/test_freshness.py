"""Freshness checks on the source assets: pass after an import, fail (warn) when the last import is
older than REGIOCODE_SOURCE_MAX_AGE_DAYS."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, AssetSelection, DagsterInstance, materialize

from dagster_project.assets.ingest import SOURCE_ASSETS
from dagster_project.checks import freshness_checks
from dagster_project.resources import RegiocodeResource


def _evaluate(instance: DagsterInstance, checks: list, home: Path):
    result = materialize([SOURCE_ASSETS["demo"], *checks], selection=AssetSelection.checks(*checks),
                         instance=instance, resources={"regiocode": RegiocodeResource(home=str(home))},
                         raise_on_error=False)
    return {e.event_specific_data.asset_key.to_user_string(): e.event_specific_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_source_freshness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with DagsterInstance.ephemeral() as instance:
        loaded = materialize([SOURCE_ASSETS["demo"]], instance=instance,
                             resources={"regiocode": RegiocodeResource(home=str(tmp_path))})
        assert loaded.success
        fresh = _evaluate(instance, freshness_checks([SOURCE_ASSETS["demo"]]), tmp_path)
        assert fresh["demo_source"].passed
        monkeypatch.setenv("REGIOCODE_SOURCE_MAX_AGE_DAYS", str(1 / 86400 / 1000))  # older than 1 ms is stale
        stale = _evaluate(instance, freshness_checks([SOURCE_ASSETS["demo"]]), tmp_path)
        assert not stale["demo_source"].passed
        assert stale["demo_source"].severity == AssetCheckSeverity.WARN  # warns, never blocks a refresh
