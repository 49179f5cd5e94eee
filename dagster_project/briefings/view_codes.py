"""The view of the codes: where the region stands and how it moved, year by year.

The codes table of page 1 (P, I, S and NID, each in its own latest year, with its change, its rank and
the medians it is compared with), the yearly table, the ranks with their intervals, the captions and
text alternatives of the charts, and the indicators that moved the codes most. These sections read the
same yearly rows of ``codes`` and ``ranks``, so they live together: the strategy and the evidence
sections do not need them, and the first page's answers (:mod:`view`) reuse them.

One definition of rank everywhere: the position among the comparison regions of the region's group
that have the code that year, 1 = highest, ties sharing the best position; "3 of 83" says how many were
ranked, so a composite ranked among the 83 regions with all three codes and a code ranked among the 85
with that code do not contradict each other.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from dagster_project.briefings.charts import PROFILE_COLOURS
from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    format_code,
    format_int,
    format_list,
    format_percent,
    format_year,
    records,
    text_or_dash,
)
from dagster_project.briefings.messages import Say, in_sentence, localised
from dagster_project.briefings.view_groups import Groups
from dagster_project.briefings.view_indicators import profile_rows, real_change

TABLE_YEARS = 6

# (symbol, defining-code field, dynamic-code field, message key of the defining code)
CODES: tuple[tuple[str, str, str, str], ...] = (
    ("P", "production_code", "innovation_code", "code_P"),
    ("I", "institutional_code", "information_code", "code_I"),
    ("S", "social_code", "value_competence_code", "code_S"),
)


def code_name(symbol: str, key: str, say: Say) -> str:
    """A defining code in words within a sentence, ``institutional code I`` (``key``: its message, ``code_I``)."""
    return f"{in_sentence(say.t[key])} {symbol}"


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

TOP_DRIVERS = 3


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


def latest_with(rows: Sequence[Mapping[str, Any]], field: str) -> Mapping[str, Any]:
    """The latest row where ``field`` has a value (a code may end a year before another)."""
    for row in reversed(rows):
        if as_float(row.get(field)) is not None:
            return row
    return {}


Medians = Mapping[tuple[str, str], Mapping[str, Any]]


def median_index(context: Mapping[str, Any]) -> Medians:
    """The district's and the universe's medians by (grouping, year), read once per briefing."""
    return {(grouping, format_year(row.get("year"))): row
            for grouping in ("district", "universe") for row in records(context.get(f"{grouping}_medians"))}


def median_of(medians: Medians, grouping: str, year: object, field: str) -> float | None:
    """The median of ``field`` over the district's or the universe's comparison regions in ``year``."""
    return as_float((medians.get((grouping, format_year(year))) or {}).get(field))


# ---------------------------------------------------------------- ranks


def ranks_of_year(context: Mapping[str, Any], year: object) -> dict[str, Mapping[str, Any]]:
    """The ranks of one year by measure (``composite``, ``production_code``…, ``nid``)."""
    wanted = format_year(year)
    return {str(r.get("measure")): r for r in records(context.get("ranks")) if format_year(r.get("year")) == wanted}


def rank_text(rank: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    """``3 of 83 (2–6)``: the point rank, the number ranked and the robust interval (``2 of 85`` when exact)."""
    if not rank or as_float(rank.get("point_rank")) is None:
        return DASH
    point, low, high = (format_int(rank.get(k), lang) for k in ("point_rank", "rank_low", "rank_high"))
    n = format_int(rank.get("n_regions"), lang)
    if low == DASH or high == DASH or low == high == point:
        return t["rank_of_exact"].format(rank=point, n=n)
    return t["rank_of"].format(rank=point, n=n, interval=f"{low}–{high}")


def ranks_section(context: Mapping[str, Any], year: str, groups: Groups, say: Say) -> dict[str, Any]:
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
        "caption": say("ranks_caption", year=year, group_of=groups.group_of),
        "rows": rows,
        "note": say("ranks_note", draws=format_int(draws, say.lang)) if draws else "",
    }


# ---------------------------------------------------------------- the codes table and the yearly table


def codes_table(context: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], groups: Groups,
                say: Say) -> list[dict[str, str]]:
    """One row per code (P, I, S, NID), each in its latest year: value, change, rank, the medians."""
    lang = say.lang
    medians = median_index(context)
    cards = [(symbol, say.t[label], field, dynamic) for symbol, field, dynamic, label in CODES]
    cards.append(("NID", say.t["code_NID"], "nid", "id_code"))
    out = []
    for symbol, label, field, dynamic in cards:
        row = latest_with(rows, field)
        year = row.get("year")
        rank = ranks_of_year(context, year).get("nid" if field == "nid" else field, {})
        out.append({
            "symbol": symbol,
            "label": label,
            "year": format_year(year),
            "value": format_code(row.get(field), lang),
            "change": format_code(row.get(dynamic), lang, signed=True),
            "rank": rank_text(rank, say.t, lang),
            "district_median": format_code(median_of(medians, "district", year, field), lang)
            if groups.district_comparable else DASH,
            "group_median": format_code(median_of(medians, "universe", year, field), lang),
        })
    return out


def partial_note(rows: Sequence[Mapping[str, Any]], latest: Mapping[str, Any], say: Say) -> str:
    """Says which codes of the briefing's latest year rest on fewer of their indicators than in the region's best
    covered year (a yearbook prints GRP a year after income and population), with the share of the family's weight
    present, and the latest year in which every code had its full coverage; empty when the latest year has it. An
    indicator a source never publishes (the yearbook has no share of the employed with higher education) lowers
    the coverage of every year alike, so it does not make a year partial."""
    if not latest:
        return ""

    def coverage(row: Mapping[str, Any], field: str) -> float | None:
        return as_float(row.get(field.replace("_code", "_coverage"))) if row.get(field) is not None else None

    best = {field: max((c for r in rows if (c := coverage(r, field)) is not None), default=None)
            for _s, field, _d, _l in CODES}
    partial = []
    for symbol, field, _dynamic, label in CODES:
        share = coverage(latest, field)
        if share is not None and best[field] is not None and share < best[field] - 1e-9:
            partial.append(say("codes_partial_item", code=in_sentence(say.t[label]), symbol=symbol,
                               share=format_percent(100 * share, say.lang, 0),
                               best=format_percent(100 * best[field], say.lang, 0)))
    if not partial:
        return ""
    full = [r["year"] for r in rows if all(
        (c := coverage(r, field)) is not None and c >= (best[field] or 0) - 1e-9 for _s, field, _d, _l in CODES)]
    text = say("codes_partial", year=format_year(latest.get("year")), codes=format_list(partial, say.lang))
    if full:
        text += " " + say("codes_partial_complete", year=format_year(max(full, key=float)))
    return text


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
    available: Collection[str], groups: Groups, say: Say,
) -> dict[str, dict | None]:
    """Caption and text alternative of each chart that exists (``None`` for one that does not)."""
    lang = say.lang
    first = format_year(rows[0].get("year")) if rows else DASH
    last = format_year(rows[-1].get("year")) if rows else DASH
    year = format_year(row.get("year"))
    values = {s.lower(): format_code(row.get(field), lang) for s, field, _, _ in CODES}
    medians = median_index(context)
    district = {f"d{s.lower()}": format_code(median_of(medians, "district", year, f), lang) for s, f, _, _ in CODES}
    group = {f"c{s.lower()}": format_code(median_of(medians, "universe", year, f), lang) for s, f, _, _ in CODES}
    nid_first = next((r for r in rows if as_float(r.get("nid")) is not None), {})
    dyn_first = format_year(max(float(first), float(last) - 11)) if rows else DASH
    profile_alt = say("profile_alt", year=year, group=groups.group, **values, **group)
    if groups.district_comparable:
        profile_alt += " " + say("profile_alt_district", district=groups.district, **district)
    texts = {
        "codes": (say("chart_caption", first=first, last=last),
                  say("chart_alt", first=first, last=last, year=year, **values)),
        "profile": (say("profile_caption_district" if groups.district_comparable else "profile_caption",
                        year=year, group=groups.group, district=groups.district), profile_alt),
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


def profile_legend(groups: Groups, say: Say) -> list[dict[str, str]]:
    """The words of the profile chart's legend (the chart itself carries none), with their bar colours."""
    labels = [say.t["legend_region"], say("legend_district", district=groups.district),
              say("legend_group", group=groups.group)]
    entries = [{"label": label, "colour": colour} for label, colour in zip(labels, PROFILE_COLOURS, strict=True)]
    return entries if groups.district_comparable else [entries[0], entries[2]]


# ---------------------------------------------------------------- contributions


def contributions(context: Mapping[str, Any], say: Say) -> list[dict]:
    """The indicators that moved the defining codes most in the latest year, with the code each belongs to and
    how the indicator itself moved (on the basis its code uses)."""
    profile = profile_rows(context)
    country = (context.get("region") or {}).get("country")
    out = []
    for c in records(context.get("top_contributions")):
        moved = real_change(profile.get(str(c.get("indicator_code"))), country, say)
        out.append({
            "name": localised(c, "name", say.lang, fallback=c.get("indicator_code")),
            "code": FAMILY_SYMBOLS.get(str(c.get("family")), text_or_dash(c.get("family"))),
            "change": format_code(c.get("contribution_change"), say.lang, signed=True),
            "moved": moved or DASH,
        })
    return out


def contributions_year(context: Mapping[str, Any], latest_year: str) -> str:
    """The year the contributions describe: their own ``year`` when given, else the briefing's latest year."""
    for item in records(context.get("top_contributions")):
        if format_year(item.get("year")) != DASH:
            return format_year(item.get("year"))
    return latest_year
