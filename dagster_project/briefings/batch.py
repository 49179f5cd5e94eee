"""Render every region's briefing in both languages: in parallel processes, and only where the
region's inputs or the templates changed since the last render (a content hash per region).

Output: ``<briefings>/<date>/<lang>/<region>.{html,pdf}``, an ``index.html`` per language and a
``manifest.json`` (files, their SHA-256, the data versions they were made from).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster_project.briefings.charts import make_charts
from dagster_project.briefings.render import index_entry, render_briefing, render_index, safe_code

LANGS = ("ru", "en")
# Fields that change on every run without changing what a briefing says.
VOLATILE_FIELDS = ("generated_at", "build_id")
_CODE_DIR = Path(__file__).resolve().parent


@dataclass
class RenderSummary:
    folder: Path
    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    files: int = 0
    manifest: Path | None = None


def templates_fingerprint(templates_dir: Path) -> str:
    """Hash of the templates, message catalogs and rendering code: a change re-renders everything."""
    digest = hashlib.sha256()
    paths = sorted(p for p in templates_dir.rglob("*") if p.is_file())
    paths += sorted(p for p in _CODE_DIR.glob("*.py") if p.name not in ("batch.py", "context.py"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def context_fingerprint(context: dict[str, Any], templates: str) -> str:
    stable = {k: v for k, v in context.items() if k not in VOLATILE_FIELDS}
    payload = json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((templates + payload).encode("utf-8")).hexdigest()


def _render_region(task: tuple[dict[str, Any], str, Sequence[str]]) -> tuple[str, dict[str, dict[str, str]]]:
    """Worker: one region, both languages, one chart set shared by HTML and PDF of both."""
    context, folder, langs = task
    charts = make_charts(context)
    out: dict[str, dict[str, str]] = {}
    for lang in langs:
        files = render_briefing(context, Path(folder) / lang, lang, charts=charts)
        out[lang] = {"html": str(files.html), "pdf": str(files.pdf)}
    return context["region"]["code"], out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _reuse(previous: dict[str, dict[str, str]], folder: Path, langs: Sequence[str]) -> dict[str, dict[str, str]] | None:
    """Bring an unchanged region's files into today's folder (hard link, else copy) without rendering."""
    out: dict[str, dict[str, str]] = {}
    for lang in langs:
        files = previous.get(lang, {})
        out[lang] = {}
        for kind in ("html", "pdf"):
            src = Path(files.get(kind, ""))
            if not src.is_file():
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


def render_all(
    contexts: Iterable[dict[str, Any]],
    folder: Path,
    state_path: Path,
    templates_dir: Path,
    workers: int = 0,
    langs: Sequence[str] = LANGS,
    data_versions: dict[str, Any] | None = None,
) -> RenderSummary:
    contexts = list(contexts)
    folder.mkdir(parents=True, exist_ok=True)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    templates = templates_fingerprint(templates_dir)
    summary = RenderSummary(folder=folder)
    results: dict[str, dict[str, dict[str, str]]] = {}
    tasks = []
    for context in contexts:
        code = context["region"]["code"]
        fingerprint = context_fingerprint(context, templates)
        previous = state.get(code, {})
        reused = _reuse(previous.get("files", {}), folder, langs) if previous.get("hash") == fingerprint else None
        if reused is not None:
            results[code] = reused
            summary.reused.append(code)
        else:
            tasks.append((context, str(folder), tuple(langs)))
        state[code] = {"hash": fingerprint, "files": previous.get("files", {})}
    if tasks:
        n_workers = min(len(tasks), workers or os.cpu_count() or 1)
        if n_workers > 1:
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                done = list(pool.map(_render_region, tasks, chunksize=max(1, len(tasks) // (n_workers * 4))))
        else:
            done = [_render_region(task) for task in tasks]
        for code, files in done:
            results[code] = files
            summary.rendered.append(code)
    for code, files in results.items():
        state[code]["files"] = files
    for lang in langs:
        entries = []
        for context in contexts:
            entry = index_entry(context)
            stem = safe_code(context["region"]["code"])
            entry.update(html=f"{stem}.html", pdf=f"{stem}.pdf")
            entries.append(entry)
        render_index(entries, folder / lang, lang)
    summary.manifest = _write_manifest(folder, results, langs, data_versions or {})
    summary.files = sum(len(kinds) for files in results.values() for kinds in files.values())
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    os.replace(tmp, state_path)
    return summary


def _write_manifest(folder: Path, results: dict[str, dict[str, dict[str, str]]], langs: Sequence[str],
                    data_versions: dict[str, Any]) -> Path:
    files = []
    for code in sorted(results):
        for lang in langs:
            for kind, path in sorted(results[code][lang].items()):
                p = Path(path)
                files.append({"region": code, "lang": lang, "kind": kind,
                              "path": str(p.relative_to(folder)), "sha256": _sha256(p), "bytes": p.stat().st_size})
    for lang in langs:
        p = folder / lang / "index.html"
        files.append({"region": None, "lang": lang, "kind": "index", "path": str(p.relative_to(folder)),
                      "sha256": _sha256(p), "bytes": p.stat().st_size})
    manifest = {"data_versions": data_versions, "files": files}
    path = folder / "manifest.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
    os.replace(tmp, path)
    return path
