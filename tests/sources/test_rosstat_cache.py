"""Rosstat's per-file import cache (sources/rosstat/cache.py) on real yearbook sections: an unchanged file is
not read again and gives the very batch a fresh import gives; a new section beside cached ones gives the batch
of importing both; a changed sidecar, file or seed makes a new key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.assets.ingest import import_summary
from dagster_project.settings import Paths
from dagster_project.sources import registry
from dagster_project.sources.inbox import file_report
from dagster_project.sources.rosstat import import_rosstat, import_source
from dagster_project.sources.rosstat.cache import CACHE_FOLDER, file_key, importer_fingerprint
from dagster_project.warehouse import LoadResult

GRP = "Раздел 8 - Валовой региональный продукт.xlsx"
FIXED_ASSETS = "Раздел 9 - Основные фонды.xlsx"


@pytest.fixture()
def yearbook(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "yearbook"
    folder.mkdir()
    source = shared_data / "rosstat" / "regions_of_russia_2023"
    if not (source / GRP).is_file():
        pytest.skip(f"{source / GRP} is absent")
    shutil.copy2(source / GRP, folder / GRP)  # copy2 keeps the modification time (retrieved_at)
    return folder


def _refresh(home: Path, folder: Path):
    return import_source(registry.get("rosstat").run({"path": str(folder)}, Paths(home)))


def _same(left, right) -> None:
    pd.testing.assert_frame_equal(left.observations, right.observations)
    pd.testing.assert_frame_equal(left.rejects, right.rejects)
    assert left.summary == right.summary


def test_unchanged_file_comes_from_the_cache_with_the_same_batch(yearbook: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _refresh(home, yearbook)
    entries = list((home / "state" / CACHE_FOLDER).glob("*.pickle"))
    assert len(entries) == 1
    assert not any("unchanged since" in note for note in first.notes)
    second = _refresh(home, yearbook)
    assert "1 of 1 files unchanged since they were imported: not read again" in second.notes
    _same(first, second)
    assert len(second.observations) > 0


def test_new_section_beside_a_cached_one_gives_the_batch_of_importing_both(yearbook: Path, shared_data: Path,
                                                                         tmp_path: Path) -> None:
    home = tmp_path / "home"
    _refresh(home, yearbook)
    shutil.copy2(shared_data / "rosstat" / "regions_of_russia_2023" / FIXED_ASSETS, yearbook / FIXED_ASSETS)
    with file_report() as files:
        incremental = _refresh(home, yearbook)
    assert "1 of 2 files unchanged since they were imported: not read again" in incremental.notes
    # the refresh's ingest line says how many files were read
    line = import_summary(LoadResult(len(incremental.observations), len(incremental.rejects), 0), incremental, files)
    assert line.startswith(f"{len(incremental.observations)} rows from 2 files (1 read, 1 unchanged since imported: "
                           "not read again); ")
    whole = import_rosstat([yearbook])
    pd.testing.assert_frame_equal(incremental.observations, whole.observations)
    pd.testing.assert_frame_equal(incremental.rejects, whole.rejects)
    assert incremental.summary == whole.summary
    assert set(incremental.observations["origin"].astype(str)) == {str(yearbook / GRP), str(yearbook / FIXED_ASSETS)}


def test_a_sidecar_a_touched_file_or_another_seed_makes_a_new_key(yearbook: Path, tmp_path: Path) -> None:
    path = yearbook / GRP
    shared = importer_fingerprint("", 1 << 30)
    key = file_key(path, shared)
    assert file_key(path, shared) == key
    assert file_key(path, importer_fingerprint("2024-01-01", 1 << 30)) != key  # the release setting
    seeds = tmp_path / "seeds"
    shutil.copytree(Path(__file__).resolve().parents[2] / "dbt" / "seeds", seeds)
    with (seeds / "unit_conversions.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert file_key(path, importer_fingerprint("", 1 << 30, seeds)) != key  # a catalog seed
    path.with_name(path.name + ".release.json").write_text(json.dumps({"release": "2023"}), encoding="utf-8")
    with_sidecar = file_key(path, shared)
    assert with_sidecar != key
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # retrieved_at changes
    assert file_key(path, shared) not in (key, with_sidecar)


def test_entries_of_files_no_longer_imported_are_removed(yearbook: Path, shared_data: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copy2(shared_data / "rosstat" / "regions_of_russia_2023" / FIXED_ASSETS, yearbook / FIXED_ASSETS)
    _refresh(home, yearbook)
    assert len(list((home / "state" / CACHE_FOLDER).glob("*.pickle"))) == 2
    (yearbook / FIXED_ASSETS).unlink()
    _refresh(home, yearbook)
    assert len(list((home / "state" / CACHE_FOLDER).glob("*.pickle"))) == 1


def test_a_damaged_entry_is_ignored_and_the_file_imported(yearbook: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _refresh(home, yearbook)
    (entry,) = (home / "state" / CACHE_FOLDER).glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    again = _refresh(home, yearbook)
    assert not any("unchanged since" in note for note in again.notes)
    _same(first, again)
