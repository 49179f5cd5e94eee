"""Publish: after dbt built and tested the marts, copy the working warehouse to the read-only published
file atomically, so readers always see the last complete refresh. The publication gate (some region has
a defining code, codes in [0, 1], no sudden shrinking of the marts) runs first: a refused build leaves
the published warehouse as it was, and the step's one-line error says why. The published file is never
opened here: the gate compares with the record the last publish wrote (``state/published.json``)."""

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from dagster_project.assets.dbt import regiocode_dbt_assets
from dagster_project.assets.dbt_reuse import build_id_for, record_published_build, reused_build
from dagster_project.checks import COUNTED_MARTS, PublicationRefused, publication_gate
from dagster_project.resources import RegiocodeResource
from dagster_project.warehouse import DUCKDB_POOL, connect_read_only, publish, published_record


@asset(
    group_name="publish",
    kinds={"duckdb"},
    deps=[regiocode_dbt_assets],
    pool=DUCKDB_POOL,
    description="The published read-only warehouse $REGIOCODE_HOME/warehouse/regiocode.duckdb (mode 0444, "
    "replaced by an atomic rename).",
)
def published_warehouse(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    build_id = build_id_for(context)
    reused = reused_build(context, regiocode)
    if reused:  # dbt did not run: the published warehouse already is the build of these very inputs
        context.log.info("nothing to publish: %s is build %s of the same inputs", paths.published_db, reused)
        return MaterializeResult(metadata={"path": MetadataValue.path(str(paths.published_db)), "build_id": reused,
                                           "data_label": regiocode.data_label, "unchanged": True})
    with connect_read_only(paths.work_db) as con:
        built = con.execute("SELECT build_id, data_label FROM marts.build_info").fetchone()
        counts = {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in COUNTED_MARTS}
    if built is None or built[0] != build_id:
        raise Failure(
            f"the working warehouse was built by {built[0] if built else 'nothing'}, not by this run ({build_id}): "
            "refusing to publish a warehouse this run did not build and test", allow_retries=False)
    try:
        gate = publication_gate(paths.work_db, published_record(paths.published_record))
    except PublicationRefused as refused:
        for finding in refused.findings:
            context.log.error("publication gate: %s", finding.message())
        raise Failure(str(refused), allow_retries=False) from refused
    path = publish(paths.work_db, paths.published_db, record=paths.published_record)
    record_published_build(context, regiocode)
    context.log.info("published %s (build %s, %s)", path, build_id, built[1])
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "build_id": build_id,
            "data_label": built[1],
            "bytes": path.stat().st_size,
            "gate": ", ".join(f.name for f in gate),
            **{f"rows_{t}": int(n) for t, n in counts.items()},
        }
    )
