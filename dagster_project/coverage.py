"""Coverage report of one source: per catalog indicator, the table that fed it, the regions and
years covered, missing and confidential cells, and the rejects of that table. Used as source
asset metadata and by `regiocode sources <name> --report`.

An indicator the source does not publish but dbt derives from two it does (seed
``derived_indicators``: budget per capita = budget / population) is reported as ``derived``, with
the tables of both components, so the report shows what really feeds the codes. An indicator whose
mapping rule could not apply to the source's files (a reject ``mapping of <indicator> (…) cannot apply``)
is reported as such, not as absent from the source."""

from __future__ import annotations

import duckdb
import pandas as pd

from dagster_project.seeds import read_seed

COUNT_COLUMNS = ("regions", "first_year", "last_year", "values", "missing", "confidential")
# The reason of a reject saying a source's mapping rule could not apply to a file (the Eurostat importer's).
UNUSABLE_MAPPING = r"^mapping of (\S+) \(.*?\) cannot apply"


def _tables(frame: pd.DataFrame) -> str:
    return ", ".join(sorted(set(map(str, frame["table_code"]))))


def _direct(mapped: pd.DataFrame) -> pd.DataFrame:
    """Per indicator the source maps directly: tables, regions, years, values, gaps."""
    if mapped.empty:
        return pd.DataFrame(columns=["indicator_code", "tables", *COUNT_COLUMNS])
    return mapped.groupby("indicator_code").agg(
        tables=("table_code", lambda s: ", ".join(sorted(set(map(str, s))))),
        regions=("region_code", "nunique"),
        first_year=("period", "min"),
        last_year=("period", "max"),
        values=("value", "count"),
        missing=("value", lambda s: int(s.isna().sum())),
        confidential=("flag", lambda s: int((s == "c").sum())),
    ).reset_index()


def _derived(mapped: pd.DataFrame, derivations: pd.DataFrame, direct: set[str]) -> pd.DataFrame:
    """Indicators computed from two components of this source (numerator tables, then denominator's)."""
    rows = []
    for d in derivations.itertuples(index=False):
        if d.indicator_code in direct:
            continue  # a value published directly wins over a derived one (as in dbt)
        num = mapped[mapped["indicator_code"] == d.numerator_code]
        den = mapped[mapped["indicator_code"] == d.denominator_code]
        if num.empty or den.empty:
            continue
        pairs = num.merge(den, on=["region_code", "period"], suffixes=("_n", "_d"))
        both = pairs[pairs["value_n"].notna() & pairs["value_d"].notna()]
        rows.append({
            "indicator_code": d.indicator_code,
            "tables": f"{_tables(num)}, {_tables(den)}",
            "regions": both["region_code"].nunique(),
            "first_year": both["period"].min() if len(both) else None,
            "last_year": both["period"].max() if len(both) else None,
            "values": len(both),
            "missing": len(pairs) - len(both),
            "confidential": int(((pairs["flag_n"] == "c") | (pairs["flag_d"] == "c")).sum()),
        })
    return pd.DataFrame(rows, columns=["indicator_code", "tables", *COUNT_COLUMNS])


def coverage_report(
    observations: pd.DataFrame,
    rejects: pd.DataFrame,
    catalog: pd.DataFrame | None = None,
    derivations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per catalog indicator (indicators the source does not carry included, as gaps)."""
    catalog = catalog if catalog is not None else read_seed("indicators")
    if derivations is None:
        derivations = read_seed("derived_indicators")
    mapped = observations[observations["indicator_code"].notna()]
    direct = _direct(mapped)
    derived = _derived(mapped, derivations, set(direct["indicator_code"]))
    per = pd.concat([frame for frame in (direct, derived) if len(frame)] or [direct], ignore_index=True)
    rejected = rejects.groupby("table_code").size().rename("rejects") if len(rejects) else pd.Series(dtype=int)
    report = catalog[["indicator_code", "family"]].merge(per, on="indicator_code", how="left")
    for column in COUNT_COLUMNS:  # whole numbers, not 96.0, once the merge has added gaps
        report[column] = pd.to_numeric(report[column], errors="coerce").round().astype("Int64")
    report["rejects"] = [
        int(sum(rejected.get(t.strip(), 0) for t in str(tables).split(","))) if isinstance(tables, str) else 0
        for tables in report["tables"]
    ]
    derived_codes = set(derived["indicator_code"])
    unusable = _unusable_mappings(rejects)
    report["status"] = [
        ("derived" if code in derived_codes else "covered") if n
        else f"mapping cannot apply ({unusable[code]} file(s), see raw.rejects)" if code in unusable
        else "not in this source"
        for code, n in zip(report["indicator_code"], report["values"].fillna(0), strict=True)
    ]
    return report


def _unusable_mappings(rejects: pd.DataFrame) -> dict[str, int]:
    """Indicator -> how many files a mapping rule of it could not apply to (a source's rejects reading
    ``mapping of <indicator> (…) cannot apply …``, e.g. a release without a dimension the rule filters on)."""
    if rejects.empty or not {"reason", "origin"} <= set(rejects.columns):
        return {}
    found = rejects.assign(code=rejects["reason"].astype(str).str.extract(UNUSABLE_MAPPING, expand=False))
    return found.dropna(subset=["code"]).groupby("code")["origin"].nunique().to_dict()


def report_from_warehouse(con: duckdb.DuckDBPyConnection, source: str) -> pd.DataFrame:
    """The report for ``source`` from a (published) warehouse, with the seeds it was built with."""
    observations = con.execute(
        "SELECT table_code, region_code, indicator_code, period, value, flag FROM marts.observations WHERE source = ?",
        [source],
    ).df()
    rejects = con.execute("SELECT table_code, origin, reason FROM raw.rejects WHERE source = ?", [source]).df()
    catalog = con.execute("SELECT indicator_code, family FROM marts.indicators").df()
    try:
        derivations = con.execute(
            "SELECT indicator_code, numerator_code, denominator_code FROM seeds.derived_indicators"
        ).df()
    except duckdb.Error:  # a warehouse built before the seed existed
        derivations = None
    return coverage_report(observations, rejects, catalog, derivations)
