"""The view of what the region should do: the strategy, its peers and the support instruments.

The strategy section shows the decision (comprehensive diversification, smart specialisation or
"insufficient data") with the three scores it was taken from, each against its threshold and with
the numbers behind it, so a reader can check the decision rather than trust it; the reasons are worded
here from the scores (the warehouse gives numbers and codes, the catalog the words), so a briefing
never quotes the other language. Peers (domestic regions and foreign analogues) and the instruments
proposed for the region's weak codes follow, because they answer the same question: what to do, and
with whom to compare.

Instruments are proposed for every region with codes, for its relatively weakest code and its slowest
change: where even that code is above the median of the region's group, the text says so (the weakest
of a strong region's codes is weak only relative to its others) and the instruments follow all the same.
The survey behind them is described where it is used (who was asked, where and when), and marked
indicative for a region outside the surveyed territory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    as_mapping,
    format_int,
    format_list,
    format_number,
    format_ordinal,
    format_percent,
    format_year,
    plural,
    records,
    text_or_dash,
)
from dagster_project.briefings.messages import Say, capitalise, in_sentence, localised, localised_list
from dagster_project.briefings.view_codes import CODES, code_name, latest_row, year_rows
from dagster_project.briefings.view_groups import Groups
from dagster_project.briefings.view_indicators import format_value, profile_rows, unit_key

SCORE_DIGITS = 2
SCORES = ("market", "location", "significance")
MEDIAN = 0.5  # a code is weak when its percentile in the group is below the median

# weak codes of marts.instruments and their catalog names
WEAK_CODE_KEYS = {
    "production": ("code_P", "P"), "institutional": ("code_I", "I"), "social": ("code_S", "S"),
    "innovation_code": ("code_dP", "P′"), "information_code": ("code_dI", "I′"),
    "value_competence_code": ("code_dS", "S′"),
}


# ---------------------------------------------------------------- strategy


def _percentile_group(strategy: Mapping[str, Any], context: Mapping[str, Any], groups: Groups, say: Say) -> str:
    """The regions a strategy percentile was taken among, after "of N" / "among": the country's (within a
    universe of several countries) or the whole group's."""
    region = as_mapping(context.get("region"))
    group, country = strategy.get("percentile_group"), region.get("country")
    if group == country and group != region.get("universe") and region.get("universe_countries") != [country]:
        return say("group_country_of", country=groups.country_in_phrase)
    return groups.group_of


def _missing_reason(strategy: Mapping[str, Any], score: str, among: str, say: Say) -> str:
    """Why a score is missing, in the briefing's language, from the warehouse's code and count."""
    code = strategy.get(f"{score}_missing_code")
    year = format_year(strategy.get("year"))
    if code == "too_few_regions":
        count = strategy.get(f"{score}_regions_with_input")
        return say("missing_too_few_regions", n=format_int(count, say.lang), among=among, year=year,
                   regions=plural(count, say.t["word_regions"], say.lang),
                   needed=format_int(strategy.get("min_regions"), say.lang))
    if isinstance(code, str) and f"missing_{code}" in say.t:
        return say(f"missing_{code}", year=year)
    return localised(strategy, f"{score}_missing_reason", say.lang, fallback=say.t["status_missing"])


def _score_basis(strategy: Mapping[str, Any], score: str, say: Say) -> str:
    """What a score was computed from, in words and numbers."""
    lang = say.lang
    if score == "market":
        if as_float(strategy.get("population_thousand")) is None:
            return DASH
        basis = say.t.get(f"market_basis_{strategy.get('market_basis')}", say.t["market_basis_money_income"])
        return say("basis_market", population=format_number(strategy.get("population_thousand"), lang, 1),
                   basis=basis)
    if score == "location":
        if all(as_float(strategy.get(k)) is None for k in ("density_per_km2", "urban_population_share")):
            return DASH
        text = say("basis_location", density=format_number(strategy.get("density_per_km2"), lang, 1),
                   urban=format_percent(strategy.get("urban_population_share"), lang))
        transport = as_float(strategy.get("transport_indicators_used")) or 0
        if transport > 0:
            text += "; " + say("basis_transport", n=format_int(transport, lang))
        if strategy.get("capital_region"):
            text += "; " + say.t["capital_region"]
        return text
    if as_float(strategy.get("grp_national_share")) is None:
        return DASH
    return say("basis_significance", national=format_percent(strategy.get("grp_national_share"), lang, share=True),
               district=format_percent(strategy.get("grp_district_share"), lang, share=True))


def _score_rows(strategy: Mapping[str, Any], among: str, say: Say) -> list[dict[str, str]]:
    rows = []
    for score in SCORES:
        value, met = strategy.get(f"{score}_score"), strategy.get(f"{score}_met")
        status = "missing" if as_float(value) is None else ("met" if met else "not_met")
        rows.append({
            "key": score,
            "label": say.t[f"score_{score}"],
            "score": format_number(value, say.lang, SCORE_DIGITS),
            "threshold": format_number(strategy.get(f"{score}_threshold"), say.lang, SCORE_DIGITS),
            "status": status,
            "status_label": say.t[f"status_{status}"],
            "basis": _score_basis(strategy, score, say) if status != "missing"
            else _missing_reason(strategy, score, among, say),
        })
    return rows


def _against(row: Mapping[str, str], say: Say) -> str:
    """``economic-geographic location (0.67 < 0.75)``."""
    sign = "≥" if row["status"] == "met" else "<"
    return say("score_against", score=in_sentence(row["label"]), value=row["score"], sign=sign,
               threshold=row["threshold"])


def _reasons(strategy: Mapping[str, Any], rows: Sequence[Mapping[str, str]], say: Say) -> str:
    """Why the decision follows from the scores: the rule applied, not the table repeated."""
    decision = strategy.get("decision")
    failed = [_against(r, say) for r in rows if r["status"] == "not_met"]
    by_reason: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] == "missing":
            by_reason.setdefault(r["basis"], []).append(in_sentence(r["label"]))
    # conditions missing for the same reason are named together, the reason once
    missing = [f"{format_list(names, say.lang)} ({reason})" for reason, names in by_reason.items()]
    parts = []
    if decision == "comprehensive_diversification":
        parts.append(say("reason_all_met", scores=format_list([_against(r, say) for r in rows], say.lang)))
    elif decision == "smart_specialisation":
        parts.append(say("reason_not_met", scores=format_list(failed, say.lang)))
        if missing:
            parts.append(say("reason_also_missing", scores=format_list(missing, say.lang)))
    else:
        parts.append(say("reason_missing", scores=format_list(missing, say.lang)))
    return " ".join(parts)


def _strength(name: str, code: str | None, profile: Mapping[str, Mapping[str, Any]], country: object,
              say: Say) -> str:
    """A strength with its value and rank: ``innovation activity of organisations: 26,8 % (2nd of 83)``."""
    row = profile.get(code or "")
    if not row:
        return name
    value = format_value(row.get("value"), "pct" if row.get("unit") == "%" else unit_key(row.get("unit"), country),
                         say)
    rank, n = row.get("rank"), row.get("n_regions")
    if as_float(rank) is None:
        return say("strength_value", name=name, value=value)
    return say("strength_value_rank", name=name, value=value, rank=format_ordinal(rank, say.lang),
               n=format_int(n, say.lang))


def _codes_missing(context: Mapping[str, Any], year: object, say: Say) -> list[str]:
    """The defining codes (``code_P P`` …, in words) the region lacks in ``year``: "no weak code" then speaks only
    of the codes that were computed."""
    row = latest_row(year_rows(context), year)
    return [code_name(symbol, key, say) for symbol, field, _, key in CODES if as_float(row.get(field)) is None]


def strategy_section(context: Mapping[str, Any], groups: Groups, say: Say) -> dict[str, Any] | None:
    """The decision with its scores, reasons, strengths and partners; ``None`` when there is none."""
    strategy = as_mapping(context.get("strategy"))
    decision = strategy.get("decision")
    if not decision:
        return None
    lang = say.lang
    among = _percentile_group(strategy, context, groups, say)
    rows = _score_rows(strategy, among, say)
    profile = profile_rows(context)
    country = as_mapping(context.get("region")).get("country")
    names = localised_list(strategy, "candidate_domains", lang)
    codes = [str(c) for c in strategy.get("candidate_domains") or []]
    strengths = [
        _strength(name, codes[i] if i < len(codes) else None, profile, country, say) for i, name in enumerate(names)
    ]
    weak = strategy.get("weak_families") or []
    too_few = any(strategy.get(f"{s}_missing_code") == "too_few_regions" for s in SCORES)
    partners = localised_list(strategy, "interregional_partners", lang)
    if partners:
        partners_note = ""
    elif not weak and too_few:
        partners_note = say("partners_too_few", among=among)
    elif not weak and (missing := _codes_missing(context, strategy.get("year"), say)):
        partners_note = say("partners_no_weak_computed", among=among, missing=format_list(missing, lang))
    elif not weak:
        partners_note = say("partners_no_weak", among=among)
    else:
        partners_note = say("partners_none", district=groups.district or say.t["district_generic"])
    return {
        "decision": str(decision),
        "label": say.t.get(f"decision_{decision}", str(decision)),
        "title": capitalise(say.t.get(f"decision_{decision}", str(decision))),
        "summary": say.t.get(f"decision_{decision}_summary", ""),
        "year": format_year(strategy.get("year")),
        "scores_caption": say("strategy_scores_caption", year=format_year(strategy.get("year")), among=among),
        "scores": rows,
        "reasons": _reasons(strategy, rows, say),
        "transport_note": say.t["reason_no_transport"]
        if as_float(strategy.get("transport_indicators_used")) == 0 else "",
        "strengths_intro": say("strengths_intro", among=among, year=format_year(strategy.get("year"))),
        "domains": strengths,
        "domain_names": [in_sentence(n) for n in names],
        "sector_note": say.t["sectors_none"],
        "sectors": [str(s) for s in strategy.get("sector_domains") or []],
        "partners": partners,
        "partners_note": partners_note,
    }


# ---------------------------------------------------------------- peers


def peers_section(context: Mapping[str, Any], say: Say) -> dict[str, Any]:
    """The nearest regions of the same country and the foreign analogues, nearest first."""
    groups: dict[str, list[dict[str, str]]] = {"domestic": [], "foreign_analogue": []}
    reference = None
    for peer in sorted(records(context.get("peers")),
                       key=lambda p: (str(p.get("peer_type")), as_float(p.get("peer_rank")) or 0)):
        kind = str(peer.get("peer_type"))
        if kind not in groups:
            continue
        reference = reference or peer
        strengths = localised(peer, "shared_strengths", say.lang, fallback="")
        groups[kind].append({
            "rank": format_int(peer.get("peer_rank"), say.lang),
            "name": localised(peer, "peer_name", say.lang, fallback=peer.get("peer_code")),
            "code": text_or_dash(peer.get("peer_code")),
            "country": localised(peer, "peer_country_name", say.lang, fallback=peer.get("peer_country")),
            "distance": format_number(peer.get("distance"), say.lang, 2),
            "strengths": strengths.replace("; ", ", ") if strengths != DASH else DASH,
        })
    window = ""
    if reference:
        window = say("peers_window", first=format_year(reference.get("window_start")),
                     last=format_year(reference.get("reference_year")))
    return {"domestic": groups["domestic"], "foreign": groups["foreign_analogue"], "window": window}


# ---------------------------------------------------------------- instruments


def _code_name(code: object, say: Say) -> str:
    known = WEAK_CODE_KEYS.get(str(code))
    return f"{in_sentence(say.t[known[0]])} {known[1]}" if known else text_or_dash(code)


def _survey(row: Mapping[str, Any], say: Say) -> dict[str, str]:
    """Who was asked, where, when and how many; and where it is published."""
    lang = say.lang
    reference = row.get("survey_reference")
    if isinstance(reference, str) and f"ref_{reference}_short" in say.t:
        source = say("survey_reference", ref=say.t[f"ref_{reference}_short"],
                     table=text_or_dash(row.get("survey_source_table")))
    else:
        source = text_or_dash(row.get("survey_citation"))
    parts = [localised(row, f"survey_{k}", lang, fallback="") for k in ("population", "respondent_groups")]
    details = "; ".join(p for p in (parts[0], text_or_dash(row.get("survey_period")), parts[1]) if p != DASH)
    sample = localised(row, "survey_sample", lang, fallback="")
    title = localised(row, "survey_title", lang, fallback=row.get("survey"))
    return {
        "line": say("survey_line", title=title, details=details, sample=sample, source=source)
        if sample != DASH else f"{title} ({details}), {source}.",
        "scope": str(row.get("survey_scope") or ""),
        "population": parts[0] if parts[0] != DASH else "",
    }


def _group(members: Sequence[Mapping[str, Any]], groups: Groups, say: Say) -> dict[str, Any]:
    """One weak code's group: its title, whether it is below the median, and its instruments."""
    first = members[0]
    kind = "family" if first.get("target_type") == "weakest_family" else "dynamic"
    fallback = next((r for r in members if r.get("match_type") == "fallback_next_weakest"), None)
    addressed = fallback or next((r for r in members if r.get("instrument_code")), first)
    percentile = as_float(addressed.get("addressed_percentile", addressed.get("weak_percentile")))
    weak = percentile is not None and percentile < MEDIAN
    higher_than = format_percent(100 * percentile, say.lang, 0) if percentile is not None else DASH
    notes = []
    if any(r.get("match_type") == "no_survey_section" for r in members):
        notes.append(say("instruments_no_section", code=_code_name(first.get("weak_code"), say)))
    if fallback:
        notes.append(say("instruments_fallback", code=_code_name(fallback.get("addressed_code"), say)))
    status = say("instruments_below_median" if weak else "instruments_above_median", group_of=groups.group_of,
                 share=higher_than)
    rows = [
        {"rank": format_int(r.get("instrument_rank"), say.lang),
         "name": localised(r, "instrument", say.lang, fallback=r.get("instrument_code")),
         "relevance": format_percent(r.get("relevance_pct"), say.lang)}
        for r in members if r.get("instrument_code")
    ]
    return {
        "kind": kind,
        "share": higher_than,
        "code": _code_name(addressed.get("addressed_code") or first.get("weak_code"), say),
        "title": say(f"instruments_weakest_{kind}", code=_code_name(first.get("weak_code"), say)),
        "status": status,
        "notes": notes,
        "weak": weak,
        "rows": rows,
    }


def instruments_section(context: Mapping[str, Any], groups: Groups, say: Say) -> dict[str, Any]:
    """Support instruments for the region's relatively weakest code and slowest change, most relevant first,
    each group saying whether its code is below the group's median, with the survey they come from described
    next to them."""
    rows = records(context.get("instruments"))
    order = {"weakest_family": 0, "weakest_dynamic_code": 1}
    rows = sorted(rows, key=lambda r: (order.get(str(r.get("target_type")), 2), str(r.get("weak_code")),
                                        str(r.get("match_type")) != "no_survey_section",
                                        as_float(r.get("instrument_rank")) or 0))
    keys: list[tuple[str, str]] = []
    for row in rows:
        key = (str(row.get("target_type")), str(row.get("weak_code")))
        if key not in keys:
            keys.append(key)
    built = [_group([r for r in rows if (str(r.get("target_type")), str(r.get("weak_code"))) == key], groups, say)
             for key in keys]
    merged: list[dict[str, Any]] = []
    for group in built:  # the same instruments for a code and for its change (S and S′): one list, two titles
        twin = next((g for g in merged if g["rows"] and g["rows"] == group["rows"]
                     and g["weak"] and group["weak"]), None)
        if twin:  # both below the median: one status says so for both
            twin["title"] = say("instruments_both", first=twin["title"], second=in_sentence(group["title"]))
            twin["status"] = say("instruments_below_median_both", group_of=groups.group_of, first=twin["share"],
                                 second=group["share"])
        else:
            merged.append(group)
    survey_row = next((r for r in rows if r.get("survey")), None)
    survey = _survey(survey_row, say) if survey_row else None
    scope_note = ""
    if survey and survey["scope"] in ("country", "abroad", "unspecified"):
        scope_note = say(f"survey_scope_{survey['scope']}", population=survey["population"] or DASH)
    none_note = say.t["instruments_none"]
    complete = [r for r in year_rows(context) if all(as_float(r.get(f)) is not None for _, f, _, _ in CODES)]
    if not merged and not complete and (missing := _codes_missing(context, context.get("latest_year"), say)):
        # the weakest code is chosen among all three, in the latest year that has them (marts.instruments)
        none_note = say("instruments_none_codes_missing", missing=format_list(missing, say.lang))
    return {
        "groups": merged,
        "none_note": none_note,
        "survey": survey,
        "scope_note": scope_note,
        "indicative": bool(scope_note),
        "any_weak": any(g["weak"] for g in merged),
    }
