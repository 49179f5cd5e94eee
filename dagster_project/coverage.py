"""Coverage report of one source: per catalog indicator, the table that fed it, the regions and
years covered, missing and confidential cells, and the rejects of that table. Used as source
asset metadata and by `regiocode sources <name> --report`."""

from __future__ import annotations

import pandas as pd

from dagster_project.settings import SEEDS_DIR


def coverage_report(
    observations: pd.DataFrame, rejects: pd.DataFrame, catalog: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per catalog indicator (indicators the source does not carry included, as gaps)."""
    catalog = catalog if catalog is not None else pd.read_csv(SEEDS_DIR / "indicators.csv", dtype=str)
    mapped = observations[observations["indicator_code"].notna()]
    if mapped.empty:
        per = pd.DataFrame(columns=["indicator_code", "tables", "regions", "first_year", "last_year",
                                    "values", "missing", "confidential"])
    else:
        per = mapped.groupby("indicator_code").agg(
            tables=("table_code", lambda s: ", ".join(sorted(set(map(str, s))))),
            regions=("region_code", "nunique"),
            first_year=("period", "min"),
            last_year=("period", "max"),
            values=("value", "count"),
            missing=("value", lambda s: int(s.isna().sum())),
            confidential=("flag", lambda s: int((s == "c").sum())),
        ).reset_index()
    rejected = rejects.groupby("table_code").size().rename("rejects") if len(rejects) else pd.Series(dtype=int)
    report = catalog[["indicator_code", "family"]].merge(per, on="indicator_code", how="left")
    report["rejects"] = [
        int(sum(rejected.get(t.strip(), 0) for t in str(tables).split(","))) if isinstance(tables, str) else 0
        for tables in report["tables"]
    ]
    report["status"] = report["values"].fillna(0).map(lambda n: "covered" if n > 0 else "not in this source")
    return report


def report_from_warehouse(con, source: str) -> pd.DataFrame:  # noqa: ANN001 - a DuckDB connection
    observations = con.execute(
        "SELECT table_code, region_code, indicator_code, period, value, flag FROM marts.observations WHERE source = ?",
        [source],
    ).df()
    rejects = con.execute("SELECT table_code FROM raw.rejects WHERE source = ?", [source]).df()
    catalog = con.execute("SELECT indicator_code, family FROM marts.indicators").df()
    return coverage_report(observations, rejects, catalog)
