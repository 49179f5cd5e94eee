"""The benchmark runner: wall time, CPU time and peak memory per stage, orchestrated and bare.

    python -m benchmarks                 # --quick: the demo refresh (full, no-change, bare), 3 runs each
    python -m benchmarks --full          # + scaling curves on synthetic panels up to 2,000 × 30 × 50
    python -m benchmarks --sizes 500x30x50 --runs 1 --briefings

Every measured run is a fresh process (``benchmarks/stages.py``), so Python and Dagster start-up count.
Peak memory is the resident set of the whole process tree (the dbt subprocess, the render workers),
sampled every 0.1 s from /proc; a stage's peak is the largest sample inside it. CPU is user + system of
the process and its finished children. Figures are medians over the runs; everything is written as
JSON to ``benchmarks/results/`` and printed as a table. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
STAGES = ("startup", "ingest", "dbt build", "analysis", "publish", "briefings", "other")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024
# The curves: regions at 30 years × 50 indicators; years and indicators at 500 regions.
FULL_SIZES = ("100x30x50", "500x30x50", "2000x30x50", "500x10x50", "500x30x10")


# --- memory of a process tree, from /proc -------------------------------------------------------

def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its reaped children)."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / TICKS)
    return table


def tree_sample(pid: int) -> tuple[int, float]:
    """Resident bytes and CPU seconds of ``pid`` and all its descendants. Render workers are children
    of a forkserver, not of the main process, so ``os.times()`` there would miss their CPU. RSS counts
    pages shared after fork once per process (an upper bound)."""
    table = _proc_table()
    kids: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        kids.setdefault(parent, []).append(child)
    rss, cpu, todo = 0, 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm", "rb") as handle:
                rss += int(handle.read().split()[1]) * PAGE
        except OSError:
            pass
        cpu += table.get(current, (0, 0.0))[1]
        todo.extend(kids.get(current, []))
    return rss, cpu


# --- one run ---------------------------------------------------------------------------------------

@dataclass
class Run:
    """One measured process: per-stage wall/CPU/peak, totals, and what the run said about itself."""

    mode: str
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def measure(mode: str, home: Path, env: dict[str, str], extra: list[str], log: Path) -> Run:
    """Start ``benchmarks.stages MODE`` and sample its tree's memory until it exits."""
    marks_path = home.parent / f"marks-{time.monotonic_ns()}.json"
    t0 = time.monotonic()
    command = [sys.executable, "-m", "benchmarks.stages", mode, "--home", str(home), "--marks", str(marks_path),
               "--t0", repr(t0), *extra]
    samples: list[tuple[float, int, float]] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "a") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            samples.append((time.monotonic(), *tree_sample(proc.pid)))
            time.sleep(0.1)
    t_end = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marks = json.loads(marks_path.read_text()) if marks_path.exists() else {"steps": [], "end": t_end}
    marks_path.unlink(missing_ok=True)
    marks["cpu_total"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return _summarise(mode, t0, t_end, marks, samples)


def _peak(samples: list[tuple[float, int, float]], start: float, end: float) -> float:
    inside = [rss for t, rss, _ in samples if start <= t <= end]
    return max(inside, default=0) / MiB


def _tree_cpu(samples: list[tuple[float, int, float]], at: float) -> float:
    """Tree CPU at the last sample before ``at`` (0 before the first)."""
    before = [cpu for t, _, cpu in samples if t <= at]
    return before[-1] if before else 0.0


def _summarise(mode: str, t0: float, t_end: float, marks: dict[str, Any],
               samples: list[tuple[float, int, float]]) -> Run:
    run = Run(mode=mode, info={k: v for k, v in marks.items() if k not in ("steps", "t0", "end", "cpu_total")})
    steps = marks["steps"]
    first = min((s for s in steps if s["stage"] != "startup"), key=lambda s: s["start"], default=None)
    if first is not None and not any(s["stage"] == "startup" for s in steps):
        steps = [{"stage": "startup", "start": t0, "end": first["start"], "cpu": first["cpu_start"]}, *steps]
    for step in steps:
        stage = run.stages.setdefault(step["stage"], {"wall_s": 0.0, "cpu_s": 0.0, "peak_mib": 0.0})
        stage["wall_s"] += step["end"] - step["start"]
        # The sampled tree CPU sees the render workers; the process's own figure is the floor.
        stage["cpu_s"] += max(step["cpu"], _tree_cpu(samples, step["end"]) - _tree_cpu(samples, step["start"]))
        stage["peak_mib"] = max(stage["peak_mib"], _peak(samples, step["start"], step["end"]))
    dbt = run.info.get("dbt") or {}
    if "dbt build" in run.stages and dbt.get("node_seconds"):
        share = dbt["analysis_node_seconds"] / dbt["node_seconds"]
        run.stages["analysis"] = {"wall_s": run.stages["dbt build"]["wall_s"] * share,
                                  "cpu_s": run.stages["dbt build"]["cpu_s"] * share, "peak_mib": float("nan")}
    staged = sum(v["wall_s"] for k, v in run.stages.items() if k != "analysis")
    # rusage misses the render workers (a forkserver's children, never waited for by the main process)
    stage_cpu = sum(v["cpu_s"] for k, v in run.stages.items() if k != "analysis")
    run.total = {"wall_s": t_end - t0, "cpu_s": max(float(marks.get("cpu_total", 0.0)), stage_cpu),
                 "peak_mib": max((rss for _, rss, _ in samples), default=0) / MiB,
                 "between_steps_s": max(0.0, (marks.get("end", t_end) - t0) - staged)}
    return run


def median_run(runs: list[Run]) -> dict[str, Any]:
    """Per stage and metric, the median over the runs (each metric on its own)."""
    stages: dict[str, dict[str, float]] = {}
    for name in STAGES:
        present = [r.stages[name] for r in runs if name in r.stages]
        if present:
            stages[name] = {m: statistics.median(s[m] for s in present) for m in ("wall_s", "cpu_s", "peak_mib")}
    total = {m: statistics.median(r.total[m] for r in runs) for m in runs[0].total}
    return {"mode": runs[0].mode, "runs": len(runs), "stages": stages, "total": total,
            "info": runs[-1].info, "each": [asdict(r) for r in runs]}


# --- scenarios -------------------------------------------------------------------------------------

def _env(project_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1", "PYTHONPATH": str(REPO)}
    if project_dir is not None:
        env["REGIOCODE_PROJECT_DIR"] = str(project_dir)
    return env


def demo_scenario(work: Path, runs: int, log: Path, tables: bool = False) -> dict[str, Any]:
    """The bundled demo: a full refresh in a fresh home, then a no-change refresh in the same home;
    and the same work bare. ``tables``: on a project copy whose intermediate models are tables."""
    from benchmarks.panel import write_project

    project = None
    if tables:
        project = write_project(work / "demo-project", None, None, intermediate_tables=True)
        subprocess.run([sys.executable, "-m", "benchmarks.stages", "prepare"], cwd=REPO, env=_env(project),
                       check=True, capture_output=True)
    full, unchanged, bare = [], [], []
    for i in range(runs):
        home = work / f"demo-{i}"
        full.append(measure("orchestrated", home, _env(project), [], log))
        unchanged.append(measure("orchestrated", home, _env(project), [], log))
        bare.append(measure("bare", work / f"demo-bare-{i}", _env(project), [], log))
        for folder in (home, work / f"demo-bare-{i}"):
            shutil.rmtree(folder, ignore_errors=True)
    return {"size": "demo" + (" (tables)" if tables else ""), "orchestrated": median_run(full),
            "no-change": median_run(unchanged),
            "bare": median_run(bare)}


def size_scenario(work: Path, label: str, runs: int, briefings: bool, log: Path,
                  tables: bool = False, memory_limit: str = "", bare_too: bool = True) -> dict[str, Any]:
    """A synthetic panel of ``label`` (RxYxI): project copy with its seeds, panel as parquet, a parse
    outside the timing, then orchestrated and bare runs."""
    from benchmarks.panel import PanelSize, generate_observations, synthetic_catalog, synthetic_regions, write_project

    size = PanelSize(*(int(x) for x in label.split("x")))
    root = work / f"size-{label}"
    regions, catalog = synthetic_regions(size.regions), synthetic_catalog(size.indicators)
    project = write_project(root / "project", regions, catalog, intermediate_tables=tables,
                            memory_limit=memory_limit)
    panel_path = root / "panel.parquet"
    started = time.perf_counter()
    panel = generate_observations(regions, catalog, size.year_list)
    panel.to_parquet(panel_path, index=False)
    generated = {"rows": len(panel), "generate_s": time.perf_counter() - started}
    del panel
    subprocess.run([sys.executable, "-m", "benchmarks.stages", "prepare"], cwd=REPO, env=_env(project),
                   check=True, capture_output=True)
    extra = ["--panel", str(panel_path)]
    orchestrated, bare = [], []
    for i in range(runs):
        without = [] if briefings else ["--without", "briefings"]
        orchestrated.append(measure("orchestrated", root / f"o-{i}", _env(project), extra + without, log))
        if bare_too:
            bare.append(measure("bare", root / f"b-{i}", _env(project),
                                extra + ([] if briefings else ["--no-briefings"]), log))
        shutil.rmtree(root / f"o-{i}", ignore_errors=True)
        shutil.rmtree(root / f"b-{i}", ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    tags = [t for t in ("tables" if tables else "", f"DuckDB ≤ {memory_limit}" if memory_limit else "") if t]
    return {"size": label + (f" ({', '.join(tags)})" if tags else ""), "panel": generated,
            "orchestrated": median_run(orchestrated), **({"bare": median_run(bare)} if bare else {})}


# --- output ----------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    mem = 0
    try:
        with open("/proc/meminfo") as handle:
            mem = int(handle.readline().split()[1]) * 1024
    except OSError:
        pass
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gib": round(mem / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None}


def _fmt(value: float) -> str:
    return "—" if value != value else f"{value:.1f}"  # NaN -> dash


def table(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per size, mode and stage (medians), then the totals and the ratio."""
    lines = ["| size | run | stage | wall s | CPU s | peak RSS MiB |", "|---|---|---|---:|---:|---:|"]
    for result in results:
        for mode in ("orchestrated", "no-change", "bare"):
            if mode not in result:
                continue
            summary = result[mode]
            for stage, m in summary["stages"].items():
                lines.append(f"| {result['size']} | {mode} | {stage} | {_fmt(m['wall_s'])} | {_fmt(m['cpu_s'])} "
                             f"| {_fmt(m['peak_mib'])} |")
            t = summary["total"]
            lines.append(f"| {result['size']} | {mode} | **total** | **{_fmt(t['wall_s'])}** | {_fmt(t['cpu_s'])} "
                         f"| {_fmt(t['peak_mib'])} |")
    return "\n".join(lines)


def ratios(results: list[dict[str, Any]]) -> str:
    """Orchestrated / bare, for the whole process and for the stages alone (start-up excluded)."""
    lines = ["| size | rows | orchestrated s | bare s | ratio | stages only: orch. s | bare s | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        if "bare" not in result:
            continue
        orch, bare = result["orchestrated"], result["bare"]
        rows = orch["info"].get("rows") or bare["info"].get("rows") or ""
        o_stage = _work(orch)
        b_stage = _work(bare)
        lines.append(f"| {result['size']} | {rows} | {orch['total']['wall_s']:.1f} | {bare['total']['wall_s']:.1f} | "
                     f"{orch['total']['wall_s'] / bare['total']['wall_s']:.2f} | {o_stage:.1f} | {b_stage:.1f} | "
                     f"{o_stage / b_stage:.2f} |")
    return "\n".join(lines)


def _work(summary: dict[str, Any]) -> float:
    return sum(m["wall_s"] for k, m in summary["stages"].items() if k in ("ingest", "dbt build", "publish",
                                                                            "briefings"))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the demo only (default)")
    parser.add_argument("--full", action="store_true", help="the demo and the scaling curves")
    parser.add_argument("--sizes", nargs="*", default=None, help="synthetic sizes RxYxI, e.g. 500x30x50")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo scenario")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median reported)")
    parser.add_argument("--briefings", action="store_true", help="render briefings at the synthetic sizes too")
    parser.add_argument("--intermediate-tables", action="store_true",
                        help="run on a project copy whose intermediate models are tables, not views")
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit for the synthetic sizes, e.g. 2GB")
    parser.add_argument("--no-bare", action="store_true", help="synthetic sizes: orchestrated runs only")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default benchmarks/results/…)")
    parser.add_argument("--yearbook", type=Path, default=None, metavar="FOLDER",
                        help="also the real yearbook (a folder of one edition's sections): bench_yearbook_refresh.py")
    args = parser.parse_args(argv)
    sizes = list(args.sizes or (FULL_SIZES if args.full else ()))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log = RESULTS / f"bench-{stamp}.log"
    report: dict[str, Any] = {"machine": machine(), "started": stamp, "runs": args.runs, "results": []}
    with tempfile.TemporaryDirectory(prefix="regiocode-bench-") as tmp:
        work = Path(tmp)
        if not args.no_demo:
            report["results"].append(demo_scenario(work, args.runs, log, args.intermediate_tables))
            _progress(report)
        for label in sizes:
            report["results"].append(size_scenario(work, label, args.runs, args.briefings, log,
                                                   args.intermediate_tables, args.memory_limit, not args.no_bare))
            _progress(report)
    if args.yearbook:  # its own figures and JSON (benchmarks/results/yearbook_refresh.json)
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_yearbook_refresh.py")),
                        str(args.yearbook), "--runs", str(args.runs)], check=False)
    report["machine"]["load_at_end"] = os.getloadavg()
    out = args.out or RESULTS / f"bench-{stamp}.json"
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nmachine: {report['machine']['cpus']} CPUs ({report['machine']['cpu']}), "
          f"{report['machine']['memory_gib']} GiB; medians of {args.runs} runs; JSON: {out}; log: {log}\n")
    print(table(report["results"]))
    print()
    print(ratios(report["results"]))
    return report


def _progress(report: dict[str, Any]) -> None:
    last = report["results"][-1]
    parts = [f"{mode} {last[mode]['total']['wall_s']:.1f} s" for mode in ("orchestrated", "no-change", "bare")
             if mode in last]
    failed = [mode for mode in ("orchestrated", "no-change", "bare")
              if mode in last and not all(r["info"].get("success", True) for r in last[mode]["each"])]
    print(f"{last['size']}: " + ", ".join(parts) + (f"  FAILED: {failed} (see the log)" if failed else ""),
          flush=True)


if __name__ == "__main__":
    main()
