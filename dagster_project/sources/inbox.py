"""Files a source imports: the ones its ``path`` setting names and the ones dropped into its inbox.

Shared by every file-based source (and by the inbox sensors, which watch the same files):

* :func:`inbox_files` — the files in ``$REGIOCODE_HOME/inbox/<source>/`` of the kinds the source
  accepts (Office lock files ``~$…``, hidden files, symbolic links and the ``quarantine/`` folder are never
  taken: a link could make the pipeline read, or move, a file outside the inbox);
* :func:`import_each_file` — imports each file on its own, so that one file that cannot be read — whatever
  the importer raised, a ``MemoryError`` included — becomes a reject (and, if it came from the inbox,
  moves to ``inbox/<source>/quarantine/`` with a ``.reason.txt``) while the others load; nothing already
  in the raw layer is touched by it;
* :func:`given_files` and :func:`require_files` — the ``path`` setting, and :class:`NothingToImport`,
  which says where the source's data could come from when there is none;
* :func:`file_report` — what happened to each file of one import (failed, where it went and why;
  links not followed), collected for the caller (the source asset) without the importer passing it on.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dagster_project.failures import one_line
from dagster_project.sources.base import ImportBatch, SourceError, SourceRun

QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason.txt"


class NothingToImport(SourceError):
    """The source was given no file, URL or API to read: nothing new to import (not a damaged input)."""


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be imported: why, and where it went (None: left where it was)."""

    path: Path
    reason: str
    moved_to: Path | None = None


@dataclass
class FileReport:
    """What happened to the files of one import (filled by :func:`import_each_file` and :func:`inbox_files`)."""

    imported: list[Path] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    links_skipped: list[Path] = field(default_factory=list)
    # of ``imported``: how many were taken from the source's per-file cache, not read again (:func:`note_cached`)
    cached: int = 0

    @property
    def all_failed(self) -> bool:
        """Whether files were tried and not one of them could be imported."""
        return bool(self.failed) and not self.imported

    def failures(self) -> str:
        """``"2 files quarantined (…/quarantine/): a.xlsx: reason; b.csv: reason"`` ('' when none failed)."""
        if not self.failed:
            return ""
        moved = [f for f in self.failed if f.moved_to is not None]
        count = f"{len(self.failed)} file{'s' if len(self.failed) > 1 else ''}"
        where = f" (moved to {moved[0].moved_to.parent}/ with a {REASON_SUFFIX})" if moved else ""
        verb = "quarantined" if len(moved) == len(self.failed) else "not imported"
        reasons = "; ".join(f"{f.path.name}: {_short(f)}" for f in self.failed)
        return f"{count} {verb}{where}: {reasons}. {remedy(self.failed)}"


def remedy(failed: list[FailedFile]) -> str:
    """What to do about ``failed`` files, in one sentence: a quarantined file comes back as a readable copy
    dropped into the inbox it was moved out of; a file named by the ``path`` setting is fixed where it is."""
    inboxes = sorted({str(f.moved_to.parent.parent) for f in failed if f.moved_to is not None})
    if inboxes:
        return (f"To import {'it' if len(failed) == 1 else 'them'}, put a readable copy into {', '.join(inboxes)}/ "
                "and refresh (what is quarantined is never read again)")
    return f"To import {'it' if len(failed) == 1 else 'them'}, replace the file with a readable copy and refresh"


def _short(failed: FailedFile) -> str:
    """The reason without the file's path in front (the list names the file already)."""
    for prefix in (str(failed.path), failed.path.name):
        if failed.reason.startswith(prefix + ":"):
            return failed.reason[len(prefix) + 1:].strip()
    return failed.reason


_REPORT: ContextVar[FileReport | None] = ContextVar("regiocode_file_report", default=None)


@contextmanager
def file_report() -> Iterator[FileReport]:
    """Collect, for the duration of the block, what :func:`import_each_file` and :func:`inbox_files` do."""
    report = FileReport()
    token = _REPORT.set(report)
    try:
        yield report
    finally:
        _REPORT.reset(token)


def note_cached(files: int) -> None:
    """Record that ``files`` of this import's files were unchanged since their last import and not read again."""
    _report().cached += files


def _report() -> FileReport:
    return _REPORT.get() or FileReport()


def inbox_files(inbox: Path, kinds: tuple[str, ...]) -> list[Path]:
    """The regular files in ``inbox`` whose name ends with one of ``kinds`` (case-insensitive), sorted by name.
    Symbolic links are not followed (they are listed in the :func:`file_report`)."""
    if not inbox.is_dir():
        return []
    files = []
    for path in sorted(inbox.iterdir()):
        if path.name.startswith(("~$", ".")) or not path.name.lower().endswith(kinds):
            continue
        if path.is_symlink():
            _report().links_skipped.append(path)
        elif path.is_file():
            files.append(path)
    return files


def snapshot(inbox: Path, kinds: tuple[str, ...]) -> dict[str, list[float]]:
    """File name → [size, mtime] of :func:`inbox_files`: what the sensors compare between ticks."""
    return {path.name: [path.stat().st_size, path.stat().st_mtime] for path in inbox_files(inbox, kinds)}


def given_files(run: SourceRun, expand: Callable[[list[Path]], list[Path]] = list) -> list[Path]:
    """The files of the source's ``path`` setting (a file, or a folder ``expand`` lists); [] when unset."""
    path = run.setting("path")
    return expand([Path(path)]) if path else []


def require_files(run: SourceRun, files: Iterable[object]) -> None:
    """Raise :class:`NothingToImport` saying where the source's data can come from when ``files`` is empty."""
    if not list(files):
        raise NothingToImport(f"{run.source}: nothing to import. Give it {run.feeds}")


def quarantine(path: Path, inbox: Path, reason: str) -> Path | None:
    """Move a file that could not be read out of the inbox into ``inbox/quarantine/``, with the reason beside
    it; returns where it went. None for a file given by the ``path`` setting (not ours to move), and when the
    quarantine would not be a folder inside the inbox (a link planted there is not followed)."""
    if inbox not in path.parents:
        return None
    target = inbox / QUARANTINE
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        return None
    target.mkdir(exist_ok=True)
    dest = target / path.name
    if os.path.lexists(dest) or os.path.lexists(_reason_file(dest)):
        # an earlier file of the same name stays: nothing quarantined is overwritten
        dest = target / f"{path.stem}.{datetime.now(UTC):%Y%m%dT%H%M%S%f}{path.suffix}"
    path.replace(dest)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(_reason_file(dest), flags, 0o644), "w", encoding="utf-8") as handle:
        handle.write(f"{reason}\n{remedy([FailedFile(path, reason, dest)])}.\n")
    return dest


def _reason_file(dest: Path) -> Path:
    return dest.with_name(dest.name + REASON_SUFFIX)


def file_reason(path: Path, err: BaseException) -> str:
    """Why ``path`` could not be imported, naming it: a :class:`SourceError` says so itself; anything else the
    importer raised (a parser's ``ValueError``, a ``KeyError``, a ``MemoryError``) is put in words."""
    if isinstance(err, SourceError) and str(path.name) in str(err):
        return one_line(err)
    return f"{path}: cannot be read ({one_line(err)})"


def import_each_file(files: list[Path], importer: Callable[[Path], ImportBatch], run: SourceRun) -> ImportBatch:
    """Import each file on its own with ``importer``: a file it cannot read — any exception, a ``MemoryError``
    included — becomes a ``raw.rejects`` row "file not imported: <reason>" and, from the inbox, moves to
    quarantine; the others load. The batch lists every file it was given in ``files``."""
    batches, failed = [], []
    report = _report()
    for path in files:
        try:
            batches.append(importer(path))
        except Exception as err:  # noqa: BLE001 - whatever one file does, it is that file's failure
            gc.collect()  # after a MemoryError, give back what the failed read held before the next file
            reason = file_reason(path, err)
            failed.append(FailedFile(path, reason, quarantine(path, run.inbox, reason)))
        else:
            report.imported.append(path)
    report.failed.extend(failed)
    batch = ImportBatch.concat(run.source, [*batches, rejects_of(failed, run.source)])
    batch.files = list(files)
    return batch


def rejects_of(failed: Iterable[FailedFile], source: str) -> ImportBatch:
    """A batch of the ``raw.rejects`` rows "file not imported: …" of ``failed`` files (notes: the same reasons)."""
    rows = [{"source": source, "origin": str(f.path), "cell_ref": None, "raw_value": None,
             "reason": f"file not imported: {f.reason}" + (f"; moved to {f.moved_to}" if f.moved_to else "")
             + f". {remedy([f])}",
             "retrieved_at": datetime.now(UTC)} for f in failed]
    return ImportBatch(source=source, observations=pd.DataFrame(), rejects=pd.DataFrame(rows),
                       notes=[row["reason"] for row in rows])
