"""The dbt project as Dagster assets: seeds as reference data, staging -> intermediate -> marts.

* The manifest is prepared once (``dbt parse``) and re-prepared only when a file of the dbt project
  changed, so starting a refresh does not pay a parse each time (:func:`ensure_manifest`, at import, in
  ``dagster dev`` as everywhere: it stands in for dagster-dbt's ``prepare_if_dev``, which parses on every
  load and looks for ``dbt`` on PATH).
* Asset keys are the SQL names users query: ``[schema, alias]`` (``marts/regions``,
  ``intermediate/int_indicator_values``, ``seeds/regions``); the raw source tables map to the
  ``raw_observations``/``raw_rejects`` assets, so the lineage is one graph.
* dbt runs as ``settings.dbt_executable()`` with a profile written for the run's home
  (:func:`write_profile`): the working warehouse's path and the memory limit come from the settings,
  and nothing changes this process's environment.
* A build whose inputs equal those of the published build is not run (:mod:`.dbt_reuse`).
"""

import json
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from dagster import AssetExecutionContext, AssetKey, Config
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from dagster_project import settings
from dagster_project.assets.dbt_reuse import (
    build_id_for,
    dbt_project_fingerprint,
    inputs_fingerprint,
    record_pending_build,
    reusable_build,
    unchanged_results,
)
from dagster_project.files import write_atomic
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import DBT_PROJECT_DIR, Paths
from dagster_project.warehouse import DUCKDB_POOL

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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
    """The ``dbt`` resource: this project, run by the dbt of this environment."""
    return RegiocodeDbtCliResource(project_dir=dbt_project, dbt_executable=settings.dbt_executable())


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files."""
    stamp = project.manifest_path.parent / "regiocode_fingerprint.txt"
    fingerprint = dbt_project_fingerprint(Path(project.project_dir))
    if project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return project.manifest_path
    parser = DbtCliResource(project_dir=project, dbt_executable=settings.dbt_executable())
    parser.cli(["--quiet", "parse"], target_path=project.target_path).wait()
    write_atomic(stamp, fingerprint)
    return project.manifest_path


ensure_manifest()


def write_profile(paths: Paths, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The project's ``profiles.yml`` for the home of ``paths``: every DuckDB output pointed at its working
    warehouse, with DuckDB's memory limit from the settings (``REGIOCODE_DUCKDB_MEMORY_LIMIT``); the rest
    (threads, other settings) as the project sets it. Written atomically to ``paths.dbt_profiles``;
    returns that folder, for ``--profiles-dir``."""
    profiles = yaml.safe_load((project_dir / "profiles.yml").read_text(encoding="utf-8"))
    for profile in profiles.values():
        for output in (profile.get("outputs") or {}).values():
            if output.get("type") == "duckdb":
                output["path"] = str(paths.work_db)
                output.setdefault("settings", {})["memory_limit"] = settings.duckdb_memory_limit()
    write_atomic(paths.dbt_profiles / "profiles.yml", yaml.safe_dump(profiles, allow_unicode=True, sort_keys=False))
    return paths.dbt_profiles


class RegiocodeDbtTranslator(DagsterDbtTranslator):
    """Asset keys are the SQL names (``[schema, alias]``); groups follow the dbt folders (staging,
    intermediate, marts); seeds are reference data; the raw source tables map to the
    ``raw_observations``/``raw_rejects`` assets so lineage is one graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        """``[schema, alias]`` of a model or seed (what users query); ``raw_<table>`` of a dbt source."""
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(f"raw_{dbt_resource_props['name']}")
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props.get("alias") or dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """``reference`` for seeds, else the model's first folder (staging, intermediate, marts)."""
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


class DbtBuildConfig(Config):
    """Extra dbt vars for one build (e.g. {"nid_lambda": 0.5}); the pipeline adds build id, label, sources.
    ``force``: build even when the inputs equal those of the published build."""

    vars: dict[str, Any] = {}
    force: bool = False


def dbt_vars(context: AssetExecutionContext, regiocode: RegiocodeResource, extra: Mapping[str, Any]) -> str:
    """The build's dbt vars as JSON: build id, data label, active sources, then ``extra``."""
    return json.dumps({
        "build_id": build_id_for(context),
        "data_label": regiocode.data_label,
        "active_sources": list(regiocode.sources),
        **extra,
    })


def _build_args(context: AssetExecutionContext, regiocode: RegiocodeResource, config: DbtBuildConfig) -> list[str]:
    # --full-refresh: seeds are re-created, so a catalog whose column types changed is never loaded
    # into a stale table (all models are views or tables, so nothing incremental is lost).
    args = ["build", "--full-refresh", "--vars", dbt_vars(context, regiocode, config.vars),
            "--profiles-dir", str(write_profile(regiocode.paths))]
    if not settings.dbt_unit_tests():
        # dbt unit tests check SQL logic on fixed fixtures, not the data: dbt recommends running them in
        # development and CI only (tests/models does, with a full ``dbt build``).
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
    ``REGIOCODE_DBT_UNIT_TESTS``). A failing test fails the step, so nothing downstream (publish,
    briefings) runs. When nothing the build reads changed since the published build, dbt is not run
    (:mod:`.dbt_reuse`; ``REGIOCODE_DBT_ALWAYS_BUILD=1`` or ``force`` builds anyway)."""
    paths = regiocode.paths
    fingerprint = None
    if not context.is_subset:
        build_vars = json.loads(dbt_vars(context, regiocode, config.vars))
        fingerprint = inputs_fingerprint(paths.work_db, build_vars, Path(dbt_project.project_dir))
    force = config.force or settings.dbt_always_build()
    reused = reusable_build(regiocode, fingerprint) if fingerprint and not force else None
    record_pending_build(context, regiocode, fingerprint, reused)
    if reused:
        context.log.info("dbt not run: the inputs are those of the published build %s", reused)
        yield from unchanged_results(context, reused)
        return
    yield from dbt.cli(_build_args(context, regiocode, config), context=context).stream()
