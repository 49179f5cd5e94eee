"""The contract between a source and the pipeline: what an importer is given, and what it returns.

An importer is given a :class:`SourceRun` (its settings and folders for one refresh) and returns an
:class:`ImportBatch`: observations exactly as received (plus the catalog and register keys it could
resolve) and rejects, each with the reason and where the cell came from. Nothing is dropped silently:
what cannot be parsed becomes a reject. The batch's columns are those of ``raw.observations`` and
``raw.rejects`` below; :func:`dagster_project.warehouse.load_batch` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

# raw.observations, in column order. Types are DuckDB types.
OBSERVATION_COLUMNS: dict[str, str] = {
    "source": "VARCHAR",  # a source of the registry: demo | rosstat | eurostat | …
    "dataset": "VARCHAR",  # publication / dataset id (e.g. "regions_of_russia", "nama_10r_2gdp")
    "table_code": "VARCHAR",  # table within the dataset (Rosstat "8.1."; Eurostat filter key)
    "region_key": "VARCHAR",  # the territory as the source spells it
    "region_code": "VARCHAR",  # register code resolved by the importer, null when unresolved
    "indicator_key": "VARCHAR",  # the indicator as the source names it
    "indicator_code": "VARCHAR",  # catalog indicator, null when the catalog does not map it
    "period": "INTEGER",  # year (academic years: the year they start)
    "value": "DOUBLE",  # null when the cell is a missing token
    "flag": "VARCHAR",  # null | p | e | b | c | na | none | times (c confidential, na not available, none absent)
    "unit": "VARCHAR",  # unit as published
    "release": "VARCHAR",  # edition / last-update label of the source
    "release_date": "DATE",  # orders releases: a later one supersedes an earlier one
    "retrieved_at": "TIMESTAMP",
    "origin": "VARCHAR",  # file path or URL
    "cell_ref": "VARCHAR",  # sheet!A1-style or row/column reference inside the origin
}

# raw.rejects, in column order.
REJECT_COLUMNS: dict[str, str] = {
    "source": "VARCHAR",
    "dataset": "VARCHAR",
    "table_code": "VARCHAR",
    "origin": "VARCHAR",  # file path or URL
    "cell_ref": "VARCHAR",  # sheet / row / column
    "raw_value": "VARCHAR",  # the text that could not be used
    "reason": "VARCHAR",  # why, in words a person can act on
    "release": "VARCHAR",
    "retrieved_at": "TIMESTAMP",
}

# The flags of raw.observations: p preliminary, e estimated, b break in series, c confidential,
# na not available, none phenomenon absent, times a value printed as a multiple («в 2,3 р.» = 230 in an index
# table in per cent) (Eurostat may add its own letters to a published value).
FLAGS = {"p", "e", "b", "c", "na", "none", "times"}


@dataclass
class ImportBatch:
    """What one import produced. ``observations``/``rejects`` have the columns above."""

    source: str
    observations: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=lambda: empty_frame(REJECT_COLUMNS))
    # Human-readable notes: tables skipped with the reason, files unchanged, etc.
    notes: list[str] = field(default_factory=list)
    # The files the batch was read from (empty for generated data or an API pull).
    files: list[Path] = field(default_factory=list)
    # Lines for the end of `regiocode refresh` (the release read, warnings, what was skipped and why).
    summary: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.observations = conform(self.observations, OBSERVATION_COLUMNS)
        self.rejects = conform(self.rejects, REJECT_COLUMNS)

    @classmethod
    def concat(cls, source: str, batches: Sequence[ImportBatch]) -> ImportBatch:
        """One batch of ``source`` from several (frames stacked in order, notes and files joined)."""
        observations = [b.observations for b in batches if not b.observations.empty]
        rejects = [b.rejects for b in batches if not b.rejects.empty]
        return cls(
            source=source,
            observations=pd.concat(observations, ignore_index=True) if observations
            else empty_frame(OBSERVATION_COLUMNS),
            rejects=pd.concat(rejects, ignore_index=True) if rejects else empty_frame(REJECT_COLUMNS),
            notes=[note for b in batches for note in b.notes],
            files=[path for b in batches for path in b.files],
            summary=[line for b in batches for line in b.summary],
        )


@dataclass(frozen=True)
class SourceRun:
    """What an importer is given for one refresh: its settings and the folders it may use.

    ``settings`` holds the values of the settings the source declares in the registry (``"path"``,
    ``"urls"``, ``"base_url"`` …; ``""`` when unset); ``inbox`` is ``$REGIOCODE_HOME/inbox/<source>``,
    ``downloads`` ``$REGIOCODE_HOME/downloads/<source>``, ``state`` ``$REGIOCODE_HOME/state`` (pull state
    files). ``file_kinds`` are the file name endings the source accepts from its inbox, and ``feeds`` says
    in words where the source's data can come from (for the error when there is nothing to import).
    """

    source: str
    settings: Mapping[str, str]
    inbox: Path
    downloads: Path
    state: Path
    file_kinds: tuple[str, ...] = ()
    feeds: str = ""

    def setting(self, name: str) -> str:
        """The value of setting ``name`` (``""`` when unset or not declared by the source)."""
        return str(self.settings.get(name) or "").strip()


class SourceError(RuntimeError):
    """A source could not be read at all (bad file, HTTP failure). The message names the file/URL."""


def date_yearly_releases(batch: ImportBatch) -> ImportBatch:
    """Give a release labelled by its year ("2023") the date of that year's end, where the importer set no
    release date, so that editions order (a later one supersedes an earlier one). Returns the batch."""
    obs = batch.observations
    missing = obs["release_date"].isna() & obs["release"].astype(str).str.fullmatch(r"\d{4}")
    if missing.any():
        obs.loc[missing, "release_date"] = obs.loc[missing, "release"].map(lambda y: date(int(y), 12, 31))
    return batch


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty frame with ``columns`` (object dtype), to stack with or to load as nothing."""
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


def conform(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return ``frame`` with exactly ``columns`` in order; missing ones are added as nulls, and ``retrieved_at``
    is a naive UTC timestamp (the raw layer's TIMESTAMP), whether an importer wrote it naive or time-zone aware.

    Raises ValueError naming columns the contract does not have (an importer's mistake)."""
    unknown = set(frame.columns) - set(columns)
    if unknown:
        raise ValueError(f"unexpected raw columns: {sorted(unknown)}")
    out = frame.copy()
    for name in columns:
        if name not in out.columns:
            out[name] = None
    if "retrieved_at" in columns and len(out) and out["retrieved_at"].notna().any():
        out["retrieved_at"] = pd.to_datetime(out["retrieved_at"], utc=True, format="mixed").dt.tz_localize(None)
    return out[list(columns)]
