"""Where things live. Every path derives from ``REGIOCODE_HOME`` (default ``./var``) so that one
environment variable moves the whole installation; nothing else is hard-coded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("REGIOCODE_PROJECT_DIR", Path(__file__).resolve().parents[1]))
DBT_PROJECT_DIR = PROJECT_DIR / "dbt"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
TEMPLATES_DIR = PROJECT_DIR / "reports" / "templates"

DEMO_LABEL = "synthetic demo data"
OFFICIAL_LABEL = "official statistics"


@dataclass(frozen=True)
class Paths:
    """The folders and files under one ``REGIOCODE_HOME``."""

    home: Path

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Paths:
        chosen = home if home is not None else os.environ.get("REGIOCODE_HOME", "var")
        return cls(Path(chosen).expanduser().resolve())

    @property
    def work_db(self) -> Path:
        """The working warehouse: only the pipeline writes it."""
        return self.home / "work" / "regiocode.duckdb"

    @property
    def published_db(self) -> Path:
        """The published read-only warehouse: what SQL users and briefings read."""
        return self.home / "warehouse" / "regiocode.duckdb"

    @property
    def briefings(self) -> Path:
        return self.home / "briefings"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def state(self) -> Path:
        """Pull state (content hashes, last-update dates), render cache keys."""
        return self.home / "state"

    @property
    def downloads(self) -> Path:
        return self.home / "downloads"

    def ensure(self) -> Paths:
        for folder in (self.work_db.parent, self.published_db.parent, self.briefings, self.inbox, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        return self
