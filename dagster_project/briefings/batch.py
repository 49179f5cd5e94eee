"""Render every region's briefing in both languages: in parallel processes, and only where what the
briefing would print, or the templates, changed since the last render.

The fingerprint of a region is a hash of its *views* (every formatted string both templates print,
without the build id and timestamps) and its charts, plus the templates and rendering code. So a
change below the printed precision (the last bits of a double from a parallel aggregation) renders
nothing, and any change a reader could see renders the region again. Views and charts cost about a
millisecond a region, so they are made for every region and handed to the workers, which only run
Jinja2 and Typst.

State: one small JSON file per region under ``state_dir`` (fingerprint and files), so the batch
renderer and the per-region Dagster partitions share it without write races.

Output: ``<briefings>/<date>/<lang>/<region>.{html,pdf}``, an ``index.html`` per language and a
``manifest.json`` (files, their SHA-256, the fingerprint of each region's inputs, the data versions).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_project.briefings.charts import make_charts
from dagster_project.briefings.render import (
    index_entry,
    render_fingerprint,
    render_index,
    safe_code,
    write_briefing,
)
from dagster_project.briefings.view import TEMPLATES_DIR, build_view

LANGS = ("ru", "en")
_CODE_DIR = Path(__file__).resolve().parent
_NOT_RENDERING_CODE = ("batch.py", "context.py", "__init__.py")


@dataclass
class RenderSummary:
    """What one :func:`render_all` call did."""

    folder: Path
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    files: int = 0
    manifest: Path | None = None


@dataclass(frozen=True)
class PreparedBriefing:
    """One region ready to render: a view and a chart set per language, and their fingerprint."""

    code: str
    views: dict[str, dict[str, Any]]
    charts: dict[str, dict[str, str]]
    generated_at: Any
    fingerprint: str
    templates_dir: Path = TEMPLATES_DIR


def templates_fingerprint(templates_dir: Path = TEMPLATES_DIR) -> str:
    """Hash of the templates, message catalogs and rendering code: a change re-renders everything."""
    digest = hashlib.sha256()
    paths = sorted(p for p in Path(templates_dir).rglob("*") if p.is_file())
    paths += sorted(p for p in _CODE_DIR.glob("*.py") if p.name not in _NOT_RENDERING_CODE)
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare(context: Mapping[str, Any], templates: str, langs: Sequence[str] = LANGS,
            templates_dir: Path = TEMPLATES_DIR) -> PreparedBriefing:
    """Views and charts of one region in every language, and the fingerprint of what they print."""
    charts = {lang: make_charts(context, lang) for lang in langs}
    views = {lang: build_view(context, lang, charts=tuple(charts[lang]), templates_dir=templates_dir)
             for lang in langs}
    fingerprint = render_fingerprint([views[lang] for lang in langs], [charts[lang] for lang in langs], templates)
    code = str(context.get("region", {}).get("code"))
    return PreparedBriefing(code, views, charts, context.get("generated_at"), fingerprint, Path(templates_dir))


def state_file(state_dir: Path, code: str) -> Path:
    return Path(state_dir) / f"{safe_code(code)}.json"


def read_state(state_dir: Path, code: str) -> dict[str, Any]:
    path = state_file(state_dir, code)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_state(state_dir: Path, code: str, state: Mapping[str, Any]) -> None:
    """Write one region's render state atomically (a crash never leaves half a file)."""
    path = state_file(state_dir, code)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def render_prepared(prepared: PreparedBriefing, folder: Path) -> dict[str, dict[str, str]]:
    """Worker: write one prepared region's HTML and PDF in every language."""
    out: dict[str, dict[str, str]] = {}
    for lang, view in prepared.views.items():
        files = write_briefing(view, prepared.charts[lang], Path(folder) / lang, prepared.generated_at,
                               prepared.templates_dir)
        out[lang] = {"html": str(files.html), "pdf": str(files.pdf)}
    return out


def _render_task(task: tuple[PreparedBriefing, str]) -> tuple[str, dict[str, dict[str, str]]]:
    prepared, folder = task
    return prepared.code, render_prepared(prepared, Path(folder))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def reuse(previous: Mapping[str, Mapping[str, str]], folder: Path,
          langs: Sequence[str]) -> dict[str, dict[str, str]] | None:
    """Bring an unchanged region's files into today's folder (hard link, else copy) without rendering.

    ``None`` when a previous file is gone: the region is then rendered again.
    """
    out: dict[str, dict[str, str]] = {}
    for lang in langs:
        files = previous.get(lang, {})
        out[lang] = {}
        for kind in ("html", "pdf"):
            src = Path(files.get(kind, ""))
            if not files.get(kind) or not src.is_file():
                return None
            dst = folder / lang / src.name
            if src.resolve() != dst.resolve():
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.unlink(missing_ok=True)
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
            out[lang][kind] = str(dst)
    return out


def _run(tasks: list[tuple[PreparedBriefing, str]], workers: int) -> list[tuple[str, dict[str, dict[str, str]]]]:
    n_workers = min(len(tasks), workers or os.cpu_count() or 1)
    if n_workers <= 1:
        return [_render_task(task) for task in tasks]
    # Big chunks: a task is ~0.1 s, and each round trip pickles a view of a few dozen kilobytes.
    chunksize = max(1, len(tasks) // (n_workers * 4))
    # Workers come from a fork server that imported the renderer once: cheap to start, and never a fork
    # of this process, whose Typst compiler (with its own threads) may already be in use.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        return list(pool.map(_render_task, tasks, chunksize=chunksize))


def render_regions(
    contexts: Iterable[Mapping[str, Any]],
    folder: Path,
    state_dir: Path,
    templates_dir: Path = TEMPLATES_DIR,
    workers: int = 0,
    langs: Sequence[str] = LANGS,
) -> tuple[RenderSummary, dict[str, dict[str, dict[str, str]]], dict[str, str]]:
    """Render the changed regions among ``contexts`` (in ``workers`` processes; 0 = one per CPU) and
    bring the unchanged ones into ``folder``. Returns the summary, each region's files and fingerprint."""
    folder.mkdir(parents=True, exist_ok=True)
    templates = templates_fingerprint(templates_dir)
    summary = RenderSummary(folder=folder)
    results: dict[str, dict[str, dict[str, str]]] = {}
    fingerprints: dict[str, str] = {}
    tasks = []
    for context in contexts:
        prepared = prepare(context, templates, langs, templates_dir)
        fingerprints[prepared.code] = prepared.fingerprint
        previous = read_state(state_dir, prepared.code)
        reused = None
        if previous.get("hash") == prepared.fingerprint:
            reused = reuse(previous.get("files", {}), folder, langs)
        if reused is not None:
            results[prepared.code] = reused
            summary.reused.append(prepared.code)
        else:
            tasks.append((prepared, str(folder)))
    for code, files in _run(tasks, workers):
        results[code] = files
        summary.rendered.append(code)
        write_state(state_dir, code, {"hash": fingerprints[code], "files": files})
    summary.files = sum(len(kinds) for files in results.values() for kinds in files.values())
    return summary, results, fingerprints


def render_all(
    contexts: Iterable[Mapping[str, Any]],
    folder: Path,
    state_dir: Path,
    templates_dir: Path = TEMPLATES_DIR,
    workers: int = 0,
    langs: Sequence[str] = LANGS,
    data_versions: Mapping[str, Any] | None = None,
) -> RenderSummary:
    """Render every changed region, reuse the others, then write the indexes and the manifest of ``folder``."""
    contexts = list(contexts)
    summary, results, fingerprints = render_regions(contexts, folder, state_dir, templates_dir, workers, langs)
    for lang in langs:
        render_index([_index_entry(c) for c in contexts], folder / lang, lang, templates_dir)
    summary.manifest = write_manifest(folder, results, langs, data_versions or {}, fingerprints,
                                      templates_fingerprint(templates_dir))
    return summary


def _index_entry(context: Mapping[str, Any]) -> dict[str, Any]:
    entry = index_entry(context)
    stem = safe_code(context["region"]["code"])
    entry.update(html=f"{stem}.html", pdf=f"{stem}.pdf")
    return entry


def write_manifest(folder: Path, results: Mapping[str, Mapping[str, Mapping[str, str]]], langs: Sequence[str],
                   data_versions: Mapping[str, Any], fingerprints: Mapping[str, str] | None = None,
                   templates: str = "") -> Path:
    """``manifest.json``: every file with its SHA-256 and size, each region's input fingerprint, the data versions."""
    fingerprints = fingerprints or {}
    files = []
    for code in sorted(results):
        for lang in langs:
            for kind, path in sorted(results[code][lang].items()):
                p = Path(path)
                files.append({"region": code, "lang": lang, "kind": kind, "path": str(p.relative_to(folder)),
                              "sha256": _sha256(p), "bytes": p.stat().st_size, "inputs": fingerprints.get(code)})
    for lang in langs:
        p = folder / lang / "index.html"
        if p.is_file():
            files.append({"region": None, "lang": lang, "kind": "index", "path": str(p.relative_to(folder)),
                          "sha256": _sha256(p), "bytes": p.stat().st_size, "inputs": None})
    manifest = {"data_versions": dict(data_versions), "templates": templates, "files": files}
    path = folder / "manifest.json"
    tmp = path.with_name(f".manifest.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path
