"""From Eurostat cells to the raw contract: decode values and flags, resolve regions and indicators.

Kept apart from the format readers so that TSV, SDMX-CSV and JSON-stat are decoded by the same
rules:

* a value is a number, or missing (``:`` / empty) with the reason in the flag: ``c``
  confidential, ``none`` not applicable (Eurostat's ``z``), otherwise ``na``;
* flag letters of a published value are kept as Eurostat wrote them (``p``, ``e``, ``b``, ``bp``,
  ``d``...), lower-cased; a confidentiality status other than ``F`` (free) adds ``c``;
* only yearly periods fit ``raw.observations.period``; a monthly/quarterly cell becomes a reject
  saying so, as does a value that is not a number.

Regions: the geo code as published is kept in ``region_key``; ``region_code`` is the register's
code through the NUTS correspondence seed (so FR30 of NUTS 2013 becomes FRE1), else the geo
itself when the register has it (or as an alias), else null. Rows are never dropped for it.

Indicators: a series gets the catalog ``indicator_code`` of the mapping row of its dataset whose
filters (``dim=code;dim=code``; ``+`` separates alternatives) all match its dimension codes.
Values stay as published; the seed's ``scale`` converts them to the catalog unit in staging.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from dagster_project.sources.base import (
    OBSERVATION_COLUMNS,
    REJECT_COLUMNS,
    ImportBatch,
    SourceError,
    empty_frame,
)
from dagster_project.sources.eurostat.formats import ParsedTable, parse_bytes

SOURCE = "eurostat"
YEAR = re.compile(r"\d{4}")
MISSING_TOKENS = ("", ":", "NaN", "nan")
FREE_CONF_STATUS = ("", "F")


@dataclass(frozen=True)
class MappingRule:
    """One row of ``indicator_sources_eurostat``: which series of a dataset is which indicator."""

    indicator_code: str
    dataset: str
    filters: dict[str, frozenset[str]]
    unit_as_published: str | None
    scale: float


def parse_filters(text: object) -> dict[str, frozenset[str]]:
    """``"unit=EUR_HAB;sex=T"`` -> ``{"unit": {"EUR_HAB"}, "sex": {"T"}}``; ``a+b`` means a or b."""
    out: dict[str, frozenset[str]] = {}
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return out
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"filter {part!r} is not dimension=code")
        dim, codes = part.split("=", 1)
        out[dim.strip()] = frozenset(c.strip() for c in codes.split("+") if c.strip())
    return out


def load_rules(mapping: pd.DataFrame) -> list[MappingRule]:
    """The mapping seed's rows that name a dataset (rows without one document a gap)."""
    rules: list[MappingRule] = []
    if mapping is None or mapping.empty:
        return rules
    for row in mapping.fillna("").astype(str).to_dict("records"):
        dataset = row.get("dataset", "").strip().lower()
        if not dataset:
            continue
        scale_text = row.get("scale", "").strip()
        rules.append(
            MappingRule(
                indicator_code=row["indicator_code"].strip(),
                dataset=dataset,
                filters=parse_filters(row.get("filters", "")),
                unit_as_published=row.get("unit_as_published", "").strip() or None,
                scale=float(scale_text) if scale_text else 1.0,
            )
        )
    return rules


def match_series(
    dataset: str, series: dict[str, dict[str, str]], rules: Iterable[MappingRule]
) -> tuple[dict[str, MappingRule], list[str]]:
    """Series key -> the mapping rule it satisfies, plus notes about rules that cannot apply."""
    own = [r for r in rules if r.dataset == dataset]
    notes: list[str] = []
    matched: dict[str, MappingRule] = {}
    if not own or not series:
        return matched, notes
    dims = set().union(*(set(d) for d in series.values()))
    for rule in own:
        missing = sorted(set(rule.filters) - dims)
        if missing:
            notes.append(
                f"{dataset}: mapping of {rule.indicator_code} filters on {missing}, which the data "
                f"does not have (dimensions {sorted(dims)}); no indicator assigned by it"
            )
    for key, codes in series.items():
        hits = [r for r in own if all(codes.get(d) in allowed for d, allowed in r.filters.items())]
        if hits:
            matched[key] = hits[0]
        if len(hits) > 1:
            notes.append(
                f"{dataset}: series {key} matches {', '.join(h.indicator_code for h in hits)}; "
                f"kept {hits[0].indicator_code}"
            )
    return matched, notes


class RegionResolver:
    """Geo code as published -> register code, through the NUTS correspondence and the register."""

    def __init__(self, correspondence: pd.DataFrame | None, regions: pd.DataFrame | None = None) -> None:
        self._by_code: dict[str, list[tuple[str, date | None, date | None]]] = {}
        if correspondence is not None and not correspondence.empty:
            for row in correspondence.fillna("").astype(str).to_dict("records"):
                code, target = row["nuts_code"].strip(), row["region_code"].strip()
                if code and target:
                    self._by_code.setdefault(code, []).append(
                        (target, _to_date(row.get("valid_from")), _to_date(row.get("valid_to")))
                    )
        self._register: set[str] = set()
        self._aliases: dict[str, str] = {}
        if regions is not None and not regions.empty:
            self._register = set(regions["region_code"].dropna().astype(str).str.strip())
            if "aliases" in regions.columns:
                self._aliases = _alias_map(regions)

    def resolve(self, geo: str, on: date | None = None) -> str | None:
        """The register code for ``geo``; ``on`` (the release date) settles a reused code."""
        candidates = self._by_code.get(geo)
        if candidates:
            targets = {t for t, _, _ in candidates}
            if len(targets) == 1:
                return targets.pop()
            if on is not None:
                dated = {
                    t
                    for t, start, end in candidates
                    if (start is None or start <= on) and (end is None or on <= end)
                }
                if len(dated) == 1:
                    return dated.pop()
            return None
        if geo in self._register:
            return geo
        return self._aliases.get(geo)

    def resolve_many(self, geos: Iterable[str], on: date | None = None) -> dict[str, str | None]:
        return {g: self.resolve(g, on) for g in geos}


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


@dataclass(frozen=True)
class Provenance:
    """Where a parsed table came from and which release it is."""

    dataset: str
    origin: str
    release: str | None
    release_date: date | None
    retrieved_at: pd.Timestamp


def to_raw(
    table: ParsedTable, prov: Provenance, rules: list[MappingRule], resolver: RegionResolver
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Observations and rejects (raw contract columns) for one parsed table."""
    cells = table.cells
    matched, notes = match_series(prov.dataset, table.series, rules)
    if cells.empty:
        return _empty(OBSERVATION_COLUMNS), _empty(REJECT_COLUMNS), notes
    value, flag, bad_value = decode_values(cells["value_text"], cells["flag_text"], cells["conf_text"])
    time = _text(cells["time"])
    labels, uniques = pd.factorize(time)  # a few dozen distinct periods: test each once
    yearly = np.array([bool(YEAR.fullmatch(str(u))) for u in uniques], dtype=bool)[labels]
    reject = bad_value | ~yearly
    keep = ~reject
    obs = _observations(cells[keep], value[keep], flag[keep], time[keep], table, prov, matched, resolver)
    rej = _rejects(cells[reject], bad_value[reject], time[reject], prov)
    if reject.any():
        notes.append(f"{prov.origin}: {int(reject.sum())} cells rejected (see raw.rejects)")
    return obs, rej, notes


def decode_values(
    value_text: pd.Series, flag_text: pd.Series, conf_text: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers, contract flags and a 'not a number' mask, over all cells at once."""
    text = _text(value_text)  # readers strip the text
    missing = text.isin(MISSING_TOKENS).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float, copy=True)
    bad_value = ~missing & np.isnan(numbers)
    numbers[missing] = np.nan
    flags = [
        _letters(f, c) for f, c in zip(_text(flag_text).tolist(), _text(conf_text).tolist(), strict=True)
    ]
    flag = np.array(
        [_contract_flag(f, gone) for f, gone in zip(flags, missing.tolist(), strict=True)], dtype=object
    )
    return numbers, flag, bad_value


@lru_cache(maxsize=4096)
def _letters(flag: str, conf: str) -> str:
    """Eurostat's flag letters, lower-cased; a non-free confidentiality status adds ``c``."""
    letters = "".join(ch for ch in flag if ch.isalpha()).lower()
    if conf.strip().upper() not in FREE_CONF_STATUS and "c" not in letters:
        letters += "c"
    return letters


@lru_cache(maxsize=4096)
def _contract_flag(letters: str, missing: bool) -> str | None:
    """A missing value's flag says why (c, none for Eurostat's z, else na); a value keeps its letters."""
    if missing:
        return "c" if "c" in letters else "none" if "z" in letters else "na"
    return letters or None


def _text(series: pd.Series) -> pd.Series:
    """Text as plain Python strings (object dtype): no Arrow round trips on hot paths."""
    return series.astype(object).where(series.notna(), "")


def _observations(
    cells: pd.DataFrame,
    value: np.ndarray,
    flag: np.ndarray,
    time: pd.Series,
    table: ParsedTable,
    prov: Provenance,
    matched: dict[str, MappingRule],
    resolver: RegionResolver,
) -> pd.DataFrame:
    if cells.empty:
        return _empty(OBSERVATION_COLUMNS)
    n = len(cells)
    series_key = cells["series_key"].to_numpy(dtype=object)
    geo = cells["geo"].to_numpy(dtype=object)
    keys, key_inverse = np.unique(series_key.astype(str), return_inverse=True)
    geos, geo_inverse = np.unique(geo.astype(str), return_inverse=True)
    regions = resolver.resolve_many(geos.tolist(), prov.release_date)
    per_key = {
        k: (
            matched[k].indicator_code if k in matched else None,
            _unit(table.series.get(k, {}), matched.get(k)),
            f"{prov.dataset}/{k}",
        )
        for k in keys.tolist()
    }
    indicator = np.array([per_key[k][0] for k in keys.tolist()], dtype=object)
    unit = np.array([per_key[k][1] for k in keys.tolist()], dtype=object)
    indicator_key = np.array([per_key[k][2] for k in keys.tolist()], dtype=object)
    region = np.array([regions[g] for g in geos.tolist()], dtype=object)

    def text(values: object) -> pd.Series:
        array = np.empty(n, dtype=object)
        array[:] = values
        return pd.Series(array, dtype=object)

    return pd.DataFrame(
        {
            "source": text(SOURCE),
            "dataset": text(prov.dataset),
            "table_code": text(series_key),
            "region_key": text(geo),
            "region_code": text(region[geo_inverse]),
            "indicator_key": text(indicator_key[key_inverse]),
            "indicator_code": text(indicator[key_inverse]),
            "period": time.to_numpy(dtype=object).astype(np.int64),
            "value": value,
            "flag": text(flag),
            "unit": text(unit[key_inverse]),
            "release": text(prov.release),
            "release_date": text(prov.release_date),
            "retrieved_at": pd.Series(pd.Timestamp(prov.retrieved_at), index=range(n)),
            "origin": text(prov.origin),
            "cell_ref": text(cells["cell_ref"].to_numpy(dtype=object)),
        }
    )


def _unit(codes: dict[str, str], rule: MappingRule | None) -> str | None:
    """The unit code as the data publishes it (``unit``/``currency`` dimension), else the seed's."""
    for dim in ("unit", "currency"):
        if codes.get(dim):
            return codes[dim]
    return rule.unit_as_published if rule else None


def _rejects(cells: pd.DataFrame, bad_value: np.ndarray, time: pd.Series, prov: Provenance) -> pd.DataFrame:
    """One reject per unusable cell, with the text as published and where it was."""
    if cells.empty:
        return _empty(REJECT_COLUMNS)
    rows = zip(
        _text(cells["value_text"]).tolist(),
        _text(cells["flag_text"]).tolist(),
        _text(cells["conf_text"]).tolist(),
        _text(cells["geo"]).tolist(),
        time.tolist(),
        _text(cells["cell_ref"]).tolist(),
        bad_value.tolist(),
        strict=True,
    )
    records = []
    for value, flag, conf, geo, period, ref, bad in rows:
        raw = " ".join(p for p in (value or ":", flag, f"|{conf}" if conf else "") if p)
        reason = (
            "value is not a number (expected a number or ':')"
            if bad
            else f"period {period} is not a year; raw.observations holds yearly periods only"
        )
        records.append({"cell_ref": f"{ref} ({geo}, {period})", "raw_value": raw, "reason": reason})
    out = pd.DataFrame.from_records(records)
    out.insert(0, "source", SOURCE)
    out.insert(1, "dataset", prov.dataset)
    out.insert(2, "table_code", _text(cells["series_key"]).tolist())
    out.insert(3, "origin", prov.origin)
    out["release"] = prov.release
    out["retrieved_at"] = pd.Timestamp(prov.retrieved_at)
    return out[list(REJECT_COLUMNS)]


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


def raw_from_bytes(
    data: bytes,
    origin: str,
    rules: list[MappingRule],
    resolver: RegionResolver,
    *,
    dataset: str | None = None,
    fallback_dataset: str | None = None,
    release: date | None = None,
    retrieved_at: datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], ParsedTable]:
    """Parse one body or file content into raw frames; ``origin`` (path or URL) names it in errors.

    The dataset is, in order: what the caller knows (the request), what the content says
    (SDMX-CSV ``DATAFLOW``, JSON-stat ``extension.id``), what the file name says. The release is
    the caller's (table of contents, download sidecar) or the content's last-update date.
    """
    table = parse_bytes(data, origin)
    chosen = (dataset or table.dataset or fallback_dataset or "").lower()
    if not chosen:
        raise SourceError(f"{origin}: cannot tell which dataset this is (name the file after it)")
    release_date = release or table.release
    prov = Provenance(
        dataset=chosen,
        origin=origin,
        release=release_date.isoformat() if release_date else None,
        release_date=release_date,
        retrieved_at=pd.Timestamp(retrieved_at or datetime.now(UTC).replace(tzinfo=None)),
    )
    obs, rej, notes = to_raw(table, prov, rules, resolver)
    notes = table.notes + notes
    if not any(r.dataset == chosen for r in rules):
        notes.append(
            f"{origin}: dataset {chosen} is not in the catalog mapping; imported without indicator codes"
        )
    if release_date is None:
        notes.append(f"{origin}: the release (last update of {chosen}) is unknown")
    return obs, rej, notes, table


def make_batch(
    observations: list[pd.DataFrame], rejects: list[pd.DataFrame], notes: list[str]
) -> ImportBatch:
    """One :class:`ImportBatch` from per-file frames (empty frames are skipped, not concatenated)."""
    obs = [o for o in observations if not o.empty]
    rej = [r for r in rejects if not r.empty]
    return ImportBatch(
        source=SOURCE,
        observations=pd.concat(obs, ignore_index=True) if obs else empty_frame(OBSERVATION_COLUMNS),
        rejects=pd.concat(rej, ignore_index=True) if rej else empty_frame(REJECT_COLUMNS),
        notes=notes,
    )
