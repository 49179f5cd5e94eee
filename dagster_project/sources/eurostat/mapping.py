"""From a parsed Eurostat file to the raw contract: values, flags, the release, regions and indicators.

One set of rules for every format (:mod:`.tsv`, :mod:`.sdmx_csv`, :mod:`.jsonstat`):

* **Values.** A value is a finite decimal number (``1234``, ``-0.5``, ``1.2e3``) below :data:`MAX_ABS_VALUE` in
  magnitude, or missing (``:`` or empty, the reason in the flag: ``c`` confidential, ``none`` for Eurostat's
  ``z`` not applicable, else ``na``). Anything else is a reject with the text as published and the reason:
  not a number (``12,5``, ``abc``), not a finite number (``inf``, ``Infinity``, ``NaN``, ``1e309``), out of
  range (``1e16``), an empty TSV cell, a period that is not a year (``2023-01``: ``raw.observations`` holds
  yearly periods), a row without a geo code.
* **Flags.** Eurostat's letters of a published value are kept, lower-cased (``p``, ``e``, ``b``, ``bp``, ``d``);
  a confidentiality status other than ``F`` (free) adds ``c``.
* **The release** is, in order: the one the caller knows (the table of contents of a pull, the ``.meta.json``
  sidecar written at download), the one the content states (SDMX-CSV ``LAST UPDATE``, JSON-stat ``updated``),
  else the format's era: an API-format file that states none is ordered as of
  :data:`~.parsed.API_ERA_START` (when that format began; the file can hold no older state of the data), a
  retired bulk-download file gets no release date (it predates every API file, and a missing date orders
  before every dated release). An undated file's release label says so and names the file. Never a file's
  modification time.
* **Series and indicators** (:mod:`.rules`): ``table_code`` is the series key ``dim=code;…`` (defaults left
  out), ``indicator_key`` ``<dataset>/<series key>``; both are the same in every release. ``indicator_code`` is
  the catalog indicator of the rule that takes the series. A rule that cannot apply to the file becomes a
  reject (``mapping of <indicator> cannot apply …``) and a warning on the console.
* **Regions** (:mod:`.regions`): ``region_key`` is the geo as published, ``region_code`` the register code
  through the NUTS correspondence of the release's date; rows are never dropped for an unresolved geo.

Shapes: :func:`raw_from_bytes` takes a body and returns frames with the columns of
:data:`~dagster_project.sources.base.OBSERVATION_COLUMNS` / ``REJECT_COLUMNS``, notes, and the parsed table.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from dagster_project.sources.base import (
    OBSERVATION_COLUMNS,
    REJECT_COLUMNS,
    ImportBatch,
    empty_frame,
)
from dagster_project.sources.eurostat.formats import parse_bytes
from dagster_project.sources.eurostat.parsed import API_ERA_START, ERA_BULK, ContentError, ParsedTable
from dagster_project.sources.eurostat.regions import RegionResolver
from dagster_project.sources.eurostat.rules import MappingRule, match_series, series_key

SOURCE = "eurostat"
LOG = logging.getLogger("dagster_project.sources.eurostat")
YEAR = re.compile(r"\d{4}")
MISSING_TOKENS = ("", ":")
NON_FINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan", "-nan"}
MAX_ABS_VALUE = 1e15  # no regional statistic comes near it (the EU's GDP is about 1.7e7 million euro)
FREE_CONF_STATUS = ("", "F")
UNDATED = "release not stated"


@dataclass(frozen=True)
class Release:
    """A release as the raw contract records it: ``label`` (``release``) and ``day`` (``release_date``)."""

    label: str | None
    day: date | None
    stated: bool  # False: inferred from the format's era


def release_of(table: ParsedTable, stated: date | None, name: str) -> Release:
    """The release of ``table``: ``stated`` (caller, sidecar), else the content's, else the format's era."""
    day = stated or table.release
    if day is not None:
        return Release(day.isoformat(), day, True)
    if table.era == ERA_BULK:
        return Release(f"{UNDATED} (bulk download, before {API_ERA_START:%Y-%m}): {name}", None, False)
    return Release(f"{UNDATED} (API download, {API_ERA_START:%Y-%m} or later): {name}", API_ERA_START, False)


@dataclass(frozen=True)
class Provenance:
    """Where a parsed table came from and which release it is."""

    dataset: str
    origin: str
    release: Release
    retrieved_at: pd.Timestamp


def to_raw(
    table: ParsedTable, prov: Provenance, rules: list[MappingRule], resolver: RegionResolver
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Observations and rejects (raw contract columns) and notes for one parsed table."""
    matching = match_series(prov.dataset, table.series, table.dimensions, rules)
    notes = list(matching.notes)
    rule_rejects = _unusable_rules(matching.unusable, table, prov)
    cells = table.cells
    if cells.empty:
        return empty_frame(OBSERVATION_COLUMNS), rule_rejects, notes
    value, flag, reason = decode_values(cells)
    keep = pd.isna(reason)
    obs = _observations(cells[keep], value[keep], flag[keep], table, prov, matching.matched, resolver, notes)
    rej = _rejects(cells[~keep], reason[~keep], table, prov)
    if (~keep).any():
        notes.append(f"{prov.origin}: {int((~keep).sum())} cells rejected (see raw.rejects)")
    return obs, pd.concat([r for r in (rule_rejects, rej) if not r.empty] or [rej], ignore_index=True), notes


def decode_values(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers, contract flags, and per cell None or the reason it is rejected (module docstring), vectorised."""
    text = _text(cells["value_text"])
    missing = text.isin(MISSING_TOKENS).to_numpy()
    # pandas reads exactly the decimal numbers as finite floats; what it reads as inf or nan, or not at all, is
    # either a spelled-out non-finite value (inf, Infinity, NaN) or an overflow (1e309), or not a number.
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float, copy=True)
    finite = np.isfinite(numbers)
    infinite = ~missing & np.isinf(numbers)
    for i in np.flatnonzero(~missing & ~finite & ~infinite):
        infinite[i] = text.iat[i].strip().lower() in NON_FINITE
    with np.errstate(invalid="ignore"):
        too_large = finite & (np.abs(numbers) >= MAX_ABS_VALUE)
    numeric = finite | infinite
    times = _text(cells["time"])
    labels, uniques = pd.factorize(times)  # a few dozen distinct periods: test each once
    yearly = np.array([bool(YEAR.fullmatch(str(u))) for u in uniques], dtype=bool)[labels]
    reason = np.full(len(cells), None, dtype=object)
    bad = ~missing & ~numeric
    for i in np.flatnonzero(bad | infinite | too_large | ~yearly | (_text(cells["geo"]) == "").to_numpy()
                            | cells["problem"].notna().to_numpy()):
        reason[i] = _reason(cells["problem"].iat[i], times.iat[i], cells["geo"].iat[i], text.iat[i],
                            bool(bad[i]), bool(infinite[i]), bool(too_large[i]), bool(yearly[i]))
    numbers[missing | ~numeric | infinite | too_large] = np.nan
    # A few distinct (flag, status, missing) combinations: decode each once.
    combos = _text(cells["flag_text"]) + "\x1f" + _text(cells["conf_text"]) + np.where(missing, "\x1f1", "\x1f0")
    labels, unique = pd.factorize(combos.to_numpy(dtype=object))
    decoded = [_contract_flag(_letters(f, c), gone == "1") for f, c, gone in (u.split("\x1f") for u in unique)]
    flag = np.array(decoded + [None], dtype=object)[labels]
    return numbers, flag, reason


def _reason(problem: object, period: str, geo: object, text: str, bad: bool, infinite: bool, too_large: bool,
            yearly: bool) -> str:
    """Why one cell is rejected, the first that applies."""
    if isinstance(problem, str) and problem:
        return problem
    if not yearly:
        return f"period {period} is not a year; raw.observations holds yearly periods only"
    if not str(geo or "").strip():
        return "the row names no geo code (territory)"
    if infinite:
        return f"value {text!r} is not a finite number"
    if too_large:
        return f"value {text!r} is out of range: its magnitude is {MAX_ABS_VALUE:.0e} or more (a corrupt cell?)"
    return f"value {text!r} is not a number (expected a number with a decimal point, or ':')"


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
    """Text as plain Python strings (object dtype), '' for null: no Arrow round trips on hot paths."""
    return series.astype(object).where(series.notna(), "")


def _observations(
    cells: pd.DataFrame,
    value: np.ndarray,
    flag: np.ndarray,
    table: ParsedTable,
    prov: Provenance,
    matched: dict[str, MappingRule],
    resolver: RegionResolver,
    notes: list[str],
) -> pd.DataFrame:
    if cells.empty:
        return empty_frame(OBSERVATION_COLUMNS)
    n = len(cells)
    key_inverse, keys = pd.factorize(cells["series_key"].to_numpy(dtype=object))
    geo_inverse, geos = pd.factorize(cells["geo"].to_numpy(dtype=object))
    regions = resolver.resolve_many(geos.tolist(), prov.release.day)
    notes.extend(_unresolved_note(prov.origin, regions, resolver))
    named = [series_key(table.series.get(k, {})) for k in keys.tolist()]
    per_key = [
        (matched[k].indicator_code if k in matched else None, _unit(table.series.get(k, {}), matched.get(k)))
        for k in keys.tolist()
    ]

    def column(values: object) -> pd.Series:
        array = np.empty(n, dtype=object)
        array[:] = values
        return pd.Series(array, dtype=object)

    return pd.DataFrame({
        "source": column(SOURCE),
        "dataset": column(prov.dataset),
        "table_code": column(np.array(named, dtype=object)[key_inverse]),
        "region_key": column(np.asarray(geos, dtype=object)[geo_inverse]),
        "region_code": column(np.array([regions[g] for g in geos.tolist()], dtype=object)[geo_inverse]),
        "indicator_key": column(np.array([f"{prov.dataset}/{k}" for k in named], dtype=object)[key_inverse]),
        "indicator_code": column(np.array([p[0] for p in per_key], dtype=object)[key_inverse]),
        "period": cells["time"].to_numpy(dtype=object).astype(np.int64),
        "value": value,
        "flag": column(flag),
        "unit": column(np.array([p[1] for p in per_key], dtype=object)[key_inverse]),
        "release": column(prov.release.label),
        "release_date": column(prov.release.day),
        "retrieved_at": pd.Series(pd.Timestamp(prov.retrieved_at), index=range(n)),
        "origin": column(prov.origin),
        "cell_ref": column(cells["cell_ref"].to_numpy(dtype=object)),
    })


def _unit(codes: dict[str, str], rule: MappingRule | None) -> str | None:
    """The unit code as the data publishes it (``unit``/``currency`` dimension), else the rule's."""
    for dim in ("unit", "currency"):
        if codes.get(dim):
            return codes[dim]
    return rule.unit_as_published if rule else None


def _unresolved_note(origin: str, regions: dict[str, str | None], resolver: RegionResolver) -> list[str]:
    """One note naming the geo codes without a register region (and why, where the correspondence knows)."""
    missing = sorted(g for g, code in regions.items() if code is None)
    if not missing:
        return []
    shown = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
    why = [w for w in map(resolver.why_not, missing) if w and "extra-regio" not in w][:4]
    if any("extra-regio" in (resolver.why_not(g) or "") for g in missing):
        why.append("codes ending in Z are extra-regio (activity attributed to no region)")
    return [f"{origin}: {len(missing)} geo codes have no register region ({shown}); kept with region_code null"
            + (f". {'; '.join(why)}" if why else "")]


def _rejects(cells: pd.DataFrame, reason: np.ndarray, table: ParsedTable, prov: Provenance) -> pd.DataFrame:
    """One reject per unusable cell, with the text as published, its series key and where it was."""
    if cells.empty:
        return empty_frame(REJECT_COLUMNS)
    named = {k: series_key(codes) for k, codes in table.series.items()}
    raw = [
        " ".join(p for p in (v or ":", f, f"|{c}" if c else "") if p)
        for v, f, c in zip(_text(cells["value_text"]).tolist(), _text(cells["flag_text"]).tolist(),
                           _text(cells["conf_text"]).tolist(), strict=True)
    ]
    refs = [f"{r} ({g}, {t})" for r, g, t in zip(_text(cells["cell_ref"]).tolist(), _text(cells["geo"]).tolist(),
                                                   _text(cells["time"]).tolist(), strict=True)]
    return pd.DataFrame({
        "source": SOURCE,
        "dataset": prov.dataset,
        "table_code": [named.get(k, k) for k in _text(cells["series_key"]).tolist()],
        "origin": prov.origin,
        "cell_ref": refs,
        "raw_value": raw,
        "reason": list(reason),
        "release": prov.release.label,
        "retrieved_at": pd.Timestamp(prov.retrieved_at),
    })[list(REJECT_COLUMNS)]


def _unusable_rules(
    unusable: list[tuple[MappingRule, list[str]]], table: ParsedTable, prov: Provenance
) -> pd.DataFrame:
    """A reject, and a warning on the console, for each mapping rule that cannot apply to the file."""
    rows = []
    for rule, lacking in unusable:
        dims = ", ".join(lacking)
        reason = (f"mapping of {rule.indicator_code} ({rule.filters_text}) cannot apply to this file: it has no "
                  f"dimension {dims}, which has no documented default; the file's dimensions are "
                  f"{', '.join(table.dimensions) or 'none besides geo and time'}")
        LOG.warning("%s: %s", prov.origin, reason)
        rows.append({"source": SOURCE, "dataset": prov.dataset, "table_code": rule.filters_text,
                     "origin": prov.origin, "cell_ref": "header", "raw_value": ",".join(table.dimensions),
                     "reason": reason, "release": prov.release.label, "retrieved_at": prov.retrieved_at})
    return pd.DataFrame(rows, columns=list(REJECT_COLUMNS)) if rows else empty_frame(REJECT_COLUMNS)


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
    name: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], ParsedTable]:
    """Parse one body or file content into raw frames; ``origin`` (path or URL) names it in errors and rows.

    The dataset is, in order: what the caller knows (the request, the sidecar), what the content says
    (SDMX-CSV ``DATAFLOW``/``STRUCTURE_ID``, JSON-stat ``extension.id``), what the file name says. ``release``
    is a release date the caller knows; ``name`` (default: the end of ``origin``) labels an undated release.
    Raises :class:`SourceError` when the content cannot be read or names no dataset.
    """
    table = parse_bytes(data, origin)
    chosen = (dataset or table.dataset or fallback_dataset or "").lower()
    if not chosen:
        raise ContentError(f"{origin}: cannot tell which dataset this is (name the file after it)")
    prov = Provenance(
        dataset=chosen,
        origin=origin,
        release=release_of(table, release, name or origin.rsplit("/", 1)[-1]),
        retrieved_at=pd.Timestamp(retrieved_at or datetime.now(UTC).replace(tzinfo=None)),
    )
    obs, rej, notes = to_raw(table, prov, rules, resolver)
    notes = table.notes + notes
    if not any(r.dataset == chosen for r in rules):
        notes.append(f"{origin}: dataset {chosen} is not in the catalog mapping; imported without indicator codes")
    if not prov.release.stated:
        notes.append(f"{origin}: the release of {chosen} is not stated in the file or a sidecar; recorded as "
                     f"{prov.release.label!r}" + (f", ordered as of {prov.release.day}" if prov.release.day else
                                                   ", ordered before every dated release"))
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
