"""Render every region's briefing in both languages: in parallel processes, and only where what the
briefing would print, or the templates, changed since the last render.

The fingerprint of a region is a hash of its *views* (every formatted string both templates print,
without the build id and timestamps) and its charts, plus the templates and rendering code. So a
change below the printed precision (the last bits of a double from a parallel aggregation) renders
nothing, and any change a reader could see renders the region again.

Who does what: the parent only hashes each region's *context* (without build id and timestamps) and
compares it with the one recorded at the last render: equal means nothing the briefing prints can
have changed, and yesterday's files are linked without building a view. Every other region goes to
a worker, which builds its views and charts, compares their fingerprint with the recorded one, and
renders HTML and PDF only when it differs. So views, charts, Jinja2 and Typst all run in the workers,
one region per task, and the parent never keeps a core busy while they wait.

State: one small JSON file per region under ``state_dir`` (both hashes and the files), so the batch
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
from concurrent.futures import ProcessPoolExecutor, as_completed
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
from dagster_project.briefings.view import build_view
from dagster_project.files import read_json, write_atomic, write_json_atomic
from dagster_project.settings import TEMPLATES_DIR

LANGS = ("ru", "en")
_CODE_DIR = Path(__file__).resolve().parent
_NOT_RENDERING_CODE = ("batch.py", "context.py", "__init__.py")
# Context fields that change on every build without changing what a briefing says (see VOLATILE_VIEW_FIELDS).
VOLATILE_CONTEXT_FIELDS = ("generated_at", "build_id", "built_at")


@dataclass
class RenderSummary:
    """What one :func:`render_all` call did."""

    folder: Path
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    files: int = 0
    manifest: Path | None = None
    # region -> the warehouse build its files were rendered in: this build's id when rendered now, an
    # earlier one when its figures did not change since (the footer and provenance print that id).
    builds: dict[str, str | None] = field(default_factory=dict)


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


def context_fingerprint(context: Mapping[str, Any], templates: str) -> str:
    """Hash of a region's context without the fields that change on every build, and of the templates.

    Equal to the one recorded at the last render: the briefing cannot print anything new. Different:
    it may (or the change is below the printed precision), which only the views can tell.
    """
    stable = {k: v for k, v in context.items() if k not in VOLATILE_CONTEXT_FIELDS}
    digest = hashlib.sha256(templates.encode())
    digest.update(json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()


def state_file(state_dir: Path, code: str) -> Path:
    """The render state file of region ``code`` under ``state_dir``."""
    return Path(state_dir) / f"{safe_code(code)}.json"


def read_state(state_dir: Path, code: str) -> dict[str, Any]:
    """One region's render state ({} when it was never rendered or the file cannot be read)."""
    return read_json(state_file(state_dir, code), {}) or {}


def write_state(state_dir: Path, code: str, state: Mapping[str, Any]) -> None:
    """Write one region's render state atomically (a crash never leaves half a file)."""
    write_json_atomic(state_file(state_dir, code), state)


def render_prepared(prepared: PreparedBriefing, folder: Path) -> dict[str, dict[str, str]]:
    """Write one prepared region's HTML and PDF in every language."""
    out: dict[str, dict[str, str]] = {}
    for lang, view in prepared.views.items():
        files = write_briefing(view, prepared.charts[lang], Path(folder) / lang, prepared.generated_at,
                               prepared.templates_dir)
        out[lang] = {"html": str(files.html), "pdf": str(files.pdf)}
    return out


@dataclass(frozen=True)
class RenderTask:
    """One region for a worker: its context and what the last render of it recorded."""

    context: Mapping[str, Any]
    folder: str
    templates: str
    templates_dir: Path
    langs: tuple[str, ...]
    previous_hash: str | None  # None: render whatever the fingerprint (yesterday's files are gone)
    previous_files: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class TaskResult:
    code: str
    fingerprint: str
    files: dict[str, dict[str, str]]
    rendered: bool


def render_task(task: RenderTask) -> TaskResult:
    """Worker: views and charts of one region; render them unless they print what the last render did."""
    prepared = prepare(task.context, task.templates, task.langs, task.templates_dir)
    folder = Path(task.folder)
    if task.previous_hash == prepared.fingerprint:
        reused = reuse(task.previous_files, folder, task.langs)
        if reused is not None:
            return TaskResult(prepared.code, prepared.fingerprint, reused, False)
    return TaskResult(prepared.code, prepared.fingerprint, render_prepared(prepared, folder), True)


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
                except FileNotFoundError:  # its folder was removed meanwhile (superseded): render again
                    return None
                except OSError:
                    shutil.copy2(src, dst)
            out[lang][kind] = str(dst)
    return out


def _run(tasks: list[RenderTask], workers: int) -> Iterable[TaskResult]:
    """Results of ``tasks`` as they finish: in this process, or in a pool of ``workers`` processes."""
    n_workers = min(len(tasks), workers or os.cpu_count() or 1)
    if n_workers <= 1:
        yield from (render_task(task) for task in tasks)
        return
    # Workers come from a fork server that imported the renderer once: cheap to start, and never a fork
    # of this process, whose Typst compiler (with its own threads) may already be in use.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        # One region per task (~0.15 s for both languages; its context pickles to a few dozen kilobytes):
        # the workers finish within one region of each other.
        yield from (future.result() for future in as_completed([pool.submit(render_task, t) for t in tasks]))


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
    context_hashes: dict[str, str] = {}
    tasks: dict[str, RenderTask] = {}  # by region code, in the order of the contexts
    rendered_in: dict[str, str | None] = {}  # the build each task's region was last rendered in
    for context in contexts:
        code = str(_mapping(context.get("region")).get("code"))
        context_hashes[code] = context_fingerprint(context, templates)
        previous = read_state(state_dir, code)
        files = previous.get("files", {})
        if previous.get("context") == context_hashes[code] and previous.get("hash"):
            reused = reuse(files, folder, langs)
            if reused is not None:
                results[code], fingerprints[code] = reused, previous["hash"]
                summary.reused.append(code)
                summary.builds[code] = previous.get("build_id")
                write_state(state_dir, code, {**previous, "files": reused})  # the earlier folder may be removed
                continue
            previous = {}  # a file is gone: render again
        rendered_in[code] = previous.get("build_id")
        tasks[code] = RenderTask(context, str(folder), templates, Path(templates_dir), tuple(langs),
                                 previous.get("hash"), files)
    done = {}
    for result in _run(list(tasks.values()), workers):
        done[result.code] = result
        build = tasks[result.code].context.get("build_id") if result.rendered else rendered_in[result.code]
        write_state(state_dir, result.code, {"hash": result.fingerprint, "context": context_hashes[result.code],
                                              "files": result.files, "build_id": build})
        summary.builds[result.code] = build
    for code in tasks:  # in the order of the contexts, whichever worker finished first
        result = done[code]
        results[code], fingerprints[code] = result.files, result.fingerprint
        (summary.rendered if result.rendered else summary.reused).append(code)
    summary.files = sum(len(kinds) for files in results.values() for kinds in files.values())
    return summary, results, fingerprints


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


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
        render_index([_index_entry(c, summary.builds) for c in contexts], folder / lang, lang, templates_dir)
    summary.manifest = write_manifest(folder, results, langs, data_versions or {}, fingerprints,
                                      templates_fingerprint(templates_dir), summary.builds)
    return summary


def _index_entry(context: Mapping[str, Any], builds: Mapping[str, str | None]) -> dict[str, Any]:
    entry = index_entry(context)
    code = context["region"]["code"]
    stem = safe_code(code)
    entry.update(html=f"{stem}.html", pdf=f"{stem}.pdf", build_id=context.get("build_id"),
                 rendered_build_id=builds.get(str(code), context.get("build_id")))
    return entry


def write_manifest(folder: Path, results: Mapping[str, Mapping[str, Mapping[str, str]]], langs: Sequence[str],
                   data_versions: Mapping[str, Any], fingerprints: Mapping[str, str] | None = None,
                   templates: str = "", builds: Mapping[str, str | None] | None = None) -> Path:
    """``manifest.json``: every file with its SHA-256 and size, each region's input fingerprint, the data versions.

    ``data_versions.build_id`` is the warehouse build published with these files; a file's
    ``rendered_build_id`` is the build it was rendered in (``builds``), an earlier one when the region's
    figures did not change since (its footer prints that id; ``null`` when not recorded).
    """
    fingerprints = fingerprints or {}
    builds = builds or {}
    files = []
    for code in sorted(results):
        for lang in langs:
            for kind, path in sorted(results[code][lang].items()):
                p = Path(path)
                files.append({"region": code, "lang": lang, "kind": kind, "path": str(p.relative_to(folder)),
                              "sha256": _sha256(p), "bytes": p.stat().st_size, "inputs": fingerprints.get(code),
                              "rendered_build_id": builds.get(code)})
    for lang in langs:
        p = folder / lang / "index.html"
        if p.is_file():
            files.append({"region": None, "lang": lang, "kind": "index", "path": str(p.relative_to(folder)),
                          "sha256": _sha256(p), "bytes": p.stat().st_size, "inputs": None})
    manifest = {"data_versions": dict(data_versions), "templates": templates, "files": files}
    return write_atomic(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
