"""`regiocode`: refresh the warehouse in-process, query it read-only.

    regiocode refresh [--source NAME ...] [--path [NAME=]PATH ...] [--set NAME.SETTING=VALUE ...] [--home DIR]
    regiocode sql "SELECT ..." [--format table|line|csv|json] [--timeout S] [--limit N]
    regiocode sources NAME [--report]
    regiocode deliver [--dry-run] [--force]

The sources, their settings and their stage labels come from the source registry
(:mod:`dagster_project.sources.registry`); a setting not given here comes from its environment variable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dagster_project import refresh_inputs, rendering, report, settings, sqlaccess
from dagster_project.failures import one_line
from dagster_project.settings import DEMO_LABEL, Paths
from dagster_project.sources import registry

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="regiocode: codes of neo-industrial development of regions.",
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

SOURCE_NAMES = ", ".join(registry.BY_NAME)
STAGE_NAMES = {
    **{source.asset_name: source.stage_label for source in registry.SOURCES},
    "raw_layer": "raw layer",
    "raw_observation_checks": "raw layer checks",
    "regiocode_dbt_assets": "dbt build (models + tests)",
    "published_warehouse": "publish",
    "briefings": "briefings",
    "briefing_delivery": "e-mail delivery",
}


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
    dbt_vars: Mapping[str, Any] | None = None, say: Callable[[str, str], None] | None = None,
    verbose: bool = True, skip_unchanged: bool = True,
) -> dict[str, Any]:
    """Materialise the refresh graph in this process, recorded in the home's Dagster instance (see
    :mod:`dagster_project.runner`); returns a summary for the closing table.
    When nothing the refresh reads changed since the last successful one in this home and its outputs are
    as it left them (:mod:`dagster_project.refresh_inputs`), Dagster and dbt are not even loaded: the
    summary is the recorded one with ``unchanged`` set (``skip_unchanged=False`` runs the graph anyway).
    ``source_settings`` sets resource fields of the sources (``{"rosstat_path": "/data"}``, see
    :func:`parse_source_settings`); the others come from their environment variables. ``listener`` also
    receives every event of the run (the benchmarks time stages with it); ``without`` leaves these assets
    and everything downstream of them out of the run; ``dbt_vars`` overrides dbt vars of dbt_project.yml
    for this build (they are part of the inputs' fingerprint); ``say(kind, text)`` prints a stage line;
    ``verbose=False`` keeps what the steps print (dbt's log) out of the terminal: it is in the run's compute
    log, which the Dagster UI shows."""
    started = time.perf_counter()
    paths = Paths.from_env(home)
    fingerprint = refresh_inputs.inputs_fingerprint(paths, sources, source_settings or {}, dbt_vars, without)
    record = refresh_inputs.unchanged_refresh(paths, fingerprint) if skip_unchanged else None
    if record is not None:
        return {"success": True, "failures": [], "traces": [], "timings": {}, "run_id": None,
                "seconds": time.perf_counter() - started, "metadata": record["metadata"], "paths": paths,
                "unchanged": record["recorded_at"]}
    summary = _run_graph(home, sources, source_settings, listener, without, dbt_vars, say, verbose)
    summary["seconds"] = time.perf_counter() - started
    # Recorded only when the inputs did not change while the graph ran (a file dropped meanwhile, a quarantine).
    after = refresh_inputs.inputs_fingerprint(paths, sources, source_settings or {}, dbt_vars, without) \
        if summary["success"] else None
    refresh_inputs.record_refresh(paths, after if after == fingerprint else None, summary["metadata"])
    return summary


def _run_graph(
    home: Path, sources: list[str], source_settings: Mapping[str, str] | None,
    listener: Callable[[Any], None] | None, without: Sequence[str], dbt_vars: Mapping[str, Any] | None,
    say: Callable[[str, str], None] | None, verbose: bool,
) -> dict[str, Any]:
    """The refresh graph materialised in this process (:func:`run_refresh`'s arguments)."""
    from dagster import AssetSelection, Definitions, define_asset_job

    from dagster_project.assets.dbt import dbt_resource
    from dagster_project.assets.ingest import SOURCE_ASSETS
    from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
    from dagster_project.resources import RegiocodeResource
    from dagster_project.runner import CLI_JOB, Progress, execute

    progress = Progress(say or _say, STAGE_NAMES)
    regiocode = RegiocodeResource(home=str(home), sources=sources, **dict(source_settings or {}))
    selection = refresh_selection(sources)
    if without:
        selection = selection - AssetSelection.assets(*without).downstream()
    defs = Definitions(
        assets=[*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
        jobs=[define_asset_job(CLI_JOB, selection=selection, description="regiocode refresh (the CLI)")],
        resources={"dbt": dbt_resource(), "regiocode": regiocode},
    )
    # Dagster's own console log is silent: the stage lines come from the run's events, the errors (with their
    # stack traces) are in the run log of the instance, and printed by --verbose.
    run_config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if dbt_vars:
        run_config["ops"] = {"regiocode_dbt_assets": {"config": {"vars": dict(dbt_vars)}}}
    paths = Paths.from_env(home)
    result, metadata = execute(defs, CLI_JOB, paths, progress, run_config, [listener] if listener else [],
                               step_output=verbose)
    return {
        "success": result.success,
        "run_id": result.run_id,
        "failures": progress.failures,
        "traces": progress.traces,
        "timings": progress.timings,
        "metadata": metadata,
        "paths": paths,
    }


_MARKS = {"start": "[cyan]→[/]", "done": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[yellow]-[/]",
          "retry": "[yellow]↻[/]"}


def _say(kind: str, text: str) -> None:
    """A stage line on stderr: its mark, then the text as it is (never read as markup)."""
    line = Text.from_markup(_MARKS.get(kind, "·") + " ")
    line.append(text, style="dim" if kind == "done" else None)
    console.print(line)


def _print_summary(summary: dict[str, Any], sources: list[str]) -> None:
    """The summary table, then each source's notes; a refresh that found nothing changed says so first, and its
    table is the recorded one of the refresh that left the outputs (only its time is this run's)."""
    unchanged = summary.get("unchanged")
    if unchanged:
        out.print(Text(f"{refresh_inputs.UNCHANGED} (as the refresh of {unchanged[:19]} UTC left them)"))
    title = f"regiocode refresh of {unchanged[:19]} UTC (nothing changed since)" if unchanged else "regiocode refresh"
    table = Table(title=title, show_header=False)
    for label, value in report.summary_rows(summary, sources):
        if unchanged and label == "time":
            value = f"{value} (nothing to do)"
        table.add_row(label, Text(value))
    out.print(table)
    for line in report.source_notes(summary["metadata"], sources):
        out.print(Text(line))
    label = summary["metadata"].get("published_warehouse", {}).get("data_label")
    if label == DEMO_LABEL:
        out.print(Text(f"Note: built from {DEMO_LABEL}: not official statistics.", style="bold yellow"))


@app.command()
def refresh(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help=f"Source(s) to import: {SOURCE_NAMES} (default: REGIOCODE_SOURCES, "
                     "which defaults to demo); repeatable."),
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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print what the steps print (dbt's log) and, on failure, every "
                           "error with its stack trace.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Run the graph even when nothing changed since the last refresh (each "
                           "step still skips what it finds unchanged: files, the dbt build, briefings).")
    ] = False,
) -> None:
    """Run the whole graph once, in-process: ingest, dbt build and tests, publish, briefings, delivery.
    The run is recorded in $REGIOCODE_HOME/dagster, where `make dev` (dagster dev) shows it. When nothing it
    reads changed since the last refresh in this home, it says so without starting Dagster (unless --force)."""
    try:
        sources = registry.check_names(source or settings.sources())
        dbt_vars = parse_vars(var or [])
        given = parse_source_settings(sources, path or [], set_ or [], base_url)
    except ValueError as err:
        _fail(2, str(err))
    home = Paths.from_env(home).home
    console.print(Text(f"regiocode refresh: sources {', '.join(sources)} → {home}"))
    summary = run_refresh(home, sources, given, dbt_vars=dbt_vars, verbose=verbose, skip_unchanged=not force)
    if not summary["success"]:
        if verbose:
            for trace in summary["traces"]:
                console.print(Text(trace))
        console.print(Text("refresh failed; the published warehouse was left as it was (--verbose prints the stack "
                           f"traces; the run {summary['run_id'][:8]} is in the Dagster UI: make dev)", style="red"))
        for line in report.failure_lines(summary["failures"]) or ["error: the run failed (see --verbose)"]:
            console.print(Text(line, style="red"))
        raise typer.Exit(1)
    _print_summary(summary, sources)


def _fail(code: int, message: str) -> NoReturn:
    """Print ``error: message`` (never read as markup) and exit with ``code``."""
    console.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(code)


FORMATS = ("table", "line", "csv", "json")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only statement: SELECT, FROM, WITH, PIVOT, SHOW, DESCRIBE, "
                                         "SUMMARIZE, EXPLAIN [ANALYZE] of a query. Schema marts is the default.")],
    format: Annotated[str, typer.Option("--format", "-f", help="table (DuckDB's renderer), line (column = value), "
                                        "csv or json (both streamed, every row).")] = "table",
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds before the query is interrupted (also while rows are written out).")
    ] = sqlaccess.DEFAULT_TIMEOUT_S,
    limit: Annotated[int, typer.Option(help="Rows shown by the table (first and last halves) and line formats.")
                     ] = rendering.DEFAULT_MAX_ROWS,
    width: Annotated[int, typer.Option(help="Width of the table format (default: the terminal's).")] = 0,
) -> None:
    """Query the published warehouse read-only."""
    if format not in FORMATS:
        _fail(2, f"--format must be one of {', '.join(FORMATS)}")
    paths = Paths.from_env(home)
    try:
        con = sqlaccess.open_readonly(paths.published_db)
    except sqlaccess.SqlFailed as err:
        _fail(1, str(err))
    try:
        sqlaccess.check_read_only(con, query)
        with sqlaccess.bounded(con, timeout) as deadline:
            result = sqlaccess.relation(con, query)
            more = _write_result(result, format, limit, width, deadline.check)
    except sqlaccess.SqlRefused as err:
        _fail(3, str(err))
    except sqlaccess.SqlFailed as err:
        _fail(1, str(err))
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = None  # type: ignore[assignment]  # nothing more to flush at exit
        return
    finally:
        con.close()
    if more:
        console.print(Text(f"more rows than the {limit} shown (--limit to change, or --format csv for all)",
                           style="yellow"))


def _write_result(result: Any, format: str, limit: int, width: int, check: Callable[[], None]) -> int:
    """Write ``result`` to stdout in ``format``; returns 1 when the line format left rows out."""
    if format == "table":
        rendering.show_table(result, max_rows=limit, width=width or None)
    elif format == "line":
        return rendering.show_lines(result, limit, sys.stdout, check)
    elif format == "csv":
        rendering.write_csv(result, rendering.stdout_bytes(), check)
    else:
        rendering.write_json(result, sys.stdout, check)
    return 0


@app.command()
def sources(
    name: Annotated[str, typer.Argument(help=f"Source: {SOURCE_NAMES}.")],
    report: Annotated[bool, typer.Option("--report", help="Coverage per catalog indicator.")] = False,
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or csv.")] = "table",
    work: Annotated[bool, typer.Option("--work", help="Read the working warehouse: the last build, published or "
                                       "not (e.g. one the publish gate refused).")] = False,
) -> None:
    """What a source contributed to the published warehouse (--report: coverage per indicator); with --work, or
    when nothing was ever published, to the last build in the working warehouse."""
    from dagster_project.coverage import report_from_warehouse

    paths = Paths.from_env(home)
    try:
        registry.get(name)
        if not work and not paths.published_db.exists() and paths.work_db.exists():
            console.print(Text(f"nothing published yet: the last build, in the working warehouse {paths.work_db}"))
            work = True
        if work and not paths.work_db.exists():
            raise sqlaccess.SqlFailed(f"no working warehouse at {paths.work_db}: run `regiocode refresh` first "
                                      "(or set REGIOCODE_HOME)")
        con = sqlaccess.open_readonly(paths.work_db if work else paths.published_db)
    except ValueError as err:
        _fail(2, str(err))
    except sqlaccess.SqlFailed as err:
        _fail(1, str(err))
    try:
        frame = report_from_warehouse(con, name)
    finally:
        con.close()
    if not report:
        covered = int(frame["status"].isin(["covered", "derived"]).sum())
        out.print(Text(f"{name}: {covered} of {len(frame)} catalog indicators covered (--report for the table)"))
        return
    if format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
        return
    print(f"{name}: coverage of the indicator catalog")
    rendering.show_frame(_coverage_view(frame))


@app.command()
def deliver(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be sent to whom; send nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Send again what a recipient already has.")] = False,
    home: Annotated[Path | None, typer.Option(help="REGIOCODE_HOME (default ./var).")] = None,
) -> None:
    """E-mail the latest briefings now (a refresh does it too): each recipient the regions and language of its
    delivery.toml entry, only what it has not received yet (--force: everything)."""
    from dagster_project import delivery

    paths = Paths.from_env(home)
    try:
        config = delivery.load_config(paths.home)
    except delivery.DeliveryConfigError as err:
        _fail(2, str(err))
    if config is None:
        out.print(Text(report.NOT_CONFIGURED))
        return
    folder = delivery.latest_folder(paths.briefings)
    if folder is None:
        _fail(1, f"no briefings under {paths.briefings} yet: run `regiocode refresh` first")
    briefings = delivery.briefings_in(folder)
    state = paths.state / "delivery.json"
    if dry_run:
        planned = delivery.plan(config, briefings, delivery.read_state(state), force)
        print(f"briefings of {folder}, via {config.smtp.host}:{config.smtp.port} — nothing is sent (--dry-run)")
        rendering.show_frame(_plan_view(planned))
        sending = [p for p in planned if not p.unchanged]
        out.print(Text(report.plan_line(len(sending), len({p.recipient.email for p in sending}),
                                        len(planned) - len(sending))))
        return
    results = delivery.deliver(config, briefings, state, force=force)
    line = report.delivery_line({"configured": True, **delivery.summarise(results)})
    if any(r.status == "failed" for r in results):
        _fail(1, line)
    out.print(Text(line))


def _plan_view(planned: list[Any]) -> Any:
    """Recipients × regions × languages of a delivery plan, as a frame for the terminal."""
    import pandas as pd

    return pd.DataFrame(
        [(p.recipient.email, p.briefing.region, p.briefing.lang, p.briefing.pdf.name,
          "unchanged, not resent" if p.unchanged else "would send") for p in planned],
        columns=["recipient", "region", "lang", "pdf", "status"],
    )


def _coverage_view(frame: Any) -> Any:
    """The coverage report for a terminal: what matters first (indicator, status, years, regions, values,
    gaps, rejects), the tables last (DuckDB's renderer keeps the first and last columns of a narrow terminal
    and elides the middle ones, saying how many it shows); every column is in ``--format csv``."""
    import pandas as pd

    years = [f"{int(a)}–{int(b)}" if pd.notna(a) and pd.notna(b) else ""
             for a, b in zip(frame["first_year"], frame["last_year"], strict=True)]
    view = frame.assign(years=years, status=frame["status"].replace({"not in this source": "absent"}))
    view = view.rename(columns={"indicator_code": "indicator", "missing": "gaps"})
    return view[["indicator", "status", "years", "regions", "values", "gaps", "rejects", "tables"]]


def main() -> None:
    """The ``regiocode`` console script: an error nobody foresaw is one line too (its stack trace with
    ``--verbose``)."""
    settings.quiet_dagster()
    try:
        app()
    except Exception as err:
        if "--verbose" in sys.argv or "-v" in sys.argv:
            raise
        console.print(Text(f"error: {one_line(err)} (an unexpected error; --verbose shows where)", style="red"))
        sys.exit(1)


if __name__ == "__main__":
    main()
