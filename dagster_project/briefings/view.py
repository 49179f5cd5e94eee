"""The *view* of one briefing: every number, date and sentence both templates print, in one language.

The context from the warehouse is turned into plain strings here: numbers and dates formatted for
the language, labels and sentences from the message catalog, every gap already a dash. The HTML
template and the Typst template receive this same view, so the two outputs cannot disagree, and
neither template formats data. The first section answers the reader's three questions — where does
the region stand, what changed, what should it do — and the rest is the evidence behind them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster_project.briefings.charts import PROFILE_COLOURS
from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    check_lang,
    format_date,
    format_int,
    format_list,
    format_number,
    format_p_value,
    format_percent,
    format_vintage,
    format_year,
    typograph,
)

TEMPLATES_DIR = Path(
    os.environ.get("REGIOCODE_TEMPLATES_DIR") or Path(__file__).resolve().parents[2] / "reports" / "templates"
)
TABLE_YEARS = 6
CODE_DIGITS = 3
SCORE_DIGITS = 2

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
# weak codes of marts.instruments and their catalog names
WEAK_CODE_KEYS = {
    "production": ("code_P", "P"), "institutional": ("code_I", "I"), "social": ("code_S", "S"),
    "innovation_code": ("code_dP", "P′"), "information_code": ("code_dI", "I′"),
    "value_competence_code": ("code_dS", "S′"),
}
RANK_MEASURES = (("composite", "rank_composite"), ("production_code", "code_P"),
                 ("institutional_code", "code_I"), ("social_code", "code_S"))
SCORES = ("market", "location", "significance")
CHART_NAMES = ("codes", "profile", "dynamics", "nid")
# Fields of the view that change on every build without changing what the briefing says.
VOLATILE_VIEW_FIELDS = ("generated_at", "build_id", "built_at", "build_line")


# ---------------------------------------------------------------- small helpers


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


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


def _localised_list(record: Mapping[str, Any], field: str, lang: str) -> list[str]:
    other = "en" if lang == "ru" else "ru"
    for key in (f"{field}_{lang}", field, f"{field}_{other}"):
        value = record.get(key)
        if isinstance(value, list) and value:
            return [str(v) for v in value]
    return []


def safe_code(code: object) -> str:
    """A file-name-safe form of a region code (``RU-SVE`` stays, ``../x y`` becomes ``x_y``)."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", str(code or "")).strip("_-")
    return text or "region"


def capitalise(text: str) -> str:
    """Upper-case the first letter only (``умная специализация`` → ``Умная специализация``)."""
    return text[:1].upper() + text[1:] if text else text


def in_sentence(text: str) -> str:
    """A catalog name inside a sentence: first letter lower-cased unless the word is an acronym (R&D, ВРП)."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def is_demo(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _code(value: object, lang: str, signed: bool = False) -> str:
    return format_number(value, lang, digits=CODE_DIGITS, signed=signed)


@functools.lru_cache(maxsize=8)
def load_messages(lang: str, templates_dir: Path = TEMPLATES_DIR) -> dict[str, str]:
    """The message catalog of ``lang`` (``messages/<lang>.json``), Russian typography applied."""
    path = Path(templates_dir) / "messages" / f"{check_lang(lang)}.json"
    return {k: typograph(v, lang) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


class _Say:
    """Message lookup with ``str.format`` and Russian typography on the result."""

    def __init__(self, t: Mapping[str, str], lang: str) -> None:
        self.t, self.lang = t, lang

    def __call__(self, key: str, **values: object) -> str:
        return typograph(self.t[key].format(**values), self.lang)


def _year_rows(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rows of ``codes`` that have a year, by year ascending (the warehouse's order is not trusted)."""
    rows = [r for r in _items(context.get("codes")) if format_year(r.get("year")) != DASH]
    return sorted(rows, key=lambda r: float(r["year"]))


def latest_row(rows: Sequence[Mapping[str, Any]], latest_year: object) -> Mapping[str, Any]:
    wanted = format_year(latest_year)
    for row in reversed(rows):
        if format_year(row.get("year")) == wanted:
            return row
    return rows[-1] if rows else {}


# ---------------------------------------------------------------- ranks


def _ranks_of_year(context: Mapping[str, Any], year: object) -> dict[str, Mapping[str, Any]]:
    wanted = format_year(year)
    return {str(r.get("measure")): r for r in _items(context.get("ranks")) if format_year(r.get("year")) == wanted}


def rank_text(rank: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    """``3 of 83 (2–6)``: the point rank, the number ranked and the robust interval (``2 of 85`` when exact)."""
    if not rank or as_float(rank.get("point_rank")) is None:
        return DASH
    point, low, high = (format_int(rank.get(k), lang) for k in ("point_rank", "rank_low", "rank_high"))
    n = format_int(rank.get("n_regions"), lang)
    if low == high == point:
        return t["rank_of_exact"].format(rank=point, n=n)
    return t["rank_of"].format(rank=point, n=n, interval=f"{low}–{high}")


def _ranks(context: Mapping[str, Any], year: str, say: _Say) -> dict[str, Any]:
    current = _ranks_of_year(context, year)
    previous = _ranks_of_year(context, int(year) - 1) if year != DASH else {}
    rows = []
    for measure, key in RANK_MEASURES:
        rank = current.get(measure)
        if not rank:
            continue
        before = previous.get(measure, {})
        rows.append({
            "measure": say.t[key],
            "rank": format_int(rank.get("point_rank"), say.lang),
            "interval": f"{format_int(rank.get('rank_low'), say.lang)}–{format_int(rank.get('rank_high'), say.lang)}",
            "median": format_int(rank.get("rank_median"), say.lang),
            "n": format_int(rank.get("n_regions"), say.lang),
            "previous": format_int(before.get("point_rank"), say.lang),
        })
    draws = next((r.get("draws") for r in current.values() if r.get("draws")), None)
    return {
        "caption": say("ranks_caption", year=year),
        "rows": rows,
        "note": say("ranks_note", draws=format_int(draws, say.lang)) if draws else "",
    }


# ---------------------------------------------------------------- key figures and the yearly table


def _key_figures(context: Mapping[str, Any], row: Mapping[str, Any], say: _Say) -> list[dict]:
    t, lang = say.t, say.lang
    district, country = _mapping(context.get("district_median")), _mapping(context.get("country_median"))
    ranks = _ranks_of_year(context, row.get("year"))
    cards = [(symbol, t[label], field, dynamic, t["change_per_year"]) for symbol, field, dynamic, label in CODES]
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
            "rank": rank_text(ranks.get(field, {}), say.t, say.lang),
        }
        for symbol, label, field, dynamic, change_label in cards
    ]


def _table(rows: Sequence[Mapping[str, Any]], say: _Say) -> dict:
    recent = list(rows[-TABLE_YEARS:])
    first = format_year(recent[0].get("year")) if recent else DASH
    last = format_year(recent[-1].get("year")) if recent else DASH
    return {
        "caption": say("table_caption", first=first, last=last),
        "columns": [{"symbol": say.t["year"], "title": say.t["year"]}]
        + [{"symbol": symbol, "title": say.t[key]} for _, symbol, key, _ in TABLE_COLUMNS],
        "rows": [
            [format_year(r.get("year"))]
            + [_code(r.get(field), say.lang, signed) for field, _, _, signed in TABLE_COLUMNS]
            for r in recent
        ],
        "legend": say.t["table_legend"],
    }


# ---------------------------------------------------------------- charts


def _charts(
    context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], row: Mapping[str, Any],
    available: Collection[str], say: _Say,
) -> dict[str, dict | None]:
    """Caption and text alternative of each chart that exists (``None`` for one that does not)."""
    lang = say.lang
    first = format_year(rows[0].get("year")) if rows else DASH
    last = format_year(rows[-1].get("year")) if rows else DASH
    year = format_year(row.get("year"))
    values = {s.lower(): _code(row.get(field), lang) for s, field, _, _ in CODES}
    district, country = _mapping(context.get("district_median")), _mapping(context.get("country_median"))
    nid_first = next((r for r in rows if as_float(r.get("nid")) is not None), {})
    dyn_first = format_year(max(float(first), float(last) - 11)) if rows else DASH
    texts = {
        "codes": (say("chart_caption", first=first, last=last),
                  say("chart_alt", first=first, last=last, year=year, **values)),
        "profile": (say("profile_caption", year=year),
                    say("profile_alt", year=year, **values,
                        **{f"d{s.lower()}": _code(district.get(f), lang) for s, f, _, _ in CODES},
                        **{f"c{s.lower()}": _code(country.get(f), lang) for s, f, _, _ in CODES})),
        "dynamics": (say("dynamics_caption", first=dyn_first, last=last),
                     say("dynamics_alt", first=dyn_first, last=last, year=year,
                         id=_code(row.get("id_code"), lang, signed=True))),
        "nid": (say("nid_caption", first=format_year(nid_first.get("year")), last=last),
                say("nid_alt", first=format_year(nid_first.get("year")), last=last, year=year,
                    nid=_code(row.get("nid"), lang))),
    }
    return {
        name: {"input": f"chart_{name}", "caption": caption, "alt": alt} if name in available and rows else None
        for name, (caption, alt) in texts.items()
    }


def _profile_legend(say: _Say) -> list[dict[str, str]]:
    labels = (say.t["legend_region"], say.t["district_median"], say.t["country_median"])
    return [{"label": label, "colour": colour} for label, colour in zip(labels, PROFILE_COLOURS, strict=True)]


# ---------------------------------------------------------------- strategy


def _score_basis(strategy: Mapping[str, Any], score: str, say: _Say) -> str:
    """What a score was computed from, in words and numbers."""
    lang = say.lang
    if score == "market":
        if as_float(strategy.get("population_thousand")) is None:
            return DASH
        basis = say.t.get(f"market_basis_{strategy.get('market_basis')}", _text(strategy.get("market_basis")))
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


def _score_rows(strategy: Mapping[str, Any], say: _Say) -> list[dict[str, str]]:
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
            if status != "missing" else _text(strategy.get(f"{score}_missing_reason")),
        })
    return rows


def _strategy(context: Mapping[str, Any], say: _Say) -> dict[str, Any] | None:
    strategy = _mapping(context.get("strategy"))
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
        "reasons": typograph(_localised(strategy, "reasons", lang), lang),
        "domains": _localised_list(strategy, "candidate_domains", lang),
        "sector_note": typograph(_localised(strategy, "sector_note", lang), lang),
        "sectors": [str(s) for s in strategy.get("sector_domains") or []],
        "weak_families": format_list(
            [say.t.get(f"family_{f}", f) for f in strategy.get("weak_families") or []], lang
        ),
        "partners": _localised_list(strategy, "interregional_partners", lang),
    }


# ---------------------------------------------------------------- peers, instruments, correlations


def _peers(context: Mapping[str, Any], say: _Say) -> dict[str, Any]:
    groups: dict[str, list[dict[str, str]]] = {"domestic": [], "foreign_analogue": []}
    reference = None
    for peer in sorted(_items(context.get("peers")),
                       key=lambda p: (str(p.get("peer_type")), as_float(p.get("peer_rank")) or 0)):
        kind = str(peer.get("peer_type"))
        if kind not in groups:
            continue
        reference = reference or peer
        strengths = _localised(peer, "shared_strengths", say.lang, fallback="")
        groups[kind].append({
            "rank": format_int(peer.get("peer_rank"), say.lang),
            "name": _localised(peer, "peer_name", say.lang, fallback=peer.get("peer_code")),
            "code": _text(peer.get("peer_code")),
            "country": _localised(peer, "peer_country_name", say.lang, fallback=peer.get("peer_country")),
            "distance": format_number(peer.get("distance"), say.lang, 2),
            "strengths": strengths.replace("; ", ", ") if strengths != DASH else DASH,
        })
    window = ""
    if reference:
        window = say("peers_window", first=format_year(reference.get("window_start")),
                     last=format_year(reference.get("reference_year")))
    return {"domestic": groups["domestic"], "foreign": groups["foreign_analogue"], "window": window}


def _instrument_group_title(rows: Sequence[Mapping[str, Any]], say: _Say) -> str:
    first = rows[0]
    kind = "weakest_family" if first.get("target_type") == "weakest_family" else "weakest_dynamic"
    known = WEAK_CODE_KEYS.get(str(first.get("weak_code")))
    code = f"{in_sentence(say.t[known[0]])} {known[1]}" if known else _text(first.get("weak_code"))
    return say(f"instruments_{kind}", code=code,
               percentile=format_number(first.get("weak_percentile"), say.lang, SCORE_DIGITS))


def _instruments(context: Mapping[str, Any], say: _Say) -> dict[str, Any]:
    rows = _items(context.get("instruments"))
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
            note = typograph(_localised(r, "note", say.lang, fallback=""), say.lang)
            if note != DASH and note not in notes:
                notes.append(note)
            if r.get("instrument_code"):
                items.append({"rank": format_int(r.get("instrument_rank"), say.lang),
                              "name": _localised(r, "instrument", say.lang, fallback=r.get("instrument_code")),
                              "relevance": format_percent(r.get("relevance_pct"), say.lang)})
            if r.get("survey") and str(r["survey"]) not in surveys:
                surveys[str(r["survey"])] = {
                    "title": _localised(r, "survey_title", say.lang, fallback=r.get("survey")),
                    "details": say("survey_details", respondents=format_int(r.get("survey_respondents"), say.lang),
                                   period=_text(r.get("survey_period"))),
                    "citation": _text(r.get("survey_citation")),
                }
        groups.append({"title": _instrument_group_title(members, say), "notes": notes, "rows": items})
    return {"groups": groups, "surveys": list(surveys.values())}


def _correlation_cells(row: Mapping[str, Any] | None, lang: str) -> dict[str, str]:
    row = row or {}
    significant = bool(row.get("significant")) and as_float(row.get("r")) is not None
    return {
        "n": format_int(row.get("n"), lang),
        "r": format_number(row.get("r"), lang, 2, signed=True) + ("*" if significant else ""),
        "slope": format_number(row.get("slope"), lang, 2),
        "r2": format_number(row.get("r_squared"), lang, 2),
        "p": format_p_value(row.get("p_value"), lang),
    }


def _correlations(context: Mapping[str, Any], say: _Say) -> dict[str, Any]:
    rows = _items(context.get("correlations"))
    pairs: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        pairs.setdefault(str(row.get("pair_code")), []).append(row)
    out = []
    window = None
    for pair_code in sorted(pairs):
        members = pairs[pair_code]
        lines = []
        for scope in ("region", "district_aggregate", "district_pooled"):
            levels = next((m for m in members if m.get("scope") == scope and m.get("method") == "levels"), None)
            changes = next((m for m in members if m.get("scope") == scope and m.get("method") == "changes"), None)
            if levels is None and changes is None:
                continue
            window = window or levels or changes
            cells, of_changes = _correlation_cells(levels, say.lang), _correlation_cells(changes, say.lang)
            reason = (levels or {}).get("null_reason") if as_float((levels or {}).get("r")) is None else None
            lines.append({
                "scope": say.t[f"scope_{scope}"],
                **cells,
                "r_changes": of_changes["r"],
                "p_changes": of_changes["p"],
                "reason": _text(reason) if reason else "",
            })
        if lines:
            out.append({"pair": _localised(members[0], "label", say.lang, fallback=pair_code), "rows": lines})
    intro = ""
    if window:
        intro = say("correlations_intro", first=format_year(window.get("window_start")),
                    last=format_year(window.get("window_end")))
    return {"pairs": out, "intro": intro}


# ---------------------------------------------------------------- data quality and provenance


def _family(value: object, say: _Say) -> str:
    return say.t.get(f"family_{value}", _text(value))


def _quality(context: Mapping[str, Any], latest_year: str, say: _Say) -> dict[str, Any]:
    lang = say.lang
    quality = _mapping(context.get("quality"))
    notes = sorted(_items(context.get("coverage_notes")),
                   key=lambda n: (format_year(n.get("year")), str(n.get("family"))))
    missing = []
    for m in _items(quality.get("missing_indicators")):
        last = format_year(m.get("last_year")) if as_float(m.get("last_year")) is not None else say.t["never_reported"]
        missing.append(say("missing_item", name=_localised(m, "name", lang, fallback=m.get("indicator_code")),
                           family=_family(m.get("family"), say), last=last))
    confidential = [
        say("confidential_item", name=_localised(c, "name", lang, fallback=c.get("indicator_code")),
            years=", ".join(format_year(y) for y in c.get("years") or []), source=_text(c.get("source")))
        for c in _items(quality.get("confidential"))
    ]
    revisions = [
        {"name": _localised(r, "name", lang, fallback=r.get("indicator_code")),
         "year": format_year(r.get("period")),
         "old": format_number(r.get("old_value"), lang, 1),
         "new": format_number(r.get("new_value"), lang, 1),
         "change": format_percent(r.get("relative_change"), lang, 2, share=True)
         if as_float(r.get("relative_change")) is not None else DASH,
         "releases": f"{_text(r.get('old_release'))} → {_text(r.get('new_release'))}"}
        for r in _items(quality.get("revisions"))
    ]
    total = int(as_float(quality.get("revisions_total")) or 0)
    return {
        "coverage_notes": [
            {"year": format_year(n.get("year")), "family": _family(n.get("family"), say),
             "reason": _localised(n, "reason", lang)}
            for n in notes
        ],
        "missing_intro": say("missing_intro", year=latest_year),
        "missing": missing,
        "confidential": confidential,
        "revisions": revisions,
        "revisions_intro": say("revisions_intro", total=format_int(total, lang), shown=format_int(len(revisions), lang))
        if total else "",
    }


def _contributions(context: Mapping[str, Any], lang: str) -> list[dict]:
    return [
        {
            "name": _localised(c, "name", lang, fallback=c.get("indicator_code")),
            "code": FAMILY_SYMBOLS.get(str(c.get("family")), _text(c.get("family"))),
            "change": _code(c.get("contribution_change"), lang, signed=True),
        }
        for c in _items(context.get("top_contributions"))
    ]


def _contributions_year(context: Mapping[str, Any], latest_year: str) -> str:
    """The year the contributions describe: their own ``year`` when given, else the briefing's latest year."""
    for item in _items(context.get("top_contributions")):
        if format_year(item.get("year")) != DASH:
            return format_year(item.get("year"))
    return latest_year


def _provenance(context: Mapping[str, Any], lang: str) -> list[dict]:
    return [
        {
            "source": _text(p.get("source")),
            "dataset": _text(p.get("dataset")),
            "release": _text(p.get("release")),
            "release_date": format_date(p.get("release_date"), lang),
            "retrieved_at": format_date(p.get("retrieved_at"), lang, with_time=True),
            "observations": format_int(p.get("observations"), lang),
        }
        for p in _items(context.get("provenance"))
    ]


# ---------------------------------------------------------------- the first page: three answers


def _strongest_weakest(context: Mapping[str, Any], row: Mapping[str, Any], say: _Say) -> tuple[str, str] | None:
    """The codes with the best and the worst rank in the universe (by value when no rank is known)."""
    ranks = _ranks_of_year(context, row.get("year"))
    scored = []
    for symbol, field, _, key in CODES:
        rank = as_float(_mapping(ranks.get(field)).get("point_rank"))
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


def _answer_stand(context: Mapping[str, Any], row: Mapping[str, Any], region: str, year: str, say: _Say) -> str:
    composite = _ranks_of_year(context, row.get("year")).get("composite", {})
    parts = []
    if as_float(composite.get("point_rank")) is not None:
        country = _localised(_mapping(context.get("region")), "country_name", say.lang,
                             fallback=_mapping(context.get("region")).get("country"))
        parts.append(say("answer_rank", region=region, year=year, country=country,
                         rank=format_int(composite.get("point_rank"), say.lang),
                         n=format_int(composite.get("n_regions"), say.lang),
                         low=format_int(composite.get("rank_low"), say.lang),
                         high=format_int(composite.get("rank_high"), say.lang)))
    extremes = _strongest_weakest(context, row, say)
    if extremes:
        parts.append(say("answer_extremes", strongest=extremes[0], weakest=extremes[1]))
    return " ".join(parts) if parts else say.t["answer_stand_none"]


def _answer_changed(context: Mapping[str, Any], row: Mapping[str, Any], year: str, say: _Say) -> str:
    lang = say.lang
    parts = []
    id_value = as_float(row.get("id_code"))
    if id_value is not None:
        direction = say.t["id_up"] if id_value > 0 else (say.t["id_down"] if id_value < 0 else say.t["id_flat"])
        parts.append(say("answer_id", year=year, id=_code(id_value, lang, signed=True), direction=direction,
                         nid=_code(row.get("nid"), lang)))
    composite = _ranks_of_year(context, row.get("year")).get("composite", {})
    before = _ranks_of_year(context, int(year) - 1).get("composite", {}) if year != DASH else {}
    if as_float(composite.get("point_rank")) is not None and as_float(before.get("point_rank")) is not None:
        now, then = int(composite["point_rank"]), int(before["point_rank"])
        key = "answer_rank_same" if now == then else "answer_rank_moved"
        parts.append(say(key, before=format_int(then, lang), now=format_int(now, lang)))
    drivers = _contributions(context, lang)
    if drivers:
        top = drivers[0]
        parts.append(say("answer_driver", indicator=top["name"], code=top["code"], change=top["change"]))
    return " ".join(parts) if parts else say.t["answer_changed_none"]


def _answer_todo(strategy: Mapping[str, Any] | None, instruments: Mapping[str, Any], say: _Say) -> str:
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
    say = _Say(t, lang)
    region = _mapping(context.get("region"))
    code = _text(region.get("code"))
    name = _localised(region, "name", lang, fallback=region.get("code"))
    rows = _year_rows(context)
    latest = latest_row(rows, context.get("latest_year"))
    demo = is_demo(context.get("demo"))
    latest_year = format_year(latest.get("year")) if latest else format_year(context.get("latest_year"))
    strategy = _strategy(context, say)
    instruments = _instruments(context, say)
    return {
        "lang": lang,
        "t": t,
        "title": say("title", region=name),
        "region_name": name,
        "region_code": code,
        "file_stem": safe_code(region.get("code")),
        "part_of": _localised(region, "district_name", lang),
        "country": _localised(region, "country_name", lang, fallback=region.get("country")),
        "demo": demo,
        "banner": t["demo_banner"] if demo else None,
        "data_vintage": format_vintage(context.get("data_vintage"), lang),
        "generated_at": format_date(context.get("generated_at"), lang, with_time=True),
        "build_id": _text(context.get("build_id")),
        "built_at": format_date(context.get("built_at"), lang, with_time=True),
        "sources": _text(context.get("sources")),
        "latest_year": latest_year,
        "answers": {
            "stand": _answer_stand(context, latest, name, latest_year, say),
            "changed": _answer_changed(context, latest, latest_year, say),
            "todo": _answer_todo(strategy, instruments, say),
        },
        "key_figures_title": say("key_figures", year=latest_year),
        "has_codes": bool(latest),
        "key_figures": _key_figures(context, latest, say),
        "charts": _charts(context, rows, latest, available, say),
        "profile_legend": _profile_legend(say),
        "table": _table(rows, say),
        "ranks": _ranks(context, latest_year, say),
        "strategy": strategy,
        "contributions_intro": say("contributions_intro", year=_contributions_year(context, latest_year)),
        "contributions": _contributions(context, lang),
        "peers": _peers(context, say),
        "instruments": instruments,
        "correlations": _correlations(context, say),
        "quality": _quality(context, latest_year, say),
        "provenance": _provenance(context, lang),
        "build_line": say("build_line", build=_text(context.get("build_id")), sources=_text(context.get("sources")),
                          built=format_date(context.get("built_at"), lang, with_time=True)),
    }


def stable_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """The view without the fields that change on every build (for the render fingerprint)."""
    return {k: v for k, v in view.items() if k not in VOLATILE_VIEW_FIELDS}
