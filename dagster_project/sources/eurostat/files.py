"""Eurostat files someone downloaded or dropped in the inbox, in the raw contract.

:func:`import_eurostat_files` reads any format Eurostat has published (API TSV, retired bulk TSV,
SDMX-CSV, JSON-stat; gzip or not). Files of datasets the catalog does not map are imported all the
same, without indicator codes. A download kept by :mod:`.pull` carries a ``.meta.json`` sidecar (URL,
dataset, release), which is read here so that re-importing the download folder reproduces the rows.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dagster_project.sources.base import ImportBatch, SourceError
from dagster_project.sources.eurostat.formats import parse_release_date
from dagster_project.sources.eurostat.mapping import (
    MappingRule,
    RegionResolver,
    load_rules,
    make_batch,
    raw_from_bytes,
)
from dagster_project.sources.eurostat.pull import META_SUFFIX

_FILENAME_NOISE = re.compile(r"(_filtered|_(en|fr|de))+$")


def import_eurostat_files(
    paths: list[Path],
    mapping: pd.DataFrame,
    correspondence: pd.DataFrame,
    regions: pd.DataFrame | None = None,
) -> ImportBatch:
    """Import Eurostat files (a directory stands for the data files inside it).

    ``mapping`` is the ``indicator_sources_eurostat`` seed, ``correspondence`` the
    ``nuts_correspondence`` seed, ``regions`` the register (optional: lets geo codes the register
    holds resolve to themselves and its aliases apply). A file that cannot be read at all raises
    :class:`SourceError` naming it; cells that cannot be used become rejects.
    """
    rules = load_rules(mapping)
    resolver = RegionResolver(correspondence, regions)
    observations, rejects, notes = [], [], []
    for path in _expand(paths):
        obs, rej, file_notes = _import_one(path, rules, resolver)
        observations.append(obs)
        rejects.append(rej)
        notes.append(f"{path}: {len(obs)} observations, {len(rej)} rejects")
        notes.extend(file_notes)
    return make_batch(observations, rejects, notes)


def dataset_from_filename(path: Path) -> str | None:
    """``estat_nama_10r_3gdp.tsv.gz`` / ``nama_10r_2gdp.legacy2017.tsv`` -> the dataset code."""
    stem = path.name.split(".", 1)[0].lower().removeprefix("estat_")
    return _FILENAME_NOISE.sub("", stem) or None


def _import_one(
    path: Path, rules: list[MappingRule], resolver: RegionResolver
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc})") from exc
    meta = _read_meta(path)
    retrieved = meta.get("retrieved_at")
    try:
        obs, rej, notes, _ = raw_from_bytes(
            data,
            origin=meta.get("url") or str(path),
            rules=rules,
            resolver=resolver,
            dataset=meta.get("dataset"),
            fallback_dataset=dataset_from_filename(path),
            release=parse_release_date(meta.get("release")),
            retrieved_at=datetime.fromisoformat(retrieved) if retrieved else _mtime(path),
        )
    except SourceError as exc:
        if meta.get("url"):  # the message names the URL; name the local file too
            raise SourceError(f"{path}: {exc}") from exc
        raise
    return obs, rej, notes


def _read_meta(path: Path) -> dict:
    """The sidecar :func:`pull_eurostat` writes beside a download (URL, release), if any."""
    meta_path = path.with_name(path.name + META_SUFFIX)
    if not meta_path.exists():
        return {}
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"{meta_path}: unreadable download metadata ({exc})") from exc


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.endswith(META_SUFFIX) and not p.name.startswith(".")
            )
        elif not path.name.endswith(META_SUFFIX):
            out.append(path)
    return out
