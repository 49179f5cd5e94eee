"""The view of the index page: one row per region, with its latest codes, rank, NID and strategy.

The index is built from the same contexts as the briefings but needs only a few fields of each, so
:func:`index_entry` keeps those (a small, picklable record the batch renderer can collect from its
worker processes) and :func:`index_view` formats them for one language. The page itself is rendered
by :func:`render.render_index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dagster_project.briefings.formatting import DASH, as_mapping, format_code, format_year, is_demo, safe_code
from dagster_project.briefings.messages import TEMPLATES_DIR, load_messages, localised
from dagster_project.briefings.view_codes import latest_row, rank_text, year_rows

CODE_FIELDS = ("production_code", "institutional_code", "social_code")
RANK_FIELDS = ("point_rank", "n_regions", "rank_low", "rank_high")


def index_entry(context: Mapping[str, Any]) -> dict[str, Any]:
    """The index row of one region, taken from its briefing context (latest codes, rank, NID, strategy)."""
    region = as_mapping(context.get("region"))
    latest = latest_row(year_rows(context), context.get("latest_year"))
    entry = {key: region.get(key) for key in ("code", "name_ru", "name_en", "district_name_ru", "district_name_en")}
    entry.update({field: latest.get(field) for field in (*CODE_FIELDS, "nid")})
    entry["latest_year"] = latest.get("year", context.get("latest_year"))
    entry["demo"] = is_demo(context.get("demo"))
    composite = next(
        (
            r
            for r in context.get("ranks") or []
            if isinstance(r, Mapping)
            and r.get("measure") == "composite"
            and format_year(r.get("year")) == format_year(entry["latest_year"])
        ),
        {},
    )
    entry.update({k: composite.get(k) for k in RANK_FIELDS})
    entry["decision"] = as_mapping(context.get("strategy")).get("decision")
    return entry


def _safe_href(value: object, default: str) -> str:
    """A link target from an index entry: relative or http(s) only, never ``javascript:`` and the like."""
    if not isinstance(value, str) or not value.strip():
        return default
    scheme = urlsplit(value.strip()).scheme
    return value.strip() if scheme in ("", "http", "https") else default


def _index_row(entry: Mapping[str, Any], t: Mapping[str, str], lang: str) -> dict[str, Any]:
    stem = safe_code(entry.get("code"))
    rank = rank_text({k: entry.get(k) for k in RANK_FIELDS}, t, lang)
    decision = entry.get("decision")
    return {
        "name": localised(entry, "name", lang, fallback=entry.get("code")),
        "part_of": localised(entry, "district_name", lang),
        "year": format_year(entry.get("latest_year")),
        "codes": [format_code(entry.get(field), lang) for field in CODE_FIELDS],
        "nid": format_code(entry.get("nid"), lang),
        "rank": rank,
        "strategy": t.get(f"decision_{decision}", DASH) if decision else DASH,
        "decision": str(decision or ""),
        "html": _safe_href(entry.get("html"), f"{stem}.html"),
        "pdf": _safe_href(entry.get("pdf"), f"{stem}.pdf"),
    }


def index_view(
    entries: Iterable[Mapping[str, Any]], lang: str, templates_dir: Path = TEMPLATES_DIR
) -> dict[str, Any]:
    """What the index page prints in ``lang``: the regions in the given order, with links to their files.

    An entry has the keys of :func:`index_entry` (``html``/``pdf`` override the default relative links).
    """
    t = load_messages(lang, templates_dir)
    entries = [e for e in entries if isinstance(e, Mapping)]
    demo = any(is_demo(e.get("demo")) for e in entries)
    return {
        "lang": lang,
        "t": t,
        "banner": t["demo_banner"] if demo else None,
        "rows": [_index_row(e, t, lang) for e in entries],
    }
