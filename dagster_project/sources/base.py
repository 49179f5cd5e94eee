"""The raw contract every source importer produces (DESIGN.md, "Data contracts").

An importer returns an :class:`ImportBatch`: observations exactly as received (plus the
catalog and register keys it could resolve) and rejects, each with the reason and where the
cell came from. Nothing is dropped silently: what cannot be parsed becomes a reject.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# raw.observations, in column order. Types are DuckDB types.
OBSERVATION_COLUMNS: dict[str, str] = {
    "source": "VARCHAR",  # demo | rosstat | eurostat | files
    "dataset": "VARCHAR",  # publication / dataset id (e.g. "regions_of_russia", "nama_10r_2gdp")
    "table_code": "VARCHAR",  # table within the dataset (Rosstat "8.1."; Eurostat filter key)
    "region_key": "VARCHAR",  # the territory as the source spells it
    "region_code": "VARCHAR",  # register code resolved by the importer, null when unresolved
    "indicator_key": "VARCHAR",  # the indicator as the source names it
    "indicator_code": "VARCHAR",  # catalog indicator, null when the catalog does not map it
    "period": "INTEGER",  # year (academic years: the year they start)
    "value": "DOUBLE",  # null when the cell is a missing token
    "flag": "VARCHAR",  # null | p | e | b | c | na | none  (c = confidential, na = not available, none = absent)
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

FLAGS = {"p", "e", "b", "c", "na", "none"}


@dataclass
class ImportBatch:
    """What one import produced. ``observations``/``rejects`` have the columns above."""

    source: str
    observations: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=lambda: empty_frame(REJECT_COLUMNS))
    # Human-readable notes: tables skipped with the reason, files unchanged, etc.
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.observations = conform(self.observations, OBSERVATION_COLUMNS)
        self.rejects = conform(self.rejects, REJECT_COLUMNS)


class SourceError(RuntimeError):
    """A source could not be read at all (bad file, HTTP failure). The message names the file/URL."""


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


def conform(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return ``frame`` with exactly ``columns`` in order; missing ones are added as nulls."""
    unknown = set(frame.columns) - set(columns)
    if unknown:
        raise ValueError(f"unexpected raw columns: {sorted(unknown)}")
    out = frame.copy()
    for name in columns:
        if name not in out.columns:
            out[name] = None
    return out[list(columns)]
