"""The dbt project as Dagster assets: staging -> intermediate -> marts, seeds as reference data.

The manifest is prepared once (``dbt parse``) and re-prepared only when a file of the dbt project
changed, so starting a refresh does not pay a parse each time.
"""


import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Config
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.assets.ingest import DUCKDB_POOL
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The ``dbt`` of this environment, even when its bin folder is not on PATH (a venv used
    through its console script)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
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
    """Extra dbt vars for one build (e.g. {"nid_lambda": 0.5}); the pipeline adds build id, label, sources."""

    vars: dict[str, Any] = {}


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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=RegiocodeDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool=DUCKDB_POOL,
)
def regiocode_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, regiocode: RegiocodeResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """``dbt build``: seeds, models, unit tests and data tests against the working warehouse.
    A failing test fails the step, so nothing downstream (publish, briefings) runs."""
    # profiles.yml reads the working warehouse path from the environment of the dbt process.
    os.environ["REGIOCODE_WORK_DB"] = str(regiocode.paths.work_db)
    yield from dbt.cli(
        ["build", "--vars", dbt_vars(context, regiocode, config.vars)], context=context
    ).stream()
