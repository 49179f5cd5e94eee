"""Reading the dbt seeds (``dbt/seeds/*.csv``) from Python: the region register, the indicator catalog,
the source mappings and the other reference tables that importers, checks and the briefings need
before dbt has loaded them.

One reader, so every caller sees a seed the same way dbt's CSV loader would not mangle it: every
column as text (OKATO codes and table codes such as «8.10.» keep their form), and an empty cell as
``""`` rather than NaN (so ``NA`` or ``None`` in a name stay text). Callers convert the columns they
compute with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.settings import SEEDS_DIR


def seed_path(name: str, seeds_dir: Path | None = None) -> Path:
    """The CSV file of seed ``name`` (``"regions"`` → ``dbt/seeds/regions.csv``)."""
    return Path(seeds_dir or SEEDS_DIR) / f"{name}.csv"


def read_seed(name: str, seeds_dir: Path | None = None) -> pd.DataFrame:
    """Seed ``name`` as a DataFrame of strings (empty cells ``""``).

    Raises FileNotFoundError naming the file when the seed does not exist.
    """
    path = seed_path(name, seeds_dir)
    if not path.is_file():
        raise FileNotFoundError(f"seed {name!r} not found: {path} (the dbt project's seeds folder)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)
