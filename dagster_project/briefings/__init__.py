"""Briefing rendering: one context per region → HTML (Jinja2) and PDF (Typst) in Russian and English.

Usage::

    for lang in ("ru", "en"):
        render_briefing(context, out_dir / lang, lang, make_charts(context, lang))
    render_index([index_entry(c) for c in contexts], out_dir / lang, lang)

or, for every region with skip-if-unchanged, parallel processes, indexes and manifest::

    render_all(build_contexts(con), folder, state_dir)      # batch.py
"""

from dagster_project.briefings.charts import make_charts
from dagster_project.briefings.formatting import safe_code
from dagster_project.briefings.index import index_entry
from dagster_project.briefings.render import (
    BriefingFiles,
    BriefingRenderError,
    render_briefing,
    render_html,
    render_index,
    render_pdf_bytes,
)
from dagster_project.briefings.view import build_view

__all__ = [
    "BriefingFiles",
    "BriefingRenderError",
    "build_view",
    "index_entry",
    "make_charts",
    "render_briefing",
    "render_html",
    "render_index",
    "render_pdf_bytes",
    "safe_code",
]
