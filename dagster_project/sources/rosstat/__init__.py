"""Rosstat: the yearbook «Регионы России. Социально-экономические показатели» (one xlsx/xls workbook per
section, any edition), Rosstat's thematic tables by region (legacy .xls) and EMISS exports, from a folder (the
``path`` setting), from URLs pulled on each refresh (``urls``), and from the inbox.

* :mod:`.tables` imports one workbook into the raw contract, :mod:`.batch` joins a refresh's files into one
  batch and its summary;
* :mod:`.workbook` opens workbooks safely and reads their document properties, :mod:`.layout` a sheet's
  structure, :mod:`.cells` cell conventions, :mod:`.titles` what a table is (title patterns of the mapping
  seed), :mod:`.rows` a table's territory rows, :mod:`.names` territory names, :mod:`.emiss` EMISS exports,
  :mod:`.release` the release a file states;
* :mod:`.pull` downloads workbooks (retries for network errors only, atomic writes, skip-if-unchanged, a
  release sidecar beside each download).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from dagster_project.seeds import read_seed
from dagster_project.sources.base import ImportBatch, SourceError, SourceRun
from dagster_project.sources.inbox import given_files, import_each_file, inbox_files, note_cached, require_files
from dagster_project.sources.rosstat.batch import build_batch, notes_of, summary_lines
from dagster_project.sources.rosstat.cache import CACHE_FOLDER, FileCache, importer_fingerprint
from dagster_project.sources.rosstat.pull import pull_rosstat_urls
from dagster_project.sources.rosstat.tables import (
    EXCEL_SUFFIXES,
    SOURCE,
    Catalog,
    FileResult,
    expand_paths,
    import_file,
    load_catalog,
)
from dagster_project.sources.rosstat.workbook import DEFAULT_MAX_UNCOMPRESSED_BYTES

__all__ = ["EXCEL_SUFFIXES", "MAPPING_SEED", "default_catalog", "expand_paths", "import_rosstat", "import_source",
           "load_catalog", "load_mapping", "load_regions", "pull_rosstat_urls"]

MAPPING_SEED = "indicator_sources_rosstat"
PULL_STATE = "rosstat_pull.json"  # under $REGIOCODE_HOME/state: URL -> sha256, path, etag, dates


def load_regions() -> pd.DataFrame:
    """The region register seed as strings (OKATO codes keep their leading zeros)."""
    return read_seed("regions")


def load_mapping() -> pd.DataFrame:
    """The Rosstat → catalog mapping seed (title patterns; ``scale`` as a number, 1 where empty)."""
    frame = read_seed(MAPPING_SEED)
    frame["scale"] = pd.to_numeric(frame["scale"].replace("", "1"), errors="coerce").fillna(1.0)
    return frame


def default_catalog(release_setting: str = "") -> Catalog:
    """The catalog from the seeds: register, mapping rules, unit conversions; ``release_setting`` for files
    that state no release."""
    return load_catalog(load_regions(), load_mapping(), read_seed("unit_conversions"), release_setting)


def _finish(results: list[FileResult], batch: ImportBatch) -> ImportBatch:
    built = build_batch(results)
    built.rejects = pd.concat([r for r in (built.rejects, batch.rejects) if len(r)], ignore_index=True) \
        if len(batch.rejects) else built.rejects
    built.notes = notes_of(results) + [n for n in batch.notes if n.startswith("file not imported")]
    built.summary = summary_lines(results, built)
    built.files = batch.files or built.files
    return built


def import_rosstat(paths: Iterable[Path], regions: pd.DataFrame | None = None, mapping: pd.DataFrame | None = None,
                   conversions: pd.DataFrame | None = None, *, release_setting: str = "",
                   max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES) -> ImportBatch:
    """Import Rosstat workbooks (files, or folders of them) into one :class:`ImportBatch` with its summary.

    ``regions``, ``mapping``, ``conversions`` default to the seeds (``regions``, ``indicator_sources_rosstat``,
    ``unit_conversions``). A file that cannot be read at all raises :class:`SourceError` naming it (the
    source's refresh quarantines it instead: :func:`import_source`).
    """
    catalog = load_catalog(load_regions() if regions is None else regions,
                           load_mapping() if mapping is None else mapping,
                           read_seed("unit_conversions") if conversions is None else conversions, release_setting)
    results = [import_file(path, catalog, max_uncompressed_bytes) for path in expand_paths(paths)]
    return _finish(results, ImportBatch(SOURCE, pd.DataFrame()))


def import_source(run: SourceRun) -> ImportBatch:
    """Everything Rosstat has for one refresh: the workbooks of the ``path`` setting, those the ``urls``
    setting (space-separated) pulls when they changed, and the inbox, each workbook imported on its own
    (or taken from the per-file cache when it is unchanged: :mod:`.cache`); files that state no release take
    the ``release`` setting.

    Raises :class:`SourceError` when there is no workbook at all, or none could be imported; a workbook that
    cannot be read is a reject with the reason (and leaves the inbox for quarantine). Nothing about a file's
    content is retried: only the URL pull retries, and only network errors.
    """
    files = given_files(run, expand_paths)
    urls = run.setting("urls").split()
    if urls:
        files += pull_rosstat_urls(urls, run.downloads, run.state / PULL_STATE)
    files += inbox_files(run.inbox, run.file_kinds)
    require_files(run, files)
    catalog = default_catalog(run.setting("release"))
    cache = FileCache(run.state / CACHE_FOLDER, importer_fingerprint(run.setting("release"),
                                                                     DEFAULT_MAX_UNCOMPRESSED_BYTES))
    results: list[FileResult] = []

    def one(path: Path) -> ImportBatch:
        results.append(cache.import_file(path, lambda p: import_file(p, catalog)))
        return ImportBatch(SOURCE, pd.DataFrame(), files=[path])

    batch = _finish(results, import_each_file(files, one, run))
    cache.prune()
    if cache.hits:
        batch.notes.append(f"{cache.hits} of {len(files)} files unchanged since they were imported: not read again")
        note_cached(cache.hits)
    if batch.observations.empty:
        raise SourceError("rosstat: none of the files could be imported: " + "; ".join(batch.notes[-5:]))
    return batch
