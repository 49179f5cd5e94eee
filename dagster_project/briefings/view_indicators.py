"""The view of the indicators in the units a reader knows: what the OECD regional profiles and the
Regional Innovation Scoreboard's regional profiles lead with.

Each indicator of ``marts.indicator_profile`` in its own latest year (GRP may end a year before income):
the value with its unit, the change over one and five years, the region as a percentage of its country,
and its rank among the regions it is compared with. Page 1 shows a short list of headline indicators
(:data:`KEY_INDICATORS`); the evidence shows every indicator behind the codes. Money is in the currency
the source publishes: roubles for Russian regions, euro for the Eurostat regions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    format_int,
    format_number,
    format_percent,
    format_year,
    records,
)
from dagster_project.briefings.messages import Say, localised

# The headline indicators of page 1, in this order: output and income first, then what makes them (investment,
# manufacturing, R&D, innovation), then people (work, health, skills) and size. Those outside the region's basket
# (weight 0 in its universe) are left out, except size.
KEY_INDICATORS = (
    "grp_per_capita",
    "money_income_per_capita",
    "fixed_investment_per_capita",
    "manufacturing_shipments_per_capita",
    "rd_expenditure_share_grp",
    "innovation_activity",
    "employment_rate",
    "life_expectancy",
    "higher_education_share_employed",
    "population",
)
FAMILY_ORDER = {"production": 0, "institutional": 1, "social": 2, "context": 3}
FAMILY_SYMBOLS = {"production": "P", "institutional": "I", "social": "S"}

# units whose change is told in the unit itself, not in per cent (a rate near zero, or of either sign)
ABSOLUTE_CHANGE_UNITS = ("years", "per_10_000_people", "per_100_people", "per_10000_population")

# decimals of a value by unit (money in whole units, everything else to one decimal)
_WHOLE_UNITS = ("rub", "eur", "million_rub", "million_eur", "rub_per_month", "eur_per_month", "units", "persons")


def unit_key(unit: object, country: object) -> str:
    """The message-catalog key of a unit, money in the region's currency (rubles in Russia, else euro)."""
    key = re.sub(r"[^a-z0-9]+", "_", str(unit or "").lower()).strip("_")
    key = key.replace("million_national_currency", "million_rub")
    if str(country or "") != "RU":
        key = re.sub(r"\brub\b", "eur", key.replace("_", " ")).replace(" ", "_")
    return key


def _digits(key: str) -> int:
    return 0 if key in _WHOLE_UNITS else 1


def format_value(value: object, key: str, say: Say) -> str:
    """``1 371 665 руб.``, ``26,8 %``, ``16,1 на 1000 занятых``: a number with its unit in the language."""
    if as_float(value) is None:
        return DASH
    number = format_number(value, say.lang, _digits(key))
    if key == "pct":
        return format_percent(value, say.lang)
    unit = say.t.get(f"unit_{key}", "")
    return say("value_with_unit", value=number, unit=unit) if unit else number


def format_change(now: object, before: object, key: str, say: Say, with_unit: bool = False) -> str:
    """The change from ``before`` to ``now``: percentage points for shares, the unit itself for years and rates
    per population (and wherever a value is not positive, as a migration balance may be), else per cent.
    ``with_unit`` names the unit of an absolute change (in running text; a table's value column names it)."""
    a, b = as_float(now), as_float(before)
    if a is None or b is None:
        return DASH
    if key == "pct":
        return say("change_pp", change=format_number(a - b, say.lang, 1, signed=True))
    if key in ABSOLUTE_CHANGE_UNITS or a <= 0 or b <= 0:
        change = format_number(a - b, say.lang, _digits(key), signed=True)
        unit = say.t.get(f"unit_{key}", "") if with_unit else ""
        return say("value_with_unit", value=change, unit=unit) if unit else change
    return say("change_percent", change=format_number(100 * (a / b - 1), say.lang, 1, signed=True))


def _key(row: Mapping[str, Any], country: object) -> str:
    key = unit_key(row.get("unit"), country)
    return "pct" if key == "" or str(row.get("unit")) == "%" else key


def indicator_row(row: Mapping[str, Any], country: object, say: Say, short: bool = False) -> dict[str, str]:
    """One indicator as the tables print it; ``short`` takes the catalog's short name where it has one."""
    key = _key(row, country)
    rank, n = as_float(row.get("rank")), as_float(row.get("n_regions"))
    name = localised(row, "name", say.lang, fallback=row.get("indicator_code"))
    return {
        "code": str(row.get("indicator_code")),
        "name": say.t.get(f"short_{row.get('indicator_code')}", name) if short else name,
        "family": FAMILY_SYMBOLS.get(str(row.get("family")), ""),
        "year": format_year(row.get("year")),
        "value": format_value(row.get("value"), key, say),
        "change_1y": format_change(row.get("value"), row.get("value_1y_before"), key, say),
        "change_5y": format_change(row.get("value"), row.get("value_5y_before"), key, say),
        "percent_of_country": format_percent(row.get("percent_of_country"), say.lang, 0)
        if as_float(row.get("percent_of_country")) is not None else DASH,
        "rank": say("rank_of_exact", rank=format_int(rank, say.lang), n=format_int(n, say.lang))
        if rank is not None and n else DASH,
    }


def _in_basket(row: Mapping[str, Any]) -> bool:
    return row.get("family") == "context" or (as_float(row.get("weight")) or 0) > 0


def profile_rows(context: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The region's indicator rows by indicator code."""
    return {str(r.get("indicator_code")): r for r in records(context.get("indicators"))}


def key_indicators(context: Mapping[str, Any], say: Say) -> list[dict[str, str]]:
    """Page 1's headline indicators that the region has, in :data:`KEY_INDICATORS` order."""
    rows = profile_rows(context)
    country = (context.get("region") or {}).get("country")
    return [indicator_row(rows[code], country, say, short=True) for code in KEY_INDICATORS
            if code in rows and _in_basket(rows[code])]


def indicators_by_family(context: Mapping[str, Any], say: Say) -> list[dict[str, Any]]:
    """The other indicators behind the region's codes (those page 1 does not show), by family (P, I, S), by name
    within a family: each indicator is printed once in a briefing."""
    country = (context.get("region") or {}).get("country")
    groups: dict[str, list[dict[str, str]]] = {}
    for row in records(context.get("indicators")):
        family = str(row.get("family"))
        if family in FAMILY_SYMBOLS and _in_basket(row) and row.get("indicator_code") not in KEY_INDICATORS:
            groups.setdefault(family, []).append(indicator_row(row, country, say))
    return [
        {"title": say.t[f"family_{family}"], "rows": sorted(groups[family], key=lambda r: r["name"])}
        for family in sorted(groups, key=lambda f: FAMILY_ORDER.get(f, 9))
    ]


def real_change(row: Mapping[str, Any] | None, country: object, say: Say) -> str:
    """How an indicator moved over the year on the basis its code uses: for money compared with the country,
    its share of the country (``from 131 % to 125 % of the national level``), else the change in its unit."""
    if not row:
        return ""
    if row.get("comparability") == "relative_to_country":
        now, before = as_float(row.get("percent_of_country")), as_float(row.get("percent_of_country_1y_before"))
        if now is None or before is None:
            return ""
        return say("share_moved", before=format_percent(before, say.lang, 0), now=format_percent(now, say.lang, 0))
    change = format_change(row.get("value"), row.get("value_1y_before"), _key(row, country), say, with_unit=True)
    return "" if change == DASH else change
