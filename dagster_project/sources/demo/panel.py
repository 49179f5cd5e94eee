"""The bundled demo source: a deterministic synthetic panel in the raw contract.

It covers the real register's Russian territories (85 subjects, the districts and the federal total) and the
papers' European comparison regions (seed ``paper_regions``: West Yorkshire, Nord-Pas-de-Calais, Saarland and
eight old industrial regions of the same kind, with their NUTS-1 regions and countries), and every indicator of
the default catalog, 2000-2023 (a territory's years within its ``valid_from``/``valid_to``), with plausible
magnitudes and trends, some missing cells, confidential and preliminary flags, and one indicator
released twice (a revision). It is *synthetic*: every figure is invented by a seeded random
generator, and everything made from it is labelled "synthetic demo data".

The generator is vectorised (numpy over regions x years x indicators) so it can also build the
large panels used by the benchmarks (``generate_panel`` takes any register).

Why not every NUTS-2 region of the register (334): the demo shows the product on the regions the papers compare,
and inventing data for 300 more would triple the demo refresh (about 4 times as many briefings to render)
without showing anything new; the register's other regions are filled by a real Eurostat refresh. The papers'
regions are drawn in the order of their seed, so the panel does not change when the register grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.seeds import read_seed
from dagster_project.sources.base import ImportBatch

DEMO_SEED = 42
DEMO_YEARS = range(2000, 2024)
DEMO_DATASET = "demo_panel"
DEMO_ORIGIN = "demo://synthetic-panel?seed={seed}"
RELEASES = {  # label -> release date; v2 revises the last years of one indicator
    "demo v1": date(2024, 3, 1),
    "demo v2": date(2024, 9, 1),
}
REVISED_INDICATOR = "money_income_per_capita"
REVISED_FROM_YEAR = 2021

# Country-level value in the first and last demo year, and the cross-regional spread (log sd).
# Monetary series in roubles (nominal); EU countries get their own scale below.
_PROFILES: dict[str, tuple[float, float, float]] = {
    "grp_per_capita": (45_000, 800_000, 0.45),
    "manufacturing_shipments_per_capita": (20_000, 520_000, 0.7),
    "fixed_investment_per_capita": (8_000, 180_000, 0.55),
    "advanced_technologies_used": (70_000, 280_000, 0.0),  # country total, split by size
    "innovative_goods_share": (4.5, 6.5, 0.5),
    "innovation_activity": (9.0, 12.0, 0.35),
    "rd_expenditure_share_grp": (0.6, 0.75, 0.8),
    "budget_expenditure_per_capita": (5_500, 150_000, 0.4),
    "budget_revenue_per_capita": (5_300, 148_000, 0.4),
    "organisations_using_internet": (30.0, 92.0, 0.12),
    "broadband_subscriptions_per_100": (0.5, 24.0, 0.3),
    "higher_education_share_employed": (21.0, 35.0, 0.18),
    "students_per_10000": (330.0, 280.0, 0.35),
    "researchers": (890_000, 670_000, 0.0),  # country total, split by size
    "money_income_per_capita": (2_300, 52_000, 0.35),
    "consumer_spending_per_capita": (1_700, 38_000, 0.35),
    "employment_rate": (58.0, 61.0, 0.07),
    "life_expectancy": (65.3, 72.5, 0.035),
    "migration_balance_per_10000": (20.0, 10.0, 0.0),  # additive, see below
    "urban_population_share": (73.0, 75.0, 0.15),
}
# Years before which an indicator was not yet observed (creates coverage gaps early on).
_FIRST_YEAR = {"organisations_using_internet": 2003, "broadband_subscriptions_per_100": 2005,
               "innovative_goods_share": 2001}
_EU_SCALE = {  # EUR-based magnitudes for the EU comparison countries (country value, last year)
    "grp_per_capita": 34_000, "manufacturing_shipments_per_capita": 12_000, "fixed_investment_per_capita": 7_500,
    "budget_expenditure_per_capita": 9_000, "budget_revenue_per_capita": 8_800,
    "money_income_per_capita": 1_900, "consumer_spending_per_capita": 1_500,
}
_EU_GROWTH = 1.6
# Approximate population of the largest subjects (thousand persons, rounded); all else is drawn.
_KNOWN_POPULATION = {
    "RU-MOW": 12_600, "RU-MOS": 8_500, "RU-KDA": 5_800, "RU-SPE": 5_500, "RU-SVE": 4_300, "RU-ROS": 4_200,
    "RU-BA": 4_000, "RU-TA": 4_000, "RU-CHE": 3_400, "RU-DA": 3_200, "RU-NIZ": 3_100, "RU-SAM": 3_100,
}  # nominal growth 2000 -> 2023 in the EU countries


@dataclass(frozen=True)
class DemoRegister:
    """The territories the generator draws values for."""

    regions: pd.DataFrame  # register rows (seed columns)
    indicators: pd.DataFrame  # catalog rows


def load_register(seeds_dir: Path | None = None) -> DemoRegister:
    """The register and catalog seeds the panel is drawn for (``seeds_dir``: another project's seeds): the
    register cut to the demo's territories (:func:`demo_regions`)."""
    regions = demo_regions(read_seed("regions", seeds_dir), read_seed("paper_regions", seeds_dir))
    return DemoRegister(regions=regions, indicators=read_seed("indicators", seeds_dir))


def demo_regions(regions: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """The register rows the demo draws for: every territory but the NUTS-2 regions, and of those the papers'
    (seed ``paper_regions``), last and in that seed's order (the order of the seeded draws)."""
    nuts2 = regions["level"] == "nuts2"
    chosen = regions[nuts2].set_index("region_code").reindex(paper["region_code"]).dropna(subset=["level"])
    return pd.concat([regions[~nuts2], chosen.reset_index()], ignore_index=True)[list(regions.columns)]


def demo_batch(
    seeds_dir: Path | None = None, seed: int = DEMO_SEED, retrieved_at: datetime | None = None
) -> ImportBatch:
    """The bundled demo dataset as an import batch (both releases)."""
    register = load_register(seeds_dir)
    frame = generate_panel(register.regions, register.indicators, list(DEMO_YEARS), seed=seed)
    frame["retrieved_at"] = pd.Timestamp(retrieved_at or datetime(2024, 9, 1, 12, 0, 0))
    frame["origin"] = DEMO_ORIGIN.format(seed=seed)
    return ImportBatch(source="demo", observations=frame,
                       notes=["synthetic demo data: every value is invented by a seeded generator"])


def _leaf_subjects(regions: pd.DataFrame) -> pd.DataFrame:
    """Territories that get their own draw: subjects and NUTS-2 regions."""
    return regions[regions["level"].isin(["subject", "nuts2"])].reset_index(drop=True)


def generate_panel(regions: pd.DataFrame, indicators: pd.DataFrame, years: list[int], seed: int) -> pd.DataFrame:
    """Draw every catalog indicator for every leaf territory and year, then aggregate nested and
    country rows from the leaves so that totals are consistent (the federal total is the sum of
    top-level subjects; an autonomous okrug is counted inside its oblast, never twice)."""
    rng = np.random.default_rng(seed)
    leaves = _leaf_subjects(regions)
    n_regions, n_years = len(leaves), len(years)
    year_arr = np.asarray(years)
    progress = (year_arr - year_arr[0]) / max(1, year_arr[-1] - year_arr[0])  # 0..1 over the window

    is_eu = (leaves["country"] != "RU").to_numpy()
    # Latent traits per region: development level, innovativeness, growth, size.
    level = rng.normal(0.0, 1.0, n_regions)
    innov = 0.6 * level + rng.normal(0.0, 0.8, n_regions)
    growth = rng.normal(0.0, 0.25, n_regions)
    log_pop = rng.normal(np.log(850), 0.75, n_regions)  # thousand persons
    capital = leaves.get("capital_region", pd.Series("false", index=leaves.index)).astype(str).str.lower() == "true"
    level = np.where(capital, level + 1.2, level)
    # The largest subjects get roughly their real size (thousand persons), so the demo's market-size
    # and significance scores are plausible; every other size is drawn.
    known = leaves["region_code"].map(_KNOWN_POPULATION)
    log_pop = np.where(known.notna(), np.log(known.fillna(1.0).to_numpy(dtype=float)), log_pop)
    area = np.exp(rng.normal(np.log(90), 1.3, n_regions))  # thousand km2
    area = np.where(is_eu, np.exp(rng.normal(np.log(6), 0.5, n_regions)), area)

    population = np.exp(log_pop[:, None] + (growth[:, None] * 0.2 - 0.03) * progress[None, :]
                        + rng.normal(0, 0.005, (n_regions, n_years)))
    employment_share = 0.47 + 0.02 * np.tanh(level)[:, None] + rng.normal(0, 0.004, (n_regions, n_years))
    employed = population * employment_share

    values: dict[str, np.ndarray] = {
        "population": population,
        "employed": employed,
        "area_km2": np.repeat(area[:, None], n_years, axis=1),
    }
    noise = lambda scale: rng.normal(0.0, scale, (n_regions, n_years))  # noqa: E731
    for code, (start, end, spread) in _PROFILES.items():
        trend = np.log(start) + (np.log(end) - np.log(start)) * progress[None, :]
        if code in ("advanced_technologies_used", "researchers"):
            weight = np.exp(log_pop + 0.8 * innov)
            share = weight / weight[~is_eu].sum()
            total = np.exp(trend) * np.ones((n_regions, 1))
            values[code] = np.round(total * share[:, None] * np.exp(noise(0.08)))
            continue
        if code == "migration_balance_per_10000":
            values[code] = np.round(25 * level[:, None] + 30 * growth[:, None] - 10 + noise(12), 1)
            continue
        innovative = code in ("innovative_goods_share", "innovation_activity", "rd_expenditure_share_grp")
        trait = innov if innovative else level
        drift = growth[:, None] * progress[None, :] * (1.0 if spread > 0.2 else 0.2)
        series = np.exp(trend + spread * trait[:, None] + drift + noise(spread * 0.08 + 0.01))
        if code in ("organisations_using_internet", "employment_rate", "urban_population_share",
                    "higher_education_share_employed", "innovation_activity"):
            series = np.minimum(series, 99.0)
        values[code] = series
    # GRP in million roubles follows from GRP per capita and population.
    values["grp_total"] = values["grp_per_capita"] * values["population"] / 1_000

    # EU regions live in their own currency scale: rescale monetary series by country.
    for code, eu_end in _EU_SCALE.items():
        ru_end = _PROFILES[code][1]
        eu_curve = (eu_end / _EU_GROWTH) * (1 + (_EU_GROWTH - 1) * progress)
        ru_curve = np.exp(np.log(_PROFILES[code][0]) + (np.log(ru_end) - np.log(_PROFILES[code][0])) * progress)
        values[code] = np.where(is_eu[:, None], values[code] * (eu_curve / ru_curve)[None, :], values[code])
    values["grp_total"] = values["grp_per_capita"] * values["population"] / 1_000

    catalog = indicators.set_index("indicator_code")
    frames = [
        _long_frame(leaves, year_arr, code, arr, catalog)
        for code, arr in values.items() if code in catalog.index
    ]
    panel = pd.concat(frames, ignore_index=True)
    panel = _drop_out_of_validity(panel, leaves)
    panel = _apply_gaps_and_flags(panel, rng)
    panel = pd.concat([panel, _aggregates(panel, regions, catalog)], ignore_index=True)
    return _drop_after_validity(_with_releases(panel, rng), regions)


def _long_frame(leaves: pd.DataFrame, years: np.ndarray, code: str, arr: np.ndarray,
                catalog: pd.DataFrame) -> pd.DataFrame:
    n_regions, n_years = arr.shape
    return pd.DataFrame({
        "region_code": np.repeat(leaves["region_code"].to_numpy(), n_years),
        # The synthetic source "spells" territories by register code (names are not unique:
        # Saarland is both a NUTS-1 and a NUTS-2 region).
        "region_key": np.repeat(leaves["region_code"].to_numpy(), n_years),
        "indicator_code": code,
        "period": np.tile(years, n_regions).astype("int32"),
        "value": arr.reshape(-1).astype("float64"),
        "unit": catalog.at[code, "unit"],
    })


def _drop_out_of_validity(panel: pd.DataFrame, leaves: pd.DataFrame) -> pd.DataFrame:
    """A territory has no rows before it entered the register (Crimea and Sevastopol from 2014)."""
    valid_from = pd.to_numeric(leaves.set_index("region_code")["valid_from"], errors="coerce").fillna(0)
    starts = panel["region_code"].map(valid_from)
    return panel[panel["period"] >= starts].reset_index(drop=True)


def _drop_after_validity(panel: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """Nor after it left its classification (the United Kingdom's NUTS regions after 2020). Applied last, once
    every value is drawn, so that no other territory's draws move."""
    valid_to = pd.to_numeric(regions.set_index("region_code")["valid_to"], errors="coerce")
    ends = panel["region_code"].map(valid_to).fillna(9999)
    return panel[panel["period"] <= ends].reset_index(drop=True)


def _apply_gaps_and_flags(panel: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    panel = panel.copy()
    panel["flag"] = None
    # Not yet observed early on.
    first = panel["indicator_code"].map(_FIRST_YEAR).fillna(0)
    panel = panel[panel["period"] >= first].reset_index(drop=True)
    # Random missing cells, published as "not available".
    context = panel["indicator_code"].isin(["population", "employed", "area_km2", "grp_total"])
    missing = (rng.random(len(panel)) < 0.025) & ~context
    panel.loc[missing, ["value", "flag"]] = [np.nan, "na"]
    # Confidential counts in the smallest territories.
    small = panel["region_code"].isin(["RU-NEN", "RU-CHU", "RU-YEV"])
    confidential = small & (panel["indicator_code"] == "advanced_technologies_used") & (panel["period"] % 3 == 0)
    panel.loc[confidential, ["value", "flag"]] = [np.nan, "c"]
    # The last year is preliminary.
    last = panel["period"] == panel["period"].max()
    panel.loc[last & panel["flag"].isna(), "flag"] = "p"
    return panel


def _aggregates(panel: pd.DataFrame, regions: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Country and district rows built from the leaves (sums for counts, population-weighted means
    for rates), so that relative-to-country ratios have a consistent denominator. Territories
    nested inside another subject (autonomous okrugs) are left out of the sums."""
    reg = regions.set_index("region_code")
    leaves = panel[panel["region_code"].map(reg["within_code"]).fillna("") == ""]
    leaves = leaves.assign(
        district=leaves["region_code"].map(reg["parent_code"]),
        country=leaves["region_code"].map(reg["country"]),
    )
    pop = leaves[leaves["indicator_code"] == "population"][["region_code", "period", "value"]]
    leaves = leaves.merge(pop.rename(columns={"value": "pop"}), on=["region_code", "period"], how="left")
    summed = {"population", "employed", "area_km2", "grp_total", "advanced_technologies_used", "researchers"}
    leaves = leaves[leaves["value"].notna()]
    is_sum = leaves["indicator_code"].isin(summed)
    weight = np.where(is_sum, 1.0, leaves["pop"].fillna(0.0).to_numpy())
    leaves = leaves.assign(weighted=leaves["value"].to_numpy() * weight, weight=weight)
    out = []
    for level_col in ("country", "district"):
        grouped = leaves[leaves[level_col].isin(reg.index)]
        sums = grouped.groupby(["indicator_code", "period", level_col], sort=False)[["weighted", "weight"]].sum()
        sums = sums.reset_index().rename(columns={level_col: "region_code"})
        summed_rows = sums["indicator_code"].isin(summed)
        means = sums["weighted"] / sums["weight"].where(sums["weight"] > 0)
        sums["value"] = np.where(summed_rows, sums["weighted"], means)
        out.append(sums[["region_code", "indicator_code", "period", "value"]])
    agg = pd.concat(out, ignore_index=True)
    agg["region_key"] = agg["region_code"]
    agg["unit"] = agg["indicator_code"].map(catalog["unit"])
    agg["flag"] = None
    return agg


def _with_releases(panel: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Release v1 holds everything; v2 re-publishes one indicator's last years with revised values."""
    panel = panel.assign(
        source="demo", dataset=DEMO_DATASET, table_code=panel["indicator_code"],
        indicator_key=panel["indicator_code"], release="demo v1", release_date=RELEASES["demo v1"],
    )
    revised = panel[(panel["indicator_code"] == REVISED_INDICATOR) & (panel["period"] >= REVISED_FROM_YEAR)].copy()
    factor = 1.0 + rng.uniform(0.002, 0.03, len(revised))
    revised["value"] = revised["value"] * factor
    revised["release"] = "demo v2"
    revised["release_date"] = RELEASES["demo v2"]
    revised.loc[revised["flag"] == "p", "flag"] = None  # the revision is final
    out = pd.concat([panel, revised], ignore_index=True)
    out["value"] = out["value"].round(3)
    out["cell_ref"] = out["indicator_code"] + ":" + out["region_code"] + ":" + out["period"].astype(str)
    out["release_date"] = pd.to_datetime(out["release_date"]).dt.date
    return out
