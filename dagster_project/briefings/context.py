"""Briefing contexts from the published warehouse.

A few set-based queries fetch what every briefing needs, then the rows are split per region in
Python; no per-region queries (85+ regions x several tables would be hundreds of round trips).
The context is plain JSON data: the renderer formats it, both templates read the same values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from dagster_project.settings import DEMO_LABEL

BRIEFING_LEVELS = ("subject", "nuts2")
CODE_FIELDS = ("production_code", "institutional_code", "social_code")
YEAR_FIELDS = CODE_FIELDS + ("innovation_code", "information_code", "value_competence_code", "id_code", "nid")
TOP_CONTRIBUTIONS = 5
COVERAGE_NOTE_YEARS = 6


# Parallel aggregation in DuckDB may change the last bits of a double from one build to the next;
# rounding keeps an unchanged region's context (and so its render fingerprint) identical.
FLOAT_DECIMALS = 10


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN/NaT -> None, numpy -> Python, floats rounded to FLOAT_DECIMALS."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, FLOAT_DECIMALS)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def load_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    levels = ", ".join(f"'{level}'" for level in BRIEFING_LEVELS)
    return {
        "regions": con.execute(
            "SELECT r.region_code, r.name_ru, r.name_en, r.country, r.level, r.parent_code, r.universe, "
            "p.name_ru AS district_name_ru, p.name_en AS district_name_en "
            "FROM marts.regions r LEFT JOIN marts.regions p ON p.region_code = r.parent_code "
            f"WHERE r.level IN ({levels}) ORDER BY r.region_code"
        ).df(),
        "years": con.execute(
            "SELECT d.region_code, d.year, d.production_code, d.institutional_code, d.social_code, "
            "y.innovation_code, y.information_code, y.value_competence_code, y.id_code, b.nid, "
            "d.production_null_reason, d.institutional_null_reason, d.social_null_reason "
            "FROM marts.defining_codes d "
            "LEFT JOIN marts.dynamic_codes y USING (region_code, year) "
            "LEFT JOIN marts.basic_code b USING (region_code, year) ORDER BY d.region_code, d.year"
        ).df(),
        "contributions": con.execute(
            "SELECT c.region_code, c.year, c.family, c.indicator_code, i.name_ru, i.name_en, c.contribution_change "
            "FROM marts.code_contributions c JOIN marts.indicators i USING (indicator_code) "
            "WHERE c.contribution_change IS NOT NULL"
        ).df(),
        "provenance": con.execute(
            "SELECT region_code, source, dataset, release, max(retrieved_at) AS retrieved_at, count(*) AS observations "
            "FROM marts.observations WHERE region_code IS NOT NULL "
            "GROUP BY ALL ORDER BY region_code, source, dataset, release"
        ).df(),
        "build": con.execute("SELECT * FROM marts.build_info").df(),
    }


def _medians(years: pd.DataFrame, regions: pd.DataFrame, year: int, group_col: str) -> dict[str, dict[str, Any]]:
    latest = years[years["year"] == year].merge(regions[["region_code", group_col]], on="region_code")
    medians = latest.groupby(group_col)[list(CODE_FIELDS)].median()
    return {key: {f: _clean(row[f]) for f in CODE_FIELDS} for key, row in medians.iterrows()}


def build_contexts(con: duckdb.DuckDBPyConnection, generated_at: datetime | None = None) -> list[dict[str, Any]]:
    """One context per briefing region (subjects and NUTS-2 regions with codes), in register order."""
    frames = load_frames(con)
    regions, years = frames["regions"], frames["years"]
    build = frames["build"].iloc[0] if len(frames["build"]) else pd.Series(dtype=object)
    generated = (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")
    latest_year = int(years["year"].max()) if len(years) else None
    by_district = _medians(years, regions, latest_year, "parent_code") if latest_year else {}
    by_country = _medians(years, regions, latest_year, "universe") if latest_year else {}
    years_by_region = dict(tuple(years.groupby("region_code")))
    contrib_by_region = dict(tuple(frames["contributions"].groupby("region_code")))
    prov_by_region = dict(tuple(frames["provenance"].groupby("region_code")))
    demo = str(build.get("data_label", "")) == DEMO_LABEL
    contexts = []
    for region in _records(regions):
        code = region["region_code"]
        region_years = years_by_region.get(code)
        if region_years is None or region_years[list(CODE_FIELDS)].notna().sum().sum() == 0:
            continue
        contexts.append({
            "region": {
                "code": code, "name_ru": region["name_ru"], "name_en": region["name_en"],
                "district_name_ru": region["district_name_ru"], "district_name_en": region["district_name_en"],
                "country": region["country"],
            },
            "demo": demo,
            "build_id": _clean(build.get("build_id")),
            "generated_at": generated,
            "data_vintage": _clean(build.get("releases")),
            "latest_year": int(region_years["year"].max()),
            "codes": _records(region_years[["year", *YEAR_FIELDS]]),
            "district_median": by_district.get(region["parent_code"], {}),
            "country_median": by_country.get(region["universe"], {}),
            "coverage_notes": _coverage_notes(region_years),
            "top_contributions": _top_contributions(contrib_by_region.get(code)),
            "provenance": _records(prov_by_region[code].drop(columns="region_code")) if code in prov_by_region else [],
        })
    return contexts


def _coverage_notes(region_years: pd.DataFrame) -> list[dict[str, Any]]:
    recent = region_years[region_years["year"] > region_years["year"].max() - COVERAGE_NOTE_YEARS]
    notes = []
    for row in recent.itertuples(index=False):
        for family in ("production", "institutional", "social"):
            reason = getattr(row, f"{family}_null_reason")
            if isinstance(reason, str) and reason:
                notes.append({"year": int(row.year), "family": family, "reason": reason})
    return notes


def _top_contributions(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    latest = frame[frame["year"] == frame["year"].max()]
    ranked = latest.assign(magnitude=latest["contribution_change"].abs().round(FLOAT_DECIMALS))
    top = ranked.sort_values(["magnitude", "indicator_code"], ascending=[False, True]).head(TOP_CONTRIBUTIONS)
    return _records(top[["indicator_code", "name_ru", "name_en", "family", "contribution_change", "year"]])


def region_codes(contexts: Iterable[dict[str, Any]]) -> list[str]:
    return [c["region"]["code"] for c in contexts]
