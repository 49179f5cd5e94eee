"""The view of the codes: where the region stands and how it moved, year by year.

The key figures (P, I, S and NID of the latest year with their change, the district and country
medians and the rank), the yearly table, the ranks with their intervals, the captions and text
alternatives of the charts, and the indicators that moved the codes most. These sections read the
same yearly rows of ``codes`` and ``ranks``, so they live together: the strategy and the evidence
sections do not need them, and the first page's answers (:mod:`view`) reuse them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from dagster_project.briefings.charts import PROFILE_COLOURS
from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    as_mapping,
    format_code,
    format_int,
    format_year,
    records,
    text_or_dash,
)
from dagster_project.briefings.messages import Say, localised

TABLE_YEARS = 6

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

RANK_MEASURES = (("composite", "rank_composite"), ("production_code", "code_P"),
                 ("institutional_code", "code_I"), ("social_code", "code_S"))


# ---------------------------------------------------------------- the yearly rows


def year_rows(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Rows of ``codes`` that have a year, by year ascending (the warehouse's order is not trusted)."""
    rows = [r for r in records(context.get("codes")) if format_year(r.get("year")) != DASH]
    return sorted(rows, key=lambda r: float(r["year"]))


def latest_row(rows: Sequence[Mapping[str, Any]], latest_year: object) -> Mapping[str, Any]:
    """The row of the context's latest year, else the last row (an empty record when there is none)."""
    wanted = format_year(latest_year)
    for row in reversed(rows):
        if format_year(row.get("year")) == wanted:
            return row
    return rows[-1] if rows else {}


# ---------------------------------------------------------------- ranks


def ranks_of_year(context: Mapping[str, Any], year: object) -> dict[str, Mapping[str, Any]]:
    """The ranks of one year by measure (``composite``, ``production_code``…)."""
    wanted = format_year(year)
    return {str(r.get("measure")): r for r in records(context.get("ranks")) if format_year(r.get("year")) == wanted}


def rank_text(rank: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    """``3 of 83 (2–6)``: the point rank, the number ranked and the robust interval (``2 of 85`` when exact)."""
    if not rank or as_float(rank.get("point_rank")) is None:
        return DASH
    point, low, high = (format_int(rank.get(k), lang) for k in ("point_rank", "rank_low", "rank_high"))
    n = format_int(rank.get("n_regions"), lang)
    if low == high == point:
        return t["rank_of_exact"].format(rank=point, n=n)
    return t["rank_of"].format(rank=point, n=n, interval=f"{low}–{high}")


def ranks_section(context: Mapping[str, Any], year: str, say: Say) -> dict[str, Any]:
    """The ranks table of the latest year: each measure with its interval, median rank and last year's rank."""
    current = ranks_of_year(context, year)
    previous = ranks_of_year(context, int(year) - 1) if year != DASH else {}
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


def key_figures(context: Mapping[str, Any], row: Mapping[str, Any], say: Say) -> list[dict]:
    """One card per code (P, I, S, NID): the value, its change, the district and country medians, the rank."""
    t, lang = say.t, say.lang
    district, country = as_mapping(context.get("district_median")), as_mapping(context.get("country_median"))
    ranks = ranks_of_year(context, row.get("year"))
    cards = [(symbol, t[label], field, dynamic, t["change_per_year"]) for symbol, field, dynamic, label in CODES]
    cards.append(("NID", t["code_NID"], "nid", "id_code", t["id_of_year"]))
    return [
        {
            "symbol": symbol,
            "label": label,
            "value": format_code(row.get(field), lang),
            "change_label": change_label,
            "change": format_code(row.get(dynamic), lang, signed=True),
            "district_median": format_code(district.get(field), lang),
            "country_median": format_code(country.get(field), lang),
            "rank": rank_text(ranks.get(field, {}), say.t, say.lang),
        }
        for symbol, label, field, dynamic, change_label in cards
    ]


def yearly_table(rows: Sequence[Mapping[str, Any]], say: Say) -> dict:
    """The codes of the last :data:`TABLE_YEARS` years, one row a year."""
    recent = list(rows[-TABLE_YEARS:])
    first = format_year(recent[0].get("year")) if recent else DASH
    last = format_year(recent[-1].get("year")) if recent else DASH
    return {
        "caption": say("table_caption", first=first, last=last),
        "columns": [{"symbol": say.t["year"], "title": say.t["year"]}]
        + [{"symbol": symbol, "title": say.t[key]} for _, symbol, key, _ in TABLE_COLUMNS],
        "rows": [
            [format_year(r.get("year"))]
            + [format_code(r.get(field), say.lang, signed) for field, _, _, signed in TABLE_COLUMNS]
            for r in recent
        ],
        "legend": say.t["table_legend"],
    }


# ---------------------------------------------------------------- charts


def chart_texts(
    context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], row: Mapping[str, Any],
    available: Collection[str], say: Say,
) -> dict[str, dict | None]:
    """Caption and text alternative of each chart that exists (``None`` for one that does not)."""
    lang = say.lang
    first = format_year(rows[0].get("year")) if rows else DASH
    last = format_year(rows[-1].get("year")) if rows else DASH
    year = format_year(row.get("year"))
    values = {s.lower(): format_code(row.get(field), lang) for s, field, _, _ in CODES}
    district, country = as_mapping(context.get("district_median")), as_mapping(context.get("country_median"))
    nid_first = next((r for r in rows if as_float(r.get("nid")) is not None), {})
    dyn_first = format_year(max(float(first), float(last) - 11)) if rows else DASH
    texts = {
        "codes": (say("chart_caption", first=first, last=last),
                  say("chart_alt", first=first, last=last, year=year, **values)),
        "profile": (say("profile_caption", year=year),
                    say("profile_alt", year=year, **values,
                        **{f"d{s.lower()}": format_code(district.get(f), lang) for s, f, _, _ in CODES},
                        **{f"c{s.lower()}": format_code(country.get(f), lang) for s, f, _, _ in CODES})),
        "dynamics": (say("dynamics_caption", first=dyn_first, last=last),
                     say("dynamics_alt", first=dyn_first, last=last, year=year,
                         id=format_code(row.get("id_code"), lang, signed=True))),
        "nid": (say("nid_caption", first=format_year(nid_first.get("year")), last=last),
                say("nid_alt", first=format_year(nid_first.get("year")), last=last, year=year,
                    nid=format_code(row.get("nid"), lang))),
    }
    return {
        name: {"input": f"chart_{name}", "caption": caption, "alt": alt} if name in available and rows else None
        for name, (caption, alt) in texts.items()
    }


def profile_legend(say: Say) -> list[dict[str, str]]:
    """The words of the profile chart's legend (the chart itself carries none), with their bar colours."""
    labels = (say.t["legend_region"], say.t["district_median"], say.t["country_median"])
    return [{"label": label, "colour": colour} for label, colour in zip(labels, PROFILE_COLOURS, strict=True)]


# ---------------------------------------------------------------- contributions


def contributions(context: Mapping[str, Any], lang: str) -> list[dict]:
    """The indicators that moved the defining codes most in the latest year, with the code each belongs to."""
    return [
        {
            "name": localised(c, "name", lang, fallback=c.get("indicator_code")),
            "code": FAMILY_SYMBOLS.get(str(c.get("family")), text_or_dash(c.get("family"))),
            "change": format_code(c.get("contribution_change"), lang, signed=True),
        }
        for c in records(context.get("top_contributions"))
    ]


def contributions_year(context: Mapping[str, Any], latest_year: str) -> str:
    """The year the contributions describe: their own ``year`` when given, else the briefing's latest year."""
    for item in records(context.get("top_contributions")):
        if format_year(item.get("year")) != DASH:
            return format_year(item.get("year"))
    return latest_year
