"""The Dagster resource that says where the warehouse lives and which sources feed it.

Its defaults come from :mod:`dagster_project.settings` (the environment), so the same definitions serve
`regiocode refresh`, `dagster dev` and the tests (each with its own REGIOCODE_HOME); a run may override
any field in its run config. Besides ``home``, ``sources`` and ``render_workers`` it has one field per
setting a source declares in the registry (``rosstat_path``, ``rosstat_urls``, ``eurostat_path``,
``eurostat_base_url`` …): adding a source adds its fields.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, closing
from functools import partial
from typing import Any

import duckdb
from dagster import ConfigurableResource
from pydantic import Field, create_model

from dagster_project import settings
from dagster_project.settings import Paths
from dagster_project.sources import registry
from dagster_project.sources.base import SourceRun
from dagster_project.warehouse import connect_published, connect_work


class RegiocodeResourceBase(ConfigurableResource):
    """Where the warehouse lives and which sources feed it (the per-source fields are added below)."""

    home: str = Field(
        default_factory=lambda: settings.HOME.value(),
        description="REGIOCODE_HOME: working and published warehouse, briefings, inbox, state.",
    )
    sources: list[str] = Field(
        default_factory=settings.sources,
        description="Sources whose data feed the codes (REGIOCODE_SOURCES, comma-separated; default demo).",
    )
    render_workers: int = Field(
        default_factory=settings.render_workers,
        description="Processes rendering briefings (REGIOCODE_RENDER_WORKERS; 0 = one per CPU).",
    )

    @property
    def paths(self) -> Paths:
        """The folders under ``home``, created if missing."""
        return Paths.from_env(self.home).ensure()

    @property
    def data_label(self) -> str:
        """What the build is made of ("synthetic demo data" when the demo feeds it)."""
        return registry.data_label(self.sources)

    def source_run(self, name: str) -> SourceRun:
        """What source ``name``'s importer is given: its settings from this resource, its folders."""
        source = registry.get(name)
        values = {setting.name: getattr(self, source.field(setting)) for setting in source.settings}
        return source.run(values, self.paths)

    def work_connection(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The only writer of the working warehouse; closed on exit so dbt can open the file next."""
        return closing(connect_work(self.paths.work_db))

    def published_connection(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published warehouse, closed on exit."""
        return closing(connect_published(self.paths.published_db))


def _source_fields() -> dict[str, Any]:
    """One string field per source setting of the registry, defaulting to its environment variable."""
    return {
        source.field(setting): (str, Field(
            default_factory=partial(settings.source_setting, source.name, setting.name),
            description=f"{source.name}: {setting.help} ({source.env(setting)}).",
        ))
        for source in registry.SOURCES for setting in source.settings
    }


RegiocodeResource = create_model(
    "RegiocodeResource", __base__=RegiocodeResourceBase, __module__=__name__, **_source_fields()
)
RegiocodeResource.__doc__ = RegiocodeResourceBase.__doc__
