"""Unchanged workbooks are not read again: each file's import (:class:`~.tables.FileResult`, before the batch
joins the files) is kept under ``$REGIOCODE_HOME/state/rosstat_files/<key>.pickle``.

The key is a sha256 of everything the import of one file depends on: the file's bytes, its path (the
``origin`` of its rows), its modification time (``retrieved_at`` when no sidecar states one), its
``.release.json`` sidecar, the catalog it was mapped with (the seeds ``regions``, ``indicator_sources_rosstat``
and ``unit_conversions``, the ``release`` setting), the size limit, and the importer's own code. A file
whose key has an entry is taken from it (the 2023 yearbook's 22 files: ~5.5 s to import, a fraction of a
second to load); any change to any of these makes a new key, so the file is imported again. Entries of
files no longer imported are removed after each refresh. An entry that cannot be read is ignored (the
file is imported), never an error.

The batch-wide steps (one date per edition, no cell twice, the summary) run on every file's result each
time (:mod:`.batch`), so a new section dropped beside cached ones gives the same batch as importing all.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

from dagster_project.files import write_atomic
from dagster_project.settings import SEEDS_DIR

from .release import sidecar_path
from .tables import FileResult

CACHE_FOLDER = "rosstat_files"
CATALOG_SEEDS = ("regions", "indicator_sources_rosstat", "unit_conversions")


def importer_fingerprint(release_setting: str, max_uncompressed_bytes: int, seeds_dir: Path = SEEDS_DIR) -> str:
    """What every file's import shares: the importer's code, the catalog's seeds, the settings (hex sha256)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for seed in CATALOG_SEEDS:
        digest.update(seed.encode() + b"\0" + (seeds_dir / f"{seed}.csv").read_bytes())
    digest.update(f"{release_setting}\0{max_uncompressed_bytes}".encode())
    return digest.hexdigest()


def file_key(path: Path, shared: str) -> str:
    """The cache key of one file's import under the importer fingerprint ``shared`` (module doc)."""
    digest = hashlib.sha256(shared.encode())
    digest.update(f"{path}\0{path.stat().st_mtime_ns}\0".encode())
    with path.open("rb") as handle:
        digest.update(hashlib.file_digest(handle, "sha256").digest())
    sidecar = sidecar_path(path)
    digest.update(sidecar.read_bytes() if sidecar.is_file() else b"no sidecar")
    return digest.hexdigest()


class FileCache:
    """The per-file import cache of one home (``folder``), for imports sharing one importer fingerprint."""

    def __init__(self, folder: Path, shared: str) -> None:
        self.folder = folder
        self.shared = shared
        self.used: set[str] = set()
        self.hits = 0

    def import_file(self, path: Path, importer: Callable[[Path], FileResult]) -> FileResult:
        """``path``'s import from the cache when its key has an entry, else ``importer(path)``, stored."""
        key = file_key(path, self.shared)
        self.used.add(key)
        entry = self.folder / f"{key}.pickle"
        if entry.is_file():
            try:
                result = pickle.loads(entry.read_bytes())  # noqa: S301 - written by this module, in this home
            except Exception:  # noqa: BLE001 - a damaged entry: import the file instead
                result = None
            if isinstance(result, FileResult):
                self.hits += 1
                return result
        result = importer(path)
        write_atomic(entry, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        return result

    def prune(self) -> None:
        """Remove the entries of files this refresh did not import."""
        for entry in self.folder.glob("*.pickle") if self.folder.is_dir() else ():
            if entry.stem not in self.used:
                entry.unlink(missing_ok=True)
