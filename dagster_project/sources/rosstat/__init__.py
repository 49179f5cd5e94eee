"""Rosstat's yearbook «Регионы России. Социально-экономические показатели»: one xlsx/xls workbook per
section, from a folder (the ``path`` setting), from URLs pulled on each refresh (``urls``), and from
the inbox.

* :mod:`.tables` imports workbooks into the raw contract (the table logic);
* :mod:`.layout` reads one sheet's structure, :mod:`.cells` opens workbooks safely and reads cells,
  :mod:`.names` resolves territory names to the register;
* :mod:`.pull` downloads workbooks (retries, atomic writes, skip-if-unchanged).
"""

from __future__ import annotations

from dagster_project.sources.base import ImportBatch, SourceError, SourceRun, date_yearly_releases
from dagster_project.sources.inbox import given_files, import_each_file, inbox_files, require_files
from dagster_project.sources.rosstat.pull import pull_rosstat_urls
from dagster_project.sources.rosstat.tables import (
    EXCEL_SUFFIXES,
    MAPPING_SEED,
    expand_paths,
    import_rosstat,
    load_mapping,
    load_regions,
)

__all__ = ["EXCEL_SUFFIXES", "MAPPING_SEED", "expand_paths", "import_rosstat", "import_source", "load_mapping",
           "load_regions", "pull_rosstat_urls"]

PULL_STATE = "rosstat_pull.json"  # under $REGIOCODE_HOME/state: URL -> sha256, path, etag, dates


def import_source(run: SourceRun) -> ImportBatch:
    """Everything Rosstat has for one refresh: the workbooks of the ``path`` setting, those the ``urls``
    setting (space-separated) pulls when they changed, and the inbox, each workbook imported on its own.

    Raises :class:`SourceError` when there is no workbook at all, or none could be imported; a
    workbook that cannot be read is a reject (and leaves the inbox for quarantine).
    """
    files = given_files(run, expand_paths)
    urls = run.setting("urls").split()
    if urls:
        files += pull_rosstat_urls(urls, run.downloads, run.state / PULL_STATE)
    files += inbox_files(run.inbox, run.file_kinds)
    require_files(run, files)
    regions, mapping = load_regions(), load_mapping()
    batch = import_each_file(files, lambda path: import_rosstat([path], regions, mapping), run)
    batch = date_yearly_releases(batch)
    if batch.observations.empty:
        raise SourceError("rosstat: none of the files could be imported: " + "; ".join(batch.notes[-5:]))
    return batch
