"""The *view* of one briefing: every number, date and sentence both templates print, in one language.

The context from the warehouse is turned into plain strings here: numbers and dates formatted for
the language, labels and sentences from the message catalog, every gap already a dash. The HTML
template and the Typst template receive this same view, so the two outputs cannot disagree, and
neither template formats data. The first page answers the reader's three questions — where does
the region stand, what changed, what should it do — with the headline indicators in real units and
the codes beside them; the rest is the evidence behind them.

This module assembles the view and writes the three answers, which draw on every section; each
section is built in its own module: the comparison groups (:mod:`view_groups`), the indicators in
real units (:mod:`view_indicators`), the codes and ranks (:mod:`view_codes`), the strategy, peers and
instruments (:mod:`view_strategy`), the empirical check (:mod:`view_correlations`) and the data
quality and sources (:mod:`view_quality`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
    format_ordinal,
    format_year,
    is_demo,
    safe_code,
    text_or_dash,
)
from dagster_project.briefings.messages import TEMPLATES_DIR, Say, in_sentence, load_messages, localised
from dagster_project.briefings.view_codes import (
    CODES,
    TOP_DRIVERS,
    chart_texts,
    code_name,
    codes_table,
    contributions,
    contributions_year,
    latest_row,
    latest_with,
    median_index,
    median_of,
    partial_note,
    profile_legend,
    ranks_of_year,
    ranks_section,
    year_rows,
    yearly_table,
)
from dagster_project.briefings.view_correlations import correlations_section
from dagster_project.briefings.view_groups import Groups, groups
from dagster_project.briefings.view_indicators import (
    format_value,
    indicators_by_family,
    key_indicators,
    profile_rows,
    unit_key,
)
from dagster_project.briefings.view_quality import latest_release, provenance_rows, quality_section, sources_line
from dagster_project.briefings.view_strategy import instruments_section, peers_section, strategy_section

# TEMPLATES_DIR and load_messages are imported from here by the batch renderer and the delivery.
__all__ = ["CHART_NAMES", "TEMPLATES_DIR", "VOLATILE_VIEW_FIELDS", "build_view", "load_messages", "stable_view"]

CHART_NAMES = ("codes", "profile", "dynamics", "nid")

# Fields of the view that change on every build without changing what the briefing says.
VOLATILE_VIEW_FIELDS = ("generated_at", "build_id", "built_at", "build_line")

# The indicators the first answer quotes in real units, if the region has them: output, then income.
HEADLINE_INDICATORS = ("grp_per_capita", "money_income_per_capita")

REFERENCES = ("paper_code_model", "paper_strategy")


# ---------------------------------------------------------------- the first page: three answers


def _code_ranks(context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], say: Say) -> list[dict[str, Any]]:
    """Each defining code in its latest year with its rank there (codes without a value are left out)."""
    out = []
    for symbol, field, _, key in CODES:
        row = latest_with(rows, field)
        if not row:
            continue
        rank = ranks_of_year(context, row.get("year")).get(field, {})
        out.append({
            "name": code_name(symbol, key, say), "field": field, "year": row.get("year"),
            "value": as_float(row.get(field)), "rank": as_float(rank.get("point_rank")),
            "n": as_float(rank.get("n_regions")),
        })
    return out


def _headline(context: Mapping[str, Any], say: Say) -> str:
    """GRP per capita (or income) in real units and against the country: what a regional profile leads with."""
    profile = profile_rows(context)
    country = as_mapping(context.get("region")).get("country")
    for code in HEADLINE_INDICATORS:
        row = profile.get(code)
        if not row or as_float(row.get("value")) is None:
            continue
        value = format_value(row.get("value"), unit_key(row.get("unit"), country), say)
        name = localised(row, "name", say.lang, fallback=code)
        pct = as_float(row.get("percent_of_country"))
        if pct is None:
            return say("answer_headline", indicator=name, value=value, year=format_year(row.get("year")))
        return say("answer_headline_country", indicator=name, value=value, year=format_year(row.get("year")),
                   percent=format_int(pct, say.lang))
    return ""


def _answer_stand(context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], region: str,
                  groups_: Groups, say: Say) -> str:
    lang = say.lang
    parts = []
    composite_year = next((r.get("year") for r in reversed(rows)
                           if ranks_of_year(context, r.get("year")).get("composite")), None)
    codes = _code_ranks(context, rows, say)
    if composite_year is not None:
        composite = ranks_of_year(context, composite_year)["composite"]
        parts.append(say("answer_rank", region=region, year=format_year(composite_year),
                         rank=format_ordinal(composite.get("point_rank"), lang),
                         n=format_int(composite.get("n_regions"), lang), group_of=groups_.group_of,
                         low=format_int(composite.get("rank_low"), lang),
                         high=format_int(composite.get("rank_high"), lang)))
    elif codes:
        missing = [code_name(s, k, say) for s, f, _, k in CODES if f not in {c["field"] for c in codes}]
        parts.append(say("answer_rank_none", region=region, codes=format_list(missing, lang)))
    ranked = [c for c in codes if c["rank"] is not None]
    if len(ranked) >= 2:
        best = min(ranked, key=lambda c: (c["rank"] / (c["n"] or 1), c["name"]))
        worst = max(ranked, key=lambda c: (c["rank"] / (c["n"] or 1), c["name"]))
        median = median_of(median_index(context), "universe", worst["year"], worst["field"])
        below = median is not None and worst["value"] is not None and worst["value"] < median
        parts.append(say("answer_extremes", strongest=best["name"],
                         strongest_rank=format_ordinal(best["rank"], lang), strongest_n=format_int(best["n"], lang),
                         weakest=worst["name"], weakest_rank=format_ordinal(worst["rank"], lang),
                         weakest_n=format_int(worst["n"], lang)))
        parts.append(say("answer_weakest_below" if below else "answer_weakest_above", group_of=groups_.group_of))
    elif ranked:
        only = ranked[0]
        parts.append(say("answer_one_code", code=only["name"], year=format_year(only["year"]),
                         rank=format_ordinal(only["rank"], lang), n=format_int(only["n"], lang)))
    headline = _headline(context, say)
    if headline:
        parts.append(headline)
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
    drivers = contributions(context, say)[:TOP_DRIVERS]
    if drivers:
        items = [say("driver_item", indicator=in_sentence(d["name"]), moved=d["moved"], change=d["change"],
                     code=d["code"]) if d["moved"] != DASH else
                 say("driver_item_short", indicator=in_sentence(d["name"]), change=d["change"], code=d["code"])
                 for d in drivers]
        parts.append(say("answer_drivers", year=contributions_year(context, year), drivers="; ".join(items)))
    return " ".join(parts) if parts else say.t["answer_changed_none"]


def _answer_todo(strategy: Mapping[str, Any] | None, instruments: Mapping[str, Any], latest_year: str,
                 say: Say) -> str:
    parts = []
    if strategy:
        # decided on an earlier year than the headline's (GRP ends a year before income): name that year
        if strategy["year"] != latest_year:
            parts.append(say("answer_strategy_year", strategy=strategy["label"], year=strategy["year"]))
        else:
            parts.append(say("answer_strategy", strategy=strategy["label"]))
        parts.append(strategy["summary"] if strategy["decision"] == "comprehensive_diversification"
                     else strategy["reasons"])
        if strategy["decision"] == "smart_specialisation" and strategy["domain_names"]:
            parts.append(say("answer_domains", domains=format_list(strategy["domain_names"][:3], say.lang)))
    # a weak code's instruments first; else those of the relatively weakest code, which the text says is above
    # the median
    proposing = sorted((g for g in instruments.get("groups", []) if g["rows"]), key=lambda g: not g["weak"])
    if proposing:
        group, top = proposing[0], proposing[0]["rows"][0]
        key = "answer_instrument" if group["kind"] == "family" else "answer_instrument_dynamic"
        key += "" if group["weak"] else "_above_median"
        key += "_indicative" if instruments.get("indicative") else ""
        parts.append(say(key, code=group["code"], instrument=top["name"], relevance=top["relevance"]))
    elif instruments.get("groups"):
        parts.append(say.t["answer_no_weak_code"])
    return " ".join(p.strip() for p in parts if p) if parts else say.t["answer_todo_none"]


# ---------------------------------------------------------------- the header


def _meta(context: Mapping[str, Any], groups_: Groups, latest_year: str, say: Say) -> list[dict[str, str]]:
    """The lines under the title: code, district (when it is a comparison), country, group, data, date."""
    region = as_mapping(context.get("region"))
    items = [(say.t["region_code"], text_or_dash(region.get("code")))]
    if groups_.district_comparable:
        items.append((groups_.district_label, groups_.district))
    items.append((say.t["country"], groups_.country))
    group = say("group_with_size", group_of=groups_.group_of, n=groups_.group_size) if groups_.group_size \
        else groups_.group
    items.append((say.t["comparison_group"], group))
    items.append((say.t["data_vintage"], _vintage(context, latest_year, say)))
    return [{"label": label, "value": value} for label, value in items]


def _vintage(context: Mapping[str, Any], latest_year: str, say: Say) -> str:
    release = latest_release(context, say.lang, latest_year)
    if latest_year == DASH:
        return release
    if release == DASH:
        return say("vintage_year", year=latest_year)
    return say("vintage_year_release", year=latest_year, release=release)


def _references(say: Say) -> list[dict[str, str]]:
    return [{"mark": say.t[f"ref_{key}_short"], "text": say.t[f"ref_{key}"]} for key in REFERENCES]


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
    groups_ = groups(context, say)
    rows = year_rows(context)
    latest = latest_row(rows, context.get("latest_year"))
    # the years up to the briefing's latest year (a code's own latest year may be earlier, never later)
    upto = [r for r in rows if not latest or float(r["year"]) <= float(latest["year"])]
    demo = is_demo(context.get("demo"))
    latest_year = format_year(latest.get("year")) if latest else format_year(context.get("latest_year"))
    strategy = strategy_section(context, groups_, say)
    instruments = instruments_section(context, groups_, say)
    sources = sources_line(context, say)
    build_id = text_or_dash(context.get("build_id"))
    return {
        "lang": lang,
        "t": t,
        "title": say("title", region=name),
        "region_name": name,
        "region_code": code,
        "file_stem": safe_code(region.get("code")),
        "meta": _meta(context, groups_, latest_year, say),
        "demo": demo,
        "banner": t["demo_banner"] if demo else None,
        "data_vintage": _vintage(context, latest_year, say),
        "generated_at": format_date(context.get("generated_at"), lang, with_time=True),
        "build_id": build_id,
        "built_at": format_date(context.get("built_at"), lang, with_time=True),
        "sources": sources,
        "latest_year": latest_year,
        "group": groups_.group,
        "district_comparable": groups_.district_comparable,
        "district_median_label": say("median_of_district", district_label=in_sentence(groups_.district_label)),
        "answers": {
            "stand": _answer_stand(context, upto, name, groups_, say),
            "changed": _answer_changed(context, latest, latest_year, say),
            "todo": _answer_todo(strategy, instruments, latest_year, say),
        },
        "key_indicators": key_indicators(context, say),
        "key_indicators_note": say("key_indicators_note", group_of=groups_.group_of),
        "indicators": indicators_by_family(context, say),
        "indicators_intro": say("indicators_intro", group_of=groups_.group_of),
        "has_codes": bool(latest),
        "codes_title": say("codes_title", year=latest_year),
        "codes": codes_table(context, upto, groups_, say),
        "codes_note": say("codes_note", group_of=groups_.group_of),
        "codes_partial": partial_note(upto, latest, say),
        "charts": chart_texts(context, rows, latest, available, groups_, say),
        "profile_legend": profile_legend(groups_, say),
        "table": yearly_table(rows, say),
        "ranks": ranks_section(context, latest_year, groups_, say),
        "strategy": strategy,
        "contributions_intro": say("contributions_intro", year=contributions_year(context, latest_year)),
        "contributions": contributions(context, say),
        "peers": peers_section(context, say),
        "instruments": instruments,
        "correlations": correlations_section(context, groups_, say),
        "quality": quality_section(context, latest_year, say),
        "method": {key: say(f"method_{key}", group=groups_.group) for key in (
            "codes", "dynamics", "nid", "ranks", "strategy", "peers", "instruments", "correlations", "quality")},
        "references": _references(say),
        "provenance": provenance_rows(context, say),
        "build_line": say("build_line", build=build_id, sources=sources,
                          built=format_date(context.get("built_at"), lang, with_time=True)),
    }


def stable_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """The view without the fields that change on every build (for the render fingerprint)."""
    return {k: v for k, v in view.items() if k not in VOLATILE_VIEW_FIELDS}
