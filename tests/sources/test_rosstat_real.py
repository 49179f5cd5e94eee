"""The Rosstat importer on the real files of ``../shared/data/rosstat/``: the whole 2023 yearbook (22 files, about
a million cells), the 2019 GRP section, the thematic .xls tables and the EMISS export. Skips with the reason when
that folder is absent. Expected numbers are the cells as stored (``sheet!cell``), read off the workbooks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from fixtures.rosstat_sheets import cell

from dagster_project.sources.rosstat import import_rosstat, load_mapping, load_regions

SUBJECTS = 85


@pytest.fixture(scope="module")
def rosstat(shared_data: Path) -> Path:
    folder = shared_data / "rosstat"
    if not (folder / "regions_of_russia_2023").is_dir():
        pytest.skip(f"the Rosstat 2023 yearbook is not at {folder / 'regions_of_russia_2023'}")
    return folder


@pytest.fixture(scope="module")
def yearbook(rosstat: Path):
    return import_rosstat([rosstat / "regions_of_russia_2023"])


@pytest.fixture(scope="module")
def obs(yearbook) -> pd.DataFrame:
    return yearbook.observations


@pytest.fixture(scope="module")
def others(rosstat: Path):
    return import_rosstat([rosstat / "regions_of_russia_2019", rosstat / "thematic_2024", rosstat / "emiss"])


def test_the_whole_yearbook_reads_without_rejecting_a_printed_convention(yearbook, obs) -> None:
    """All 21 sections and the contents: one reject, 3.18.!F78 «ё» (a stray letter where a share belongs)."""
    assert yearbook.rejects.cell_ref.tolist() == ["3.18.!F78"] and yearbook.rejects.raw_value.tolist() == ["ё"]
    assert obs.region_code.notna().all() and len(obs) > 940_000
    assert obs.table_code.nunique() == 482
    key = ["dataset", "table_code", "region_key", "indicator_key", "period", "release"]
    assert not obs.duplicated(key).any()
    mapped = obs[obs.indicator_code.notna()]
    assert not mapped.duplicated(["indicator_code", "region_code", "period"]).any()
    assert (obs.flag == "times").sum() == 51  # 10.3. (21) and 12.3.1–12.8 (30), all in per cent of the year before
    assert (cell(obs, "10.3.!V44").value, cell(obs, "10.3.!B44").value) == (220.0, 1010.0)  # «в 2,2р.», «в 10,1 р.»


def test_the_summary_names_the_edition_and_what_was_skipped(yearbook) -> None:
    summary = "\n".join(yearbook.summary)
    assert summary.startswith("release 2023 edition of regions_of_russia, dated 2023-12-13 (document properties "
                              "saved 2023-12-13 … 2024-03-22; 22 files")
    assert "6.2.2.: column AB has no year in the header; skipped" in summary
    assert "Содержание.xlsx: contents only (21 entries)" in summary
    assert "12.10.: K6 '20009.0' read as 2009 (between 2008 and 2010)" in summary
    assert "WARNING" not in summary  # every catalog table maps; nothing resembles one without mapping
    assert set(yearbook.observations.release) == {"2023"}
    assert set(yearbook.observations.release_date) == {date(2023, 12, 13)}


def test_layouts_beyond_the_simple_one(obs) -> None:
    """7.1.1. (header at row 97), 3.10. (5 columns a year, 2018–2022 headers misaligned), 6.2.2. (AB skipped),
    12.10. (K6 «20009» is 2009), 10.4.1.!A108 «Не распределено по субъектам Российской Федерации» (kept as a
    breakdown of the RF row)."""
    rf_land = cell(obs, "7.1.1.!B98")
    assert (rf_land.region_code, rf_land.period, rf_land.value, rf_land.unit) == ("RU", 2005, 220.7, "млн га")
    income = obs[obs.table_code == "3.10."]
    assert income.groupby("region_code").size().max() == 115 and not income.duplicated(
        ["region_code", "indicator_key", "period"]).any()
    assert cell(obs, "3.10.!CN9").period == 2018 and cell(obs, "3.10.!DL9").period == 2022
    assert not obs.cell_ref.str.startswith("6.2.2.!AB").any()
    assert cell(obs, "12.10.!K75").period == 2009
    unallocated = obs[(obs.table_code == "10.4.1.") & obs.region_key.str.startswith("Не распределено")]
    assert (unallocated.region_code == "RU").all() and len(unallocated) > 0 and unallocated.indicator_code.isna().all()


def test_every_catalog_indicator_the_yearbook_prints_is_mapped(obs) -> None:
    """By title: one table each, or two spliced (manufacturing, Internet); every subject; the years printed."""
    mapped = obs[obs.indicator_code.notna()]
    per = mapped.groupby("indicator_code", observed=True).agg(
        tables=("table_code", lambda s: ", ".join(sorted(set(s), key=lambda c: [int(p) for p in c.split(".") if p]))),
        first=("period", "min"), last=("period", "max"))
    expected = {
        "population": ("1.2.", 2000, 2022), "urban_population_share": ("1.3.", 2000, 2022),
        "life_expectancy": ("1.16.1.", 2000, 2022), "migration_balance_per_10000": ("1.20.", 2000, 2022),
        "employed": ("2.3.", 2000, 2022), "employment_rate": ("2.5.", 2000, 2022),
        "money_income_per_capita": ("3.2.", 2000, 2022), "consumer_spending_per_capita": ("3.17.", 2000, 2022),
        "students_total": ("4.18.", 2000, 2022), "students_per_10000": ("4.19.", 2000, 2022),
        "grp_total": ("8.1.", 2000, 2021), "grp_per_capita": ("8.2.", 2000, 2021),
        "fixed_investment_total": ("10.1.", 2000, 2022), "fixed_investment_per_capita": ("10.2.", 2000, 2022),
        "manufacturing_shipments_total": ("12.2.3., 12.2.4.", 2005, 2022),
        "rail_density": ("16.3.", 2000, 2022), "road_density": ("16.10.", 2000, 2022),
        "organisations_using_internet": ("17.1.4., 17.2.", 2005, 2022),
        "broadband_subscriptions_per_100": ("17.9.1.", 2011, 2022),
        "researchers": ("18.2.", 2000, 2022), "rd_expenditure_total": ("18.5.", 2000, 2022),
        "advanced_technologies_used": ("18.11.", 2000, 2022), "innovation_activity": ("18.12.1.", 2006, 2022),
        "innovative_goods_share": ("18.14.2.", 2000, 2022),
        "budget_revenue_total": ("19.1.", 2000, 2022), "budget_expenditure_total": ("19.2.", 2000, 2022),
    }
    assert {k: tuple(v) for k, v in per.iterrows()} == expected
    subjects = set(load_regions().query("country == 'RU' and level == 'subject'").region_code)
    for indicator in expected:
        assert subjects <= set(mapped[mapped.indicator_code == indicator].region_code), indicator
    catalog = set(load_mapping().query("own_pattern != ''").indicator_code)
    assert catalog == set(expected)


@pytest.mark.parametrize(
    ("ref", "region", "year", "value", "indicator"),
    [
        ("8.1.!R75", "RU-SVE", 2016, 2109619.1, "grp_total"),
        ("8.2.!W26", "RU-MOW", 2021, 1935204.5, "grp_per_capita"),
        ("1.2.!W40", "RU-SPE", 2021, 5598.2, "population"),
        ("2.3.!W63", "RU-TA", 2021, 1985.8, "employed"),
        ("10.1.!R76", "RU-SVE", 2016, 328402.53, "fixed_investment_total"),
        ("10.2.!W27", "RU-MOW", 2021, 384993.0, "fixed_investment_per_capita"),
        ("12.2.3.!M41", "RU-SPE", 2016, 2062005.0, "manufacturing_shipments_total"),
        ("12.2.4.!F63", "RU-TA", 2021, 2871028.0, "manufacturing_shipments_total"),
        ("4.19.!R75", "RU-SVE", 2016, 280.0, "students_per_10000"),  # «2016/2017»
        ("4.18.!W26", "RU-MOW", 2021, 759.3, "students_total"),
        ("17.1.4.!M27", "RU-MOW", 2016, 99.2, "organisations_using_internet"),
        ("17.2.!E64", "RU-TA", 2021, 80.2, "organisations_using_internet"),
        ("17.9.1.!L41", "RU-SPE", 2021, 29.2, "broadband_subscriptions_per_100"),
        ("16.10.!W75", "RU-SVE", 2021, 130.71542974781266, "road_density"),
        ("16.3.!W40", "RU-SPE", 2021, 3082.0, "rail_density"),  # the text «3 082»
        ("1.16.1.!R76", "RU-SVE", 2016, 70.02, "life_expectancy"),
        ("2.5.!W27", "RU-MOW", 2021, 66.2, "employment_rate"),
        ("3.2.!W63", "RU-TA", 2021, 39679.0, "money_income_per_capita"),
        ("18.12.1.!M77", "RU-SVE", 2017, 9.6, "innovation_activity"),
        ("19.1.!W26", "RU-MOW", 2021, 3349411.14839656, "budget_revenue_total"),
    ],
)
def test_spot_values(obs, ref: str, region: str, year: int, value: float, indicator: str) -> None:
    found = cell(obs, ref)
    assert (found.region_code, found.period, found.indicator_code) == (region, year, indicator)
    assert found.value == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("table", ["1.1.", "1.2.", "2.3.", "8.1.", "18.2."])
def test_tyumen_total_equals_its_parts(obs, table: str) -> None:
    parts = obs[(obs.table_code == table) & obs.region_code.isin(["RU-TYU", "RU-KHM", "RU-YAN", "RU-TYU-XAO"])]
    wide = parts.pivot_table(index="period", columns="region_code", values="value", aggfunc="first",
                             observed=True).dropna()
    assert len(wide) >= 3
    gap = wide["RU-TYU"] - (wide["RU-KHM"] + wide["RU-YAN"] + wide["RU-TYU-XAO"])
    assert (gap.abs() <= 0.2 + 1e-6 * wide["RU-TYU"].abs()).all(), gap[gap.abs() > 0.2]


def test_other_editions_thematic_tables_and_emiss(others) -> None:
    obs = others.observations
    assert others.rejects.empty, others.rejects.head().to_string()
    grp = cell(obs, "9.1.!R74")  # the 2019 edition: GRP is section 9
    assert (grp.region_code, grp.value, grp.indicator_code, grp.release) == ("RU-SVE", 1990836.7, "grp_total", "2019")
    tech = cell(obs, "3!E72")  # ppt-2.xls
    assert (tech.value, tech.indicator_code, tech.release) == (9537.0, "advanced_technologies_used", "2025-04-04")
    third, fourth = cell(obs, "1!I73"), cell(obs, "1!J73")  # innovations_1.xls, 2017 by two editions
    assert (third.value, third.indicator_code) == (9.6, "innovation_activity") and pd.isna(fourth.indicator_code)
    assert cell(obs, "1!Q73").value == pytest.approx(12.404712404712404)  # 2024
    personnel = obs[(obs.dataset == "thematic") & (obs.table_code == "2.")]  # nauka_2.xls: 5 blocks
    assert personnel[personnel.indicator_code == "researchers"].indicator_key.str.endswith(
        "| Численность персонала – всего").all()
    assert personnel.indicator_key.str.endswith("| исследователи").any()
    emiss = obs[obs.dataset == "emiss"]
    assert len(emiss.region_code.unique()) == SUBJECTS + 1  # with the Tyumen part (no Arkhangelsk total printed)
    assert (cell(obs, "Отчет!B23").region_code, cell(obs, "Отчет!B65").region_code) == ("RU-ARK-XAO", "RU-TYU-XAO")
    releases = obs.groupby("origin", observed=True).release.first()
    assert sorted(releases.dropna().tolist()) == ["2019", "2025-04-04", "2025-08-29", "2025-08-31"]
