"""The whole NUTS map: every NUTS region of levels 0-2 of the 2021 classification in the region register, with
Russian names, its NUTS-1 parent and country, and old NUTS codes resolved through the correspondence of their
version (the retired bulk file of 2017 uses NUTS 2013 codes)."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.seeds import read_seed
from dagster_project.settings import SEEDS_DIR
from dagster_project.sources.eurostat import import_eurostat_files
from dagster_project.sources.eurostat.regions import RegionResolver
from dagster_project.sources.eurostat.register import regenerate

EU27 = set("AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eurostat"


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return read_seed("regions")


@pytest.fixture(scope="module")
def resolver(regions) -> RegionResolver:
    return RegionResolver(read_seed("nuts_correspondence"), regions)


def test_every_nuts2_region_registered(regions):
    nuts = regions[regions.country != "RU"]
    nuts2 = nuts[nuts.level == "nuts2"]
    assert len(nuts2) == 334 and len(nuts2[nuts2.country.isin(EU27)]) == 242
    assert set(nuts2.universe) == {"EU"} and set(nuts[nuts.level != "nuts2"].universe) == {""}
    codes = set(nuts.region_code)
    assert all(parent in codes for parent in nuts.loc[nuts.level != "country", "parent_code"])
    assert (nuts2.parent_code.str.len() == 3).all() and (nuts2.country == nuts2.region_code.str[:2]).all()
    assert regions.region_code.is_unique
    # Russian names for the Russian briefings: Cyrillic, never the Latin name copied.
    latin = re.compile("[A-Za-z]")
    assert not nuts.name_ru.map(lambda n: bool(latin.search(n))).any()
    named = nuts.set_index("region_code").name_ru
    assert (named["DEA1"], named["FRE1"], named["UKE4"], named["ITC4"]) == (
        "Дюссельдорф", "Нор — Па-де-Кале", "Западный Йоркшир", "Ломбардия")
    uk = nuts[nuts.country == "UK"]
    assert set(uk.valid_to) == {"2020"} and set(nuts[nuts.country != "UK"].valid_to) == {""}
    capitals = set(nuts2[nuts2.capital_region == "true"].region_code)
    assert {"DE30", "FR10", "ITI4", "PL91", "UKI3"} <= capitals and "DEC0" not in capitals


def test_register_matches_the_gisco_code_list(shared_data, regions, tmp_path):
    with (shared_data / "eurostat" / "NUTS_AT_2021.csv").open(encoding="utf-8") as handle:
        gisco = {r["NUTS_ID"] for r in csv.DictReader(handle) if len(r["NUTS_ID"]) <= 4}
    assert set(regions[regions.country != "RU"].region_code) == gisco
    # The generator is repeatable: rerun on the same list, the seed stays as it is (names kept).
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS_DIR / "regions.csv", seeds / "regions.csv")
    assert regenerate(shared_data / "eurostat" / "NUTS_AT_2021.csv", seeds) == (96, 496)
    assert (seeds / "regions.csv").read_bytes() == (SEEDS_DIR / "regions.csv").read_bytes()


def test_correspondence_rows(regions):
    rows = read_seed("nuts_correspondence")
    assert not rows.duplicated(["nuts_code", "nuts_version"]).any()
    targets = rows.region_code[rows.region_code != ""]
    assert targets.isin(regions.loc[regions.level == "nuts2", "region_code"]).all()
    assert not rows.nuts_code.isin(regions.region_code).any()  # only codes that differ from the register's
    assert set(rows.nuts_version) == {"2010", "2013", "2016", "2024"} and rows.note.str.len().gt(20).all()


def test_codes_of_every_version_resolve(resolver):
    assert resolver.resolve("FR30") == "FRE1" and resolver.resolve("FRA5") == "FRY5"  # NUTS 2013, undated file
    assert resolver.resolve("PL11", date(2016, 4, 1)) == "PL71" and resolver.resolve("EL11") == "EL51"
    assert resolver.resolve("NL35", date(2025, 3, 1)) == "NL31" and resolver.resolve("NL36") == "NL33"  # NUTS 2024
    assert resolver.resolve("DEC0", date(2016, 1, 1)) == "DEC0" and resolver.resolve("UKE4") == "UKE4"
    for split in ("IE01", "HU10", "PL12", "HR04", "NO03", "UKM2", "PT19"):
        assert resolver.resolve(split) is None, split
        assert "no register region is the same territory" in resolver.why_not(split), split
    assert "extra-regio" in resolver.why_not("DEZZ") and resolver.why_not("DEC0") is None


def test_legacy_gdp_file_resolves_its_nuts2_geos(shared_data):
    seeds = read_seed("indicator_sources_eurostat"), read_seed("nuts_correspondence"), read_seed("regions")
    batch = import_eurostat_files([shared_data / "eurostat" / "nama_10r_2gdp.legacy2017.tsv"], *seeds)
    geos = batch.observations[["region_key", "region_code"]].drop_duplicates()
    nuts2 = geos[geos.region_key.str.fullmatch(r"[A-Z]{2}[0-9A-Z]{2}")]
    resolved = nuts2.dropna()
    assert len(resolved) >= 250, len(resolved)
    assert resolved.set_index("region_key").region_code[["FR30", "FR41", "UKE4", "PL11", "DEC0"]].tolist() == [
        "FRE1", "FRF3", "UKE4", "PL71", "DEC0"]
    unresolved = set(nuts2[nuts2.region_code.isna()].region_key)
    assert unresolved <= {"EU28", "HR04", "HU10", "IE01", "IE02", "LT00", "NO01", "NO03", "NO04", "NO05", "PL12",
                          "UKM2", "UKM3"} | {g for g in unresolved if g.endswith("ZZ")}
    assert any("IE01 (NUTS 2010, 2013): Border, Midland and Western" in n for n in batch.notes)


def test_bulk_excerpt_resolves_without_shared_data():
    seeds = read_seed("indicator_sources_eurostat"), read_seed("nuts_correspondence"), read_seed("regions")
    obs = import_eurostat_files([FIXTURES / "nama_10r_2gdp.bulk2017.excerpt.tsv"], *seeds).observations
    codes = obs.drop_duplicates("region_key").set_index("region_key").region_code
    assert codes["FR30"] == "FRE1" and codes["FR41"] == "FRF3" and codes["UKE4"] == "UKE4" and codes["BE"] == "BE"
    assert pd.isna(codes["IE01"]) and pd.isna(codes["ATZZ"]) and pd.isna(codes["FR3"])  # FR3 is not FRE
