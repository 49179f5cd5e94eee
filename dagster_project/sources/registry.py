"""The sources regiocode imports, each declared once.

Everything source-specific outside a source's own folder follows this list: the Dagster source assets
(``<name>_source``) and their inbox sensors and jobs, the settings fields of the Dagster resource, the
``regiocode refresh`` options (``--source``, ``--path NAME=…``, ``--set NAME.SETTING=…``) and its stage
labels, the data label of a build, and the union of mapping seeds in dbt (the dbt var
``source_mappings`` must equal :func:`dbt_source_mappings`; a test checks it).

To add a source: write its folder (``sources/<name>/``, an ``import_source(run) -> ImportBatch``) and
add one :class:`Source` below. docs/architecture.md walks through it with the ``csv`` source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from dagster_project import settings
from dagster_project.settings import DEMO_LABEL, OFFICIAL_LABEL, Paths
from dagster_project.sources import csv, demo, eurostat, rosstat
from dagster_project.sources.base import ImportBatch, SourceRun


@dataclass(frozen=True)
class SourceSetting:
    """A setting a source reads: ``REGIOCODE_<SOURCE>_<NAME>`` in the environment, the resource field
    ``<source>_<name>``, ``--set <source>.<name>=…`` on the command line (``path`` also ``--path``)."""

    name: str
    help: str
    is_path: bool = False  # a file or folder that must exist when given on the command line
    pulls: bool = False  # set, the source pulls from the network: a refresh cannot know beforehand that nothing changed


@dataclass(frozen=True)
class MappingSeed:
    """A seed mapping the source's tables to catalog indicators, with the factor into the catalog unit.

    ``table_column`` names the seed column that holds the source's table (compared with
    ``raw.observations.table_code`` for rows dbt maps late, through ``unit_conversions``);
    ``per_dataset``: a row applies only to observations of that dataset (``table_column`` holds it), as
    one indicator may come from several Eurostat datasets with different scales.
    """

    seed: str
    table_column: str
    per_dataset: bool = False


@dataclass(frozen=True)
class Source:
    """One source: what it is, how it imports, what it reads, and how dbt maps it."""

    name: str  # raw.observations.source, --source NAME, inbox/<name>/, asset <name>_source
    description: str
    import_source: Callable[[SourceRun], ImportBatch]
    data_label: str  # DEMO_LABEL, OFFICIAL_LABEL, or the source's own ("analyst data")
    file_kinds: tuple[str, ...] = ()  # name endings accepted from the inbox; () = no inbox
    settings: tuple[SourceSetting, ...] = ()
    mapping_seed: MappingSeed | None = None
    stage: str = ""  # the CLI's label of its ingest step (default "ingest (<name>)")

    @property
    def asset_name(self) -> str:
        """The Dagster asset that imports it."""
        return f"{self.name}_source"

    @property
    def stage_label(self) -> str:
        """How ``regiocode refresh`` names its ingest step."""
        return self.stage or f"ingest ({self.name})"

    @property
    def official(self) -> bool:
        """Whether the source publishes official statistics."""
        return self.data_label == OFFICIAL_LABEL

    @property
    def synthetic(self) -> bool:
        """Whether every value is invented (the demo)."""
        return self.data_label == DEMO_LABEL

    def field(self, setting: SourceSetting) -> str:
        """The Dagster resource field holding ``setting`` (``rosstat_path``)."""
        return f"{self.name}_{setting.name}"

    def env(self, setting: SourceSetting) -> str:
        """The environment variable of ``setting`` (``REGIOCODE_ROSSTAT_PATH``)."""
        return settings.source_env(self.name, setting.name)

    def setting(self, name: str) -> SourceSetting | None:
        """The declared setting ``name``, or None."""
        return next((s for s in self.settings if s.name == name), None)

    def cli_option(self, setting: SourceSetting) -> str:
        """How ``setting`` is given to ``regiocode refresh``."""
        return f"--path {self.name}=…" if setting.name == "path" else f"--set {self.name}.{setting.name}=…"

    def run(self, values: Mapping[str, str], paths: Paths) -> SourceRun:
        """What :attr:`import_source` is given for one refresh under ``paths``: ``values`` of its settings
        by name (missing ones are empty), its inbox, downloads and the state folder."""
        inbox = paths.inbox / self.name
        ways = [f"{self.cli_option(s)} ({self.env(s)})" for s in self.settings]
        if self.file_kinds:
            ways.append(f"files ({', '.join(self.file_kinds)}) dropped into {inbox}")
        return SourceRun(
            source=self.name,
            settings={s.name: str(values.get(s.name) or "") for s in self.settings},
            inbox=inbox,
            downloads=paths.downloads / self.name,
            state=paths.state,
            file_kinds=self.file_kinds,
            feeds=", ".join(ways) or "nothing: it reads no settings and no files",
        )


PATH_HELP = "a file or folder of {what} to import"

SOURCES: tuple[Source, ...] = (
    Source(
        name="demo",
        description="The bundled demo source: a deterministic synthetic panel (synthetic demo data, not official "
        "statistics).",
        import_source=demo.import_source,
        data_label=DEMO_LABEL,
    ),
    Source(
        name="rosstat",
        description="Rosstat's yearbook «Регионы России» (any edition), thematic tables by region and EMISS exports "
        "(xlsx/xls): a folder of workbooks, URLs pulled on each refresh, and the inbox folder "
        "$REGIOCODE_HOME/inbox/rosstat/.",
        import_source=rosstat.import_source,
        data_label=OFFICIAL_LABEL,
        file_kinds=rosstat.EXCEL_SUFFIXES,
        settings=(
            SourceSetting("path", PATH_HELP.format(what="Rosstat workbooks (yearbook sections, thematic tables, "
                                                  "EMISS exports)"), is_path=True),
            SourceSetting("urls", "yearbook workbook URLs pulled on each refresh (space-separated)", pulls=True),
            SourceSetting("release", "the release of files that state none (e.g. 2025-06-03; a <file>.release.json "
                          "sidecar states one per file)"),
        ),
        mapping_seed=MappingSeed(rosstat.MAPPING_SEED, table_column="dataset", per_dataset=True),
    ),
    Source(
        name="eurostat",
        description="Eurostat regional statistics: pulled from the dissemination API and/or downloaded files "
        "(a folder, and the inbox folder $REGIOCODE_HOME/inbox/eurostat/).",
        import_source=eurostat.import_source,
        data_label=OFFICIAL_LABEL,
        file_kinds=eurostat.FILE_KINDS,
        settings=(
            SourceSetting("path", PATH_HELP.format(what="downloaded Eurostat files"), is_path=True),
            SourceSetting("base_url", f"dissemination API base URL to pull from (e.g. {eurostat.DEFAULT_BASE_URL}); "
                          "empty = no pull", pulls=True),
        ),
        mapping_seed=MappingSeed(eurostat.MAPPING_SEED, table_column="dataset", per_dataset=True),
    ),
    Source(
        name="csv",
        description="Analysts' own series and survey results: long-format CSV or Parquet files (region_code, "
        "indicator_code, year, value[, flag, unit, release]) from a folder and the inbox folder "
        "$REGIOCODE_HOME/inbox/csv/.",
        import_source=csv.import_source,
        data_label=csv.DATA_LABEL,
        file_kinds=csv.FILE_KINDS,
        settings=(
            SourceSetting("path", PATH_HELP.format(what="long-format CSV or Parquet files"), is_path=True),
            SourceSetting("release", "the release of rows that name none and have no <file>.meta.json sidecar "
                          "(e.g. 2024-05)"),
        ),
    ),
)

BY_NAME: dict[str, Source] = {source.name: source for source in SOURCES}


def get(name: str) -> Source:
    """The source called ``name``; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(BY_NAME)}") from None


def check_names(names: Iterable[str]) -> list[str]:
    """``names`` as a list, after checking each is a source (ValueError naming the unknown ones)."""
    names = list(names)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known: {sorted(BY_NAME)}")
    return names


def data_label(names: Iterable[str]) -> str:
    """What a build from ``names`` is: the demo label when a synthetic source feeds it, else the labels of its
    sources ("official statistics"; "official statistics + analyst data")."""
    sources = [BY_NAME[name] for name in names if name in BY_NAME]
    if any(source.synthetic for source in sources):
        return DEMO_LABEL
    labels = list(dict.fromkeys(source.data_label for source in sources))
    return " + ".join(labels) or OFFICIAL_LABEL


def dbt_source_mappings() -> list[dict[str, object]]:
    """The dbt var ``source_mappings``: per source with a mapping seed, the seed and how to match it."""
    return [
        {"source": source.name, "seed": source.mapping_seed.seed, "table_column": source.mapping_seed.table_column,
         "per_dataset": source.mapping_seed.per_dataset}
        for source in SOURCES if source.mapping_seed is not None
    ]
