"""The view of the index page: the regions grouped by country and district, with their latest codes, rank,
NID and strategy.

The index is built from the same contexts as the briefings but needs only a few fields of each, so
:func:`index_entry` keeps those (a small, picklable record the batch renderer can collect from its
worker processes) and :func:`index_view` formats them for one language. The page itself is rendered
by :func:`render.render_index`; it works as a grouped table without scripts, and a small inline script
adds sorting by each column and a filter box.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    as_mapping,
    format_code,
    format_year,
    is_demo,
    safe_code,
)
from dagster_project.briefings.messages import TEMPLATES_DIR, load_messages, localised
from dagster_project.briefings.view_codes import latest_row, rank_text, year_rows
from dagster_project.briefings.view_groups import MIN_DISTRICT_REGIONS

CODE_FIELDS = ("production_code", "institutional_code", "social_code")
RANK_FIELDS = ("point_rank", "n_regions", "rank_low", "rank_high")
DECISION_ORDER = {"comprehensive_diversification": 0, "smart_specialisation": 1, "insufficient_data": 2}


def index_entry(context: Mapping[str, Any]) -> dict[str, Any]:
    """The index row of one region, taken from its briefing context (latest codes, rank, NID, strategy)."""
    region = as_mapping(context.get("region"))
    latest = latest_row(year_rows(context), context.get("latest_year"))
    entry = {key: region.get(key) for key in ("code", "name_ru", "name_en", "district_code", "district_name_ru",
                                              "district_name_en", "district_regions", "country", "country_name_ru",
                                              "country_name_en")}
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


def _sort_number(value: object) -> str:
    """A sort key the page's script reads: the number, or empty (sorted last) when there is none."""
    number = as_float(value)
    return "" if number is None else repr(number)


def _index_row(entry: Mapping[str, Any], t: Mapping[str, str], lang: str) -> dict[str, Any]:
    stem = safe_code(entry.get("code"))
    rank = rank_text({k: entry.get(k) for k in RANK_FIELDS}, t, lang)
    decision = entry.get("decision")
    name = localised(entry, "name", lang, fallback=entry.get("code"))
    # a district of one comparison region (Saarland in Saarland) is no group of its own
    comparable = (as_float(entry.get("district_regions")) or 0) >= MIN_DISTRICT_REGIONS
    district = localised(entry, "district_name", lang, fallback="") if comparable else DASH
    country = localised(entry, "country_name", lang, fallback=entry.get("country"))
    return {
        "name": name,
        "part_of": district,
        "country": country,
        "year": format_year(entry.get("latest_year")),
        "codes": [format_code(entry.get(field), lang) for field in CODE_FIELDS],
        "nid": format_code(entry.get("nid"), lang),
        "rank": rank,
        "strategy": t.get(f"decision_{decision}", DASH) if decision else DASH,
        "decision": str(decision or ""),
        "html": _safe_href(entry.get("html"), f"{stem}.html"),
        "pdf": _safe_href(entry.get("pdf"), f"{stem}.pdf"),
        # what the page's sorting and filtering read
        "sort": {
            "name": name.lower(),
            "p": _sort_number(entry.get("production_code")),
            "i": _sort_number(entry.get("institutional_code")),
            "s": _sort_number(entry.get("social_code")),
            "nid": _sort_number(entry.get("nid")),
            "rank": _sort_number(entry.get("point_rank")),
            "strategy": str(DECISION_ORDER.get(str(decision), 3)),
        },
        "search": " ".join((name, district if district != DASH else "", country,
                            t.get(f"decision_{decision}", "") if decision else "", str(entry.get("code") or ""))),
    }


def _grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by country (the country with most regions first), then district, then region name."""
    countries: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        countries.setdefault(row["country"], {}).setdefault(row["part_of"], []).append(row)
    ordered = sorted(countries.items(), key=lambda kv: (-sum(len(v) for v in kv[1].values()), kv[0]))
    return [
        {"country": country, "districts": [
            {"district": district if district != DASH else "", "rows": sorted(members, key=lambda r: r["name"])}
            for district, members in sorted(districts.items(), key=lambda kv: kv[0])
        ]}
        for country, districts in ordered
    ]


def index_view(
    entries: Iterable[Mapping[str, Any]], lang: str, templates_dir: Path = TEMPLATES_DIR
) -> dict[str, Any]:
    """What the index page prints in ``lang``: the regions grouped by country and district, with links.

    An entry has the keys of :func:`index_entry` (``html``/``pdf`` override the default relative links).
    """
    t = load_messages(lang, templates_dir)
    entries = [e for e in entries if isinstance(e, Mapping)]
    demo = any(is_demo(e.get("demo")) for e in entries)
    rows = [_index_row(e, t, lang) for e in entries]
    return {
        "lang": lang,
        "t": t,
        "banner": t["demo_banner"] if demo else None,
        "builds": _builds_note(entries, t),
        "rows": rows,
        "groups": _grouped(rows),
    }


def _builds_note(entries: list[Mapping[str, Any]], t: Mapping[str, str]) -> str | None:
    """The warehouse build behind the list, and how many briefings were kept from an earlier build.

    An entry's ``build_id`` is the build this list was made from, its ``rendered_build_id`` the build its
    files were rendered in (:func:`dagster_project.briefings.batch.render_regions` keeps a briefing whose
    figures did not change, and its footer names the build it was rendered in). ``None`` without build ids.
    """
    builds = {str(e["build_id"]) for e in entries if e.get("build_id")}
    if len(builds) != 1:
        return None
    build = builds.pop()
    kept = sum(1 for e in entries if e.get("rendered_build_id") and str(e["rendered_build_id"]) != build)
    note = t["index_build"].format(build=build)
    return note + " " + t["index_builds_kept"].format(kept=kept, total=len(entries)) if kept else note
