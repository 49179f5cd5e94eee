"""Every setting of regiocode: the environment variables, their defaults, and the paths made from them.

This is the one module that reads the environment; everything else asks it. Each variable is declared
once below as a :class:`Setting` (its name, default and meaning: the README's configuration table lists
the same), and read when it is asked for, so a test or a process that changes the environment is
followed. An empty variable counts as unset: its default applies.

Every path of an installation derives from ``REGIOCODE_HOME`` (default ``./var``), so one variable moves
it whole. A source's own settings (``REGIOCODE_ROSSTAT_PATH``, ``REGIOCODE_EUROSTAT_BASE_URL`` …) are
declared with the source in :mod:`dagster_project.sources.registry` and read here by
:func:`source_setting`, under the name ``REGIOCODE_<SOURCE>_<SETTING>``.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ENV_PREFIX = "REGIOCODE_"


class SettingError(ValueError):
    """An environment variable holds a value that cannot be used; the message names it and says what fits."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, the default when it is unset or empty, and what it does."""

    env: str
    default: str
    help: str

    def value(self) -> str:
        """The variable's text, or the default when it is unset or empty."""
        text = os.environ.get(self.env, "")
        return text if text.strip() else self.default

    def number(self) -> float:
        """The value as a number; :class:`SettingError` naming the variable when it is not one."""
        text = self.value()
        try:
            return float(text)
        except ValueError:
            raise SettingError(f"{self.env}={text!r}: expected a number ({self.help})") from None


HOME = Setting("REGIOCODE_HOME", "var", "where the warehouses, briefings, inbox, downloads and state live")
SOURCES = Setting("REGIOCODE_SOURCES", "demo", "comma-separated sources feeding the scheduled refresh")
REFRESH_CRON = Setting("REGIOCODE_REFRESH_CRON", "0 3 1 * *", "cron of the monthly_refresh schedule")
TIMEZONE = Setting("REGIOCODE_TIMEZONE", "UTC", "the schedule's time zone")
RENDER_WORKERS = Setting("REGIOCODE_RENDER_WORKERS", "0", "processes rendering briefings (0 = one per CPU)")
DUCKDB_MEMORY_LIMIT = Setting(
    "REGIOCODE_DUCKDB_MEMORY_LIMIT", "2GB",
    "DuckDB's memory cap during the dbt build (beyond it DuckDB spills to work/*.tmp/)")
SQL_MEMORY_LIMIT = Setting("REGIOCODE_SQL_MEMORY_LIMIT", "2GB", "memory cap of a `regiocode sql` query (no spilling)")
MAX_ROW_DROP = Setting(
    "REGIOCODE_MAX_ROW_DROP", "",
    "largest share of rows a refresh may lose against the published build (default: dbt var ops_max_row_drop)")
SOURCE_MAX_AGE_DAYS = Setting(
    "REGIOCODE_SOURCE_MAX_AGE_DAYS", "40", "days after which a source not imported is reported as stale")
MAX_UNPACKED_MB = Setting("REGIOCODE_MAX_UNPACKED_MB", "1024", "the most a gzip body or file may unpack to, in MB")
DBT_UNIT_TESTS = Setting(
    "REGIOCODE_DBT_UNIT_TESTS", "0", "1: the pipeline's dbt build also runs dbt's unit tests (CI runs them anyway)")
DBT_ALWAYS_BUILD = Setting(
    "REGIOCODE_DBT_ALWAYS_BUILD", "0", "1: run dbt even when its inputs equal those of the published build")
DELIVERY_CONFIG = Setting(
    "REGIOCODE_DELIVERY_CONFIG", "", "the delivery (e-mail) configuration file (default $REGIOCODE_HOME/delivery.toml)")
TEMPLATES = Setting("REGIOCODE_TEMPLATES_DIR", "", "briefing templates folder (default reports/templates)")
PROJECT = Setting(
    "REGIOCODE_PROJECT_DIR", "", "the project folder holding dbt/ and reports/ (default: this checkout; benchmarks)")
# Crash-safety tests only: "<stage>:<marker file>" makes the process write the marker and sleep at that
# stage so a test can kill it at a known point. Unset (production), it does nothing.
TEST_PAUSE_AT = Setting("REGIOCODE_TEST_PAUSE_AT", "", "tests only: <stage>:<marker file> pauses at that stage")
TEST_PAUSE_SECONDS = Setting("REGIOCODE_TEST_PAUSE_SECONDS", "300", "tests only: how long such a pause lasts")
# The e-mail server: REGIOCODE_SMTP_HOST, _PORT, _USER, _PASSWORD, _SENDER, _STARTTLS, _SSL, _TIMEOUT
# (dagster_project/delivery.py reads them through delivery_environment()).
SMTP_ENV_PREFIX = "REGIOCODE_SMTP_"

ALL_SETTINGS: tuple[Setting, ...] = (
    HOME, SOURCES, REFRESH_CRON, TIMEZONE, RENDER_WORKERS, DUCKDB_MEMORY_LIMIT, SQL_MEMORY_LIMIT, MAX_ROW_DROP,
    SOURCE_MAX_AGE_DAYS, MAX_UNPACKED_MB, DBT_UNIT_TESTS, DBT_ALWAYS_BUILD, DELIVERY_CONFIG, TEMPLATES, PROJECT,
    TEST_PAUSE_AT, TEST_PAUSE_SECONDS,
)

# --- The project's own files (read once: they do not move while a process runs) -----------------------

PROJECT_DIR = Path(PROJECT.value() or Path(__file__).resolve().parents[1])
DBT_PROJECT_DIR = PROJECT_DIR / "dbt"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
TEMPLATES_DIR = Path(TEMPLATES.value() or PROJECT_DIR / "reports" / "templates")

# What every table built from the data says about it (marts.build_info.data_label, the briefings' banner).
DEMO_LABEL = "synthetic demo data"
OFFICIAL_LABEL = "official statistics"


# --- Values ------------------------------------------------------------------------------------------

def home_dir() -> Path:
    """``REGIOCODE_HOME`` as an absolute path (default ``./var`` of the working directory)."""
    return Path(HOME.value()).expanduser().resolve()


def sources() -> list[str]:
    """The sources of the scheduled refresh (``REGIOCODE_SOURCES``, comma-separated; default ``demo``)."""
    return [name.strip() for name in SOURCES.value().split(",") if name.strip()]


def source_env(source: str, setting: str) -> str:
    """The environment variable of one source setting: ``REGIOCODE_<SOURCE>_<SETTING>``."""
    return f"{ENV_PREFIX}{source}_{setting}".upper()


def source_setting(source: str, setting: str) -> str:
    """A source's setting from the environment (``REGIOCODE_ROSSTAT_PATH`` …); ``""`` when unset."""
    return os.environ.get(source_env(source, setting), "").strip()


def refresh_cron() -> str:
    """The cron expression of the monthly_refresh schedule."""
    return REFRESH_CRON.value()


def timezone() -> str:
    """The time zone the schedule's cron is read in."""
    return TIMEZONE.value()


def render_workers() -> int:
    """Processes rendering briefings; 0 means one per CPU."""
    workers = RENDER_WORKERS.number()
    if workers < 0 or workers != int(workers):
        raise SettingError(f"{RENDER_WORKERS.env}={RENDER_WORKERS.value()!r}: expected a whole number ≥ 0")
    return int(workers)


def duckdb_memory_limit() -> str:
    """DuckDB's memory cap for the dbt build, as DuckDB reads it ("2GB")."""
    return DUCKDB_MEMORY_LIMIT.value()


def sql_memory_limit() -> str:
    """DuckDB's memory cap for one `regiocode sql` query ("2GB")."""
    return SQL_MEMORY_LIMIT.value()


def max_row_drop(configured: float) -> float:
    """The share of rows a refresh may lose against the published build: ``REGIOCODE_MAX_ROW_DROP`` for one
    run, else ``configured`` (the dbt var ``ops_max_row_drop``)."""
    return MAX_ROW_DROP.number() if MAX_ROW_DROP.value() else float(configured)


def source_max_age() -> timedelta:
    """How long a source may go without an import before its freshness check warns."""
    return timedelta(days=SOURCE_MAX_AGE_DAYS.number())


def max_unpacked_bytes() -> int:
    """The most a gzip body or file may unpack to (``REGIOCODE_MAX_UNPACKED_MB``, default 1024 MB), in bytes."""
    return int(MAX_UNPACKED_MB.number() * 1024 * 1024)


def dbt_unit_tests() -> bool:
    """Whether the pipeline's ``dbt build`` runs dbt unit tests too (they test SQL on fixtures, not the data)."""
    return DBT_UNIT_TESTS.value().strip() == "1"


def regiocode_environment() -> dict[str, str]:
    """Every ``REGIOCODE_*`` variable of this process, by name (sorted): all of them are part of what a refresh
    reads (:mod:`dagster_project.refresh_inputs` hashes them)."""
    return {name: value for name, value in sorted(os.environ.items()) if name.startswith(ENV_PREFIX)}


def dbt_always_build() -> bool:
    """Whether dbt runs even when its inputs equal those of the published build."""
    return DBT_ALWAYS_BUILD.value().strip() == "1"


def delivery_environment() -> dict[str, str]:
    """The e-mail settings from the environment: ``REGIOCODE_SMTP_*`` and ``REGIOCODE_DELIVERY_CONFIG``."""
    return {
        name: value for name, value in os.environ.items()
        if name.startswith(SMTP_ENV_PREFIX) or name == DELIVERY_CONFIG.env
    }


def test_pause() -> tuple[str, Path, float] | None:
    """Crash-safety tests: (stage, marker file, seconds) when ``REGIOCODE_TEST_PAUSE_AT`` asks for a pause."""
    stage, _, marker = TEST_PAUSE_AT.value().partition(":")
    if not stage or not marker:
        return None
    return stage, Path(marker), TEST_PAUSE_SECONDS.number()


def dbt_executable() -> str:
    """The ``dbt`` of this Python environment, found beside the interpreter, so that a process started
    without the virtualenv's ``bin`` on PATH (``dagster dev`` from a service, a cron job) still runs the
    dbt that was installed with regiocode; else the ``dbt`` on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


_ENVIRONMENT_LOCK = threading.Lock()


@contextmanager
def process_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` in this process's environment for the ``with`` block, one block at a time (a lock), and
    restore the previous values after it: for a child process started inside the block that takes its
    environment only from ``os.environ`` (dagster-dbt's dbt process)."""
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def quiet_dagster() -> None:
    """Turn Dagster's telemetry off for this process unless the user set ``DAGSTER_DISABLE_TELEMETRY``."""
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


LATEST_BRIEFINGS = "latest"  # the name of the link to the newest build's briefings folder
# dbt build folders of a home (Paths.dbt_builds, ~5 MB each): the newest are kept for inspection, and none
# younger than an hour (a build of a concurrent run may still be writing or reading its own).
KEEP_DBT_BUILDS = 5
KEEP_DBT_BUILDS_SECONDS = 3600


# --- Paths -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Paths:
    """The folders and files under one ``REGIOCODE_HOME``."""

    home: Path

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Paths:
        """The paths under ``home``, or under ``REGIOCODE_HOME`` when it is None."""
        return cls(Path(home).expanduser().resolve() if home is not None else home_dir())

    @property
    def work_db(self) -> Path:
        """The working warehouse: only the pipeline writes it."""
        return self.home / "work" / "regiocode.duckdb"

    @property
    def published_db(self) -> Path:
        """The published read-only warehouse: what SQL users and briefings read."""
        return self.home / "warehouse" / "regiocode.duckdb"

    @property
    def published_record(self) -> Path:
        """What was published (build, sources, rows per mart, which file): written by the publish step, read by
        the checks instead of the published file, which the pipeline never opens."""
        return self.state / "published.json"

    @property
    def briefings(self) -> Path:
        """Rendered briefings: one folder per build under ``.builds``, linked as ``<date>`` and ``latest``."""
        return self.home / "briefings"

    @property
    def latest_briefings(self) -> Path:
        """``briefings/latest``: the link to the newest build's briefings folder."""
        return self.briefings / LATEST_BRIEFINGS

    @property
    def inbox(self) -> Path:
        """Files dropped here are imported (one folder per source)."""
        return self.home / "inbox"

    @property
    def state(self) -> Path:
        """Pull state (content hashes, last-update dates), the dbt build state, render cache keys."""
        return self.home / "state"

    @property
    def downloads(self) -> Path:
        """Every pulled file as received."""
        return self.home / "downloads"

    @property
    def dagster_home(self) -> Path:
        """The persistent Dagster instance (``DAGSTER_HOME`` of ``make dev``): the CLI records its runs there too."""
        return self.home / "dagster"

    @property
    def dbt_profiles(self) -> Path:
        """The dbt profile the pipeline writes for this home (the working warehouse's path filled in)."""
        return self.state / "dbt"

    @property
    def dbt_builds(self) -> Path:
        """One folder per dbt build of this home (compiled SQL, ``run_results.json``, ``manifest.json``,
        ``dbt.log``), named ``<op>-<run id[:7]>-<random>``; the newest :data:`KEEP_DBT_BUILDS` are kept, and any younger
        than :data:`KEEP_DBT_BUILDS_SECONDS`."""
        return self.state / "dbt" / "builds"

    def ensure(self) -> Paths:
        """Create the folders the pipeline writes into; returns self."""
        for folder in (self.work_db.parent, self.published_db.parent, self.briefings, self.inbox, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        return self
