"""One measured run, in a process of its own: the runner (``benchmarks/run.py``) starts it, samples the
memory of its process tree from outside, and reads the stage marks it writes.

    python -m benchmarks.stages orchestrated --home DIR --marks FILE --t0 T [--panel FILE] [--without ASSET]
    python -m benchmarks.stages bare         --home DIR --marks FILE --t0 T [--panel FILE] [--no-briefings]
    python -m benchmarks.stages prepare      (imports the dbt assets once: parses a fresh project copy)

``orchestrated`` is ``regiocode refresh`` (``cli.run_refresh``: Dagster, dagster-dbt, the real assets);
``bare`` does the same work without Dagster: the same loader, the dbt CLI with the same arguments, the
same publish and the same batch renderer. ``--panel`` replaces the demo generator by a prepared
synthetic panel (parquet) loaded through the same raw-layer loader. Each stage mark holds monotonic
time (comparable across processes) and CPU seconds of this process plus its finished children.
"""


import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

STEP_STAGES = {
    "demo_source": "ingest", "rosstat_source": "ingest", "eurostat_source": "ingest", "raw_layer": "ingest",
    "raw_observation_checks": "ingest", "regiocode_dbt_assets": "dbt build", "published_warehouse": "publish",
    "briefings": "briefings",
}
ANALYSIS_MARTS = ("code_correlations", "strategy", "peers", "instruments", "rank_intervals")


def cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have been waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Marks:
    """Stage intervals with CPU, written as JSON for the runner."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.steps: list[dict[str, Any]] = []
        self.info: dict[str, Any] = {}
        self._open: dict[str, tuple[float, float]] = {}

    def start(self, key: str) -> None:
        self._open[key] = (time.monotonic(), cpu_seconds())

    def end(self, key: str, stage: str) -> None:
        start, cpu = self._open.pop(key, (time.monotonic(), cpu_seconds()))
        self.steps.append({"step": key, "stage": stage, "start": start, "end": time.monotonic(),
                           "cpu_start": cpu, "cpu": cpu_seconds() - cpu})

    def write(self, path: Path) -> None:
        payload = {"t0": self.t0, "end": time.monotonic(), "cpu_total": cpu_seconds(), "steps": self.steps,
                   **self.info}
        path.write_text(json.dumps(payload, indent=1, default=str))


def analysis_share(run_results: Path) -> dict[str, float]:
    """dbt's own timings (run_results.json): elapsed, node seconds, and those of the analysis models
    (int_analysis_* and the analysis marts) with their tests. Nodes run on 2 threads, so node
    seconds add up to more than elapsed; the share is what matters."""
    if not run_results.exists():
        return {}
    data = json.loads(run_results.read_text())
    total = analysis = 0.0
    for result in data["results"]:
        seconds = float(result.get("execution_time") or 0.0)
        total += seconds
        name = result["unique_id"]
        if "int_analysis_" in name or any(f".{m}" in name or f"_{m}_" in name for m in ANALYSIS_MARTS):
            analysis += seconds
    return {"dbt_elapsed": float(data.get("elapsed_time") or 0.0), "node_seconds": total,
            "analysis_node_seconds": analysis}


def _bench_source(panel: Path) -> Any:
    """An asset keyed ``demo_source`` that loads the prepared panel (the demo's place in the graph)."""
    import pandas as pd
    from dagster import AssetExecutionContext, MaterializeResult, asset

    from dagster_project.assets.ingest import load_into_raw
    from dagster_project.resources import RegiocodeResource
    from dagster_project.sources.base import ImportBatch
    from dagster_project.warehouse import DUCKDB_POOL

    @asset(name="demo_source", group_name="sources", kinds={"python", "duckdb"}, pool=DUCKDB_POOL)
    def bench_source(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
        batch = ImportBatch(source="demo", observations=pd.read_parquet(panel))
        loaded = load_into_raw(regiocode, batch)
        return MaterializeResult(metadata={"rows": loaded.observations})

    return bench_source


def orchestrated(args: argparse.Namespace, marks: Marks) -> None:
    from dagster_project.assets.ingest import SOURCE_ASSETS
    from dagster_project.cli import run_refresh
    from dagster_project.settings import Paths

    if args.panel:
        SOURCE_ASSETS["demo"] = _bench_source(Path(args.panel))

    def listener(entry: Any) -> None:
        event = getattr(entry, "dagster_event", None)
        if event is None or not event.step_key:
            return
        marks.info["run_id"] = entry.run_id
        kind = event.event_type_value
        if kind == "STEP_START":
            marks.start(event.step_key)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            marks.end(event.step_key, STEP_STAGES.get(event.step_key, "other"))

    summary = run_refresh(Path(args.home), ["demo"], listener=listener, without=args.without)
    meta = summary["metadata"]
    run_id = str(marks.info.get("run_id", ""))
    targets = sorted(Paths(Path(args.home)).dbt_builds.glob(f"regiocode_dbt_assets-{run_id[:7]}-*"))
    marks.info.update(
        success=summary["success"], failures=summary["failures"][:3],
        rows=meta.get("raw_observations", {}).get("rows"),
        rendered=meta.get("briefings", {}).get("rendered"), unchanged=meta.get("briefings", {}).get("unchanged"),
        dbt_skipped=bool(meta.get("published_warehouse", {}).get("unchanged")),
        dbt=analysis_share(targets[0] / "run_results.json") if targets else {},
    )
    for target in targets:  # each build leaves its folder in the home (~5 MB): the benchmark keeps none
        import shutil

        shutil.rmtree(target, ignore_errors=True)


def bare(args: argparse.Namespace, marks: Marks) -> None:
    """The same stages with no Dagster: plain calls and the dbt CLI."""
    import subprocess
    from datetime import UTC, datetime

    import duckdb
    import pandas as pd

    from dagster_project import settings
    from dagster_project.briefings.batch import render_all
    from dagster_project.briefings.context import build_contexts
    from dagster_project.settings import DBT_PROJECT_DIR, Paths
    from dagster_project.sources.base import ImportBatch
    from dagster_project.sources.demo import demo_batch
    from dagster_project.warehouse import connect_work, load_batch, publish

    paths = Paths.from_env(args.home).ensure()
    marks.end("startup", "startup")
    marks.start("ingest")
    batch = ImportBatch(source="demo", observations=pd.read_parquet(args.panel)) if args.panel else demo_batch()
    con = connect_work(paths.work_db)
    loaded = load_batch(con, batch)
    con.close()
    marks.end("ingest", "ingest")
    marks.info["rows"] = loaded.observations
    marks.start("dbt build")
    target = Path(args.home) / "dbt_target"
    build_vars = {"build_id": "bare", "data_label": "synthetic demo data", "active_sources": ["demo"]}
    command = [settings.dbt_executable(), "build", "--full-refresh", "--log-level-file", "info",
               "--exclude-resource-type", "unit_test", "--project-dir", str(DBT_PROJECT_DIR),
               "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)]
    # The per-build vars go by environment, as the pipeline passes them (dagster_project/assets/dbt.py).
    env = {**os.environ, "REGIOCODE_WORK_DB": str(paths.work_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           **{f"REGIOCODE_DBT_{name.upper()}": json.dumps(value) for name, value in build_vars.items()}}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    marks.end("dbt build", "dbt build")
    marks.info["success"] = done.returncode == 0
    marks.info["failures"] = [] if done.returncode == 0 else [done.stdout[-1500:]]
    marks.info["dbt"] = analysis_share(target / "run_results.json")
    if done.returncode != 0:
        return
    marks.start("publish")
    publish(paths.work_db, paths.published_db)
    marks.end("publish", "publish")
    if args.no_briefings:
        return
    marks.start("briefings")
    now = datetime.now(UTC)
    con = duckdb.connect(str(paths.published_db), read_only=True)
    contexts = build_contexts(con, generated_at=now)
    con.close()
    summary = render_all(contexts, paths.briefings / now.strftime("%Y-%m-%d"), paths.state / "briefings")
    marks.end("briefings", "briefings")
    marks.info["rendered"] = len(summary.rendered)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("orchestrated", "bare", "prepare"))
    parser.add_argument("--home", default="")
    parser.add_argument("--marks", default="")
    parser.add_argument("--t0", type=float, default=None)
    parser.add_argument("--panel", default="")
    parser.add_argument("--without", action="append", default=[])
    parser.add_argument("--no-briefings", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    if args.mode == "prepare":
        import dagster_project.assets.dbt  # noqa: F401 - parses the project once (ensure_manifest)
        return
    marks = Marks(args.t0 if args.t0 is not None else time.monotonic())
    marks._open["startup"] = (marks.t0, 0.0)
    try:
        (orchestrated if args.mode == "orchestrated" else bare)(args, marks)
    finally:
        marks.write(Path(args.marks))


if __name__ == "__main__":
    main()
