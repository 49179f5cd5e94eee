"""Shared test helpers: the repo root, the shared real-data folder (skipped clearly when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REGIOCODE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real statistics folder {SHARED_DATA} is absent (set REGIOCODE_SHARED_DATA to run these tests)")
    return SHARED_DATA
