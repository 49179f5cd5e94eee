"""The view of the data behind the numbers: coverage gaps, missing and confidential series, revisions, sources.

A reader must be able to tell a low code from a code computed on thin data, so the briefing lists
every family-year left without a code (and why), the indicators not reported for the latest year,
the values withheld as confidential, the largest revisions the latest release brought, and the
releases every number was read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_project.briefings.formatting import (
    DASH,
    as_float,
    as_mapping,
    format_date,
    format_int,
    format_number,
    format_percent,
    format_release_date,
    format_year,
    plural,
    records,
    text_or_dash,
)
from dagster_project.briefings.messages import Say, localised


def _family(value: object, say: Say) -> str:
    return say.t.get(f"family_{value}", text_or_dash(value))


def quality_section(context: Mapping[str, Any], latest_year: str, say: Say) -> dict[str, Any]:
    """Coverage gaps, indicators missing in the latest year, confidential values and revisions."""
    lang = say.lang
    quality = as_mapping(context.get("quality"))
    notes = sorted(records(context.get("coverage_notes")),
                   key=lambda n: (format_year(n.get("year")), str(n.get("family"))))
    missing = []
    for m in records(quality.get("missing_indicators")):
        if as_float(m.get("last_year")) is not None:
            last = format_year(m.get("last_year"))
        else:  # no value at all: the build's sources lack the indicator, or hold it for other regions only
            last = say.t["not_for_region" if m.get("in_sources") else "not_in_sources"]
        missing.append(say("missing_item", name=localised(m, "name", lang, fallback=m.get("indicator_code")),
                           family=_family(m.get("family"), say), last=last))
    confidential = [
        say("confidential_item", name=localised(c, "name", lang, fallback=c.get("indicator_code")),
            years=", ".join(format_year(y) for y in c.get("years") or []), source=_source_name(c.get("source"), say))
        for c in records(quality.get("confidential"))
    ]
    revisions = [
        {"name": localised(r, "name", lang, fallback=r.get("indicator_code")),
         "year": format_year(r.get("period")),
         "old": format_number(r.get("old_value"), lang, 1),
         "new": format_number(r.get("new_value"), lang, 1),
         "change": format_percent(r.get("relative_change"), lang, 2, share=True)
         if as_float(r.get("relative_change")) is not None else DASH,
         "releases": f"{text_or_dash(r.get('old_release'))} → {text_or_dash(r.get('new_release'))}",
         "release_date": format_release_date(r.get("new_release_date"), r.get("new_release"), lang)}
        for r in records(quality.get("revisions"))
    ]
    total = int(as_float(quality.get("revisions_total")) or 0)
    if total == len(revisions):
        revisions_intro = say("revisions_intro_all", total=format_int(total, lang),
                              values=plural(total, say.t["word_values"], lang))
    else:
        revisions_intro = say("revisions_intro_largest", total=format_int(total, lang),
                              values=plural(total, say.t["word_values"], lang), shown=format_int(len(revisions), lang))
    return {
        "coverage_notes": [
            {"year": format_year(n.get("year")), "family": _family(n.get("family"), say),
             "reason": localised(n, "reason", lang)}
            for n in notes
        ],
        "missing_intro": say("missing_intro", year=latest_year),
        "missing": missing,
        "confidential": confidential,
        "revisions": revisions,
        "revisions_intro": revisions_intro if total else "",
    }


# ---------------------------------------------------------------- sources


def _source_name(source: object, say: Say) -> str:
    return say.t.get(f"source_{source}", text_or_dash(source))


def _dataset_name(dataset: object, say: Say) -> str:
    """A dataset by its name in the catalog (``dataset_<id>``), else its publisher's table code as published
    (a Eurostat code such as NAMA_10R_2GDP is what an analyst searches for), never a lower-case identifier."""
    key = f"dataset_{dataset}"
    return say.t[key] if key in say.t else text_or_dash(dataset).upper()


def provenance_rows(context: Mapping[str, Any], say: Say) -> list[dict]:
    """One row per source release the numbers were read from, with its dates and number of observations."""
    lang = say.lang
    return [
        {
            "source": _source_name(p.get("source"), say),
            "dataset": _dataset_name(p.get("dataset"), say),
            "release_date": format_release_date(p.get("release_date"), p.get("release"), lang),
            "retrieved_at": format_date(p.get("retrieved_at"), lang, with_time=True),
            "observations": format_int(p.get("observations"), lang),
        }
        for p in records(context.get("provenance"))
    ]


def sources_line(context: Mapping[str, Any], say: Say) -> str:
    """The sources in words, for the header and the build line: ``Rosstat, Eurostat``."""
    names = []
    for p in records(context.get("provenance")):
        name = _source_name(p.get("source"), say)
        if name not in names:
            names.append(name)
    return ", ".join(names) if names else DASH


def latest_release(context: Mapping[str, Any], lang: str, latest_year: str = DASH) -> str:
    """The date of the latest release the numbers were read from (a dash when no source gave one, or when the
    date precedes the data's own latest year: no release predates its data, so such a date is a source's
    misreading, not something to print at the top of a briefing)."""
    dated = [(str(p.get("release_date")), p.get("release")) for p in records(context.get("provenance"))
             if p.get("release_date")]
    if not dated:
        return DASH
    latest, release = max(dated, key=lambda d: d[0])
    if latest_year != DASH and latest[:4].isdigit() and int(latest[:4]) < int(latest_year):
        return DASH
    return format_release_date(latest, release, lang)
