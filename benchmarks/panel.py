"""A scalable synthetic panel for the benchmarks: region register × indicator catalog × years.

The bundled demo covers the real register (122 territories) and catalog (30 indicators). To see how the
pipeline scales, the benchmarks need any size, up to 2,000 regions × 30 years × 50 indicators
(3 million observations). This module makes three things for a size:

- a region register shaped like ``dbt/seeds/regions.csv`` (one country, districts of 25 subjects,
  the subjects),
- an indicator catalog shaped like ``dbt/seeds/indicators.csv`` (four context indicators that the
  comparability rules need, then the real coded indicators spread over the three families, then
  synthetic ones),
- observations in the raw contract (``sources.base.OBSERVATION_COLUMNS``), drawn with numpy over the
  whole regions × years block per indicator (no row-by-row work), with country and district rows
  aggregated from the subjects so that "relative to country" has a denominator.

``write_project`` copies the dbt project to a temporary folder with these seeds (the project's own
``dbt/seeds`` is never modified) and filters the seeds that name indicators to the catalog.
Everything is deterministic for a seed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.seeds import read_seed
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.sources.base import OBSERVATION_COLUMNS

CONTEXT = ("population", "employed", "area_km2", "grp_total")
FAMILIES = ("production", "institutional", "social")
SUMMED_UNITS = ("thousand persons", "thousand km2", "million rub", "units", "persons")
SUBJECTS_PER_DISTRICT = 25
RELEASE = ("bench v1", date(2024, 3, 1))
ORIGIN = "bench://synthetic-panel"
# Seeds whose rows name catalog indicators, and the columns that must all be in the catalog.
INDICATOR_SEEDS = {
    "derived_indicators": ("indicator_code", "numerator_code", "denominator_code"),
    "correlation_pairs": ("y_indicator",),
    "indicator_sources_rosstat": ("indicator_code",),
    "indicator_sources_eurostat": ("indicator_code",),
}


@dataclass(frozen=True)
class PanelSize:
    """One benchmark size: subjects (leaf regions), consecutive years ending 2023, catalog indicators."""

    regions: int
    years: int
    indicators: int

    @property
    def label(self) -> str:
        return f"{self.regions}r×{self.years}y×{self.indicators}i"

    @property
    def year_list(self) -> list[int]:
        return list(range(2024 - self.years, 2024))

    def expected_rows(self) -> int:
        """Observations including the district and country aggregates (before missing cells)."""
        districts = -(-self.regions // SUBJECTS_PER_DISTRICT)
        return (self.regions + districts + 1) * self.years * self.indicators


def synthetic_regions(n_regions: int) -> pd.DataFrame:
    """A register with one country (RU), ceil(n/25) districts and ``n_regions`` subjects."""
    n_districts = -(-n_regions // SUBJECTS_PER_DISTRICT)
    districts = [f"RU-BD-{d:03d}" for d in range(n_districts)]
    subjects = [f"RU-B{r:04d}" for r in range(n_regions)]
    rows = [_region_row("RU", "Синтетическая страна", "Synthetic country", "country", "", "")]
    rows += [_region_row(code, f"Синтетический округ {i}", f"Synthetic district {i}", "district", "RU", "")
             for i, code in enumerate(districts)]
    rows += [_region_row(code, f"Синтетический регион {i}", f"Synthetic region {i}", "subject",
                         districts[i // SUBJECTS_PER_DISTRICT], "RU", capital=(i == 0))
             for i, code in enumerate(subjects)]
    return pd.DataFrame(rows)


def _region_row(code: str, name_ru: str, name_en: str, level: str, parent: str, universe: str,
                capital: bool = False) -> dict[str, object]:
    return {"region_code": code, "okato": "", "name_ru": name_ru, "name_en": name_en, "country": "RU",
            "level": level, "parent_code": parent, "within_code": "", "universe": universe,
            "capital_region": "true" if capital else "false", "valid_from": 1990, "valid_to": "", "aliases": ""}


def synthetic_catalog(n_indicators: int, seeds_dir: Path | None = None) -> pd.DataFrame:
    """``n_indicators`` catalog rows: the four context rows, the real coded indicators taken in turn from
    the three families (so a small catalog still has every family), then synthetic ones."""
    if n_indicators < len(CONTEXT) + len(FAMILIES):
        raise ValueError(f"need at least {len(CONTEXT) + len(FAMILIES)} indicators (context + one per family)")
    real = read_seed("indicators", seeds_dir)
    context = real.set_index("indicator_code").loc[list(CONTEXT)].reset_index()
    by_family = [real[real["family"] == f].to_dict("records") for f in FAMILIES]
    coded: list[dict[str, str]] = []
    while any(by_family) and len(coded) < n_indicators - len(CONTEXT):
        for rows in by_family:
            if rows and len(coded) < n_indicators - len(CONTEXT):
                coded.append(rows.pop(0))
    extra = [_synthetic_indicator(k) for k in range(n_indicators - len(CONTEXT) - len(coded))]
    return pd.concat([context, pd.DataFrame(coded), pd.DataFrame(extra)], ignore_index=True)[real.columns]


def _synthetic_indicator(k: int) -> dict[str, str]:
    family = FAMILIES[k % 3]
    transform, comparability, unit = [("log", "relative_to_country", "rub"), ("none", "as_is", "%"),
                                      ("sqrt", "per_1000_employed", "units")][(k // 3) % 3]
    return {"indicator_code": f"bench_{family}_{k:03d}", "name_ru": f"Синтетический показатель {k}",
            "name_en": f"Synthetic indicator {k}", "unit": unit, "family": family,
            "direction": "-1" if k % 7 == 6 else "1", "weight": "1", "transform": transform,
            "comparability": comparability, "note": "benchmark"}


def generate_observations(regions: pd.DataFrame, catalog: pd.DataFrame, years: list[int],
                          seed: int = 7) -> pd.DataFrame:
    """Every catalog indicator for every subject and year, plus district and country aggregates."""
    rng = np.random.default_rng(seed)
    subjects = regions[regions["level"] == "subject"].reset_index(drop=True)
    progress = np.linspace(0.0, 1.0, len(years))
    traits = _traits(rng, len(subjects))
    population = np.exp(traits["log_pop"][:, None] + 0.05 * progress[None, :])
    blocks = {code: _draw(rng, code, unit, comparability, traits, progress, population)
              for code, unit, comparability in catalog[["indicator_code", "unit", "comparability"]].itertuples(
                  index=False)}
    parents = subjects["parent_code"].to_numpy()
    frames = [_long(subjects["region_code"].to_numpy(), years, blocks, catalog)]
    frames += _aggregates(parents, years, blocks, catalog, population)
    panel = pd.concat(frames, ignore_index=True)
    return _finish(panel, rng)


def _traits(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    level = rng.normal(0.0, 1.0, n)
    return {"level": level, "innov": 0.6 * level + rng.normal(0.0, 0.8, n),
            "growth": rng.normal(0.0, 0.25, n), "log_pop": rng.normal(np.log(1_300), 0.75, n)}


def _draw(rng: np.random.Generator, code: str, unit: str, comparability: str, traits: dict[str, np.ndarray],
          progress: np.ndarray, population: np.ndarray) -> np.ndarray:
    """One indicator as a subjects × years array, shaped by the region's latent traits."""
    shape = population.shape
    noise = rng.normal(0.0, 0.05, shape)
    if code == "population":
        return population
    if code == "employed":
        return population * (0.47 + 0.02 * np.tanh(traits["level"])[:, None]) * (1.0 + 0.1 * noise)
    if code == "area_km2":
        return np.repeat(np.exp(rng.normal(np.log(90), 1.3, shape[0]))[:, None], shape[1], axis=1)
    trait = traits["innov"] if rng.random() < 0.5 else traits["level"]
    drift = traits["growth"][:, None] * progress[None, :]
    if unit == "%":
        base = rng.uniform(-2.0, 1.0)
        return 100.0 / (1.0 + np.exp(-(base + 0.5 * trait[:, None] + drift + noise)))
    spread, growth = rng.uniform(0.2, 0.7), rng.uniform(0.5, 2.5)
    series = np.exp(np.log(rng.uniform(10, 1e5)) + spread * trait[:, None] + growth * progress[None, :]
                    + drift + noise)
    if code == "grp_total" or comparability.startswith("per_"):
        series = series * population / 1_000  # a count: grows with the region's size
    return series


def _long(codes: np.ndarray, years: list[int], blocks: dict[str, np.ndarray], catalog: pd.DataFrame) -> pd.DataFrame:
    """Long rows for a block of territories: region × year per indicator, one indicator after another."""
    n_regions, n_years = len(codes), len(years)
    ind = catalog["indicator_code"].to_numpy()
    values = np.stack([blocks[c] for c in ind])  # indicators × regions × years
    return pd.DataFrame({
        "region_code": np.tile(np.repeat(codes, n_years), len(ind)),
        "indicator_code": np.repeat(ind, n_regions * n_years),
        "period": np.tile(np.asarray(years, dtype="int32"), n_regions * len(ind)),
        "value": values.reshape(-1),
        "unit": np.repeat(catalog["unit"].to_numpy(), n_regions * n_years),
    })


def _aggregates(parents: np.ndarray, years: list[int], blocks: dict[str, np.ndarray], catalog: pd.DataFrame,
                population: np.ndarray) -> list[pd.DataFrame]:
    """District and country rows: sums for counts, population-weighted means for rates."""
    districts, index = np.unique(parents, return_inverse=True)
    summed = {c for c, u, comp in catalog[["indicator_code", "unit", "comparability"]].itertuples(index=False)
              if c in CONTEXT or u in SUMMED_UNITS or comp.startswith("per_")}
    pop_d = _group_sum(population, index, len(districts))
    dist, country = {}, {}
    for code, block in blocks.items():
        if code in summed:
            dist[code] = _group_sum(block, index, len(districts))
            country[code] = block.sum(axis=0, keepdims=True)
        else:
            dist[code] = _group_sum(block * population, index, len(districts)) / pop_d
            country[code] = (block * population).sum(axis=0, keepdims=True) / population.sum(axis=0, keepdims=True)
    return [_long(districts, years, dist, catalog), _long(np.array(["RU"]), years, country, catalog)]


def _group_sum(block: np.ndarray, index: np.ndarray, groups: int) -> np.ndarray:
    out = np.zeros((groups, block.shape[1]))
    np.add.at(out, index, block)
    return out


def _finish(panel: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Missing cells (2.5 % outside the context), the last year preliminary, provenance columns."""
    context = panel["indicator_code"].isin(CONTEXT).to_numpy()
    missing = (rng.random(len(panel)) < 0.025) & ~context
    value = panel["value"].to_numpy().round(3)
    value[missing] = np.nan
    last = panel["period"].to_numpy() == panel["period"].max()
    flag = np.where(missing, "na", np.where(last, "p", None))
    panel = panel.assign(value=value, flag=flag, source="demo", dataset="bench_panel",
                         table_code=panel["indicator_code"], region_key=panel["region_code"],
                         indicator_key=panel["indicator_code"], release=RELEASE[0], release_date=RELEASE[1],
                         retrieved_at=pd.Timestamp(datetime(2024, 3, 1, 12)), origin=ORIGIN,
                         cell_ref=None)
    return panel[list(OBSERVATION_COLUMNS)]


def _type_empty_columns(project_yml: Path) -> None:
    """The synthetic register leaves within_code and aliases empty in every row, where dbt's seed loader
    would guess a number; declare them text (in the copy only), as the real register's values make them."""
    text = project_yml.read_text()
    anchor = "        okato: varchar\n"
    if anchor in text and "within_code: varchar" not in text:
        text = text.replace(anchor, anchor + "        within_code: varchar\n        aliases: varchar\n", 1)
        project_yml.write_text(text)


def write_project(dest: Path, regions: pd.DataFrame | None, catalog: pd.DataFrame | None,
                  intermediate_tables: bool = False, memory_limit: str = "") -> Path:
    """Copy the dbt project (models, macros, tests, seeds; not target/ or logs/) to ``dest/dbt`` with the
    synthetic register and catalog (None: keep the project's), and the indicator-naming seeds filtered to
    that catalog (``paper_regions`` to that register). ``intermediate_tables`` materialises the intermediate
    models as tables in the copy (the experiment behind benchmarks/README.md's "views vs tables");
    ``memory_limit`` (e.g. "2GB") caps DuckDB in the copy's profile (DuckDB's default is 80 % of the machine's
    memory; it spills beyond a cap).
    Returns ``dest`` (use it as REGIOCODE_PROJECT_DIR; ``reports`` is linked so briefings render)."""
    dbt_dir = dest / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, dbt_dir, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages",
                                                                           ".user.yml"))
    if intermediate_tables:
        _intermediate_as_tables(dbt_dir / "dbt_project.yml")
    if memory_limit:
        _limit_memory(dbt_dir / "profiles.yml", memory_limit)
    reports = DBT_PROJECT_DIR.parent / "reports"
    if reports.exists() and not (dest / "reports").exists():
        (dest / "reports").symlink_to(reports)
    if regions is None or catalog is None:
        return dest
    regions.to_csv(dbt_dir / "seeds" / "regions.csv", index=False)
    _type_empty_columns(dbt_dir / "dbt_project.yml")
    catalog.to_csv(dbt_dir / "seeds" / "indicators.csv", index=False)
    known = set(catalog["indicator_code"])
    for seed, columns in INDICATOR_SEEDS.items():
        path = dbt_dir / "seeds" / f"{seed}.csv"
        if path.exists():
            frame = read_seed(seed, path.parent)
            keep = frame[list(columns)].isin(known).all(axis=1)
            frame[keep].to_csv(path, index=False)
    # per-universe weights only for universes of the synthetic register
    path = dbt_dir / "seeds" / "universe_indicator_weights.csv"
    if path.exists():
        frame = read_seed("universe_indicator_weights", path.parent)
        keep = frame["indicator_code"].isin(known) & frame["universe"].isin(set(regions["universe"].dropna()))
        frame[keep].to_csv(path, index=False)
    # territory areas (the density indicators divide by them) for the synthetic subjects: the seed's real areas
    # name real subjects, which the synthetic register lacks (its relationships test would fail)
    path = dbt_dir / "seeds" / "region_areas.csv"
    if path.exists():
        subjects = regions[regions["level"] == "subject"]
        rng = np.random.default_rng(7)
        pd.DataFrame({"region_code": subjects["region_code"], "name_ru": subjects["name_ru"],
                      "area_km2": rng.integers(1_000, 500_000, len(subjects)), "as_of": 2023,
                      "source": "synthetic"}).to_csv(path, index=False)
    # the papers' comparison regions only where the synthetic register has them (the seed is tested against it)
    path = dbt_dir / "seeds" / "paper_regions.csv"
    if path.exists():
        frame = read_seed("paper_regions", path.parent)
        frame[frame["region_code"].isin(set(regions["region_code"]))].to_csv(path, index=False)
    return dest


def _limit_memory(profiles_yml: Path, limit: str) -> None:
    text = profiles_yml.read_text()
    anchor = "env_var('REGIOCODE_DUCKDB_MEMORY_LIMIT', '"
    if anchor not in text:
        raise ValueError(f"{profiles_yml}: no REGIOCODE_DUCKDB_MEMORY_LIMIT default to set the memory limit in")
    start = text.index(anchor) + len(anchor)
    profiles_yml.write_text(text[:start] + limit + text[text.index("'", start):])


def _intermediate_as_tables(project_yml: Path) -> None:
    text = project_yml.read_text()
    block = "    intermediate:\n      +schema: intermediate\n      +materialized: view\n"
    if block not in text:
        raise ValueError(f"{project_yml}: the intermediate block is not where expected; update the benchmark")
    project_yml.write_text(text.replace(block, block.replace("view", "table")))
