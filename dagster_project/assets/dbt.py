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
* dbt re-uses its last parse (partial parsing) only when the command-line vars and the profile equal
  those of that parse; a full parse of this project costs ~6-16 s on 2 cores. So the values that change
  from build to build (build id, data label, active sources) go to dbt as ``REGIOCODE_DBT_<NAME>``
  environment variables, read by the ``build_setting`` macro when the SQL is compiled, not as vars; and
  each home keeps the parse of its last build (``state/dbt/partial_parse.msgpack``; the profile names
  the home's warehouse), handed to the next build. dbt itself checks that file against the project's
  files, its version, the vars and the profile, and parses what changed.
"""

import fcntl
import hashlib
import json
import pprint
import secrets
import shutil
import sys
import time
from collections.abc import Collection, Iterator, Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import msgpack
import yaml
from dagster import AssetExecutionContext, AssetKey, Config, get_dagster_logger
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

    def cli_with_env(self, args: list[str], env: Mapping[str, str], **kwargs: Any) -> Any:
        """``cli(args, **kwargs)`` with ``env`` added to the dbt process's environment.

        dagster-dbt builds that environment from this process's own when it starts the process, inside
        ``cli()``, and takes no extra variables; so they are set for that call only, under a lock, and
        the previous values restored before it returns (the process is started by then)."""
        with settings.process_environment(env):
            return self.cli(args, **kwargs)


def dbt_resource() -> DbtCliResource:
    """The ``dbt`` resource: this project, run by the dbt of this environment."""
    return RegiocodeDbtCliResource(project_dir=dbt_project, dbt_executable=settings.dbt_executable())


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files. Processes starting
    at once (``dagster dev`` and the CLI, parallel test workers) parse one after the other: the first parses,
    the others wait on a lock file beside the manifest and find it current."""
    stamp = project.manifest_path.parent / "regiocode_fingerprint.txt"
    fingerprint = dbt_project_fingerprint(Path(project.project_dir))

    def current() -> bool:
        return project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint

    if current():
        return project.manifest_path
    stamp.parent.mkdir(parents=True, exist_ok=True)
    with open(stamp.parent / "regiocode_parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also if this process dies
        if current():
            return project.manifest_path
        parser = DbtCliResource(project_dir=project, dbt_executable=settings.dbt_executable(),
                                profiles_dir=str(_write_parse_profile(project)))
        parser.cli(["--quiet", "parse"], target_path=project.target_path).wait()
        write_atomic(stamp, fingerprint)
    return project.manifest_path


def _profile_outputs(project_dir: Path, work_db: Path) -> dict[str, Any]:
    """The project's ``profiles.yml`` with every DuckDB output pointed at ``work_db`` and the settings'
    memory limit (see :func:`write_profile`)."""
    profiles = yaml.safe_load((project_dir / "profiles.yml").read_text(encoding="utf-8"))
    for profile in profiles.values():
        for output in (profile.get("outputs") or {}).values():
            if output.get("type") == "duckdb":
                output["path"] = str(work_db)
                output.setdefault("settings", {})["memory_limit"] = settings.duckdb_memory_limit()
    return profiles


def _write_parse_profile(project: DbtProject) -> Path:
    """The profile of the start-up parse: the project's, pointed at a warehouse named as every home's
    (``regiocode.duckdb``; dbt names the database after the file) that the parse never opens."""
    folder = Path(project.project_dir) / project.target_path / "regiocode_parse_profile"
    profiles = _profile_outputs(Path(project.project_dir), folder / Paths(folder).work_db.name)
    write_atomic(folder / "profiles.yml", yaml.safe_dump(profiles, allow_unicode=True, sort_keys=False))
    return folder


ensure_manifest()


def write_profile(paths: Paths, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The project's ``profiles.yml`` for the home of ``paths``: every DuckDB output pointed at its working
    warehouse, with DuckDB's memory limit from the settings (``REGIOCODE_DUCKDB_MEMORY_LIMIT``); the rest
    (threads, other settings) as the project sets it. Written atomically to ``paths.dbt_profiles``;
    returns that folder, for ``--profiles-dir``."""
    profiles = _profile_outputs(project_dir, paths.work_db)
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


# The vars that change from build to build: passed as REGIOCODE_DBT_<NAME> (JSON), see macros/build_columns.sql.
BUILD_SETTINGS = ("build_id", "data_label", "active_sources")
PARTIAL_PARSE = "partial_parse.msgpack"


def build_settings_env(build_vars: Mapping[str, Any]) -> dict[str, str]:
    """The build's per-build vars as the environment of the dbt process: ``{"REGIOCODE_DBT_BUILD_ID": '"ab12"', …}``."""
    return {f"REGIOCODE_DBT_{name.upper()}": json.dumps(build_vars[name], ensure_ascii=False)
            for name in BUILD_SETTINGS if name in build_vars}


def _build_args(context: AssetExecutionContext, regiocode: RegiocodeResource, config: DbtBuildConfig) -> list[str]:
    # --full-refresh: seeds are re-created, so a catalog whose column types changed is never loaded
    # into a stale table (all models are views or tables, so nothing incremental is lost).
    # Only the vars the user set go on the command line (the per-build ones go by environment).
    # --log-level-file info: the build's dbt.log keeps what the console shows (each node, warnings, errors, why
    # dbt re-parsed) without dbt's debug events (every statement, connection and macro call): ~4 MB less per
    # build and ~0.8 of a demo build's 22 CPU-s (benchmarks/README.md, "Issue 18: the targets on a quiet machine").
    args = ["build", "--full-refresh", "--log-level-file", "info",
            "--profiles-dir", str(write_profile(regiocode.paths))]
    if config.vars:
        args += ["--vars", json.dumps(dict(config.vars))]
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
    build_vars = json.loads(dbt_vars(context, regiocode, config.vars))
    args = _build_args(context, regiocode, config)  # writes this home's profile, which _target_path reads
    target = _target_path(context, paths)
    if isinstance(dbt, RegiocodeDbtCliResource):
        invocation = dbt.cli_with_env(args, build_settings_env(build_vars), context=context, target_path=target)
    else:  # another DbtCliResource: the per-build values as vars
        invocation = dbt.cli([*args, "--vars", json.dumps(build_vars)], context=context, target_path=target)
    try:
        yield from invocation.stream()
    finally:  # Dagster may close this generator once every output is in: keep the parse either way
        prune_builds(paths.dbt_builds, keep={target.name})  # first: it frees space, and never raises
        prune_builds(Path(dbt_project.project_dir) / dbt_project.target_path, pattern=LEGACY_BUILDS, keep_newest=0)
        _keep_parse(target, paths)


def _target_path(context: AssetExecutionContext, paths: Paths) -> Path:
    """This build's dbt target folder in the home (``paths.dbt_builds``, named as dagster-dbt names it), holding
    this home's last parse when there is one; else dagster-dbt copies the project's (``dbt parse`` at
    start-up, another profile)."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{secrets.token_hex(4)[:7]}"
    target = paths.dbt_builds / name
    kept = paths.dbt_profiles / PARTIAL_PARSE
    target.mkdir(parents=True, exist_ok=True)
    if kept.is_file():
        shutil.copyfile(kept, target / PARTIAL_PARSE)
    else:
        _parse_for_home(paths, target / PARTIAL_PARSE)
    return target


def _connection_hash(output: Mapping[str, Any]) -> str:
    """dbt's hash of a DuckDB profile output, as its partial parsing checks it
    (``ManifestLoader.build_manifest_state_check``: sha256 of the pretty-printed, sorted connection info)."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    data = DuckDBCredentials.translate_aliases({k: v for k, v in output.items() if k not in ("type", "threads")})
    connection = sorted(DuckDBCredentials.from_dict(data).connection_info())
    return hashlib.sha256(pprint.pformat(connection).encode()).hexdigest()


def _duckdb_output(profiles_dir: Path) -> dict[str, Any]:
    profile = yaml.safe_load((profiles_dir / "profiles.yml").read_text(encoding="utf-8"))[dbt_project.name]
    return profile["outputs"][profile["target"]]


def _parse_for_home(paths: Paths, destination: Path) -> None:
    """A home's first build: the start-up parse, re-keyed to this home's profile, so dbt re-uses it.

    The two profiles differ only in the warehouse's path (same database name, schema, settings), which no
    model, macro or test of this project reads while parsing; dbt's check of the profile hashes the whole
    connection, so its stored hash is replaced by this home's. Only when the stored hash is the one this
    function computes for the start-up profile (so the hashing is dbt's) and the database and schema agree;
    otherwise nothing is written and dbt parses the project itself (~6-16 s on 2 cores)."""
    try:
        parsed = Path(dbt_project.project_dir) / dbt_project.target_path / PARTIAL_PARSE
        startup, home = _duckdb_output(_write_parse_profile(dbt_project)), _duckdb_output(paths.dbt_profiles)
        same = {k: v for k, v in startup.items() if k != "path"} == {k: v for k, v in home.items() if k != "path"}
        if not parsed.is_file() or not same or Path(startup["path"]).name != Path(home["path"]).name:
            return
        state = msgpack.unpackb(parsed.read_bytes(), strict_map_key=False)
        stored = state["state_check"]["profile_hash"]
        if stored.get("name") != "sha256" or stored.get("checksum") != _connection_hash(startup):
            return
        stored["checksum"] = _connection_hash(home)
        write_atomic(destination, msgpack.packb(state))
    except (OSError, KeyError, TypeError, ValueError, msgpack.ExtraData, msgpack.FormatError) as err:
        get_dagster_logger().info("dbt will parse the project: its start-up parse could not be re-used (%s)", err)


# Where builds went before they moved into the home: dagster-dbt's default, a folder per build in dbt/target.
LEGACY_BUILDS = "regiocode_dbt_assets-*"


def prune_builds(folder: Path, keep: Collection[str] = (), now: float | None = None, pattern: str = "*",
                 keep_newest: int | None = None) -> list[Path]:
    """Remove the oldest dbt build folders (``pattern``) under ``folder``, keeping the newest ``keep_newest``
    (default ``settings.KEEP_DBT_BUILDS``; by modification time), those named in ``keep`` and any modified in the
    last ``settings.KEEP_DBT_BUILDS_SECONDS`` (a concurrent run's build). Returns the folders removed; one that
    cannot be removed is left for the next build (logged, never raised): a scheduled refresh must not fail
    over its own logs."""
    now = time.time() if now is None else now
    keep_newest = settings.KEEP_DBT_BUILDS if keep_newest is None else keep_newest
    try:
        builds = sorted((p for p in folder.glob(pattern) if p.is_dir()), key=lambda p: p.stat().st_mtime,
                        reverse=True)
    except OSError:
        return []
    removed = []
    for build in builds[keep_newest:]:
        try:
            if build.name in keep or now - build.stat().st_mtime < settings.KEEP_DBT_BUILDS_SECONDS:
                continue
            shutil.rmtree(build)
            removed.append(build)
        except OSError as err:
            get_dagster_logger().warning("could not remove the old dbt build folder %s: %s", build, err)
    return removed


def _keep_parse(target: Path, paths: Paths) -> None:
    """Keep the parse of a finished build for this home's next build (written atomically)."""
    parse = target / PARTIAL_PARSE
    if parse.is_file():
        write_atomic(paths.dbt_profiles / PARTIAL_PARSE, parse.read_bytes())
