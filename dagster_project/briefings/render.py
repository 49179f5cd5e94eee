"""Render one region's briefing to HTML (Jinja2) and PDF (Typst) from one view and one chart set,
and the index page of all briefings.

The context from the warehouse is first turned into a *view* (:mod:`view`; the index's in
:mod:`index`): every number and date formatted for the language, every label taken from the message
catalog. Both templates receive that same view, so the HTML and the PDF cannot disagree, and neither
template formats data. This module only turns views into files.

Safety: Jinja2 autoescapes everything it prints and inlines only charts checked to be inert SVG.
Typst never sees data as markup: the view is handed over as a JSON file parsed with ``json()``, the
charts as SVG files; the compiler's root is a folder private to the process that holds only the
briefing being compiled, so neither the template nor a hostile region name (``#read("/etc/passwd")``)
can read any other file. One compiler per process is kept and reused: its font and layout caches
make the next PDF faster.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import typst
from markupsafe import Markup, escape

from dagster_project.briefings.charts import make_charts
from dagster_project.briefings.formatting import check_lang, parse_datetime, safe_code
from dagster_project.briefings.index import index_entry, index_view
from dagster_project.briefings.view import TEMPLATES_DIR, build_view, stable_view
from dagster_project.processes import pid_alive

# index_entry and safe_code are imported from here by the batch renderer and the hostile-input tests.
__all__ = [
    "BriefingFiles",
    "BriefingRenderError",
    "html_from_view",
    "index_entry",
    "pdf_from_view",
    "render_briefing",
    "render_fingerprint",
    "render_html",
    "render_index",
    "render_pdf_bytes",
    "safe_code",
    "typst_inputs",
    "write_briefing",
]

_UNSAFE_SVG = re.compile(r"<script|<foreignobject|javascript:|\son[a-z]+\s*=|<image|href\s*=", re.IGNORECASE)


class BriefingRenderError(RuntimeError):
    """A briefing could not be rendered; the message names the region, the language and the cause."""


@dataclass(frozen=True)
class BriefingFiles:
    """The files one ``render_briefing`` call wrote."""

    html: Path
    pdf: Path


# ---------------------------------------------------------------- small helpers


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a reader or a delivery never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=4)
def _jinja_env(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,  # every template here is HTML, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=4)
def _css(templates_dir: Path) -> Markup:
    return Markup((templates_dir / "briefing.css").read_text(encoding="utf-8"))


def trusted_svg(svg: str) -> str:
    """Refuse SVG that could run code or fetch anything once inlined: charts must be inert markup."""
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    if not svg.lstrip().startswith("<svg") or _UNSAFE_SVG.search(svg):
        raise ValueError("a chart must be a plain <svg> document without scripts, links or event handlers")
    return svg


def _accessible_svg(svg: str, element_id: str, title: str, description: str) -> Markup:
    """Give an inline chart a role, a title and a description in the reader's language."""
    svg = trusted_svg(svg)
    match = re.match(r"\s*<svg\b[^>]*?(/?)>", svg)
    if not match or match.group(1) or "role=" in match.group(0):
        return Markup(svg)
    head = match.group(0)[:-1]
    title_markup = (
        f'{head} role="img" aria-labelledby="{element_id}-title {element_id}-desc">'
        f'<title id="{element_id}-title">{escape(title)}</title>'
        f'<desc id="{element_id}-desc">{escape(description)}</desc>'
    )
    return Markup(title_markup + svg[match.end() :])


# ---------------------------------------------------------------- HTML


def html_from_view(view: Mapping[str, Any], charts: Mapping[str, str], templates_dir: Path = TEMPLATES_DIR) -> str:
    """The briefing page from a prepared view and its charts."""
    svgs = {
        name: _accessible_svg(charts[name], f"chart-{name}", spec["caption"], spec["alt"])
        for name, spec in view["charts"].items()
        if spec and name in charts
    }
    template = _jinja_env(templates_dir).get_template("briefing.html.j2")
    return template.render(v=view, css=_css(templates_dir), svgs=svgs)


def _view_and_charts(
    context: Mapping[str, Any], lang: str, charts: Mapping[str, str] | None, templates_dir: Path = TEMPLATES_DIR
) -> tuple[dict[str, Any], Mapping[str, str]]:
    """The view of one briefing and its charts: ``charts`` when given, else made here for ``lang``."""
    charts = make_charts(context, lang) if charts is None else charts
    return build_view(context, lang, charts=tuple(charts), templates_dir=templates_dir), charts


def render_html(context: Mapping[str, Any], lang: str, charts: Mapping[str, str] | None = None,
                templates_dir: Path = TEMPLATES_DIR) -> str:
    """The briefing as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    view, charts = _view_and_charts(context, lang, charts, templates_dir)
    return html_from_view(view, charts, templates_dir)


# ---------------------------------------------------------------- PDF


def _timestamp(value: object) -> datetime | None:
    """The PDF creation date from ``generated_at`` (UTC when naive), so the same build gives the same PDF."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_ROOT_PREFIX = "regiocode-typst-"
_CHART_INPUT = re.compile(r"chart_[a-z]+")
_TYPST_LOCK = threading.Lock()  # one compile at a time per process: the root holds one briefing's inputs
_process_root: tuple[int, Path] | None = None


def _sweep_roots(parent: Path) -> None:
    """Remove the roots left by processes of this user that are gone (pool workers exit without cleanup)."""
    for folder in parent.glob(f"{_ROOT_PREFIX}*-*"):
        pid = folder.name[len(_ROOT_PREFIX):].split("-", 1)[0]
        try:
            mine = folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _typst_root() -> Path:
    """The Typst root of this process: a folder private to it (mode 0700).

    It holds the template (``briefing.typ``) and, during one compile, that briefing's view
    (``view.json``) and charts (``chart_<name>.svg``): nothing else, so neither the template nor a
    hostile region name can read any other file.
    """
    global _process_root
    if _process_root is None or _process_root[0] != os.getpid():  # a forked child gets its own
        parent = Path(tempfile.gettempdir())
        _sweep_roots(parent)
        root = Path(tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{os.getpid()}-", dir=parent))
        atexit.register(shutil.rmtree, root, True)  # pool workers skip atexit: the next sweep removes theirs
        _process_root = (os.getpid(), root)
    return _process_root[1]


_MAIN = "briefing.typ"
_compilers: dict[tuple[int, str | None], typst.Compiler] = {}
_main_source: dict[int, bytes] = {}


def _compiler(source: bytes, font_dir: str | None) -> typst.Compiler:
    """One Typst compiler per process, reused across briefings (and its layout cache with it).

    The template is a file in the root rather than bytes handed to each compile: Typst then keeps
    its parsed source, and the hashes of its syntax tree, from one briefing to the next.
    """
    root, pid = _typst_root(), os.getpid()
    if _main_source.get(pid) != source:  # first use, or another templates folder
        (root / _MAIN).write_bytes(source)
        _main_source[pid] = source
    key = (pid, font_dir)
    if key not in _compilers:
        _compilers[key] = typst.Compiler(
            str(root / _MAIN), root=str(root), font_paths=[font_dir] if font_dir else [], ignore_system_fonts=True
        )
    return _compilers[key]


def typst_inputs(view: Mapping[str, Any], charts: Mapping[str, str]) -> dict[str, bytes]:
    """The files a compile reads from its root: the view as JSON and each chart it names as checked SVG.

    A chart the view names but ``charts`` lacks is dropped from the view, so the template prints its
    "no chart" text instead of looking for a file.
    """
    specs = {}
    files: dict[str, bytes] = {}
    for name, spec in (view.get("charts") or {}).items():
        if spec and name in charts and _CHART_INPUT.fullmatch(str(spec.get("input", ""))):
            files[f"{spec['input']}.svg"] = trusted_svg(charts[name]).encode("utf-8")
            specs[name] = spec
        else:
            specs[name] = None
    files["view.json"] = json.dumps({**view, "charts": specs}, ensure_ascii=False).encode("utf-8")
    return files


def pdf_from_view(
    view: Mapping[str, Any],
    charts: Mapping[str, str],
    generated_at: object = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """Compile the briefing's PDF from a prepared view: the view and charts go in as data, never as markup.

    They are written to the compiler's private root, read by the template with ``json()`` and
    ``image()``, and removed again. Data as files rather than ``sys.inputs`` keeps Typst's library the
    same from one briefing to the next, so its layout cache carries over (about 40 % of the work).
    """
    source = (templates_dir / "briefing.typ").read_bytes()
    fonts = templates_dir / "fonts"
    files = typst_inputs(view, charts)
    with _TYPST_LOCK:
        root = _typst_root()
        try:
            for name, data in files.items():
                (root / name).write_bytes(data)
            pdf = _compiler(source, str(fonts) if fonts.is_dir() else None).compile(
                timestamp=_timestamp(generated_at)
            )
        except typst.TypstError as err:
            raise BriefingRenderError(
                f"Typst could not compile the briefing of {view.get('region_code')} ({view.get('lang')}): "
                f"{err.message}"
            ) from err
        finally:
            for name in files:
                (root / name).unlink(missing_ok=True)
    assert isinstance(pdf, bytes)
    return pdf


def render_pdf_bytes(context: Mapping[str, Any], lang: str, charts: Mapping[str, str] | None = None,
                     templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """The briefing as PDF bytes, compiled by Typst with the view and the charts as its only inputs."""
    view, charts = _view_and_charts(context, lang, charts, templates_dir)
    return pdf_from_view(view, charts, context.get("generated_at"), templates_dir)


def render_briefing(
    context: Mapping[str, Any], out_dir: Path, lang: str, charts: Mapping[str, str] | None = None
) -> BriefingFiles:
    """Write ``out_dir/<safe region code>.html`` and ``.pdf`` in ``lang`` and return their paths.

    Pass ``charts`` from :func:`make_charts` (for the same language) to reuse them; without it the
    charts are made here.
    """
    check_lang(lang)
    view, charts = _view_and_charts(context, lang, charts)
    return write_briefing(view, charts, Path(out_dir), context.get("generated_at"))


def write_briefing(
    view: Mapping[str, Any], charts: Mapping[str, str], out_dir: Path, generated_at: object = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> BriefingFiles:
    """Write a prepared view's HTML and PDF (atomically) under its region code."""
    stem = safe_code(view.get("region_code"))
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    _write_atomic(html_path, html_from_view(view, charts, templates_dir).encode("utf-8"))
    _write_atomic(pdf_path, pdf_from_view(view, charts, generated_at, templates_dir))
    return BriefingFiles(html=html_path, pdf=pdf_path)


def render_fingerprint(views: Iterable[Mapping[str, Any]], charts: Iterable[Mapping[str, str]], templates: str) -> str:
    """Hash of what a briefing prints (views without volatile fields, charts) and of the templates."""
    digest = hashlib.sha256(templates.encode())
    for view in views:
        digest.update(json.dumps(stable_view(view), sort_keys=True, ensure_ascii=False).encode("utf-8"))
    for chart_set in charts:
        for name in sorted(chart_set):
            digest.update(name.encode() + b"\0" + chart_set[name].encode("utf-8"))
    return digest.hexdigest()


# ---------------------------------------------------------------- the index page


def render_index(
    entries: Iterable[Mapping[str, Any]], out_dir: Path, lang: str, templates_dir: Path = TEMPLATES_DIR
) -> Path:
    """Write ``out_dir/index.html`` listing the regions in the given order, with links to their files.

    An entry has the keys of :func:`index_entry` (``html``/``pdf`` override the default relative links).
    """
    view = index_view(entries, lang, templates_dir)
    html = _jinja_env(templates_dir).get_template("index.html.j2").render(v=view, css=_css(templates_dir))
    path = Path(out_dir) / "index.html"
    _write_atomic(path, html.encode("utf-8"))
    return path
