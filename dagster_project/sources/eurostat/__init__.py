"""Eurostat's regional statistics (NUTS): pulled from the dissemination API (the ``base_url`` setting),
and read from downloaded files (the ``path`` setting and the inbox).

* :mod:`.api` talks to the API (requests, retries, table of contents, data structures);
* :mod:`.pull` decides what to pull and keeps every download with a sidecar;
* :mod:`.files` imports downloaded files; :mod:`.formats` tells the formats apart by content and hands them
  to :mod:`.tsv` (API and bulk-download TSV), :mod:`.sdmx_csv` (SDMX-CSV 1.0 and 2.0, with or without labels)
  and :mod:`.jsonstat` (JSON-stat 2.0), which return :class:`.parsed.ParsedTable` s;
* :mod:`.mapping` turns parsed cells into the raw contract (values, flags, the release), with :mod:`.rules`
  (series keys, dimension defaults, which catalog rule takes a series) and :mod:`.regions` (geo codes through
  the NUTS correspondence);
* :mod:`.register` regenerates the NUTS rows of the region register from GISCO's NUTS code list.

Every observation is kept as published (value, flags, unit, geo code), with the register code (via
the ``nuts_correspondence`` seed) and the catalog indicator (via the mapping seed) added. A file whose content
cannot be read raises :class:`~dagster_project.sources.base.SourceError` with one line naming it, and is that
file's failure alone; only the API pull's network errors are retried (:mod:`.api`).
"""

from __future__ import annotations

from dagster_project.seeds import read_seed
from dagster_project.sources.base import ImportBatch, SourceRun
from dagster_project.sources.eurostat.api import DEFAULT_BASE_URL
from dagster_project.sources.eurostat.files import (
    dataset_from_filename,
    expand_paths,
    import_eurostat_files,
    undated_peers,
)
from dagster_project.sources.eurostat.pull import META_SUFFIX, pull_eurostat
from dagster_project.sources.inbox import given_files, import_each_file, inbox_files, require_files

__all__ = ["DEFAULT_BASE_URL", "FILE_KINDS", "MAPPING_SEED", "META_SUFFIX", "dataset_from_filename",
           "import_eurostat_files", "import_source", "pull_eurostat"]

MAPPING_SEED = "indicator_sources_eurostat"
FILE_KINDS = (".tsv", ".csv", ".json", ".gz", ".xml")
PULL_STATE = "eurostat.json"  # under $REGIOCODE_HOME/state: per dataset, the release last imported


def import_source(run: SourceRun) -> ImportBatch:
    """Everything Eurostat has for one refresh: the datasets of the mapping seed pulled from the API when
    ``base_url`` is set (only those whose last update changed), and the files of the ``path`` setting (a
    file, or every data file in a folder) and of the inbox, each imported on its own: a file that cannot be
    read is that file's reject (and, from the inbox, moves to quarantine) while the others load.

    Raises :class:`~dagster_project.sources.base.SourceError` when there is nothing to import, or when a
    pull fails (nothing of a dataset that failed is written).
    """
    mapping, correspondence, regions = read_seed(MAPPING_SEED), read_seed("nuts_correspondence"), read_seed("regions")
    batches: list[ImportBatch] = []
    base_url = run.setting("base_url")
    if base_url:
        pulled, _ = pull_eurostat(mapping, correspondence, base_url, run.state / PULL_STATE, run.downloads,
                                  regions=regions)
        batches.append(pulled)
    files = given_files(run, expand_paths) + inbox_files(run.inbox, run.file_kinds)
    if files:
        batches.append(import_each_file(
            files, lambda path: import_eurostat_files([path], mapping, correspondence, regions), run))
    require_files(run, batches)
    batch = ImportBatch.concat("eurostat", batches)
    batch.notes.extend(undated_peers(batch.observations))
    return batch
