"""Writing a file so that no reader, and no crash, ever sees half of it.

Every state file (pull state, the dbt build state, render and delivery state) and every download kept
under ``$REGIOCODE_HOME`` is written here: into a temporary file beside the target (same folder, so
the same file system), flushed to disk, then renamed over the target, which POSIX makes atomic. A
reader sees the old content or the new, and a process killed midway leaves the old file and at most
a hidden ``.<name>.<pid>.<random>.tmp`` that the next write of the same target does not trip over.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8) atomically; creates the folder.

    The temporary file is removed when writing fails (disk full, permission): the error is raised
    and ``path`` keeps its old content. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json_atomic(path: Path, payload: Any) -> Path:
    """``payload`` as indented JSON (keys sorted, non-ASCII kept readable), written by :func:`write_atomic`."""
    return write_atomic(path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True))


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when the file is missing or not valid JSON (a state file that
    cannot be read is treated as absent: the work it records is done again)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
