"""`regiocode`: refresh the warehouse in-process, query it read-only.

    regiocode refresh [--source NAME ...] [--path [NAME=]PATH ...] [--set NAME.SETTING=VALUE ...] [--home DIR]
    regiocode sql "SELECT ..." [--format table|csv|json]
    regiocode sources NAME [--report]

The sources, their settings and their stage labels come from the source registry
(:mod:`dagster_project.sources.registry`); a setting not given here comes from its environment variable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from dagster_project import settings, sqlaccess
from dagster_project.settings import DEMO_LABEL, Paths
from dagster_project.sources import registry

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="regiocode: codes of neo-industrial development of regions."
)
console = Console(stderr=True)
out = Console(soft_wrap=True)

SOURCE_NAMES = ", ".join(registry.BY_NAME)
STAGE_NAMES = {
    **{source.asset_name: source.stage_label for source in registry.SOURCES},
    "raw_layer": "raw layer checks",
    "regiocode_dbt_assets": "dbt build (models + tests)",
    "published_warehouse": "publish",
    "briefings": "briefings",
}


class _Progress:
    """Turns Dagster step events into one line per stage with its duration."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.timings: dict[str, float] = {}
        self.failures: list[str] = []

    def __call__(self, entry: Any) -> None:
        event = getattr(entry, "dagster_event", None)
        if event is None:
            return
        step = event.step_key or ""
        name = STAGE_NAMES.get(step, step)
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            console.print(f"[cyan]→[/] {name} …")
        elif kind == "STEP_SUCCESS":
            elapsed = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.timings[name] = elapsed
            console.print(f"[green]✓[/] {name} [dim]{elapsed:.1f} s[/]")
        elif kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            self.failures.append(f"{name}: {(error.message if error else entry.user_message).strip()}")
            console.print(f"[red]✗ {name} failed[/]")
        elif kind == "STEP_SKIPPED":
            console.print(f"[yellow]- {name} skipped (an upstream step failed)[/]")


def parse_vars(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of ``--var`` as dbt vars; VALUE is read as YAML (numbers, lists, null)."""
    import yaml

    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--var {item!r}: expected KEY=VALUE, e.g. --var nid_lambda=0.5")
        try:
            parsed[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as err:
            raise ValueError(f"--var {item!r}: the value is not valid YAML ({err})") from err
    return parsed


def parse_source_settings(sources: Sequence[str], paths: Sequence[str] = (), sets: Sequence[str] = (),
                          base_url: str = "") -> dict[str, str]:
    """The source settings given on the command line, as resource fields (``{"rosstat_path": "/data"}``).

    ``paths``: ``--path [SOURCE=]PATH`` (a plain PATH belongs to the one named source that reads a path);
    ``sets``: ``--set SOURCE.SETTING=VALUE``; ``base_url``: ``--base-url [SOURCE=]URL`` likewise. Paths are
    made absolute and must exist. Raises ValueError naming the option and what to write instead.
    """
    named = [registry.get(name) for name in sources]
    given: dict[str, str] = {}

    def put(source: registry.Source, name: str, value: str, option: str) -> None:
        setting = source.setting(name)
        if setting is None:
            known = ", ".join(s.name for s in source.settings) or "none"
            raise ValueError(f"{option}: source {source.name} has no setting {name!r} (its settings: {known})")
        if source.name not in sources:
            raise ValueError(f"{option}: {source.name} is not among the sources of this refresh (--source "
                             f"{source.name})")
        if setting.is_path:
            path = Path(value).expanduser()
            if not path.exists():
                raise ValueError(f"{option}: {path} does not exist")
            value = str(path.resolve())
        given[source.field(setting)] = value

    def shorthand(name: str, value: str, option: str) -> None:
        prefix, sep, rest = value.partition("=")
        if sep and prefix in registry.BY_NAME:
            put(registry.BY_NAME[prefix], name, rest, option)
            return
        takers = [source for source in named if source.setting(name)]
        flag = option.split()[0]
        if not takers:
            readers = ", ".join(s.name for s in registry.SOURCES if s.setting(name))
            raise ValueError(f"{option}: none of the named sources ({', '.join(sources)}) reads a {name} "
                             f"(sources that do: {readers})")
        if len(takers) > 1:
            raise ValueError(f"{option}: several named sources read a {name}; say which, e.g. "
                             f"{flag} {takers[0].name}={value} {flag} {takers[1].name}=…")
        put(takers[0], name, value, option)

    for value in paths:
        shorthand("path", value, f"--path {value}")
    if base_url:
        shorthand("base_url", base_url, f"--base-url {base_url}")
    for item in sets:
        key, sep, value = item.partition("=")
        source, dot, name = key.strip().partition(".")
        if not sep or not dot or source not in registry.BY_NAME:
            raise ValueError(f"--set {item!r}: expected SOURCE.SETTING=VALUE with SOURCE one of {SOURCE_NAMES}, "
                             "e.g. --set rosstat.urls='https://…/a.xlsx https://…/b.xlsx'")
        put(registry.BY_NAME[source], name.strip(), value, f"--set {item}")
    return given


def run_refresh(
    home: Path, sources: list[str], source_settings: Mapping[str, str] | None = None,
    listener: Callable[[Any], None] | None = None, without: Sequence[str] = (),
    dbt_vars: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Materialise the refresh graph in this process; returns a summary for the closing table.
    ``source_settings`` sets resource fields of the sources (``{"rosstat_path": "/data"}``, see
    :func:`parse_source_settings`); the others come from their environment variables. ``listener`` also
    receives every event of the run (the benchmarks time stages with it); ``without`` leaves these assets
    and everything downstream of them out of the run; ``dbt_vars`` overrides dbt vars of dbt_project.yml
    for this build (they are part of the inputs' fingerprint)."""
    from dagster import AssetSelection, DagsterInstance, Definitions, define_asset_job
    from dagster._core.utils import make_new_run_id

    from dagster_project.assets.dbt import dbt_resource
    from dagster_project.assets.ingest import SOURCE_ASSETS
    from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
    from dagster_project.resources import RegiocodeResource

    progress = _Progress()
    regiocode = RegiocodeResource(home=str(home), sources=sources, **dict(source_settings or {}))
    selection = refresh_selection(sources)
    if without:
        selection = selection - AssetSelection.assets(*without).downstream()
    job = define_asset_job("cli_refresh", selection=selection)
    defs = Definitions(
        assets=[*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
        jobs=[job],
        resources={"dbt": dbt_resource(), "regiocode": regiocode},
    )
    started = time.perf_counter()
    run_id = make_new_run_id()
    # Dagster's console log is kept to errors; the progress lines come from the run's events.
    quiet: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    if dbt_vars:
        quiet["ops"] = {"regiocode_dbt_assets": {"config": {"vars": dict(dbt_vars)}}}
    with DagsterInstance.ephemeral() as instance:
        instance.add_event_listener(run_id, progress)
        if listener is not None:
            instance.add_event_listener(run_id, listener)
        result = defs.resolve_job_def("cli_refresh").execute_in_process(
            run_config=quiet, instance=instance, raise_on_error=False, run_id=run_id
        )
        metadata: dict[str, dict[str, Any]] = {}
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return {
        "success": result.success,
        "failures": progress.failures,
        "timings": progress.timings,
        "seconds": time.perf_counter() - started,
        "metadata": metadata,
        "paths": Paths.from_env(home),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    meta = summary["metadata"]
    paths: Paths = summary["paths"]
    raw = meta.get("raw_observations", {})
    rejects = meta.get("raw_rejects", {}).get("rejects", 0)
    brief = meta.get("briefings", {})
    pub = meta.get("published_warehouse", {})
    table = Table(title="regiocode refresh", show_header=False)
    table.add_row("sources", str(raw.get("active_sources", "—")))
    table.add_row("rows (raw, active sources)", str(raw.get("rows", "—")))
    table.add_row("regions", str(raw.get("regions", "—")))
    table.add_row("years", str(raw.get("years", "—")))
    table.add_row("rejects", str(rejects))
    table.add_row("briefings", f"{brief.get('regions', 0)} regions × 2 languages: {brief.get('rendered', 0)} rendered, "
                  f"{brief.get('unchanged', 0)} unchanged → {brief.get('folder', '—')}")
    table.add_row("published warehouse", str(pub.get("path", paths.published_db)))
    reused = " — inputs unchanged: dbt not run, nothing republished" if pub.get("unchanged") else ""
    table.add_row("build", f"{pub.get('build_id', '—')} ({pub.get('data_label', '—')}){reused}")
    table.add_row("time", f"{summary['seconds']:.1f} s")
    out.print(table)
    for asset, values in sorted(meta.items()):  # each source's own lines: release, warnings, what was skipped
        for line in str(values.get("summary") or "").splitlines():
            out.print(f"{asset.removesuffix('_source')}: {line}", markup=False, highlight=False)
    if pub.get("data_label") == DEMO_LABEL:
        out.print(f"[bold yellow]Note: built from {DEMO_LABEL}: not official statistics.[/]")


@app.command()
def refresh(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help=f"Source(s) to import: {SOURCE_NAMES} (default: demo); repeatable."),
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option(help="Folder or file a source imports from, [SOURCE=]PATH (SOURCE may be left out when one "
                     "named source reads a path); repeatable, e.g. --path rosstat=DIR --path eurostat=DIR."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any source setting, SOURCE.SETTING=VALUE (e.g. --set rosstat.urls='URL URL'); "
                     "repeatable. Unset ones come from REGIOCODE_<SOURCE>_<SETTING>."),
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="API base URL a source pulls from ([SOURCE=]URL; Eurostat's).")
    ] = "",
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="A dbt var for this build, KEY=VALUE (VALUE read as YAML), e.g. "
                     "--var education_proxy_indicator=researchers; repeatable."),
    ] = None,
) -> None:
    """Run the whole graph once, in-process: ingest, dbt build and tests, publish, briefings."""
    sources = source or ["demo"]
    try:
        registry.check_names(sources)
        dbt_vars = parse_vars(var or [])
        given = parse_source_settings(sources, path or [], set_ or [], base_url)
    except ValueError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    home = Paths.from_env(home).home
    console.print(f"regiocode refresh: sources {', '.join(sources)} → {home}")
    try:
        summary = run_refresh(home, sources, given, dbt_vars=dbt_vars)
    except ValueError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    if not summary["success"]:
        console.print("[red]refresh failed; the published warehouse was left as it was.[/]")
        for failure in summary["failures"]:
            console.print(f"  [red]{failure}[/]")
        raise typer.Exit(1)
    _print_summary(summary)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query (SELECT).")],
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds before the query is interrupted.")
    ] = sqlaccess.DEFAULT_TIMEOUT_S,
    limit: Annotated[int, typer.Option(help="Row limit for the table format.")] = sqlaccess.DEFAULT_ROW_LIMIT,
) -> None:
    """Query the published warehouse read-only."""
    if format not in ("table", "csv", "json"):
        console.print("[red]error:[/] --format must be table, csv or json")
        raise typer.Exit(2)
    paths = Paths.from_env(home)
    try:
        result = sqlaccess.run_query(paths.published_db, query, timeout_s=timeout,
                                     row_limit=limit if format == "table" else None)
    except sqlaccess.SqlRefused as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(3) from err
    except sqlaccess.SqlFailed as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from err
    if format == "csv":
        sys.stdout.write(sqlaccess.to_csv(result))
    elif format == "json":
        sys.stdout.write(sqlaccess.to_json(result) + "\n")
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        out.print(table)
        if result.truncated:
            console.print(f"[yellow]showing the first {limit} rows (--limit to change, or --format csv for all)[/]")


@app.command()
def sources(
    name: Annotated[str, typer.Argument(help=f"Source: {SOURCE_NAMES}.")],
    report: Annotated[bool, typer.Option("--report", help="Coverage per catalog indicator.")] = False,
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or csv.")] = "table",
) -> None:
    """What a source contributed to the published warehouse (--report: coverage per indicator)."""
    from dagster_project.coverage import report_from_warehouse

    paths = Paths.from_env(home)
    try:
        registry.get(name)
        con = sqlaccess.open_readonly(paths.published_db)
    except ValueError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    except sqlaccess.SqlFailed as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from err
    try:
        frame = report_from_warehouse(con, name)
    finally:
        con.close()
    if not report:
        covered = int(frame["status"].isin(["covered", "derived"]).sum())
        out.print(f"{name}: {covered} of {len(frame)} catalog indicators covered (--report for the table)")
        return
    if format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
        return
    table = Table(*frame.columns, title=f"{name}: coverage of the indicator catalog")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    out.print(table)


def main() -> None:
    """The ``regiocode`` console script."""
    settings.quiet_dagster()
    app()


if __name__ == "__main__":
    main()
