"""The reference seed region_areas (the official territory area of each Russian subject, which the yearbook does not
print) checked against the yearbook itself and against Russia's area.

The 2023 yearbook prints, per subject, the forest-covered area (13.37.2, thousand ha) and the forest cover
(13.37.3, % of the territory): their ratio is the territory area, area [thousand km²] = forest [thousand ha] /
cover [%]. Where the cover is at least 5 % (a cover printed to 0.1 % below that leaves the ratio too coarse: Moscow
1 %, Kalmykia 0.2 %, the steppe oblasts 1.6–4.7 %) the seed must agree within 1.5 %. Cells are read with openpyxl,
independently of the importer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from fixtures.rosstat_editions import header_row, read_sheet, squash

from dagster_project.seeds import read_seed

SECTION_13 = "Раздел 13 - Сельское хозяйство.xlsx"
MIN_COVER_PCT = 5.0
TOLERANCE = 0.015
RUSSIA_AREA_KM2 = 17_125_191  # Rosreestr, 1 January 2023 (with the Republic of Crimea and Sevastopol)


def _key(name: object) -> str:
    """A territory name reduced to its letters (spaces, dashes, footnote marks and «в том числе:» dropped)."""
    text = squash(name).lower().replace("в том числе:", "").replace("ё", "е")
    return re.sub(r"[^а-я]", "", re.sub(r"\d+\)", "", text))


def _latest_column(path: Path, sheet: str) -> dict[str, float]:
    """Territory key -> the numeric cell of the table's latest year."""
    rows = read_sheet(path, sheet)
    header, years = header_row(rows)
    column = years[max(years)]
    return {_key(row[0]): row[column] for row in rows[header + 1:]
            if row and row[0] and isinstance(row[column], int | float)}


@pytest.fixture(scope="module")
def areas() -> pd.DataFrame:
    seed = read_seed("region_areas")
    seed["area_km2"] = seed["area_km2"].astype(float)
    return seed


def test_every_subject_has_one_area(areas: pd.DataFrame) -> None:
    regions = read_seed("regions")
    subjects = set(regions.loc[regions.level.isin(["subject", "subject_part"]) & (regions.country == "RU"),
                               "region_code"])
    assert set(areas.region_code) == subjects and areas.region_code.is_unique
    assert (areas.area_km2 > 0).all()


def test_subjects_add_up_to_russia(areas: pd.DataFrame) -> None:
    """The 85 subjects, the autonomous okrugs not counted twice (the whole Arkhangelsk and Tyumen oblasts include
    them), add up to Russia's area within 0.01 %."""
    regions = read_seed("regions").set_index("region_code")
    area = areas.set_index("region_code").area_km2
    subjects = [c for c in area.index if regions.at[c, "level"] == "subject"]
    nested = ["RU-NEN", "RU-KHM", "RU-YAN"]
    total = area[subjects].sum() - area[nested].sum()
    assert total == pytest.approx(RUSSIA_AREA_KM2, rel=1e-4)
    # the parts without the okrugs are the whole minus the okrugs
    assert area["RU-ARK-XAO"] == pytest.approx(area["RU-ARK"] - area["RU-NEN"], abs=1)
    assert area["RU-TYU-XAO"] == pytest.approx(area["RU-TYU"] - area["RU-KHM"] - area["RU-YAN"], abs=1)


def test_areas_agree_with_the_yearbooks_forest_cover(areas: pd.DataFrame, shared_data: Path) -> None:
    path = shared_data / "rosstat" / "regions_of_russia_2023" / SECTION_13
    if not path.is_file():
        pytest.skip(f"section 13 of the 2023 yearbook is not at {path}")
    forest, cover = _latest_column(path, "13.37.2."), _latest_column(path, "13.37.3.")
    regions = read_seed("regions").set_index("region_code")
    checked, far = 0, []
    for row in areas.itertuples():
        names = [regions.at[row.region_code, "name_ru"], *regions.at[row.region_code, "aliases"].split("|")]
        key = next((k for k in map(_key, names) if k in forest and k in cover), None)
        assert key is not None, f"{row.region_code}: no row in 13.37.2./13.37.3."
        if cover[key] < MIN_COVER_PCT:
            continue
        estimate_km2 = forest[key] / cover[key] * 1000
        checked += 1
        if abs(row.area_km2 / estimate_km2 - 1) > TOLERANCE:
            far.append((row.region_code, row.area_km2, round(estimate_km2)))
    assert checked >= 78 and not far, far
    # Sverdlovsk oblast by hand: 13.37.2 (2022) 13 332 thousand ha / 13.37.3 68.6 % = 194.344 thousand km²,
    # the seed's 194 307 km² within 0.02 %
    sve = _key("Свердловская область")
    assert (forest[sve], cover[sve]) == (13332, 68.6)
    assert areas.set_index("region_code").at["RU-SVE", "area_km2"] == pytest.approx(13332 / 68.6 * 1000, rel=2e-4)
