"""Briefing contexts from the published warehouse.

A dozen set-based queries fetch what every briefing needs, then the rows are split per region in
Python; no per-region queries (96 regions x a dozen tables would be a thousand round trips). The
same queries take an optional list of regions, so one partition of the per-region asset reads only
its own rows (the medians are still taken over every region).

The context is plain JSON data with every list in a fixed order and floats rounded: the renderer
formats it, both templates read the same values, and an unchanged warehouse gives the same context.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from dagster_project.settings import DEMO_LABEL

BRIEFING_LEVELS = ("subject", "nuts2")
CODE_FIELDS = ("production_code", "institutional_code", "social_code")
YEAR_FIELDS = CODE_FIELDS + ("innovation_code", "information_code", "value_competence_code", "id_code", "nid")
# share of each family's weight present behind its code (a later year with partial data is shown as such)
COVERAGE_FIELDS = ("production_coverage", "institutional_coverage", "social_coverage")
TOP_CONTRIBUTIONS = 5
COVERAGE_NOTE_YEARS = 6
TOP_REVISIONS = 8
CORRELATION_SCOPES = ("region", "district_aggregate", "district_pooled")

# Parallel aggregation in DuckDB may change the last bits of a double from one build to the next;
# rounding keeps an unchanged region's context identical (the render fingerprint is taken on the
# formatted view, which is coarser still).
FLOAT_DECIMALS = 10

_LEVELS = ", ".join(f"'{level}'" for level in BRIEFING_LEVELS)
# `$regions` is NULL (every briefing region) or a list of region codes.
_REGION_FILTER = "($regions IS NULL OR list_contains($regions, {col}))"
# The sources this build's figures came from (marts.build_info.sources: those of int_indicator_values, which keeps
# the refresh's active sources). marts.observations keeps every source the warehouse ever loaded: a source left out
# of this refresh must not be named, counted as data or reported confidential in its briefings.
_BUILD_SOURCE = "{col} IN (SELECT trim(s) FROM marts.build_info, unnest(string_split(sources, ',')) AS t(s))"

QUERIES: dict[str, str] = {
    # The register row of each briefing region, with its district and country names, and how many comparison
    # regions its district and its universe hold (a district of one region is no comparison; a universe of one
    # country is named by that country). The register holds every NUTS-2 region; only the measured ones count
    # (marts.regions.measured: values of at least 2/3 of the basket).
    "regions": f"""
        WITH comparison AS (
            SELECT region_code, parent_code, universe, country,
                   count(*) OVER (PARTITION BY parent_code) AS district_regions,
                   count(*) OVER (PARTITION BY universe) AS universe_regions,
                   list(DISTINCT country) OVER (PARTITION BY universe) AS universe_countries
            FROM marts.regions WHERE level IN ({_LEVELS}) AND universe IS NOT NULL AND measured)
        SELECT r.region_code, r.name_ru, r.name_en, r.country, r.level, r.parent_code, r.universe,
               p.name_ru AS district_name_ru, p.name_en AS district_name_en, p.level AS district_level,
               c.name_ru AS country_name_ru, c.name_en AS country_name_en,
               coalesce(m.district_regions, 0) AS district_regions, coalesce(m.universe_regions, 0) AS universe_regions,
               list_sort(m.universe_countries) AS universe_countries
        FROM marts.regions r
        LEFT JOIN marts.regions p ON p.region_code = r.parent_code
        LEFT JOIN marts.regions c ON c.region_code = r.country AND c.level = 'country'
        LEFT JOIN comparison m ON m.region_code = r.region_code
        WHERE r.level IN ({_LEVELS}) AND {_REGION_FILTER.format(col="r.region_code")}
        ORDER BY r.region_code""",
    "years": f"""
        SELECT d.region_code, d.year, d.production_code, d.institutional_code, d.social_code,
               y.innovation_code, y.information_code, y.value_competence_code, y.id_code, b.nid,
               d.production_null_reason, d.institutional_null_reason, d.social_null_reason,
               d.production_null_reason_ru, d.institutional_null_reason_ru, d.social_null_reason_ru,
               d.production_coverage, d.institutional_coverage, d.social_coverage
        FROM marts.defining_codes d
        LEFT JOIN marts.dynamic_codes y USING (region_code, year)
        LEFT JOIN marts.basic_code b USING (region_code, year)
        WHERE {_REGION_FILTER.format(col="d.region_code")}
        ORDER BY d.region_code, d.year""",
    # Medians over every comparison region of a district / universe, per year (never filtered), with how many
    # regions each median is taken over.
    "medians": f"""
        WITH codes AS (
            SELECT r.parent_code, r.universe, d.year, d.production_code, d.institutional_code, d.social_code, b.nid
            FROM marts.defining_codes d JOIN marts.regions r USING (region_code)
            LEFT JOIN marts.basic_code b USING (region_code, year)
            WHERE r.level IN ({_LEVELS}) AND r.universe IS NOT NULL)
        SELECT 'district' AS grouping, parent_code AS group_code, year, median(production_code) AS production_code,
               median(institutional_code) AS institutional_code, median(social_code) AS social_code,
               median(nid) AS nid, count(*) AS regions
        FROM codes WHERE parent_code IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'universe', universe, year, median(production_code), median(institutional_code), median(social_code),
               median(nid), count(*)
        FROM codes GROUP BY ALL
        ORDER BY 1, 2, 3""",
    # NID has no rank interval (it is not a level but an accumulation): its plain rank in the universe.
    "nid_ranks": f"""
        SELECT * FROM (
            SELECT b.region_code, r.universe, b.year, 'nid' AS measure, b.nid AS point_value,
                   rank() OVER (PARTITION BY r.universe, b.year ORDER BY b.nid DESC) AS point_rank,
                   count(*) OVER (PARTITION BY r.universe, b.year) AS n_regions
            FROM marts.basic_code b JOIN marts.regions r USING (region_code)
            WHERE r.level IN ({_LEVELS}) AND r.universe IS NOT NULL AND b.nid IS NOT NULL)
        WHERE {_REGION_FILTER.format(col="region_code")}
        QUALIFY year >= max(year) OVER (PARTITION BY region_code) - 1
        ORDER BY region_code, year""",
    # Every indicator of the region in real units, each in its own latest year (GRP may end a year before income).
    "indicators": f"""
        SELECT p.region_code, p.indicator_code, i.name_ru, i.name_en, p.family, p.direction, p.weight,
               p.comparability, p.unit, p.year, p.value, p.value_1y_before, p.value_5y_before, p.country_value,
               p.percent_of_country, p.percent_of_country_1y_before, p.percent_of_country_5y_before,
               p.rank, p.n_regions
        FROM marts.indicator_profile p JOIN marts.indicators i USING (indicator_code)
        WHERE {_REGION_FILTER.format(col="p.region_code")}
        QUALIFY p.year = max(p.year) OVER (PARTITION BY p.region_code, p.indicator_code)
        ORDER BY p.region_code, p.indicator_code""",
    "contributions": f"""
        SELECT c.region_code, c.year, c.family, c.indicator_code, i.name_ru, i.name_en, c.contribution_change
        FROM marts.code_contributions c JOIN marts.indicators i USING (indicator_code)
        WHERE c.contribution_change IS NOT NULL AND {_REGION_FILTER.format(col="c.region_code")}
        QUALIFY c.year = max(c.year) OVER (PARTITION BY c.region_code)""",
    # The releases of the observations mapped to a catalog indicator, of the sources this build's figures came
    # from. A yearbook's other tables (most of its ~1 M cells) print nowhere in a briefing, so a new section that
    # maps to nothing changes none and re-renders none (briefings.batch).
    "provenance": f"""
        SELECT region_code, source, dataset, release, min(release_date) AS release_date,
               max(retrieved_at) AS retrieved_at, count(*) AS observations
        FROM marts.observations
        WHERE region_code IS NOT NULL AND indicator_code IS NOT NULL AND {_BUILD_SOURCE.format(col="source")}
          AND {_REGION_FILTER.format(col="region_code")}
        GROUP BY ALL ORDER BY region_code, source, dataset, release""",
    "build": "SELECT build_id, data_label, built_at, sources, releases FROM marts.build_info",
    "strategy": f"""
        SELECT * EXCLUDE (build_id, data_label) FROM marts.strategy
        WHERE is_latest_year AND {_REGION_FILTER.format(col="region_code")}""",
    "ranks": f"""
        SELECT region_code, universe, year, measure, point_value, point_rank, n_regions, draws,
               rank_p5, rank_median, rank_p95, rank_low, rank_high, rank_min, rank_max
        FROM marts.rank_intervals
        WHERE {_REGION_FILTER.format(col="region_code")}
        QUALIFY year >= max(year) OVER (PARTITION BY region_code) - 1
        ORDER BY region_code, year, measure""",
    "peers": f"""
        SELECT p.region_code, p.peer_type, p.peer_rank, p.peer_code, p.peer_country,
               r.name_ru AS peer_name_ru, r.name_en AS peer_name_en,
               c.name_ru AS peer_country_name_ru, c.name_en AS peer_country_name_en,
               p.reference_year, p.window_start, p.distance, p.features_compared,
               p.shared_strengths_count, p.shared_strengths_ru, p.shared_strengths_en
        FROM marts.peers p
        LEFT JOIN marts.regions r ON r.region_code = p.peer_code
        LEFT JOIN marts.regions c ON c.region_code = p.peer_country AND c.level = 'country'
        WHERE {_REGION_FILTER.format(col="p.region_code")}
        ORDER BY p.region_code, p.peer_type, p.peer_rank""",
    "instruments": f"""
        SELECT * EXCLUDE (build_id, data_label) FROM marts.instruments
        WHERE {_REGION_FILTER.format(col="region_code")}
        ORDER BY region_code, target_type, weak_code, addressed_code, match_type, instrument_rank NULLS FIRST""",
    # The region's own series and its district's (the code-model paper's Fig. 2 is a district's), levels and changes.
    "correlations": f"""
        SELECT r.region_code, c.pair_code, c.scope, c.group_code, c.method, c.label_ru, c.label_en,
               c.x_indicator, c.y_indicator, c.education_measure, c.code_illustrated, c.window_start, c.window_end,
               c.n, c.n_territories, c.first_year, c.last_year, c.r, c.slope, c.r_squared, c.p_value,
               c.significant, c.null_reason
        FROM marts.code_correlations c
        JOIN marts.regions r ON (c.scope = 'region' AND c.group_code = r.region_code)
            OR (c.scope <> 'region' AND c.group_code = r.parent_code)
        WHERE r.level IN ({_LEVELS}) AND c.method IN ('levels', 'changes')
          AND c.scope IN {CORRELATION_SCOPES} AND {_REGION_FILTER.format(col="r.region_code")}
        ORDER BY r.region_code, c.pair_code, c.scope, c.method""",
    # Catalog indicators of the three code families without a value in the region's latest year (a value of its own
    # or derived from its components); an indicator
    # the region's pool weighs 0 (seed universe_indicator_weights, e.g. EU: no regional Eurostat series) is
    # not part of its basket, so it is not missing.
    "missing": f"""
        WITH latest AS (
            SELECT region_code, max(year) AS year FROM marts.defining_codes
            WHERE {_REGION_FILTER.format(col="region_code")} GROUP BY ALL),
        have AS (  -- an observation, or a value the codes use (derived ones: budget per capita = total / population)
            SELECT region_code, indicator_code, max(period) FILTER (WHERE value IS NOT NULL) AS last_year
            FROM (SELECT region_code, indicator_code, period, value FROM marts.observations
                  WHERE indicator_code IS NOT NULL AND {_BUILD_SOURCE.format(col="source")}
                  UNION ALL
                  SELECT region_code, indicator_code, year, value FROM marts.indicator_profile)
            WHERE {_REGION_FILTER.format(col="region_code")} GROUP BY ALL),
        loaded AS (  -- the indicators this build's sources hold for any region
            SELECT DISTINCT indicator_code FROM marts.observations
            WHERE indicator_code IS NOT NULL AND value IS NOT NULL AND {_BUILD_SOURCE.format(col="source")})
        SELECT l.region_code, i.indicator_code, i.name_ru, i.name_en, i.family, h.last_year,
               i.indicator_code IN (SELECT indicator_code FROM loaded) AS in_sources
        FROM latest l CROSS JOIN marts.indicators i
        JOIN marts.regions r ON r.region_code = l.region_code
        LEFT JOIN seeds.universe_indicator_weights uw
            ON uw.universe = r.register_universe AND uw.indicator_code = i.indicator_code
        LEFT JOIN have h ON h.region_code = l.region_code AND h.indicator_code = i.indicator_code
        WHERE i.family IN ('production', 'institutional', 'social') AND coalesce(uw.weight, i.weight) > 0
          AND (h.last_year IS NULL OR h.last_year < l.year)
        ORDER BY l.region_code, i.family, i.indicator_code""",
    # Confidential cells of the indicators that feed the codes only (a yearbook has many other tables).
    "confidential": f"""
        SELECT o.region_code, o.indicator_code, i.name_ru, i.name_en, o.source,
               list(DISTINCT o.period ORDER BY o.period) AS years
        FROM marts.observations o JOIN marts.indicators i USING (indicator_code)
        WHERE o.flag = 'c' AND o.region_code IS NOT NULL AND i.family IN ('production', 'institutional', 'social')
          AND {_BUILD_SOURCE.format(col="o.source")} AND {_REGION_FILTER.format(col="o.region_code")}
        GROUP BY ALL ORDER BY 1, 2, 5""",
    # Revisions brought by the latest release of each source and dataset, to the indicators that feed the codes.
    "revisions": f"""
        SELECT v.region_code, v.indicator_code, i.name_ru, i.name_en, i.unit, v.source, v.period, v.old_value,
               v.new_value, v.old_flag, v.new_flag, v.old_release, v.new_release, v.new_release_date,
               v.relative_change
        FROM marts.revisions v JOIN marts.indicators i USING (indicator_code)
        WHERE v.region_code IS NOT NULL AND i.family IN ('production', 'institutional', 'social')
          AND {_REGION_FILTER.format(col="v.region_code")}
        QUALIFY dense_rank() OVER (PARTITION BY v.source, v.dataset
                                   ORDER BY v.new_release_date DESC NULLS LAST, v.new_release DESC) = 1
        ORDER BY v.region_code, abs(v.relative_change) DESC NULLS LAST, 2, v.period""",
}


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN -> None, Decimal -> float, dates -> ISO text, floats rounded to FLOAT_DECIMALS."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, FLOAT_DECIMALS)
    if isinstance(value, Decimal):
        return _clean(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


Rows = list[dict[str, Any]]


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> Rows:
    """Rows as dicts, cleaned (plain tuples from DuckDB: a DataFrame per region costs seconds in total)."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [{n: _clean(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def load_rows(con: duckdb.DuckDBPyConnection, regions: Sequence[str] | None = None) -> dict[str, Rows]:
    """Every briefing input as one list of rows per query; ``regions`` limits the per-region ones."""
    params = {"regions": list(regions) if regions is not None else None}
    return {name: _fetch(con, sql, params if "$regions" in sql else None) for name, sql in QUERIES.items()}


def _by_region(rows: Rows) -> dict[str, Rows]:
    """Rows grouped by region, each without its region_code, in query order."""
    grouped: dict[str, Rows] = {}
    for row in rows:
        row = dict(row)
        grouped.setdefault(row.pop("region_code"), []).append(row)
    return grouped


def _median_lookup(rows: Rows) -> dict[tuple[str, str], Rows]:
    """The medians of each district and universe, one row a year."""
    fields = ("year", *CODE_FIELDS, "nid", "regions")
    lookup: dict[tuple[str, str], Rows] = {}
    for r in rows:
        lookup.setdefault((r["grouping"], r["group_code"]), []).append({f: r[f] for f in fields})
    return lookup


def build_contexts(
    con: duckdb.DuckDBPyConnection,
    generated_at: datetime | None = None,
    regions: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One context per briefing region (subjects and NUTS-2 regions with codes), in register order.

    ``regions`` limits the result to those region codes (a partition of the per-region asset).
    """
    rows = load_rows(con, regions)
    build = rows["build"][0] if rows["build"] else {}
    generated = (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")
    medians = _median_lookup(rows["medians"])
    shared = ("regions", "medians", "build", "nid_ranks")
    split = {name: _by_region(rows[name]) for name in QUERIES if name not in shared}
    split["ranks"] = _by_region(rows["ranks"] + rows["nid_ranks"])
    contexts = []
    for region in rows["regions"]:
        code = region["region_code"]
        region_years = split["years"].get(code, [])
        if not any(y[f] is not None for y in region_years for f in CODE_FIELDS):
            continue
        latest_year = max(int(y["year"]) for y in region_years)
        parts = {name: split[name].get(code, []) for name in split}
        contexts.append({
            "region": {
                "code": code, "name_ru": region["name_ru"], "name_en": region["name_en"],
                "district_code": region["parent_code"],
                "district_name_ru": region["district_name_ru"], "district_name_en": region["district_name_en"],
                "country": region["country"],
                "country_name_ru": region["country_name_ru"], "country_name_en": region["country_name_en"],
                "level": region["level"],
                "district_level": region["district_level"],
                # comparison regions in the district (itself included): a district of one is no comparison
                "district_regions": region["district_regions"],
                "universe": region["universe"],
                "universe_regions": region["universe_regions"],
                "universe_countries": region["universe_countries"] or [],
            },
            "demo": str(build.get("data_label", "")) == DEMO_LABEL,
            "build_id": build.get("build_id"),
            "built_at": build.get("built_at"),
            "generated_at": generated,
            "data_vintage": build.get("releases"),
            "sources": build.get("sources"),
            "latest_year": latest_year,
            "codes": [{k: y[k] for k in ("year", *YEAR_FIELDS, *COVERAGE_FIELDS)} for y in region_years],
            # medians of every year (a code's latest year may be earlier than the region's latest year)
            "district_medians": medians.get(("district", region["parent_code"]), []),
            "universe_medians": medians.get(("universe", region["universe"]), []),
            "coverage_notes": _coverage_notes(region_years, latest_year),
            "top_contributions": _top_contributions(parts["contributions"]),
            "ranks": parts["ranks"],
            "indicators": parts["indicators"],
            "strategy": _strategy(parts["strategy"]),
            "peers": parts["peers"],
            "instruments": parts["instruments"],
            "correlations": parts["correlations"],
            "quality": _quality(parts["missing"], parts["confidential"], parts["revisions"]),
            "provenance": parts["provenance"],
        })
    return contexts


def _strategy(rows: Rows) -> dict[str, Any] | None:
    """The region's strategy row of its latest year, with the '; '-joined lists split into lists."""
    if not rows:
        return None
    row = dict(rows[0])
    for key in ("candidate_domains", "candidate_domains_en", "candidate_domains_ru", "sector_domains",
                "interregional_partners", "interregional_partners_en", "interregional_partners_ru"):
        row[key] = _split(row.get(key), "; ")
    row["weak_families"] = _split(row.get("weak_families"), ", ")
    return row


def _split(value: Any, sep: str) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    return [part.strip() for part in value.split(sep) if part.strip()]


def _quality(missing: Rows, confidential: Rows, revisions: Rows) -> dict[str, Any]:
    """Data quality: indicators missing in the latest year, confidential cells, revisions of the last release."""
    return {
        "missing_indicators": missing,
        "confidential": confidential,
        "revisions_total": len(revisions),
        "revisions": revisions[:TOP_REVISIONS],
    }


def _coverage_notes(region_years: Rows, latest_year: int) -> list[dict[str, Any]]:
    notes = []
    for row in region_years:
        if row["year"] <= latest_year - COVERAGE_NOTE_YEARS:
            continue
        for family in ("production", "institutional", "social"):
            reason = row.get(f"{family}_null_reason")
            if isinstance(reason, str) and reason:
                notes.append({"year": int(row["year"]), "family": family, "reason": reason,
                              "reason_en": reason, "reason_ru": row.get(f"{family}_null_reason_ru") or reason})
    return notes


def _top_contributions(rows: Rows) -> list[dict[str, Any]]:
    """The largest contributions to the change of the codes in the latest year, largest first."""
    if not rows:
        return []
    latest = max(r["year"] for r in rows)
    ranked = sorted(
        (r for r in rows if r["year"] == latest),
        key=lambda r: (-round(abs(r["contribution_change"]), FLOAT_DECIMALS), r["indicator_code"]),
    )
    keys = ("indicator_code", "name_ru", "name_en", "family", "contribution_change", "year")
    return [{k: r[k] for k in keys} for r in ranked[:TOP_CONTRIBUTIONS]]

