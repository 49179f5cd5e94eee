"""Eurostat files someone downloaded or dropped in the inbox, in the raw contract.

:func:`import_eurostat_files` reads any format Eurostat has published (API TSV, retired bulk TSV, SDMX-CSV
1.0/2.0 with or without labels, JSON-stat 2.0; gzip or not), told apart by content. Files of datasets the
catalog does not map are imported all the same, without indicator codes. A download kept by :mod:`.pull`
carries a ``.meta.json`` sidecar (URL, dataset, release, retrieval time), which is read here so that
re-importing the download folder reproduces the rows; an analyst may write one by hand
(``{"release": "2024-04-25"}``) to state the release of a file that does not state it.

A file's modification time is never used: the release comes from the sidecar, the content or the format's era
(:func:`.mapping.release_of`), and ``retrieved_at`` is the sidecar's or the time of the import.

Every problem with a file's content raises :class:`~dagster_project.sources.base.SourceError` with one line
naming the file (and line): the caller quarantines that file and imports the others.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.sources.base import ImportBatch, SourceError
from dagster_project.sources.eurostat.mapping import LOG, UNDATED, make_batch, raw_from_bytes
from dagster_project.sources.eurostat.parsed import ContentError, parse_release_date
from dagster_project.sources.eurostat.pull import META_SUFFIX
from dagster_project.sources.eurostat.regions import RegionResolver
from dagster_project.sources.eurostat.rules import MappingRule, load_rules

_FILENAME_NOISE = re.compile(r"(_filtered|_(en|fr|de))+$")
# Python errors that can only come from a file's content reaching a reader in a way it did not foresee: they
# are reported as that file's problem (never retried), with the exception's own words.
CONTENT_ERRORS = (ValueError, KeyError, IndexError, TypeError, OverflowError, ArithmeticError, UnicodeError,
                  RecursionError)


def import_eurostat_files(
    paths: list[Path],
    mapping: pd.DataFrame,
    correspondence: pd.DataFrame,
    regions: pd.DataFrame | None = None,
) -> ImportBatch:
    """Import Eurostat files (a directory stands for the data files inside it) into one batch.

    ``mapping`` is the ``indicator_sources_eurostat`` seed, ``correspondence`` the ``nuts_correspondence``
    seed, ``regions`` the register (lets geo codes the register holds resolve to themselves; without it only
    the correspondence resolves). Raises :class:`SourceError` naming the first file that cannot be read; cells
    that cannot be used become rejects.
    """
    rules = load_rules(mapping)
    resolver = RegionResolver(correspondence, regions)
    retrieved = datetime.now(UTC).replace(tzinfo=None)
    observations, rejects, notes = [], [], []
    for path in expand_paths(paths):
        obs, rej, file_notes = _import_one(path, rules, resolver, retrieved)
        observations.append(obs)
        rejects.append(rej)
        notes.append(f"{path}: {len(obs)} observations, {len(rej)} rejects")
        notes.extend(file_notes)
    batch = make_batch(observations, rejects, notes)
    batch.notes.extend(undated_peers(batch.observations))
    return batch


def dataset_from_filename(path: Path) -> str | None:
    """``estat_nama_10r_3gdp.tsv.gz`` / ``nama_10r_2gdp.legacy2017.tsv`` -> the dataset code."""
    stem = path.name.split(".", 1)[0].lower().removeprefix("estat_")
    return _FILENAME_NOISE.sub("", stem) or None


def undated_peers(observations: pd.DataFrame) -> list[str]:
    """A warning per dataset imported from several files of which one or more state no release: their order
    is then the format's era, or unknown between two undated files of one era."""
    if observations.empty:
        return []
    origin_of, _ = pd.factorize(observations["origin"].to_numpy(dtype=object))
    first = np.unique(origin_of, return_index=True)[1]  # one row per file: its dataset and release
    files = observations.iloc[first][["dataset", "origin", "release"]]
    undated = files["release"].astype(str).str.startswith(UNDATED)
    counts = files.groupby("dataset")["origin"].nunique()
    notes = []
    for dataset in sorted(set(files.loc[undated, "dataset"])):
        if counts.get(dataset, 0) > 1:
            note = (f"{dataset}: {counts[dataset]} files hold this dataset and not all state their release; an API "
                    "file is ordered after a bulk download, two undated files of one kind in no known order. Write "
                    "a sidecar <file>.meta.json with {\"release\": \"YYYY-MM-DD\"} to state it")
            LOG.warning(note)
            notes.append(note)
    return notes


def _import_one(
    path: Path, rules: list[MappingRule], resolver: RegionResolver, retrieved: datetime
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    meta = _read_meta(path)
    try:
        obs, rej, notes, _ = raw_from_bytes(
            data,
            origin=meta.get("url") or str(path),
            rules=rules,
            resolver=resolver,
            dataset=meta.get("dataset"),
            fallback_dataset=dataset_from_filename(path),
            release=parse_release_date(meta.get("release")),
            retrieved_at=meta.get("retrieved_at") or retrieved,
            name=path.name,
        )
    except SourceError as exc:
        if meta.get("url"):  # the message names the URL; name the local file too
            raise ContentError(f"{path}: {exc}") from exc
        raise
    except CONTENT_ERRORS as exc:
        raise ContentError(f"{path}: cannot be read ({type(exc).__name__}: {str(exc)[:300]})") from exc
    except MemoryError as exc:
        raise ContentError(f"{path}: too large to read in the memory available; not imported") from exc
    return obs, rej, notes


def _read_meta(path: Path) -> dict:
    """The sidecar beside a download (URL, dataset, release, retrieved_at), if any."""
    meta_path = path.with_name(path.name + META_SUFFIX)
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as exc:
        raise ContentError(f"{meta_path}: unreadable download metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{meta_path}: download metadata is not a JSON object")
    if meta.get("release") and parse_release_date(meta["release"]) is None:
        raise ContentError(f"{meta_path}: release {meta['release']!r} is not a date (YYYY-MM-DD)")
    if meta.get("retrieved_at"):
        try:
            meta["retrieved_at"] = datetime.fromisoformat(str(meta["retrieved_at"]))
        except ValueError as exc:
            raise ContentError(f"{meta_path}: retrieved_at {meta['retrieved_at']!r} is not a date and time") from exc
    return meta


def expand_paths(paths: list[Path]) -> list[Path]:
    """The data files ``paths`` stand for: a file itself, a folder's files (recursively; hidden files and
    ``.meta.json`` sidecars left out), sorted by name."""
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
