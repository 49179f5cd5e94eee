"""The view of the empirical check: correlations of education with technology, income, spending and GRP.

Each pair is shown for the region's own series, its district's published series and all
region-years of the district pooled, in levels and in year-on-year changes, as the model's authors
checked it on the Ural Federal District. The education measure is named (the paper's share of the
employed with higher education, or the proxy where a source lacks it), and the text says what the data
shows against the paper, which reports a direct (positive) dependence for every pair: a significant
negative correlation is called the opposite of the paper's finding, not smoothed over. A correlation
that could not be computed says why (too few years, no variation) instead of showing an empty cell. A
district that is no comparison (the region is its only comparison region) adds no rows: they would
repeat the region's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_project.briefings.formatting import (
    as_float,
    format_int,
    format_list,
    format_number,
    format_p_value,
    format_year,
    records,
    text_or_dash,
)
from dagster_project.briefings.messages import Say, in_sentence, localised
from dagster_project.briefings.view_groups import Groups

ALPHA = 0.05  # the significance level the warehouse marks (dbt var correlation_alpha)


def _correlation_cells(row: Mapping[str, Any] | None, lang: str) -> dict[str, str]:
    row = row or {}
    significant = bool(row.get("significant")) and as_float(row.get("r")) is not None
    return {
        "n": format_int(row.get("n"), lang),
        "r": format_number(row.get("r"), lang, 2, signed=True) + ("*" if significant else ""),
        "slope": format_number(row.get("slope"), lang, 2),
        "r2": format_number(row.get("r_squared"), lang, 2),
        "p": format_p_value(row.get("p_value"), lang, alpha=ALPHA),
    }


def _verdict(pairs: Mapping[str, list[Mapping[str, Any]]], scope: str, groups: Groups, say: Say) -> str:
    """What the levels of ``scope`` show against the paper's direct dependence: pairs positive and significant,
    negative and significant (the opposite sign), not significant; empty when no pair has an r."""
    verdicts: dict[str, list[str]] = {"agrees": [], "opposite": [], "not_significant": []}
    for pair_code in sorted(pairs):
        levels = next((m for m in pairs[pair_code] if m.get("scope") == scope and m.get("method") == "levels"), None)
        r = as_float((levels or {}).get("r"))
        if levels is None or r is None:
            continue
        kind = ("agrees" if r > 0 else "opposite") if levels.get("significant") else "not_significant"
        verdicts[kind].append(in_sentence(localised(levels, "label", say.lang, fallback=pair_code)))
    parts = [say(f"correlations_{kind}", pairs=format_list(names, say.lang))
             for kind, names in verdicts.items() if names]
    if not parts:
        return ""
    return say("correlations_verdict", basis=say(f"scope_{scope}", district=groups.district),
               findings="; ".join(parts))


def _measure(rows: list[Mapping[str, Any]], say: Say) -> str:
    """The education measure the check used: the paper's own, or the proxy (named), from the rows' columns."""
    row = next((r for r in rows if r.get("x_indicator")), None)
    if row is None:
        return ""
    indicator = str(row.get("x_indicator"))
    name = say.t.get(f"education_{indicator}", indicator)
    return say("correlations_measure_proxy" if row.get("education_measure") == "proxy" else "correlations_measure",
               indicator=name)


def correlations_section(context: Mapping[str, Any], groups: Groups, say: Say) -> dict[str, Any]:
    """One table per pair: a line per scope (region, district, district pooled), levels and changes."""
    rows = records(context.get("correlations"))
    pairs: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        pairs.setdefault(str(row.get("pair_code")), []).append(row)
    out = []
    window = None
    for pair_code in sorted(pairs):
        members = pairs[pair_code]
        lines = []
        scopes = ("region", "district_aggregate", "district_pooled") if groups.district_comparable else ("region",)
        seen: list[tuple] = []
        for scope in scopes:
            levels = next((m for m in members if m.get("scope") == scope and m.get("method") == "levels"), None)
            changes = next((m for m in members if m.get("scope") == scope and m.get("method") == "changes"), None)
            if levels is None and changes is None:
                continue
            window = window or levels or changes
            cells, of_changes = _correlation_cells(levels, say.lang), _correlation_cells(changes, say.lang)
            signature = (tuple(cells.values()), of_changes["r"])
            if signature in seen and as_float((levels or {}).get("r")) is not None:
                continue  # the same series under another name (a district of one region)
            seen.append(signature)
            reason = (levels or {}).get("null_reason") if as_float((levels or {}).get("r")) is None else None
            lines.append({
                "scope": say(f"scope_{scope}", district=groups.district),
                **cells,
                "r_changes": of_changes["r"],
                "p_changes": of_changes["p"],
                "reason": text_or_dash(reason) if reason else "",
            })
        if lines:
            out.append({"pair": localised(members[0], "label", say.lang, fallback=pair_code), "rows": lines})
    intro = verdict = ""
    if window:
        intro = say("correlations_intro", first=format_year(window.get("window_start")),
                    last=format_year(window.get("window_end")))
        intro = " ".join(p for p in (intro, _measure(rows, say)) if p)
        pooled = groups.district_comparable and any(r.get("scope") == "district_pooled" for r in rows)
        verdict = _verdict(pairs, "district_pooled" if pooled else "region", groups, say)
    return {"pairs": out, "intro": intro, "verdict": verdict}
