"""Timing of the analysis marts (code_correlations, strategy, peers, instruments, rank_intervals) on the demo data.

Run: ``.venv/bin/python benchmarks/bench_analysis.py [--repeat N] [--draws N]``. Prints figures; asserts nothing.

It loads the demo batch into a temporary DuckDB file and runs the whole ``dbt build`` once (wall time,
and dbt's own per-node timings for the analysis models and their intermediates). Then, to separate
SQL from dbt's start-up, it re-runs each analysis mart's compiled SELECT directly in DuckDB on 2
threads (median of ``--repeat`` runs), including the views it reads. ``--draws`` overrides
var('rank_draws') to show how rank_intervals scales with N.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dagster_project import settings  # noqa: E402
from dagster_project.sources.demo import demo_batch  # noqa: E402
from dagster_project.warehouse import load_batch  # noqa: E402

DBT_DIR = REPO_ROOT / "dbt"
MARTS = ("code_correlations", "strategy", "peers", "instruments", "rank_intervals")


def dbt_build(db: Path, target: Path, extra: list[str]) -> float:
    """Run ``dbt build`` on the whole project; return the wall time in seconds."""
    env = {**os.environ, "REGIOCODE_WORK_DB": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [settings.dbt_executable(), "build", "--project-dir", str(DBT_DIR),
               "--profiles-dir", str(DBT_DIR), "--target-path", str(target), "--log-path", str(target / "logs"),
               *extra]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:])
    return elapsed


def node_timings(target: Path) -> dict[str, float]:
    """dbt's execution time per model of the last run (run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results if r["unique_id"].startswith("model.")}


def time_sql(db: Path, target: Path, mart: str, repeat: int) -> float:
    """Median time of the mart's compiled SELECT run directly in DuckDB (2 threads)."""
    sql = (target / "compiled" / "regiocode" / "models" / "marts" / f"{mart}.sql").read_text()
    catalog = db.stem
    sql = sql.replace('"work".', f'"{catalog}".') if catalog != "work" else sql
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET threads = 2")
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
        runs.append(time.perf_counter() - start)
    con.close()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--draws", type=int, default=None, help="override var rank_draws")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        db, target = tmp / "work.duckdb", tmp / "target"
        con = duckdb.connect(str(db))
        loaded = load_batch(con, demo_batch())
        con.close()
        extra = ["--vars", json.dumps({"rank_draws": args.draws})] if args.draws else []
        wall = dbt_build(db, target, extra)
        timings = node_timings(target)
        analysis = {k: v for k, v in timings.items() if k in MARTS or k.startswith("int_analysis_")}
        print(f"demo: {loaded.observations} observations; whole dbt build (models, seeds, tests): {wall:.1f} s")
        print(f"dbt model time, all models: {sum(timings.values()):.2f} s; analysis models: "
              f"{sum(analysis.values()):.2f} s (2 threads run models concurrently, so these overlap)")
        for name, seconds in sorted(analysis.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<38} {seconds:6.2f} s  (dbt)")
        print(f"compiled SELECT alone in DuckDB, 2 threads, median of {args.repeat} (views it reads included):")
        for mart in MARTS:
            print(f"  {mart:<38} {time_sql(db, target, mart, args.repeat):6.2f} s")


if __name__ == "__main__":
    main()
