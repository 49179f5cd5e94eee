"""The view of what the region should do: the strategy, its peers and the support instruments.

The strategy section shows the decision (comprehensive diversification, smart specialisation or
"insufficient data") with the three scores it was taken from, each against its threshold and with
the numbers behind it, so a reader can check the decision rather than trust it. Peers (domestic
regions and foreign analogues) and the instruments proposed for the region's weakest codes follow,
because they answer the same question: what to do, and with whom to compare.
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
    format_percent,
    format_year,
    records,
    text_or_dash,
    typograph,
)
from dagster_project.briefings.messages import Say, capitalise, in_sentence, localised, localised_list

SCORE_DIGITS = 2

SCORES = ("market", "location", "significance")

# weak codes of marts.instruments and their catalog names
WEAK_CODE_KEYS = {
    "production": ("code_P", "P"), "institutional": ("code_I", "I"), "social": ("code_S", "S"),
    "innovation_code": ("code_dP", "P′"), "information_code": ("code_dI", "I′"),
    "value_competence_code": ("code_dS", "S′"),
}


# ---------------------------------------------------------------- strategy


def _score_basis(strategy: Mapping[str, Any], score: str, say: Say) -> str:
    """What a score was computed from, in words and numbers."""
    lang = say.lang
    if score == "market":
        if as_float(strategy.get("population_thousand")) is None:
            return DASH
        basis = say.t.get(f"market_basis_{strategy.get('market_basis')}", text_or_dash(strategy.get("market_basis")))
        return say("basis_market", population=format_number(strategy.get("population_thousand"), lang, 1),
                   basis=basis)
    if score == "location":
        if all(as_float(strategy.get(k)) is None for k in ("density_per_km2", "urban_population_share")):
            return DASH
        text = say("basis_location", density=format_number(strategy.get("density_per_km2"), lang, 1),
                   urban=format_percent(strategy.get("urban_population_share"), lang))
        if strategy.get("capital_region"):
            text += "; " + say.t["capital_region"]
        return text
    if as_float(strategy.get("grp_national_share")) is None:
        return DASH
    return say("basis_significance", national=format_percent(strategy.get("grp_national_share"), lang, share=True),
               district=format_percent(strategy.get("grp_district_share"), lang, share=True))


def _score_rows(strategy: Mapping[str, Any], say: Say) -> list[dict[str, str]]:
    rows = []
    for score in SCORES:
        value, met = strategy.get(f"{score}_score"), strategy.get(f"{score}_met")
        status = "missing" if as_float(value) is None else ("met" if met else "not_met")
        rows.append({
            "label": say.t[f"score_{score}"],
            "score": format_number(value, say.lang, SCORE_DIGITS),
            "threshold": format_number(strategy.get(f"{score}_threshold"), say.lang, SCORE_DIGITS),
            "status": status,
            "status_label": say.t[f"status_{status}"],
            "basis": _score_basis(strategy, score, say)
            if status != "missing" else text_or_dash(strategy.get(f"{score}_missing_reason")),
        })
    return rows


def strategy_section(context: Mapping[str, Any], say: Say) -> dict[str, Any] | None:
    """The decision with its scores, reasons, candidate domains and partners; ``None`` when there is none."""
    strategy = as_mapping(context.get("strategy"))
    decision = strategy.get("decision")
    if not decision:
        return None
    lang = say.lang
    return {
        "decision": str(decision),
        "label": say.t.get(f"decision_{decision}", str(decision)),
        "title": capitalise(say.t.get(f"decision_{decision}", str(decision))),
        "summary": say.t.get(f"decision_{decision}_summary", ""),
        "year": format_year(strategy.get("year")),
        "scores_caption": say("strategy_scores_caption", year=format_year(strategy.get("year"))),
        "scores": _score_rows(strategy, say),
        "reasons": typograph(localised(strategy, "reasons", lang), lang),
        "domains": localised_list(strategy, "candidate_domains", lang),
        "sector_note": typograph(localised(strategy, "sector_note", lang), lang),
        "sectors": [str(s) for s in strategy.get("sector_domains") or []],
        "weak_families": format_list(
            [say.t.get(f"family_{f}", f) for f in strategy.get("weak_families") or []], lang
        ),
        "partners": localised_list(strategy, "interregional_partners", lang),
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


def _instrument_group_title(rows: Sequence[Mapping[str, Any]], say: Say) -> str:
    first = rows[0]
    kind = "weakest_family" if first.get("target_type") == "weakest_family" else "weakest_dynamic"
    known = WEAK_CODE_KEYS.get(str(first.get("weak_code")))
    code = f"{in_sentence(say.t[known[0]])} {known[1]}" if known else text_or_dash(first.get("weak_code"))
    return say(f"instruments_{kind}", code=code,
               percentile=format_number(first.get("weak_percentile"), say.lang, SCORE_DIGITS))


def instruments_section(context: Mapping[str, Any], say: Say) -> dict[str, Any]:
    """Support instruments by weak code (weakest family first), most relevant first, with the surveys cited."""
    rows = records(context.get("instruments"))
    order = {"weakest_family": 0, "weakest_dynamic_code": 1}
    rows = sorted(rows, key=lambda r: (order.get(str(r.get("target_type")), 2), str(r.get("weak_code")),
                                        str(r.get("match_type")) != "no_survey_section",
                                        as_float(r.get("instrument_rank")) or 0))
    groups: list[dict[str, Any]] = []
    surveys: dict[str, dict[str, str]] = {}
    keys: list[tuple[str, str]] = []
    for row in rows:
        key = (str(row.get("target_type")), str(row.get("weak_code")))
        if key not in keys:
            keys.append(key)
    for key in keys:
        members = [r for r in rows if (str(r.get("target_type")), str(r.get("weak_code"))) == key]
        notes: list[str] = []
        items = []
        for r in members:
            note = typograph(localised(r, "note", say.lang, fallback=""), say.lang)
            if note != DASH and note not in notes:
                notes.append(note)
            if r.get("instrument_code"):
                items.append({"rank": format_int(r.get("instrument_rank"), say.lang),
                              "name": localised(r, "instrument", say.lang, fallback=r.get("instrument_code")),
                              "relevance": format_percent(r.get("relevance_pct"), say.lang)})
            if r.get("survey") and str(r["survey"]) not in surveys:
                surveys[str(r["survey"])] = {
                    "title": localised(r, "survey_title", say.lang, fallback=r.get("survey")),
                    "details": say("survey_details", respondents=format_int(r.get("survey_respondents"), say.lang),
                                   period=text_or_dash(r.get("survey_period"))),
                    "citation": text_or_dash(r.get("survey_citation")),
                }
        groups.append({"title": _instrument_group_title(members, say), "notes": notes, "rows": items})
    return {"groups": groups, "surveys": list(surveys.values())}
