"""The NUTS rows of the region register (seed ``dbt/seeds/regions.csv``), generated from GISCO's NUTS code list.

    python -m dagster_project.sources.eurostat.register NUTS_AT_2021.csv [--seeds dbt/seeds]

Input: GISCO's code list of a NUTS version (``NUTS_AT_2021.csv`` from
https://gisco-services.ec.europa.eu/distribution/v2/nuts/, columns ``CNTR_CODE, NUTS_ID, NAME_LATN, NUTS_NAME``
…; UTF-8). Output: the seed rewritten in place, its Russian rows (``country == RU``) untouched and first, then one
row per NUTS code of levels 0-2 (country, ``nuts1``, ``nuts2``; the level is the code's length minus two):

* ``region_code`` the NUTS code; ``country`` the code's first two letters (Eurostat's: ``EL`` Greece, ``UK``);
  ``parent_code`` the code one level up (a NUTS-2 region's NUTS-1, a NUTS-1 region's country);
* ``name_en`` the Latin-script name Eurostat's English labels use (``Prov. Hainaut``, ``Śląskie``), for a
  country its English name with the national one (``Germany (Deutschland)``); ``name_ru`` the Russian name;
* ``universe`` ``EU`` for NUTS-2 regions (the pool of Eurostat regions; dbt decides per build whether a country's
  regions are normalised within the country or over the pool, var ``universe_min_country_regions``), empty for
  countries and NUTS-1 regions, which are shown but not compared;
* ``capital_region`` true for the NUTS-2 region of the national capital (a location component of the strategy
  score, as Moscow and Saint Petersburg are for Russia);
* ``valid_from`` 1990; ``valid_to`` 2020 for the United Kingdom (in NUTS until the 2016 version, i.e. data to
  reference year 2020; its regions keep their NUTS 2016 codes), else empty.

A row already in the register keeps its names, aliases and position order (countries in the order they appear,
then new countries by code; rows of a country by code), so rerunning on a new GISCO list changes only what
changed. A new row's ``name_ru`` starts as the Latin name: give it its Russian name in the seed (the Russian
names of the 2021 list were written by hand; this script keeps them). Old NUTS codes are not aliases: the seed
``nuts_correspondence`` maps them, dated by version.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from dagster_project.settings import SEEDS_DIR

COLUMNS = ("region_code", "okato", "name_ru", "name_en", "country", "level", "parent_code", "within_code",
           "universe", "capital_region", "valid_from", "valid_to", "aliases")
LEVELS = {2: "country", 3: "nuts1", 4: "nuts2"}
POOL = "EU"  # the universe column of every NUTS-2 region
NUTS_CODE = re.compile(r"[A-Z]{2}[0-9A-Z]{1,3}")  # an old NUTS code among the aliases: the correspondence maps it
FIRST_YEAR = "1990"
LAST_YEAR = {"UK": "2020"}  # countries that left the classification: the last year of their data
COUNTRY_EN = {
    "AL": "Albania", "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CH": "Switzerland", "CY": "Cyprus",
    "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "EL": "Greece", "ES": "Spain",
    "FI": "Finland", "FR": "France", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IS": "Iceland",
    "IT": "Italy", "LI": "Liechtenstein", "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "ME": "Montenegro",
    "MK": "North Macedonia", "MT": "Malta", "NL": "Netherlands", "NO": "Norway", "PL": "Poland", "PT": "Portugal",
    "RO": "Romania", "RS": "Serbia", "SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia", "TR": "Türkiye",
    "UK": "United Kingdom",
}
# The NUTS-2 region of each country's capital (NUTS 2021; the United Kingdom's of NUTS 2016: both Inner London).
CAPITAL_REGIONS = {
    "AL02", "AT13", "BE10", "BG41", "CH02", "CY00", "CZ01", "DE30", "DK01", "EE00", "EL30", "ES30", "FI1B", "FR10",
    "HR05", "HU11", "IE06", "IS00", "ITI4", "LI00", "LT01", "LU00", "LV00", "ME00", "MK00", "MT00", "NL32", "NO08",
    "PL91", "PT17", "RO32", "RS11", "SE11", "SI04", "SK01", "TR51", "UKI3", "UKI4",
}


def nuts_rows(gisco: list[dict[str, str]], existing: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """Register rows for the NUTS codes of levels 0-2 in ``gisco`` (GISCO's code list as dicts), keeping the
    names and aliases of the rows in ``existing`` (register code -> row)."""
    rows = []
    for entry in gisco:
        code = entry["NUTS_ID"].strip()
        level = LEVELS.get(len(code))
        if level is None:
            continue
        old = existing.get(code, {})
        latin = entry["NAME_LATN"].strip()
        country = code[:2]
        name_en = latin
        if level == "country":
            english = COUNTRY_EN.get(country, latin)
            name_en = english if english == latin else f"{english} ({latin})"
        rows.append({
            "region_code": code,
            "okato": "",
            "name_ru": old.get("name_ru") or latin,
            "name_en": old.get("name_en") or name_en,
            "country": country,
            "level": level,
            "parent_code": "" if level == "country" else code[:-1],
            "within_code": "",
            "universe": POOL if level == "nuts2" else "",
            "capital_region": "true" if code in CAPITAL_REGIONS else "false",
            "valid_from": FIRST_YEAR,
            "valid_to": LAST_YEAR.get(country, ""),
            "aliases": "|".join(a for a in old.get("aliases", "").split("|") if a and not NUTS_CODE.fullmatch(a)),
        })
    return rows


def ordered(rows: list[dict[str, str]], country_order: list[str]) -> list[dict[str, str]]:
    """Countries in ``country_order`` first (the register's order), then new ones by code; rows by code."""
    rank = {c: i for i, c in enumerate(country_order)}
    return sorted(rows, key=lambda r: (rank.get(r["country"], len(rank)), r["country"], r["region_code"]))


def regenerate(gisco_csv: Path, seeds_dir: Path = SEEDS_DIR) -> tuple[int, int]:
    """Rewrite ``regions.csv`` in ``seeds_dir`` with the NUTS rows of ``gisco_csv``; returns (Russian rows, NUTS
    rows). Raises KeyError when the file lacks GISCO's columns."""
    path = seeds_dir / "regions.csv"
    newline = "\r\n" if b"\r\n" in path.read_bytes()[:4096] else "\n"  # keep the file's line ends
    with path.open(encoding="utf-8", newline="") as handle:
        register = list(csv.DictReader(handle))
    with gisco_csv.open(encoding="utf-8-sig", newline="") as handle:
        gisco = list(csv.DictReader(handle))
    russian = [r for r in register if r["country"] == "RU"]
    others = [r for r in register if r["country"] != "RU"]
    country_order = list(dict.fromkeys(r["country"] for r in others))
    nuts = ordered(nuts_rows(gisco, {r["region_code"]: r for r in others}), country_order)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator=newline)
        writer.writeheader()
        writer.writerows([{c: r.get(c, "") for c in COLUMNS} for r in russian + nuts])
    return len(russian), len(nuts)


def main() -> None:
    """The command line: ``python -m dagster_project.sources.eurostat.register NUTS_AT_2021.csv``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gisco_csv", type=Path, help="GISCO's NUTS code list (NUTS_AT_<version>.csv)")
    parser.add_argument("--seeds", type=Path, default=SEEDS_DIR, help="the dbt seeds folder (default: this checkout's)")
    args = parser.parse_args()
    russian, nuts = regenerate(args.gisco_csv, args.seeds)
    print(f"{args.seeds / 'regions.csv'}: {russian} Russian rows kept, {nuts} NUTS rows written")


if __name__ == "__main__":
    main()
