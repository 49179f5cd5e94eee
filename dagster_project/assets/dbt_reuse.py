"""Skipping the dbt build when nothing it reads has changed.

The dbt step fingerprints what the build reads (the raw layer, the dbt project with its seeds, the vars,
the dbt/DuckDB versions). When that equals the fingerprint recorded with the last successful publish,
and both warehouses still hold that build, the models are reported as unchanged instead of rebuilt
(:func:`unchanged_results`), and the publish step publishes nothing.

State: ``$REGIOCODE_HOME/state/dbt_build.json`` = ``{"pending": {run_id, fingerprint, reused_build_id},
"published": {fingerprint, build_id, run_id}}``: the dbt step writes ``pending``, the publish step moves
it to ``published`` after the rename (:func:`record_published_build`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from graphlib import TopologicalSorter
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetCheckResult, AssetExecutionContext, MaterializeResult

from dagster_project.files import read_json, write_json_atomic
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.warehouse import published_record, still_published

BUILD_STATE = "dbt_build.json"
_FINGERPRINTED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")


def build_id_for(context: AssetExecutionContext) -> str:
    """One id per run, shared by dbt, publish and briefings: the run id's first block."""
    return context.run.run_id.split("-")[0]


def dbt_project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Content hash of everything that shapes the manifest and the build (config, models, seeds, macros,
    tests), file names included."""
    digest = hashlib.sha256()
    for name in _PROJECT_FILES:
        root = project_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def raw_layer_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Order-independent content hash of raw.observations and raw.rejects (every source, every column):
    one scan each, ~0.1 s per million rows. A table that does not exist yet hashes as empty."""
    parts = []
    for table in ("raw.observations", "raw.rejects"):
        try:
            count, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} t").fetchone()
        except duckdb.CatalogException:
            count, total = 0, 0
        parts.append(f"{table}:{count}:{total}")
    return ";".join(parts)


def inputs_fingerprint(work_db: Path, build_vars: Mapping[str, Any], project_dir: Path = DBT_PROJECT_DIR) -> str:
    """What a dbt build reads, as one hash: raw layer, project files (models, seeds, macros, tests,
    config), vars except the build id, and the versions of dbt and DuckDB."""
    digest = hashlib.sha256()
    digest.update(dbt_project_fingerprint(project_dir).encode())
    stable_vars = {k: v for k, v in build_vars.items() if k != "build_id"}
    digest.update(json.dumps(stable_vars, sort_keys=True, default=str).encode())
    for package in _FINGERPRINTED_PACKAGES:
        digest.update(f"{package}={metadata.version(package)};".encode())
    if work_db.exists():
        con = duckdb.connect(str(work_db), read_only=True)
        try:
            digest.update(raw_layer_fingerprint(con).encode())
        finally:
            con.close()
    return digest.hexdigest()


def read_state(regiocode: RegiocodeResource) -> dict[str, Any]:
    """The build state of this home ({} when there is none or it cannot be read: then dbt builds)."""
    return read_json(regiocode.paths.state / BUILD_STATE, {}) or {}


def write_state(regiocode: RegiocodeResource, state: Mapping[str, Any]) -> None:
    """Replace this home's build state (atomically: a crash leaves the previous one)."""
    write_json_atomic(regiocode.paths.state / BUILD_STATE, state)


def record_pending_build(context: AssetExecutionContext, regiocode: RegiocodeResource, fingerprint: str | None,
                         reused: str | None) -> None:
    """For the dbt step: what this run builds from (``fingerprint``; None for a subset) or reuses."""
    state = read_state(regiocode)
    state["pending"] = {"run_id": context.run.run_id, "fingerprint": fingerprint, "reused_build_id": reused}
    write_state(regiocode, state)


def _built_id(db: Path) -> str | None:
    """marts.build_info's build id in ``db``, or None when the file or the table is missing."""
    if not db.exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("SELECT build_id FROM marts.build_info").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def reusable_build(regiocode: RegiocodeResource, fingerprint: str) -> str | None:
    """The published build id when it was made from exactly these inputs and both warehouses still
    hold it (a failed build since then may have half-rebuilt the working one; the published file is known
    by the record its publish wrote): then dbt need not run."""
    published = read_state(regiocode).get("published") or {}
    build = published.get("build_id")
    if not build or published.get("fingerprint") != fingerprint:
        return None
    paths = regiocode.paths
    record = published_record(paths.published_record)  # the published file itself is not opened
    if not still_published(record, paths.published_db) or record.get("build_id") != build \
            or _built_id(paths.work_db) != build:
        return None
    return build


def reused_build(context: AssetExecutionContext, regiocode: RegiocodeResource) -> str | None:
    """For the publish step: the build this run's dbt step reused instead of building, or None when
    this run built (or ran no dbt step at all)."""
    pending = read_state(regiocode).get("pending") or {}
    if pending.get("run_id") != context.run.run_id:
        return None
    return pending.get("reused_build_id")


def record_published_build(context: AssetExecutionContext, regiocode: RegiocodeResource) -> None:
    """For the publish step, after the rename: remember which inputs the published build was made from.
    A build of a subset of the models (no fingerprint) forgets it, so the next refresh builds."""
    state = read_state(regiocode)
    pending = state.get("pending") or {}
    built_here = pending.get("run_id") == context.run.run_id and pending.get("fingerprint")
    state["published"] = (
        {"fingerprint": pending["fingerprint"], "build_id": build_id_for(context), "run_id": context.run.run_id}
        if built_here else {}
    )
    write_state(regiocode, state)


def unchanged_results(context: AssetExecutionContext, build: str) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Every selected model and seed reported as current, with the build that made it. Blocking checks
    (dbt tests of severity error) are reported as passed in that build: the build was published, so
    each of them passed on these very inputs. Warn-level tests are not reported: their outcome then is
    not known here."""
    note = f"not rebuilt: inputs unchanged since build {build}"
    selected = context.selected_asset_keys
    deps = context.assets_def.asset_deps
    order = TopologicalSorter({key: deps.get(key, set()) & selected for key in selected}).static_order()
    for key in order:  # Dagster wants a multi-asset's outputs upstream first
        yield MaterializeResult(asset_key=key, metadata={"dbt": note, "build_id": build})
    checked = context.selected_asset_check_keys
    for spec in context.assets_def.check_specs:
        if spec.blocking and spec.key in checked:
            yield AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=True,
                                   metadata={"dbt": f"not re-run: passed on the same inputs in build {build}"})
