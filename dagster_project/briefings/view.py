"""The *view* of one briefing: every number, date and sentence both templates print, in one language.

The context from the warehouse is turned into plain strings here: numbers and dates formatted for
the language, labels and sentences from the message catalog, every gap already a dash. The HTML
template and the Typst template receive this same view, so the two outputs cannot disagree, and
neither template formats data. The first section answers the reader's three questions — where does
the region stand, what changed, what should it do — and the rest is the evidence behind them.

This module assembles the view and writes the three answers, which draw on every section; each
section is built in its own module: the codes and ranks (:mod:`view_codes`), the strategy, peers
and instruments (:mod:`view_strategy`), the empirical check (:mod:`view_correlations`) and the data
quality and sources (:mod:`view_quality`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    as_mapping,
    format_code,
    format_date,
    format_int,
    format_list,
    format_vintage,
    format_year,
    is_demo,
    safe_code,
    text_or_dash,
)
from dagster_project.briefings.messages import TEMPLATES_DIR, Say, in_sentence, load_messages, localised
from dagster_project.briefings.view_codes import (
    CODES,
    chart_texts,
    contributions,
    contributions_year,
    key_figures,
    latest_row,
    profile_legend,
    ranks_of_year,
    ranks_section,
    year_rows,
    yearly_table,
)
from dagster_project.briefings.view_correlations import correlations_section
from dagster_project.briefings.view_quality import provenance_rows, quality_section
from dagster_project.briefings.view_strategy import instruments_section, peers_section, strategy_section

# TEMPLATES_DIR and load_messages are imported from here by the batch renderer and the delivery.
__all__ = ["CHART_NAMES", "TEMPLATES_DIR", "VOLATILE_VIEW_FIELDS", "build_view", "load_messages", "stable_view"]

CHART_NAMES = ("codes", "profile", "dynamics", "nid")

# Fields of the view that change on every build without changing what the briefing says.
VOLATILE_VIEW_FIELDS = ("generated_at", "build_id", "built_at", "build_line")


# ---------------------------------------------------------------- the first page: three answers


def _strongest_weakest(context: Mapping[str, Any], row: Mapping[str, Any], say: Say) -> tuple[str, str] | None:
    """The codes with the best and the worst rank in the universe (by value when no rank is known)."""
    ranks = ranks_of_year(context, row.get("year"))
    scored = []
    for symbol, field, _, key in CODES:
        rank = as_float(as_mapping(ranks.get(field)).get("point_rank"))
        value = as_float(row.get(field))
        if value is not None:
            scored.append((rank if rank is not None else -value, symbol, key, rank))
    if len(scored) < 2:
        return None
    scored.sort()

    def describe(item: tuple) -> str:
        _, symbol, key, rank = item
        name = f"{say.t[key].lower()} {symbol}"
        return say("code_with_rank", code=name, rank=format_int(rank, say.lang)) if rank is not None else name

    return describe(scored[0]), describe(scored[-1])


def _answer_stand(context: Mapping[str, Any], row: Mapping[str, Any], region: str, year: str, say: Say) -> str:
    composite = ranks_of_year(context, row.get("year")).get("composite", {})
    parts = []
    if as_float(composite.get("point_rank")) is not None:
        country = localised(as_mapping(context.get("region")), "country_name", say.lang,
                            fallback=as_mapping(context.get("region")).get("country"))
        parts.append(say("answer_rank", region=region, year=year, country=country,
                         rank=format_int(composite.get("point_rank"), say.lang),
                         n=format_int(composite.get("n_regions"), say.lang),
                         low=format_int(composite.get("rank_low"), say.lang),
                         high=format_int(composite.get("rank_high"), say.lang)))
    extremes = _strongest_weakest(context, row, say)
    if extremes:
        parts.append(say("answer_extremes", strongest=extremes[0], weakest=extremes[1]))
    return " ".join(parts) if parts else say.t["answer_stand_none"]


def _answer_changed(context: Mapping[str, Any], row: Mapping[str, Any], year: str, say: Say) -> str:
    lang = say.lang
    parts = []
    id_value = as_float(row.get("id_code"))
    if id_value is not None:
        direction = say.t["id_up"] if id_value > 0 else (say.t["id_down"] if id_value < 0 else say.t["id_flat"])
        parts.append(say("answer_id", year=year, id=format_code(id_value, lang, signed=True), direction=direction,
                         nid=format_code(row.get("nid"), lang)))
    composite = ranks_of_year(context, row.get("year")).get("composite", {})
    before = ranks_of_year(context, int(year) - 1).get("composite", {}) if year != DASH else {}
    if as_float(composite.get("point_rank")) is not None and as_float(before.get("point_rank")) is not None:
        now, then = int(composite["point_rank"]), int(before["point_rank"])
        key = "answer_rank_same" if now == then else "answer_rank_moved"
        parts.append(say(key, before=format_int(then, lang), now=format_int(now, lang)))
    drivers = contributions(context, lang)
    if drivers:
        top = drivers[0]
        parts.append(say("answer_driver", indicator=top["name"], code=top["code"], change=top["change"]))
    return " ".join(parts) if parts else say.t["answer_changed_none"]


def _answer_todo(strategy: Mapping[str, Any] | None, instruments: Mapping[str, Any], say: Say) -> str:
    parts = []
    if strategy:
        parts.append(say("answer_strategy", strategy=strategy["label"]) + " " + strategy["summary"])
        if strategy["decision"] == "smart_specialisation" and strategy["domains"]:
            domains = [in_sentence(d) for d in strategy["domains"][:3]]
            parts.append(say("answer_domains", domains=format_list(domains, say.lang)))
    for group in instruments.get("groups", []):
        if group["rows"]:
            top = group["rows"][0]
            parts.append(say("answer_instrument", target=group["title"], instrument=top["name"],
                             relevance=top["relevance"]))
            break
    return " ".join(p.strip() for p in parts) if parts else say.t["answer_todo_none"]


# ---------------------------------------------------------------- the view


def build_view(
    context: Mapping[str, Any],
    lang: str,
    charts: Collection[str] | bool = CHART_NAMES,
    templates_dir: Path = TEMPLATES_DIR,
) -> dict[str, Any]:
    """Everything both templates print, as plain JSON-ready strings in ``lang``.

    ``charts`` names the charts that exist for the region (``True``: all, ``False``: none); the view
    then describes each (caption, text alternative, the name of its input for Typst).
    """
    available = CHART_NAMES if charts is True else (() if charts is False else tuple(charts))
    t = load_messages(lang, templates_dir)
    say = Say(t, lang)
    region = as_mapping(context.get("region"))
    code = text_or_dash(region.get("code"))
    name = localised(region, "name", lang, fallback=region.get("code"))
    rows = year_rows(context)
    latest = latest_row(rows, context.get("latest_year"))
    demo = is_demo(context.get("demo"))
    latest_year = format_year(latest.get("year")) if latest else format_year(context.get("latest_year"))
    strategy = strategy_section(context, say)
    instruments = instruments_section(context, say)
    return {
        "lang": lang,
        "t": t,
        "title": say("title", region=name),
        "region_name": name,
        "region_code": code,
        "file_stem": safe_code(region.get("code")),
        "part_of": localised(region, "district_name", lang),
        "country": localised(region, "country_name", lang, fallback=region.get("country")),
        "demo": demo,
        "banner": t["demo_banner"] if demo else None,
        "data_vintage": format_vintage(context.get("data_vintage"), lang),
        "generated_at": format_date(context.get("generated_at"), lang, with_time=True),
        "build_id": text_or_dash(context.get("build_id")),
        "built_at": format_date(context.get("built_at"), lang, with_time=True),
        "sources": text_or_dash(context.get("sources")),
        "latest_year": latest_year,
        "answers": {
            "stand": _answer_stand(context, latest, name, latest_year, say),
            "changed": _answer_changed(context, latest, latest_year, say),
            "todo": _answer_todo(strategy, instruments, say),
        },
        "key_figures_title": say("key_figures", year=latest_year),
        "has_codes": bool(latest),
        "key_figures": key_figures(context, latest, say),
        "charts": chart_texts(context, rows, latest, available, say),
        "profile_legend": profile_legend(say),
        "table": yearly_table(rows, say),
        "ranks": ranks_section(context, latest_year, say),
        "strategy": strategy,
        "contributions_intro": say("contributions_intro", year=contributions_year(context, latest_year)),
        "contributions": contributions(context, lang),
        "peers": peers_section(context, say),
        "instruments": instruments,
        "correlations": correlations_section(context, say),
        "quality": quality_section(context, latest_year, say),
        "provenance": provenance_rows(context, lang),
        "build_line": say("build_line", build=text_or_dash(context.get("build_id")),
                          sources=text_or_dash(context.get("sources")),
                          built=format_date(context.get("built_at"), lang, with_time=True)),
    }


def stable_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """The view without the fields that change on every build (for the render fingerprint)."""
    return {k: v for k, v in view.items() if k not in VOLATILE_VIEW_FIELDS}
