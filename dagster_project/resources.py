"""Typed Dagster resources. Configured from environment variables with local defaults so the same
definitions serve `regiocode refresh`, `dagster dev` and the tests (each with its own REGIOCODE_HOME)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource
from pydantic import Field

from dagster_project.settings import DEMO_LABEL, OFFICIAL_LABEL, Paths
from dagster_project.warehouse import connect_published, connect_work

KNOWN_SOURCES = ("demo", "rosstat", "eurostat")


def sources_from_env() -> list[str]:
    raw = os.environ.get("REGIOCODE_SOURCES", "demo")
    return [s.strip() for s in raw.split(",") if s.strip()]


class RegiocodeResource(ConfigurableResource):
    """Where the warehouse lives and which sources feed it."""

    home: str = Field(
        default_factory=lambda: os.environ.get("REGIOCODE_HOME", "var"),
        description="REGIOCODE_HOME: working and published warehouse, briefings, inbox, state.",
    )
    sources: list[str] = Field(
        default_factory=sources_from_env,
        description="Sources whose data feed the codes (REGIOCODE_SOURCES, comma-separated; default demo).",
    )
    rosstat_path: str = Field(
        default_factory=lambda: os.environ.get("REGIOCODE_ROSSTAT_PATH", ""),
        description="Folder or file of Rosstat yearbook workbooks (REGIOCODE_ROSSTAT_PATH); empty = inbox only.",
    )
    eurostat_path: str = Field(
        default_factory=lambda: os.environ.get("REGIOCODE_EUROSTAT_PATH", ""),
        description="Folder of downloaded Eurostat files (REGIOCODE_EUROSTAT_PATH).",
    )
    eurostat_base_url: str = Field(
        default_factory=lambda: os.environ.get("REGIOCODE_EUROSTAT_BASE_URL", ""),
        description="Eurostat dissemination API base URL for pulls (REGIOCODE_EUROSTAT_BASE_URL); empty = no pull.",
    )
    render_workers: int = Field(
        default_factory=lambda: int(os.environ.get("REGIOCODE_RENDER_WORKERS", "0")),
        description="Processes rendering briefings (0 = one per CPU).",
    )

    @property
    def paths(self) -> Paths:
        return Paths.from_env(self.home).ensure()

    @property
    def data_label(self) -> str:
        return DEMO_LABEL if "demo" in self.sources else OFFICIAL_LABEL

    @contextmanager
    def work_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The only writer of the working warehouse; closed on exit so dbt can open the file next."""
        con = connect_work(self.paths.work_db)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def published_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect_published(self.paths.published_db)
        try:
            yield con
        finally:
            con.close()
