"""A geo code as Eurostat publishes it -> the region register's code, through the NUTS version it belongs to.

The register (seed ``regions``) holds every NUTS region under its NUTS 2021 code (the UK's under its NUTS 2016
code). The seed ``nuts_correspondence`` holds only the codes that differ: a code of another NUTS version and
the register code of the same territory (``FR30`` of NUTS 2010/2013 is ``FRE1``; ``NL35`` of NUTS 2024 is
``NL31``), or no register code when the territory was split or merged (``IE01`` of NUTS 2013; ``PT19`` of NUTS
2024) so that no register region is the same territory. Each row is dated by the years its version was in
force (``valid_from``/``valid_to``).

Resolution of ``geo`` for data released on ``on`` (the release date; None when the file states none):

1. correspondence rows of ``geo`` whose version was in force on ``on``: their one register code (or none, for
   a split territory);
2. else the register code ``geo`` itself, when the register has it;
3. else the correspondence rows of ``geo`` of any version, when they all name the same register code (an
   undated bulk file with ``FR30``);
4. else a register alias that names one territory only; else unresolved (kept, with ``region_code`` null).

Shapes: :class:`RegionResolver` is built from the two seeds as frames (text columns); :meth:`resolve` returns a
register code or None; :meth:`why_not` says why a geo does not resolve when the correspondence knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

EXTRA_REGIO = re.compile(r"[A-Z]{2}Z{1,3}")  # DEZ, DEZZ, DEZZZ: Eurostat's extra-regio codes


@dataclass(frozen=True)
class _Version:
    """One correspondence row: the register code (None: no single one) while its NUTS version was in force."""

    target: str | None
    version: str
    start: date | None
    end: date | None
    note: str

    def covers(self, on: date) -> bool:
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)


class RegionResolver:
    """Geo code as published -> register code, through the NUTS correspondence and the register (module docstring)."""

    def __init__(self, correspondence: pd.DataFrame | None, regions: pd.DataFrame | None = None) -> None:
        self._by_code: dict[str, list[_Version]] = {}
        if correspondence is not None and not correspondence.empty:
            for row in correspondence.fillna("").astype(str).to_dict("records"):
                code = row["nuts_code"].strip()
                if code:
                    self._by_code.setdefault(code, []).append(_Version(
                        target=row["region_code"].strip() or None,
                        version=row.get("nuts_version", "").strip(),
                        start=_to_date(row.get("valid_from")),
                        end=_to_date(row.get("valid_to")),
                        note=row.get("note", "").strip(),
                    ))
        self._register: set[str] = set()
        self._aliases: dict[str, str] = {}
        if regions is not None and not regions.empty:
            self._register = set(regions["region_code"].dropna().astype(str).str.strip())
            if "aliases" in regions.columns:
                self._aliases = _alias_map(regions)

    def resolve(self, geo: str, on: date | None = None) -> str | None:
        """The register code for ``geo`` in data released on ``on`` (see the module docstring), else None."""
        versions = self._by_code.get(geo, [])
        if on is not None:
            in_force = {v.target for v in versions if v.covers(on)}
            if in_force:
                return in_force.pop() if len(in_force) == 1 else None
        if geo in self._register:
            return geo
        targets = {v.target for v in versions}
        if len(targets) == 1:
            return targets.pop()
        if targets:
            return None
        return self._aliases.get(geo)

    def resolve_many(self, geos: Iterable[str], on: date | None = None) -> dict[str, str | None]:
        """:meth:`resolve` for each of ``geos``."""
        return {g: self.resolve(g, on) for g in geos}

    def why_not(self, geo: str) -> str | None:
        """Why ``geo`` has no register code: a split territory (the correspondence's note), an extra-regio code
        (``DEZZ``: activity outside any region), else None."""
        if EXTRA_REGIO.fullmatch(geo):
            return f"{geo}: extra-regio (activity attributed to no region)"
        split = [v for v in self._by_code.get(geo, []) if v.target is None]
        if not split:
            return None
        versions = ", ".join(sorted({v.version for v in split}))
        return f"{geo} (NUTS {versions}): {split[-1].note}"


def _alias_map(regions: pd.DataFrame) -> dict[str, str]:
    """Aliases that are unambiguous (one register code each)."""
    seen: dict[str, set[str]] = {}
    for code, aliases in zip(
        regions["region_code"].astype(str), regions["aliases"].fillna("").astype(str), strict=True
    ):
        for alias in aliases.split("|"):
            alias = alias.strip()
            if alias:
                seen.setdefault(alias, set()).add(code.strip())
    return {a: next(iter(c)) for a, c in seen.items() if len(c) == 1}


def _to_date(text: object) -> date | None:
    value = "" if text is None else str(text).strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
