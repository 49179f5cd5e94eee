"""The dbt project as Dagster assets: staging -> intermediate -> marts, seeds as reference data.

The manifest is prepared once (``dbt parse``) and re-prepared only when a file of the dbt project
changed, so starting a refresh does not pay a parse each time.

A refresh whose inputs did not change does not run dbt at all: the step fingerprints what the build
reads (the raw layer, the dbt project with its seeds, the vars, the dbt/DuckDB versions) and, when
that equals the fingerprint recorded with the last successful publish and both warehouses still hold
that build, reports the models as unchanged instead of rebuilding them (see ``reused_build``).
"""


import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from graphlib import TopologicalSorter
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, Config, MaterializeResult
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from dagster_project.assets.ingest import DUCKDB_POOL
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The ``dbt`` of this environment, even when its bin folder is not on PATH (a venv used
    through its console script)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class RegiocodeDbtCliResource(DbtCliResource):
    """``DbtCliResource`` without two costs it pays before every dbt command, ~5 s of a 2-core refresh
    (benchmarks/README.md): a ``dbt --version`` subprocess to learn the version (read here from the
    installed dbt-core when the executable is this environment's), and an in-process dbt adapter, which
    dagster-dbt only uses to fetch column metadata and row counts; this project fetches neither."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(sys.executable).with_name("dbt"):
            return version.parse(metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)  # type: ignore[attr-defined]

    def _initialize_dbt_core_adapter(self, args: Any) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    return RegiocodeDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")


def dbt_project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Content hash of everything that shapes the manifest."""
    digest = hashlib.sha256()
    for name in _PROJECT_FILES:
        root = project_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files."""
    stamp = project.manifest_path.parent / "regiocode_fingerprint.txt"
    fingerprint = dbt_project_fingerprint(Path(project.project_dir))
    if project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return project.manifest_path
    parser = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    parser.cli(["--quiet", "parse"], target_path=project.target_path).wait()
    stamp.write_text(fingerprint)
    return project.manifest_path


dbt_project.prepare_if_dev()
ensure_manifest()


class RegiocodeDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folders (staging, intermediate, marts); seeds are reference data;
    the raw source tables map to the ``raw_observations``/``raw_rejects`` assets so lineage is one graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(f"raw_{dbt_resource_props['name']}")
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


class DbtBuildConfig(Config):
    """Extra dbt vars for one build (e.g. {"nid_lambda": 0.5}); the pipeline adds build id, label, sources.
    ``force``: build even when the inputs equal those of the published build."""

    vars: dict[str, Any] = {}
    force: bool = False


def build_id_for(context: AssetExecutionContext) -> str:
    """One id per run, shared by dbt, publish and briefings: the run id's first block."""
    return context.run.run_id.split("-")[0]


def dbt_vars(context: AssetExecutionContext, regiocode: RegiocodeResource, extra: Mapping[str, Any]) -> str:
    return json.dumps({
        "build_id": build_id_for(context),
        "data_label": regiocode.data_label,
        "active_sources": list(regiocode.sources),
        **extra,
    })


# --- Skipping dbt when nothing it reads has changed -------------------------------------------------

BUILD_STATE = "dbt_build.json"  # under $REGIOCODE_HOME/state: {"pending": {...}, "published": {...}}
# dbt unit tests check SQL logic on fixed fixtures, not the data: dbt recommends running them in
# development and CI only (tests/dbt does, with a full ``dbt build``); set this to 1 to run them here too.
UNIT_TESTS_ENV = "REGIOCODE_DBT_UNIT_TESTS"
FORCE_ENV = "REGIOCODE_DBT_ALWAYS_BUILD"
_FINGERPRINTED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")


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


def _read_state(regiocode: RegiocodeResource) -> dict[str, Any]:
    path = regiocode.paths.state / BUILD_STATE
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_state(regiocode: RegiocodeResource, state: Mapping[str, Any]) -> None:
    path = regiocode.paths.state / BUILD_STATE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, path)


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
    hold it (a failed build since then may have half-rebuilt the working one): then dbt need not run."""
    published = _read_state(regiocode).get("published") or {}
    build = published.get("build_id")
    if not build or published.get("fingerprint") != fingerprint:
        return None
    paths = regiocode.paths
    if _built_id(paths.published_db) != build or _built_id(paths.work_db) != build:
        return None
    return build


def reused_build(context: AssetExecutionContext, regiocode: RegiocodeResource) -> str | None:
    """For the publish step: the build this run's dbt step reused instead of building, or None when
    this run built (or ran no dbt step at all)."""
    pending = _read_state(regiocode).get("pending") or {}
    if pending.get("run_id") != context.run.run_id:
        return None
    return pending.get("reused_build_id")


def record_published_build(context: AssetExecutionContext, regiocode: RegiocodeResource) -> None:
    """For the publish step, after the rename: remember which inputs the published build was made from.
    A build of a subset of the models (no fingerprint) forgets it, so the next refresh builds."""
    state = _read_state(regiocode)
    pending = state.get("pending") or {}
    built_here = pending.get("run_id") == context.run.run_id and pending.get("fingerprint")
    state["published"] = (
        {"fingerprint": pending["fingerprint"], "build_id": build_id_for(context), "run_id": context.run.run_id}
        if built_here else {}
    )
    _write_state(regiocode, state)


def _unchanged_results(context: AssetExecutionContext, build: str) -> Iterator[MaterializeResult | AssetCheckResult]:
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


def _build_args(context: AssetExecutionContext, regiocode: RegiocodeResource, config: DbtBuildConfig) -> list[str]:
    # --full-refresh: seeds are re-created, so a catalog whose column types changed is never loaded
    # into a stale table (all models are views or tables, so nothing incremental is lost).
    args = ["build", "--full-refresh", "--vars", dbt_vars(context, regiocode, config.vars)]
    if os.environ.get(UNIT_TESTS_ENV, "0") != "1":
        args += ["--exclude-resource-type", "unit_test"]
    return args


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RegiocodeDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool=DUCKDB_POOL,
)
def regiocode_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, regiocode: RegiocodeResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """``dbt build``: seeds, models and data tests against the working warehouse (unit tests: see
    UNIT_TESTS_ENV). A failing test fails the step, so nothing downstream (publish, briefings) runs.
    When nothing the build reads changed since the published build, dbt is not run (module docstring)."""
    paths = regiocode.paths
    fingerprint = None
    if not context.is_subset:
        build_vars = json.loads(dbt_vars(context, regiocode, config.vars))
        fingerprint = inputs_fingerprint(paths.work_db, build_vars, Path(dbt_project.project_dir))
    force = config.force or os.environ.get(FORCE_ENV, "0") == "1"
    reused = reusable_build(regiocode, fingerprint) if fingerprint and not force else None
    state = _read_state(regiocode)
    state["pending"] = {"run_id": context.run.run_id, "fingerprint": fingerprint, "reused_build_id": reused}
    _write_state(regiocode, state)
    if reused:
        context.log.info("dbt not run: the inputs are those of the published build %s", reused)
        yield from _unchanged_results(context, reused)
        return
    # profiles.yml reads the working warehouse path from the environment of the dbt process.
    os.environ["REGIOCODE_WORK_DB"] = str(paths.work_db)
    yield from dbt.cli(_build_args(context, regiocode, config), context=context).stream()
