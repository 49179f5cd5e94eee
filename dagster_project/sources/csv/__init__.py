"""Analysts' own series and survey results, as plain long-format tables: CSV or Parquet files with one row
per region, indicator and year (``region_code, indicator_code, year, value[, flag, unit, release]``),
from a file or folder (the ``path`` setting) and the inbox ``$REGIOCODE_HOME/inbox/csv/``.

Rows are checked one by one (:mod:`.table`): an unknown region, a flag outside the contract's, a value
that is not a finite number become rejects with file, row and reason; indicator codes the catalog does
not have are kept, unmapped. Values are taken in the catalog unit (there is no mapping seed to scale
them). The release comes from the ``release`` column, a ``<file>.meta.json`` sidecar or the ``release``
setting, never from the file's modification time.
"""

from __future__ import annotations

from pathlib import Path

from dagster_project.seeds import read_seed
from dagster_project.sources.base import ImportBatch, SourceError, SourceRun
from dagster_project.sources.csv.table import META_SUFFIX, Reference, import_table, release_date
from dagster_project.sources.inbox import given_files, import_each_file, inbox_files, require_files

__all__ = ["DATA_LABEL", "FILE_KINDS", "META_SUFFIX", "expand_paths", "import_source", "import_table",
           "load_reference", "release_date"]

FILE_KINDS = (".csv", ".parquet")
DATA_LABEL = "analyst data"


def load_reference() -> Reference:
    """The register's region codes and the catalog's unit per indicator, from the seeds."""
    regions, catalog = read_seed("regions"), read_seed("indicators")
    return Reference(region_codes=frozenset(regions["region_code"]),
                     catalog_units=dict(zip(catalog["indicator_code"], catalog["unit"], strict=True)))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for its ``.csv`` and ``.parquet`` files (sorted, hidden ones skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(FILE_KINDS)
                                and not p.name.startswith((".", "~$"))))
        else:
            files.append(path)
    return files


def import_source(run: SourceRun) -> ImportBatch:
    """The files of the ``path`` setting and of the inbox, each imported on its own (a file that cannot be
    read is a reject, and leaves the inbox for quarantine); rows without a release take the ``release``
    setting. Raises :class:`SourceError` when there is no file, or no row could be imported."""
    files = given_files(run, expand_paths) + inbox_files(run.inbox, run.file_kinds)
    require_files(run, files)
    reference = load_reference()
    batch = import_each_file(files, lambda path: import_table(path, reference, run.setting("release")), run)
    if batch.observations.empty:
        problems = [f"{r.origin} {r.cell_ref or ''}: {r.reason}" for r in batch.rejects.head(5).itertuples()]
        raise SourceError("csv: no row of the files could be imported: " + "; ".join(problems or batch.notes[-5:]))
    return batch
