"""The catalog's Eurostat mapping rules, the series key, and which series of a file a rule takes.

**A series is named by its dimensions as the catalog names them.** The catalog (seed
``indicator_sources_eurostat``) writes a rule's filters as ``dim=code;dim=code`` (``+`` separates alternatives:
``age=Y15-64+Y20-64``). A series gets the same kind of key: its dimension codes (geo and time aside) as
``dim=code`` pairs sorted by dimension, e.g. ``na_item=B6N;unit=EUR_HAB``. The key does not depend on the order
a file lists its dimensions in, on labels, or on the release: the same series in the retired bulk TSV
(``unit,na_item,geo\\time``) and in today's API TSV (``freq,unit,direct,na_item,geo\\TIME_PERIOD``) has one key.

**Dimensions Eurostat added later take their documented default** (:data:`DIMENSION_DEFAULTS`, the one place
these are kept): a file without ``freq`` is annual (``freq=A``); a file of the household accounts without
``direct`` holds the balance (``direct=BAL``, the only flow before the dimension was added). A dimension at its
default is left out of the key, so a release with the dimension and one without it name a series alike; a
series whose every dimension is at its default is ``freq=A``. A rule filtering on such a dimension applies to
a file without it as if the file had the default, so one rule applies to every release of its dataset.

**A rule that cannot apply** to a file of its dataset (it filters on a dimension the file does not have and
that has no default) is reported, unless another rule for the same indicator applies to the file.

Shapes: :func:`load_rules` takes the seed as a frame (text columns ``indicator_code, dataset, filters,
unit_as_published, scale``) and returns :class:`MappingRule` s; :func:`match_series` takes a dataset code, a
reader's ``{series key: {dimension: code}}`` and the file's dimensions, and returns a :class:`Matching`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

# The code a dimension takes in a file that does not have it (Eurostat added these dimensions to datasets
# that existed without them). Kept here only; docs/architecture.md points to it.
DIMENSION_DEFAULTS: dict[str, str] = {
    "freq": "A",  # every API dataset has freq since 2023; the bulk-download files without it were annual
    "direct": "BAL",  # household accounts (nama_10r_2hhinc …): before direct was added, the balance was published
}
ANNUAL_KEY = "freq=A"  # the key of a series whose every dimension is at its default


@dataclass(frozen=True)
class MappingRule:
    """One row of ``indicator_sources_eurostat``: which series of a dataset is which catalog indicator.

    ``filters``: dimension -> the codes accepted; ``scale``: the factor from the published unit to the
    catalog unit (applied in dbt, not here).
    """

    indicator_code: str
    dataset: str
    filters: dict[str, frozenset[str]]
    unit_as_published: str | None
    scale: float

    @property
    def filters_text(self) -> str:
        """The filters as the catalog writes them (``na_item=B6N;unit=EUR_HAB``), dimensions sorted."""
        return ";".join(f"{d}={'+'.join(sorted(c))}" for d, c in sorted(self.filters.items()))


def parse_filters(text: object) -> dict[str, frozenset[str]]:
    """``"unit=EUR_HAB;sex=T"`` -> ``{"unit": {"EUR_HAB"}, "sex": {"T"}}``; ``a+b`` means a or b.

    Raises ValueError for a part that is not ``dimension=code``."""
    out: dict[str, frozenset[str]] = {}
    if text is None or (isinstance(text, float) and pd.isna(text)):
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


def load_rules(mapping: pd.DataFrame | None) -> list[MappingRule]:
    """The mapping seed's rows that name a dataset (rows without one document a gap), in seed order."""
    rules: list[MappingRule] = []
    if mapping is None or mapping.empty:
        return rules
    for row in mapping.fillna("").astype(str).to_dict("records"):
        dataset = row.get("dataset", "").strip().lower()
        if not dataset:
            continue
        scale_text = row.get("scale", "").strip()
        rules.append(MappingRule(
            indicator_code=row["indicator_code"].strip(),
            dataset=dataset,
            filters=parse_filters(row.get("filters", "")),
            unit_as_published=row.get("unit_as_published", "").strip() or None,
            scale=float(scale_text) if scale_text else 1.0,
        ))
    return rules


def series_key(codes: Mapping[str, str]) -> str:
    """The release-independent key of a series: ``dim=code`` pairs sorted by dimension, defaults left out.

    ``{"freq": "A", "unit": "EUR_HAB"}`` and ``{"unit": "EUR_HAB"}`` -> ``unit=EUR_HAB``;
    ``{"freq": "A"}`` and ``{}`` -> ``freq=A``; ``{"freq": "Q", "unit": "X"}`` -> ``freq=Q;unit=X``.
    """
    pairs = [f"{d}={c}" for d, c in sorted(codes.items()) if DIMENSION_DEFAULTS.get(d) != c]
    return ";".join(pairs) or ANNUAL_KEY


@dataclass
class Matching:
    """What the rules make of one file: the rule of each series, notes, and the rules that cannot apply."""

    matched: dict[str, MappingRule] = field(default_factory=dict)  # reader series key -> rule
    notes: list[str] = field(default_factory=list)
    unusable: list[tuple[MappingRule, list[str]]] = field(default_factory=list)  # rule, dimensions it lacks


def match_series(
    dataset: str, series: Mapping[str, Mapping[str, str]], dimensions: Sequence[str], rules: Iterable[MappingRule]
) -> Matching:
    """Series key -> the first rule of ``dataset`` whose filters all accept its codes (a dimension the file does
    not have counts at its default), the rules that cannot apply to the file, and notes saying which defaults
    were read and which series two rules claim."""
    out = Matching()
    own = [r for r in rules if r.dataset == dataset]
    if not own:
        return out
    present = set(dimensions)
    usable: list[MappingRule] = []
    for rule in own:
        lacking = sorted(d for d in rule.filters if d not in present and d not in DIMENSION_DEFAULTS)
        if lacking:
            out.unusable.append((rule, lacking))
            continue
        usable.append(rule)
        defaulted = sorted(d for d in rule.filters if d not in present)
        if defaulted and series:
            read = ", ".join(f"{d}={DIMENSION_DEFAULTS[d]}" for d in defaulted)
            out.notes.append(f"{dataset}: the file has no dimension {', '.join(defaulted)}; the mapping of "
                             f"{rule.indicator_code} reads it as {read} (the documented default)")
    for key, codes in series.items():
        hits = [r for r in usable if all(_code(codes, present, d) in allowed for d, allowed in r.filters.items())]
        if hits:
            out.matched[key] = hits[0]
        if len(hits) > 1:
            out.notes.append(f"{dataset}: series {series_key(codes)} matches "
                             f"{', '.join(h.indicator_code for h in hits)}; kept {hits[0].indicator_code}")
    applied = {rule.indicator_code for rule in out.matched.values()}
    out.unusable = [(rule, lacking) for rule, lacking in out.unusable if rule.indicator_code not in applied]
    return out


def _code(codes: Mapping[str, str], present: set[str], dimension: str) -> str | None:
    """The series' code of ``dimension``; its documented default when the file lacks the dimension."""
    return codes.get(dimension) if dimension in present else DIMENSION_DEFAULTS.get(dimension)
