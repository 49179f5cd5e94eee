"""Files a source imports: the ones its ``path`` setting names and the ones dropped into its inbox.

Shared by every file-based source (and by the inbox sensors, which watch the same files):

* :func:`inbox_files` — the files in ``$REGIOCODE_HOME/inbox/<source>/`` of the kinds the source
  accepts (Office lock files ``~$…``, hidden files and the ``quarantine/`` folder are never taken);
* :func:`import_each_file` — imports each file on its own, so that one damaged file becomes a reject
  (and, if it came from the inbox, moves to ``inbox/<source>/quarantine/`` with a ``.reason.txt``)
  while the others load; nothing already in the raw layer is touched by it;
* :func:`given_files` and :func:`require_files` — the ``path`` setting, and the error that says where
  the source's data could come from when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dagster_project.sources.base import ImportBatch, SourceError, SourceRun

QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason.txt"


def inbox_files(inbox: Path, kinds: tuple[str, ...]) -> list[Path]:
    """The files in ``inbox`` whose name ends with one of ``kinds`` (case-insensitive), sorted by name."""
    if not inbox.is_dir():
        return []
    return sorted(
        path for path in inbox.iterdir()
        if path.is_file() and path.name.lower().endswith(kinds) and not path.name.startswith(("~$", "."))
    )


def snapshot(inbox: Path, kinds: tuple[str, ...]) -> dict[str, list[float]]:
    """File name → [size, mtime] of :func:`inbox_files`: what the sensors compare between ticks."""
    return {path.name: [path.stat().st_size, path.stat().st_mtime] for path in inbox_files(inbox, kinds)}


def given_files(run: SourceRun, expand: Callable[[list[Path]], list[Path]] = list) -> list[Path]:
    """The files of the source's ``path`` setting (a file, or a folder ``expand`` lists); [] when unset."""
    path = run.setting("path")
    return expand([Path(path)]) if path else []


def require_files(run: SourceRun, files: Iterable[object]) -> None:
    """Raise :class:`SourceError` saying where the source's data can come from when ``files`` is empty."""
    if not list(files):
        raise SourceError(f"{run.source}: nothing to import. Give it {run.feeds}")


def quarantine(path: Path, inbox: Path, reason: str) -> Path | None:
    """Move a file that could not be read out of the inbox, with the reason beside it; returns where it
    went (None for a file given by the ``path`` setting, which is not ours to move)."""
    if inbox not in path.parents:
        return None
    target = inbox / QUARANTINE
    target.mkdir(exist_ok=True)
    dest = target / path.name
    if dest.exists():  # an earlier file of the same name stays: nothing quarantined is overwritten
        dest = target / f"{path.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S%f}{path.suffix}"
    path.replace(dest)
    dest.with_name(dest.name + REASON_SUFFIX).write_text(reason + "\n", encoding="utf-8")
    return dest


def import_each_file(files: list[Path], importer: Callable[[Path], ImportBatch], run: SourceRun) -> ImportBatch:
    """Import each file on its own with ``importer``: a file it cannot read (:class:`SourceError`) becomes a
    ``raw.rejects`` row "file not imported: <reason>" and, from the inbox, moves to quarantine; the
    others load. The batch lists every file it was given in ``files``."""
    batches, failures = [], []
    for path in files:
        try:
            batches.append(importer(path))
        except SourceError as err:
            moved = quarantine(path, run.inbox, str(err))
            reason = f"file not imported: {err}" + (f"; moved to {moved}" if moved else "")
            failures.append({"source": run.source, "origin": str(path), "cell_ref": None, "raw_value": None,
                             "reason": reason, "retrieved_at": datetime.now(UTC)})
    failed = ImportBatch(source=run.source, observations=pd.DataFrame(), rejects=pd.DataFrame(failures),
                         notes=[f["reason"] for f in failures])
    batch = ImportBatch.concat(run.source, [*batches, failed])
    batch.files = list(files)
    return batch
