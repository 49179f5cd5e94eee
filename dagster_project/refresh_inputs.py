"""What a refresh reads, as one fingerprint, and the record of the last complete refresh: so that
``regiocode refresh`` can say "nothing changed" before it loads Dagster, dagster-dbt and the dbt manifest.

A refresh's result is fixed by its inputs:

* the files its sources read: every file under each active source's ``path`` setting and in its inbox
  folder, by content (sha256), name and modification time (the Rosstat importer's ``retrieved_at``);
  a source told to pull from the network (a setting declared ``pulls``: Rosstat's ``urls``, Eurostat's
  ``base_url``) cannot be judged without pulling, so such a refresh always runs;
* the project: the Python package, the briefing templates, the dbt project (config, models, seeds,
  macros, tests) and the versions of the libraries that compute or render anything;
* the options: the sources, their settings, the dbt vars, the assets left out, every ``REGIOCODE_*``
  variable, and the delivery configuration.

After a successful refresh the CLI records that fingerprint with what the refresh left behind (the stat of
both warehouses, the latest briefings' manifest, the summary it printed) in ``$REGIOCODE_HOME/state/refresh.json``.
The next refresh whose inputs hash the same, while both warehouses and the briefings folder are still
exactly those, has nothing to do: it prints the recorded summary and returns in well under a second of
work (:func:`unchanged_refresh`). Anything else — a changed or new file, briefings switched or removed
since, a Dagster run in between (the working warehouse changed), a failed delivery
to retry, ``REGIOCODE_DBT_ALWAYS_BUILD=1`` — runs the graph, which then skips what it can on its own
(unchanged files, the dbt build, unchanged briefings).

This module imports neither Dagster nor dbt nor DuckDB: deciding must cost less than loading them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from dagster_project import settings
from dagster_project.files import read_json, write_json_atomic
from dagster_project.settings import DBT_PROJECT_DIR, PROJECT_DIR, TEMPLATES_DIR, Paths
from dagster_project.sources import registry

REFRESH_STATE = "refresh.json"
UNCHANGED = "nothing changed: same files, settings, code and warehouses; nothing imported, built or rendered"
# What shapes the dbt manifest and build (dbt/target, dbt/logs and dbt_packages are outputs).
DBT_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")
# Libraries whose version can change a number, a file or a rendering.
FINGERPRINTED_PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "pandas", "pyarrow",
                          "numpy", "python-calamine", "openpyxl", "typst", "jinja2")


def _tree_files(root: Path) -> list[Path]:
    """Files under ``root`` (itself if a file), sorted; hidden files, ``__pycache__`` and compiled files skipped."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and path.suffix != ".pyc"
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts)
    )


def _hash_tree(digest: Any, root: Path, base: Path) -> None:
    for path in _tree_files(root):
        digest.update(str(path.relative_to(base) if base in path.parents else path).encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def dbt_project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Content hash of everything that shapes the dbt manifest and build (config, models, seeds, macros,
    tests), file names included; a hex sha256."""
    digest = hashlib.sha256()
    for name in DBT_PROJECT_FILES:
        _hash_tree(digest, project_dir / name, project_dir)
    return digest.hexdigest()


def project_fingerprint() -> str:
    """The code and configuration that compute and render: this package's Python files, the briefing
    templates, the dbt project, and the versions of the libraries in :data:`FINGERPRINTED_PACKAGES`."""
    digest = hashlib.sha256()
    _hash_tree(digest, Path(__file__).resolve().parent, PROJECT_DIR)
    _hash_tree(digest, TEMPLATES_DIR, PROJECT_DIR)
    digest.update(dbt_project_fingerprint().encode())
    for package in FINGERPRINTED_PACKAGES:
        try:
            found = metadata.version(package)
        except metadata.PackageNotFoundError:
            found = "absent"
        digest.update(f"{package}={found};".encode())
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """``name|size|mtime_ns|sha256`` of one input file: the content, and the time the importers record
    as ``retrieved_at`` when no sidecar states one."""
    stat = path.stat()
    with path.open("rb") as handle:
        content = hashlib.file_digest(handle, "sha256").hexdigest()
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{content}"


def source_files(paths: Paths, source: str, values: Mapping[str, str]) -> list[Path]:
    """Every file a file-based source could read in this refresh: the whole of its ``path`` setting (a file
    and the sidecars beside it, or a folder's tree) and every file in its inbox folder (quarantine aside).
    Broader than what the importer takes (unknown kinds, sidecars): a change to any of them runs the graph."""
    files: list[Path] = []
    given = values.get("path", "")
    if given:
        path = Path(given)
        if path.is_file():
            files += [path, *sorted(p for p in path.parent.glob(f"{path.name}.*") if p.is_file())]
        else:
            files += _tree_files(path)
    inbox = paths.inbox / source
    if inbox.is_dir():
        files += sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))
    return files


def inputs_fingerprint(paths: Paths, sources: Sequence[str], source_settings: Mapping[str, str],
                       dbt_vars: Mapping[str, Any] | None = None, without: Sequence[str] = ()) -> str | None:
    """The fingerprint of everything a refresh of ``sources`` under ``paths`` reads (module doc), or None
    when it cannot be known without running (a source pulls from the network; dbt is told to always build).

    ``source_settings``: resource fields given on the command line (``{"rosstat_path": "/data"}``); the
    other settings come from their environment variables, as the refresh's resource reads them."""
    if settings.dbt_always_build():
        return None
    digest = hashlib.sha256()
    options = {"sources": list(sources), "vars": dict(dbt_vars or {}), "without": sorted(without),
               "env": settings.regiocode_environment()}
    for name in sources:
        source = registry.get(name)
        values = {s.name: source_settings.get(source.field(s)) or settings.source_setting(name, s.name)
                  for s in source.settings}
        if any(values.get(s.name) for s in source.settings if s.pulls):
            return None
        options[name] = values
        for path in source_files(paths, name, values):
            digest.update(file_digest(path).encode())
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    delivery = Path(settings.DELIVERY_CONFIG.value() or paths.home / "delivery.toml")
    digest.update(file_digest(delivery).encode() if delivery.is_file() else b"no delivery config")
    digest.update(project_fingerprint().encode())
    return digest.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def briefings_manifest(paths: Paths) -> Path:
    """``$REGIOCODE_HOME/briefings/latest/manifest.json``: the manifest of the briefings of the newest build
    (``latest`` is switched to each build's fresh folder by the briefings asset)."""
    return paths.latest_briefings / "manifest.json"


def _outputs(paths: Paths) -> dict[str, Any]:
    """What a refresh leaves behind, as the record compares it: both warehouses' size and mtime, today's
    briefings manifest's."""
    manifest = briefings_manifest(paths)
    return {"work_db": _stat(paths.work_db), "published_db": _stat(paths.published_db),
            "manifest": str(manifest), "manifest_stat": _stat(manifest)}


def record_refresh(paths: Paths, fingerprint: str | None, metadata: Mapping[str, Mapping[str, Any]]) -> None:
    """After a successful refresh: remember its inputs' ``fingerprint``, what it left behind and the asset
    ``metadata`` its summary printed. ``None`` (inputs not knowable, or changed while it ran) forgets
    the record, so the next refresh runs."""
    state = paths.state / REFRESH_STATE
    if fingerprint is None:
        state.unlink(missing_ok=True)
        return
    write_json_atomic(state, {"fingerprint": fingerprint, "outputs": _outputs(paths),
                              "recorded_at": datetime.now(UTC).isoformat(),
                              "metadata": json.loads(json.dumps(metadata, default=str))})


def unchanged_refresh(paths: Paths, fingerprint: str | None) -> dict[str, Any] | None:
    """The recorded refresh when this one would change nothing: the same inputs' ``fingerprint``, both
    warehouses and the latest briefings' manifest exactly as that refresh left them, and no delivery left to
    retry. Returns its record (``metadata`` as the summary prints it), else None."""
    if fingerprint is None:
        return None
    record = read_json(paths.state / REFRESH_STATE, {}) or {}
    if record.get("fingerprint") != fingerprint:
        return None
    outputs = _outputs(paths)
    if outputs != record.get("outputs") or outputs["published_db"] is None or outputs["manifest_stat"] is None:
        return None
    if (record.get("metadata", {}).get("briefing_delivery") or {}).get("failed"):
        return None
    return record
