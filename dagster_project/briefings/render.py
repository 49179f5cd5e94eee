"""Render one region's briefing to HTML (Jinja2) and PDF (Typst) from one context and one chart set.

The context from the warehouse is first turned into a *view*: every number and date formatted for
the language, every label taken from the message catalog, every gap already a dash. Both templates
receive that same view, so the HTML and the PDF cannot disagree, and neither template formats data.

Safety: Jinja2 autoescapes everything it prints; Typst never sees data as markup, because the view
is written to ``context.json`` in a private render folder and read there with ``json()``. The Typst
root is that folder, so a template (or a hostile region name) can read nothing else.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import typst
from markupsafe import Markup, escape

from dagster_project.briefings.charts import make_charts
from dagster_project.briefings.formatting import (
    DASH,
    check_lang,
    format_date,
    format_int,
    format_number,
    format_vintage,
    format_year,
    parse_datetime,
)

TEMPLATES_DIR = Path(
    os.environ.get("REGIOCODE_TEMPLATES_DIR") or Path(__file__).resolve().parents[2] / "reports" / "templates"
)
TABLE_YEARS = 6
CODE_DIGITS = 3

# (symbol, defining-code field, dynamic-code field, message key of the defining code)
CODES: tuple[tuple[str, str, str, str], ...] = (
    ("P", "production_code", "innovation_code", "code_P"),
    ("I", "institutional_code", "information_code", "code_I"),
    ("S", "social_code", "value_competence_code", "code_S"),
)
# the yearly table: (field, column symbol, message key of its full name, signed?)
TABLE_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("production_code", "P", "code_P", False),
    ("institutional_code", "I", "code_I", False),
    ("social_code", "S", "code_S", False),
    ("innovation_code", "P′", "code_dP", True),
    ("information_code", "I′", "code_dI", True),
    ("value_competence_code", "S′", "code_dS", True),
    ("id_code", "ID", "code_ID", True),
    ("nid", "NID", "code_NID", False),
)
FAMILY_SYMBOLS = {"production": "P", "institutional": "I", "social": "S"}
_UNSAFE_SVG = re.compile(r"<script|<foreignobject|javascript:|\son[a-z]+\s*=", re.IGNORECASE)


class BriefingRenderError(RuntimeError):
    """A briefing could not be rendered; the message names the region, the language and the cause."""


@dataclass(frozen=True)
class BriefingFiles:
    """The files one ``render_briefing`` call wrote."""

    html: Path
    pdf: Path


# ---------------------------------------------------------------- small helpers


def safe_code(code: object) -> str:
    """A file-name-safe form of a region code (``RU-SVE`` stays, ``../x y`` becomes ``x_y``)."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", str(code or "")).strip("_-")
    return text or "region"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    """Free text from the context (source names, reasons): as given, or a dash when missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DASH
    return str(value)


def _localised(record: Mapping[str, Any], field: str, lang: str, fallback: object = None) -> str:
    """``record[field_<lang>]``, else ``record[field]``, else the other language, else ``fallback``."""
    other = "en" if lang == "ru" else "ru"
    for key in (f"{field}_{lang}", field, f"{field}_{other}"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return _text(fallback)


def _is_demo(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a reader or a delivery never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@functools.lru_cache(maxsize=8)
def load_messages(lang: str, templates_dir: Path = TEMPLATES_DIR) -> dict[str, str]:
    """The message catalog of ``lang`` (``messages/<lang>.json``)."""
    path = templates_dir / "messages" / f"{check_lang(lang)}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _jinja_env(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,  # every template here is HTML, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# ---------------------------------------------------------------- the view shared by both templates


def _year_rows(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rows of ``codes`` that have a year, by year ascending (the warehouse's order is not trusted)."""
    rows = [
        r for r in context.get("codes") or [] if isinstance(r, Mapping) and format_year(r.get("year")) != DASH
    ]
    return sorted(rows, key=lambda r: float(r["year"]))


def _latest_row(rows: Sequence[Mapping[str, Any]], latest_year: object) -> Mapping[str, Any]:
    wanted = format_year(latest_year)
    for row in reversed(rows):
        if format_year(row.get("year")) == wanted:
            return row
    return rows[-1] if rows else {}


def _code(value: object, lang: str, signed: bool = False) -> str:
    return format_number(value, lang, digits=CODE_DIGITS, signed=signed)


def _key_figures(
    context: Mapping[str, Any], row: Mapping[str, Any], t: Mapping[str, str], lang: str
) -> list[dict]:
    district, country = _mapping(context.get("district_median")), _mapping(context.get("country_median"))
    cards = [
        (symbol, t[label], field, dynamic, t["change_per_year"]) for symbol, field, dynamic, label in CODES
    ]
    cards.append(("NID", t["code_NID"], "nid", "id_code", t["id_of_year"]))
    return [
        {
            "symbol": symbol,
            "label": label,
            "value": _code(row.get(field), lang),
            "change_label": change_label,
            "change": _code(row.get(dynamic), lang, signed=True),
            "district_median": _code(district.get(field), lang),
            "country_median": _code(country.get(field), lang),
        }
        for symbol, label, field, dynamic, change_label in cards
    ]


def _table(rows: Sequence[Mapping[str, Any]], t: Mapping[str, str], lang: str) -> dict:
    recent = list(rows[-TABLE_YEARS:])
    first = format_year(recent[0].get("year")) if recent else DASH
    last = format_year(recent[-1].get("year")) if recent else DASH
    return {
        "caption": t["table_caption"].format(first=first, last=last),
        "columns": [{"symbol": t["year"], "title": t["year"]}]
        + [{"symbol": symbol, "title": t[key]} for _, symbol, key, _ in TABLE_COLUMNS],
        "rows": [
            [format_year(r.get("year"))]
            + [_code(r.get(field), lang, signed) for field, _, _, signed in TABLE_COLUMNS]
            for r in recent
        ],
        "legend": t["table_legend"],
    }


def _chart(
    rows: Sequence[Mapping[str, Any]],
    row: Mapping[str, Any],
    has_chart: bool,
    t: Mapping[str, str],
    lang: str,
) -> dict | None:
    if not has_chart or not rows:
        return None
    first, last = format_year(rows[0].get("year")), format_year(rows[-1].get("year"))
    values = {s.lower(): _code(row.get(field), lang) for s, field, _, _ in CODES}
    return {
        "file": "chart-codes.svg",
        "caption": t["chart_caption"].format(first=first, last=last),
        "alt": t["chart_alt"].format(first=first, last=last, year=format_year(row.get("year")), **values),
    }


def _family(value: object, t: Mapping[str, str]) -> str:
    return t.get(f"family_{value}", _text(value))


def _coverage(context: Mapping[str, Any], t: Mapping[str, str], lang: str) -> list[dict]:
    notes = [n for n in context.get("coverage_notes") or [] if isinstance(n, Mapping)]
    notes.sort(key=lambda n: (format_year(n.get("year")), str(n.get("family"))))
    return [
        {
            "year": format_year(n.get("year")),
            "family": _family(n.get("family"), t),
            "reason": _localised(n, "reason", lang),
        }
        for n in notes
    ]


def _contributions(context: Mapping[str, Any], lang: str) -> list[dict]:
    items = [c for c in context.get("top_contributions") or [] if isinstance(c, Mapping)]
    return [
        {
            "name": _localised(c, "name", lang, fallback=c.get("indicator_code")),
            "code": FAMILY_SYMBOLS.get(str(c.get("family")), _text(c.get("family"))),
            "change": _code(c.get("contribution_change"), lang, signed=True),
        }
        for c in items
    ]


def _contributions_year(context: Mapping[str, Any], latest_year: str) -> str:
    """The year the contributions describe: their own ``year`` when given, else the briefing's latest year."""
    for item in context.get("top_contributions") or []:
        if isinstance(item, Mapping) and format_year(item.get("year")) != DASH:
            return format_year(item.get("year"))
    return latest_year


def _provenance(context: Mapping[str, Any], lang: str) -> list[dict]:
    items = [p for p in context.get("provenance") or [] if isinstance(p, Mapping)]
    return [
        {
            "source": _text(p.get("source")),
            "dataset": _text(p.get("dataset")),
            "release": _text(p.get("release")),
            "retrieved_at": format_date(p.get("retrieved_at"), lang, with_time=True),
            "observations": format_int(p.get("observations"), lang),
        }
        for p in items
    ]


def build_view(
    context: Mapping[str, Any], lang: str, has_chart: bool = True, templates_dir: Path = TEMPLATES_DIR
) -> dict[str, Any]:
    """Everything both templates print, as plain JSON-ready strings in ``lang``.

    ``has_chart`` says whether a codes chart exists for the region; the view then names its file.
    """
    t = load_messages(lang, templates_dir)
    region = _mapping(context.get("region"))
    code = _text(region.get("code"))
    name = _localised(region, "name", lang, fallback=region.get("code"))
    rows = _year_rows(context)
    latest = _latest_row(rows, context.get("latest_year"))
    demo = _is_demo(context.get("demo"))
    latest_year = format_year(latest.get("year")) if latest else format_year(context.get("latest_year"))
    return {
        "lang": lang,
        "t": t,
        "title": t["title"].format(region=name),
        "region_name": name,
        "region_code": code,
        "file_stem": safe_code(region.get("code")),
        "part_of": _localised(region, "district_name", lang),
        "country": _text(region.get("country")),
        "demo": demo,
        "banner": t["demo_banner"] if demo else None,
        "data_vintage": format_vintage(context.get("data_vintage"), lang),
        "generated_at": format_date(context.get("generated_at"), lang, with_time=True),
        "build_id": _text(context.get("build_id")),
        "latest_year": latest_year,
        "key_figures_title": t["key_figures"].format(year=latest_year),
        "has_codes": bool(latest),
        "key_figures": _key_figures(context, latest, t, lang),
        "chart": _chart(rows, latest, has_chart, t, lang),
        "table": _table(rows, t, lang),
        "coverage_notes": _coverage(context, t, lang),
        "contributions_intro": t["contributions_intro"].format(
            year=_contributions_year(context, latest_year)
        ),
        "contributions": _contributions(context, lang),
        "provenance": _provenance(context, lang),
    }


# ---------------------------------------------------------------- HTML


def _trusted_svg(svg: str) -> str:
    """Refuse SVG that could run code once inlined: charts are markup, so they must be inert."""
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    if not svg.lstrip().startswith("<svg") or _UNSAFE_SVG.search(svg):
        raise ValueError("a chart must be a plain <svg> document without scripts or event handlers")
    return svg


def _accessible_svg(svg: str, element_id: str, title: str, description: str) -> Markup:
    """Give an inline chart a role, a title and a description in the reader's language."""
    svg = _trusted_svg(svg)
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


@functools.lru_cache(maxsize=4)
def _css(templates_dir: Path) -> Markup:
    return Markup((templates_dir / "briefing.css").read_text(encoding="utf-8"))


def render_html(
    context: Mapping[str, Any],
    lang: str,
    charts: Mapping[str, str] | None = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> str:
    """The briefing as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    charts = make_charts(context) if charts is None else charts
    view = build_view(context, lang, has_chart="codes" in charts, templates_dir=templates_dir)
    chart_svg = None
    if view["chart"]:
        chart_svg = _accessible_svg(
            charts["codes"], "chart-codes", view["chart"]["caption"], view["chart"]["alt"]
        )
    template = _jinja_env(templates_dir).get_template("briefing.html.j2")
    return template.render(v=view, css=_css(templates_dir), chart_svg=chart_svg)


# ---------------------------------------------------------------- PDF


def _timestamp(value: object):
    """The PDF creation date from ``generated_at`` (UTC when naive), so the same build gives the same PDF."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _font_paths(templates_dir: Path) -> list[str]:
    fonts = templates_dir / "fonts"
    return [str(fonts)] if fonts.is_dir() else []


def render_pdf_bytes(
    context: Mapping[str, Any],
    lang: str,
    charts: Mapping[str, str] | None = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """The briefing as PDF bytes, compiled by Typst in a private folder holding only its inputs."""
    charts = make_charts(context) if charts is None else charts
    view = build_view(context, lang, has_chart="codes" in charts, templates_dir=templates_dir)
    with tempfile.TemporaryDirectory(prefix="regiocode-typst-") as folder:
        root = Path(folder)
        shutil.copyfile(templates_dir / "briefing.typ", root / "briefing.typ")
        (root / "context.json").write_text(json.dumps(view, ensure_ascii=False), encoding="utf-8")
        if view["chart"]:
            (root / view["chart"]["file"]).write_text(_trusted_svg(charts["codes"]), encoding="utf-8")
        try:
            return typst.compile(
                str(root / "briefing.typ"),
                root=str(root),
                font_paths=_font_paths(templates_dir),
                ignore_system_fonts=True,
                timestamp=_timestamp(context.get("generated_at")),
            )
        except typst.TypstError as err:
            raise BriefingRenderError(
                f"Typst could not compile the briefing of {view['region_code']} ({lang}): {err.message}"
            ) from err


def render_briefing(
    context: Mapping[str, Any], out_dir: Path, lang: str, charts: dict[str, str] | None = None
) -> BriefingFiles:
    """Write ``out_dir/<safe region code>.html`` and ``.pdf`` in ``lang`` and return their paths.

    Pass ``charts`` from :func:`make_charts` to share one chart set between languages; without it the
    charts are made here.
    """
    check_lang(lang)
    charts = make_charts(context) if charts is None else charts
    stem = safe_code(_mapping(context.get("region")).get("code"))
    out_dir = Path(out_dir)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    _write_atomic(html_path, render_html(context, lang, charts).encode("utf-8"))
    _write_atomic(pdf_path, render_pdf_bytes(context, lang, charts))
    return BriefingFiles(html=html_path, pdf=pdf_path)


# ---------------------------------------------------------------- index


def index_entry(context: Mapping[str, Any]) -> dict[str, Any]:
    """The index row of one region, taken from its briefing context (latest codes and NID)."""
    region = _mapping(context.get("region"))
    rows = _year_rows(context)
    latest = _latest_row(rows, context.get("latest_year"))
    entry = {
        key: region.get(key) for key in ("code", "name_ru", "name_en", "district_name_ru", "district_name_en")
    }
    entry.update(
        {
            field: latest.get(field)
            for field in ("production_code", "institutional_code", "social_code", "nid")
        }
    )
    entry["latest_year"] = latest.get("year", context.get("latest_year"))
    entry["demo"] = _is_demo(context.get("demo"))
    return entry


def _safe_href(value: object, default: str) -> str:
    """A link target from an index entry: relative or http(s) only, never ``javascript:`` and the like."""
    if not isinstance(value, str) or not value.strip():
        return default
    scheme = urlsplit(value.strip()).scheme
    return value.strip() if scheme in ("", "http", "https") else default


def _index_row(entry: Mapping[str, Any], lang: str) -> dict[str, str]:
    stem = safe_code(entry.get("code"))
    return {
        "name": _localised(entry, "name", lang, fallback=entry.get("code")),
        "part_of": _localised(entry, "district_name", lang),
        "year": format_year(entry.get("latest_year")),
        "codes": [
            _code(entry.get(field), lang)
            for field in ("production_code", "institutional_code", "social_code")
        ],
        "nid": _code(entry.get("nid"), lang),
        "html": _safe_href(entry.get("html"), f"{stem}.html"),
        "pdf": _safe_href(entry.get("pdf"), f"{stem}.pdf"),
    }


def render_index(
    entries: Iterable[Mapping[str, Any]], out_dir: Path, lang: str, templates_dir: Path = TEMPLATES_DIR
) -> Path:
    """Write ``out_dir/index.html`` listing the regions in the given order, with links to their files.

    An entry has the keys of :func:`index_entry` (``html``/``pdf`` override the default relative links).
    """
    t = load_messages(lang, templates_dir)
    entries = [e for e in entries if isinstance(e, Mapping)]
    demo = any(_is_demo(e.get("demo")) for e in entries)
    view = {
        "lang": lang,
        "t": t,
        "banner": t["demo_banner"] if demo else None,
        "rows": [_index_row(e, lang) for e in entries],
    }
    html = _jinja_env(templates_dir).get_template("index.html.j2").render(v=view, css=_css(templates_dir))
    path = Path(out_dir) / "index.html"
    _write_atomic(path, html.encode("utf-8"))
    return path
