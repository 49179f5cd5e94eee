"""Data checks that stand between the sources and the readers.

Two gates, because bad data can come in two ways:

* **Blocking asset checks on ``raw_observations``** run after the sources loaded and before dbt:
  a duplicate mapped observation, a negative value of an indicator that cannot be negative (a region
  with a negative population), a Rosstat table printed in another unit than its mapping expects, or a
  sudden drop of rows against the last published build. They guard the data the marts use: problems
  in tables no catalog indicator maps are reported by the import (notes, summary), not blocking.
  A failed check stops dbt, publish and the
  briefings (Dagster skips everything downstream of a failed blocking check), and its result names
  the check and the offending rows.
* **The publication gate** (:func:`publication_gate`) runs inside the publish step on the built
  working warehouse, just before the atomic rename: a build in which no region has any defining code,
  codes outside [0, 1], and marts that shrank by more than the allowed share against the published
  build. dbt's own tests run earlier, in ``dbt build``; this is the last line of defence for what
  readers will see.

Comparisons with the published build never open the published file (it is the readers'; a BI tool may
hold it locked): they use the record the publish step wrote (:func:`dagster_project.warehouse.published_record`).

The raw-layer rules live here only (dbt tests the models, not the raw layer).

Freshness checks on the source assets warn when a source has not been imported for longer than
expected (``REGIOCODE_SOURCE_MAX_AGE_DAYS``, default 40 days: a monthly schedule plus slack).

Thresholds live in ``dbt/dbt_project.yml`` (vars ``ops_signed_indicators``, ``ops_max_row_drop``)
beside the model choices; ``REGIOCODE_MAX_ROW_DROP`` overrides the row-drop share for one run (e.g.
``1`` to accept an intended cut).
"""


import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    multi_asset_check,
)

from dagster_project import settings
from dagster_project.resources import RegiocodeResource
from dagster_project.seeds import read_seed
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.warehouse import DUCKDB_POOL, OBSERVATION_KEY, published_record

# What the publish step recorded about the published build (None: nothing published, or not recorded).
PublishedRecord = Mapping[str, Any] | None

RAW = AssetKey("raw_observations")
PREVIEW_ROWS = 10
# Codes and shares that must lie in [0, 1] in the published marts: (table, column).
UNIT_INTERVAL_COLUMNS = (
    ("defining_codes", "production_code"),
    ("defining_codes", "institutional_code"),
    ("defining_codes", "social_code"),
    ("code_contributions", "normalised_value"),
)
# Marts whose row count is compared with the published build before publishing (and reported by it).
COUNTED_MARTS = ("observations", "defining_codes", "dynamic_codes", "basic_code", "code_contributions")


@lru_cache(maxsize=1)
def _dbt_vars() -> dict:
    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("vars", {}) or {}


def signed_indicators() -> tuple[str, ...]:
    """Catalog indicators that may legitimately be negative (a migration balance)."""
    return tuple(_dbt_vars().get("ops_signed_indicators", ["migration_balance_per_10000"]))


def max_row_drop() -> float:
    """The largest share of rows a refresh may lose against the published build (0.25 = 25 %)."""
    return settings.max_row_drop(_dbt_vars().get("ops_max_row_drop", 0.25))


@dataclass
class Finding:
    """One check's verdict: passed, or the offending rows (at most a preview) and their count."""

    name: str
    passed: bool
    description: str
    offending: int = 0
    preview: pd.DataFrame = field(default_factory=pd.DataFrame)

    def one_line(self) -> str:
        """The verdict on one line: the check, what is wrong and what to do, how many rows, the first of them."""
        first = ""
        if len(self.preview):
            row = self.preview.iloc[0]
            first = "; first: " + ", ".join(f"{k}={v}" for k, v in row.items() if _present(v))
        return f"{self.name}: {self.description} ({self.offending} offending rows{first})"

    def message(self) -> str:
        """The verdict with a preview of the offending rows (for the run log)."""
        if self.passed:
            return f"{self.name}: passed"
        rows = self.preview.head(PREVIEW_ROWS).to_string(index=False) if len(self.preview) else ""
        return f"{self.name}: {self.description} ({self.offending} offending rows)\n{rows}".rstrip()


def _present(value: object) -> bool:
    """Whether a preview cell says something (not null, NaN or empty)."""
    return value is not None and not (isinstance(value, float) and value != value) and str(value) != ""


# The series of an observation, as dbt's int_observations_ranked defines it: a mapped observation (indicator and
# region resolved) is its catalog indicator and territory across tables and editions of its source; any other is
# its published cell. As partition columns (no string built per row).
_MAPPED = "(indicator_code IS NOT NULL AND region_code IS NOT NULL)"
SERIES_PARTITION = (
    f"source, CASE WHEN {_MAPPED} THEN indicator_code END, CASE WHEN {_MAPPED} THEN region_code ELSE region_key END, "
    f"CASE WHEN NOT {_MAPPED} THEN dataset END, CASE WHEN NOT {_MAPPED} THEN table_code END, "
    f"CASE WHEN NOT {_MAPPED} THEN indicator_key END, period"
)


def _latest(sources: Sequence[str], mapped_only: bool = False) -> str:
    """Latest release of each series of the given sources (what feeds the codes), as dbt ranks them; only the
    mapped observations with ``mapped_only`` (their series never mix with unmapped ones)."""
    marks = ", ".join(f"'{s.replace(chr(39), '')}'" for s in sources) or "NULL"
    mapped = f" AND {_MAPPED}" if mapped_only else ""
    return (
        f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {SERIES_PARTITION} ORDER BY "
        f"release_date DESC NULLS LAST, release DESC NULLS LAST, retrieved_at DESC NULLS LAST, dataset, table_code, "
        f"cell_ref) AS release_rank FROM raw.observations WHERE source IN ({marks}){mapped}) WHERE release_rank = 1"
    )


def _series(sources: Sequence[str]) -> str:
    """One row per series and year of the given sources: as many as :func:`_latest` gives (marts.observations), by
    a hash aggregate instead of a sort (1.3 s instead of 7.9 s on the million cells of the whole yearbook)."""
    marks = ", ".join(f"'{s.replace(chr(39), '')}'" for s in sources) or "NULL"
    return f"SELECT DISTINCT {SERIES_PARTITION} FROM raw.observations WHERE source IN ({marks})"


def check_duplicates(con: duckdb.DuckDBPyConnection, sources: Sequence[str]) -> Finding:
    """The same mapped cell (natural key and release) twice: dbt would pick one of them at random. Only mapped
    rows are checked: they are what the marts use (the importers never load a cell twice; a repeated cell of a
    table no indicator maps would not reach the codes)."""
    keys = ", ".join(OBSERVATION_KEY)
    marks = ", ".join("?" for _ in sources) or "NULL"
    found = con.execute(
        f"SELECT {keys}, count(*) AS copies, list(value ORDER BY value) AS values_seen, min(origin) AS origin "
        f"FROM raw.observations WHERE source IN ({marks}) AND indicator_code IS NOT NULL GROUP BY ALL "
        f"HAVING count(*) > 1 ORDER BY copies DESC, {keys}",
        list(sources),
    ).df()
    return Finding(
        "no_duplicate_observations", found.empty,
        "the same mapped observation (source, dataset, table, region, indicator, year, release) was loaded more "
        "than once",
        int(found["copies"].sum()) if len(found) else 0, found,
    )


def check_negative_values(con: duckdb.DuckDBPyConnection, sources: Sequence[str]) -> Finding:
    """A negative value of an indicator that cannot be negative (population, GRP, shares ...)."""
    signed = list(signed_indicators())
    found = con.execute(
        f"SELECT source, region_code, region_key, indicator_code, period, value, release, origin, cell_ref "
        f"FROM ({_latest(sources, mapped_only=True)}) WHERE value < 0 "
        f"AND NOT list_contains(?, indicator_code) ORDER BY indicator_code, region_code, period",
        [signed],
    ).df()
    return Finding(
        "no_negative_values", found.empty,
        f"negative values of indicators that cannot be negative (allowed: {', '.join(signed) or 'none'})",
        len(found), found,
    )


def check_units(con: duckdb.DuckDBPyConnection, sources: Sequence[str]) -> Finding:
    """Rosstat rows mapped to a catalog indicator whose printed unit no mapping rule of their dataset accepts
    (``unit_pattern`` of ``indicator_sources_rosstat.csv``) and ``unit_conversions.csv`` does not convert.

    A table reprinted in thousands instead of units would silently scale every value. The importer maps a
    table only when its unit fits, so this guards rows loaded with an older mapping. Only Rosstat: its unit is
    free text from the sheet, while Eurostat rows are mapped by a filter on the unit dimension.
    """
    if "rosstat" not in sources:
        return Finding("units_as_mapped", True, "")
    from dagster_project.sources.rosstat.titles import load_rules, normalise_title

    rules = load_rules(read_seed("indicator_sources_rosstat"))
    converted = {(r.indicator_code, normalise_title(r.unit_as_published))
                 for r in read_seed("unit_conversions").itertuples() if r.source == "rosstat"}
    rows = con.execute(
        f"SELECT dataset, table_code, indicator_code, unit, count(*) AS rows, min(origin) AS origin, "
        f"min(cell_ref) AS cell_ref "
        f"FROM ({_latest(['rosstat'], mapped_only=True)}) GROUP BY ALL"
    ).df()

    def fitting(row: object) -> list:
        return [r for r in rules if r.indicator_code == row.indicator_code
                and (not r.datasets or row.dataset in r.datasets)]

    def accepted(row: object) -> bool:
        unit = "" if pd.isna(row.unit) else normalise_title(row.unit)
        return (row.indicator_code, unit) in converted or any(r.unit is None or r.unit.search(unit)
                                                              for r in fitting(row))

    bad = rows[[not accepted(r) for r in rows.itertuples()]].reset_index(drop=True)
    bad["expected_unit"] = [" or ".join(f"/{r.unit.pattern}/" for r in fitting(row) if r.unit) or "no rule"
                            for row in bad.itertuples()]
    return Finding(
        "units_as_mapped", bad.empty,
        "Rosstat rows printed in a unit no rule of indicator_sources_rosstat.csv accepts for their indicator and "
        "dataset (fix the mapping's unit_pattern, or add the unit to unit_conversions.csv)",
        int(bad["rows"].sum()) if len(bad) else 0, bad,
    )


def check_row_drop(con: duckdb.DuckDBPyConnection, published: PublishedRecord, share: float | None = None) -> Finding:
    """Rows per source now vs the last published build (as its record says): a source that lost more than the
    allowed share (a lost working warehouse, a truncated re-import) must not replace good data."""
    share = max_row_drop() if share is None else share
    before = pd.DataFrame(list((published or {}).get("observations_by_source", {}).items()),
                          columns=["source", "published"])
    if before.empty:
        return Finding("no_sudden_row_drop", True, "")
    sources = before["source"].tolist()
    now = con.execute(
        f"SELECT source, count(*) AS now FROM ({_series(sources)}) GROUP BY 1"
    ).df()
    both = before.merge(now, on="source", how="left").fillna({"now": 0})
    both["drop_share"] = 1 - both["now"] / both["published"]
    bad = both[both["drop_share"] > share + 1e-12].reset_index(drop=True)
    return Finding(
        "no_sudden_row_drop", bad.empty,
        f"rows per source dropped by more than {share:.0%} against the published build "
        "(REGIOCODE_MAX_ROW_DROP or var ops_max_row_drop to accept an intended cut)",
        int((bad["published"] - bad["now"]).sum()) if len(bad) else 0, bad,
    )


def raw_findings(con: duckdb.DuckDBPyConnection, sources: Sequence[str], published: PublishedRecord) -> list[Finding]:
    """Every raw-layer check on the working warehouse ``con`` for the active ``sources``, in RAW_CHECK_NAMES order
    (``published``: the record of the published build)."""
    return [
        check_duplicates(con, sources),
        check_negative_values(con, sources),
        check_units(con, sources),
        check_row_drop(con, published),
    ]


RAW_CHECK_NAMES = ("no_duplicate_observations", "no_negative_values", "units_as_mapped", "no_sudden_row_drop")


def _result(finding: Finding) -> AssetCheckResult:
    metadata: dict[str, object] = {"offending_rows": finding.offending}
    if not finding.passed:
        preview = finding.preview.head(PREVIEW_ROWS).astype(str)
        metadata["preview"] = MetadataValue.md(preview.to_markdown(index=False))
    return AssetCheckResult(
        asset_key=RAW, check_name=finding.name, passed=finding.passed, severity=AssetCheckSeverity.ERROR,
        description=None if finding.passed else finding.description, metadata=metadata,
    )


@multi_asset_check(
    specs=[AssetCheckSpec(name, asset=RAW, blocking=True) for name in RAW_CHECK_NAMES],
    pool=DUCKDB_POOL,
    description="Blocking checks on the raw layer: duplicates, impossible negatives, units, row drop.",
)
def raw_observation_checks(
    context: AssetCheckExecutionContext, regiocode: RegiocodeResource
) -> Iterator[AssetCheckResult]:
    """Any failure stops dbt, publish and briefings; the log names the check and the rows."""
    paths = regiocode.paths
    con = duckdb.connect(str(paths.work_db), read_only=True)
    try:
        findings = raw_findings(con, regiocode.sources, published_record(paths.published_record))
    finally:
        con.close()
    for finding in findings:
        if not finding.passed:
            context.log.error("check failed: %s", finding.message())
        yield _result(finding)
    failed = [f for f in findings if not f.passed]
    if failed:  # the checks are recorded above; the step's own error is what a user reads, on one line
        raise Failure(description="raw layer check failed, nothing was built or published: "
                      + "; ".join(f.one_line() for f in failed), allow_retries=False)


# --------------------------------------------------------------------------------------------
# Publication gate


class PublicationRefused(RuntimeError):
    """The built warehouse failed a gate: the published warehouse was left as it was. The message is one line;
    ``findings`` hold the failed checks with their offending rows (:meth:`Finding.message` for the run log)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("publication refused, the published warehouse was left as it was: "
                         + "; ".join(f.one_line() for f in self.findings))


def check_unit_interval(con: duckdb.DuckDBPyConnection) -> Finding:
    """Codes and normalised values outside [0, 1] mean a broken normalisation."""
    parts = [
        f"SELECT '{table}' AS mart, '{column}' AS column_name, region_code, year, {column} AS value "
        f"FROM marts.{table} WHERE {column} < 0 OR {column} > 1"
        for table, column in UNIT_INTERVAL_COLUMNS
    ]
    found = con.execute(" UNION ALL ".join(parts) + " ORDER BY mart, column_name, region_code, year").df()
    return Finding("codes_in_unit_interval", found.empty, "codes or normalised values outside [0, 1]",
                   len(found), found)


def check_some_defining_code(con: duckdb.DuckDBPyConnection) -> Finding:
    """A build in which no region has any defining code (every P, I and S null) would publish nothing to read:
    the sources cover too little of the indicator catalog. The offending rows are the commonest null reasons."""
    found = con.execute(
        "SELECT count(*) FILTER (production_code IS NOT NULL OR institutional_code IS NOT NULL "
        "OR social_code IS NOT NULL) FROM marts.defining_codes").fetchone()[0]
    if found:
        return Finding("some_defining_code", True, "")
    reasons = con.execute(
        "SELECT production_null_reason AS reason, count(*) AS rows FROM marts.defining_codes "
        "GROUP BY ALL ORDER BY rows DESC, reason LIMIT 3").df()
    return Finding(
        "some_defining_code", False,
        "no region has any defining code (P, I or S): the sources feed too little of the indicator catalog "
        "(`regiocode sources NAME --report` shows what each indicator lacks; add a source or the missing sections)",
        int(reasons["rows"].sum()) if len(reasons) else 0, reasons,
    )


def check_mart_drop(con: duckdb.DuckDBPyConnection, published: PublishedRecord, share: float | None = None) -> Finding:
    """Rows per counted mart now vs the published build (as its record says): more than ``share`` lost
    (default: max_row_drop) fails, unless the build's sources changed (then the marts change wholesale)."""
    share = max_row_drop() if share is None else share
    counts = (published or {}).get("marts") or {}
    before = pd.DataFrame([(t, counts[t]) for t in COUNTED_MARTS if t in counts], columns=["mart", "published"])
    if before.empty:
        return Finding("no_sudden_mart_drop", True, "")
    # Switching the sources (demo -> official statistics) changes the marts wholesale: not a drop.
    try:
        now_sources = con.execute("SELECT sources FROM marts.build_info").fetchone()
    except duckdb.CatalogException:
        now_sources = None
    if now_sources is not None and published.get("sources") is not None and now_sources[0] != published["sources"]:
        return Finding("no_sudden_mart_drop", True, "the build's sources changed: not compared")
    union = " UNION ALL ".join(f"SELECT '{t}' AS mart, count(*) AS now FROM marts.{t}" for t in before["mart"])
    both = before.merge(con.execute(union).df(), on="mart")
    both["drop_share"] = 1 - both["now"] / both["published"].where(both["published"] > 0)
    bad = both[both["drop_share"] > share + 1e-12].reset_index(drop=True)
    return Finding(
        "no_sudden_mart_drop", bad.empty,
        f"marts shrank by more than {share:.0%} against the published build",
        int((bad["published"] - bad["now"]).sum()) if len(bad) else 0, bad,
    )


def publication_gate(work_db: Path, published: PublishedRecord, share: float | None = None) -> list[Finding]:
    """Run the gate on the built working warehouse (``published``: the record of the published build);
    raise :class:`PublicationRefused` naming every failed check and its first offending row, on one line.
    Returns the (passed) findings otherwise."""
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        findings = [check_some_defining_code(con), check_unit_interval(con), check_mart_drop(con, published, share)]
    finally:
        con.close()
    failed = [f for f in findings if not f.passed]
    if failed:
        raise PublicationRefused(failed)
    return findings


# --------------------------------------------------------------------------------------------
# Freshness


def freshness_checks(source_assets: Sequence[object]) -> list:
    """Warn (not block) when a source asset was last imported longer ago than the allowed age."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "superseded" by FreshnessPolicy: see freshness_sensor
        return list(build_last_update_freshness_checks(assets=list(source_assets),
                                                       lower_bound_delta=settings.source_max_age()))


def freshness_sensor(checks: Sequence[object]):
    """Evaluates the freshness checks in `dagster dev` / the daemon (they are not part of the jobs).

    Dagster calls this sensor "superseded" by the newer FreshnessPolicy; the checks + sensor are
    kept because they are stable and testable without the daemon's freshness feature flag."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_sensor_for_freshness_checks(freshness_checks=list(checks), name="source_freshness_sensor")
