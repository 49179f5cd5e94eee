"""The Rosstat importer on the real «Регионы России 2023» sections in ``../shared/data``.

Expected numbers were read off the workbooks cell by cell with openpyxl (independently of the
importer, which reads with calamine) and are hard-coded here. The module skips when the shared data
folder is absent (a clone outside this setup).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.sources.rosstat import import_rosstat, load_mapping, load_regions

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "rosstat" / "regions_of_russia_2023"

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(),
    reason=f"real Rosstat files not found at {DATA} (shared/data is absent on this machine)",
)

SKIPPED_TABLES = {"3.10.", "3.11.", "3.18.", "3.19."}


@pytest.fixture(scope="module")
def batch():
    return import_rosstat([DATA], load_regions(), load_mapping())


@pytest.fixture(scope="module")
def obs(batch) -> pd.DataFrame:
    return batch.observations


def cell(obs: pd.DataFrame, ref: str) -> pd.Series:
    rows = obs[obs.cell_ref == ref]
    assert len(rows) == 1, f"{ref}: {len(rows)} observations"
    return rows.iloc[0]


def test_every_name_matched_and_nothing_rejected(batch, obs):
    assert batch.rejects.empty, batch.rejects.head().to_string()
    assert obs.region_code.notna().all()
    assert len(obs) > 340_000
    assert obs.table_code.nunique() == 170
    assert not obs.duplicated(["table_code", "region_code", "period", "indicator_key"]).any()


def test_every_subject_and_district_present_in_the_core_tables(obs):
    regions = load_regions()
    ru = regions[(regions.country == "RU") & regions.level.isin(["subject", "district", "country"])]
    expected = set(ru.region_code)
    for table in ["1.1.", "1.2.", "2.3.", "8.1.", "8.2.", "18.2.", "3.2.", "3.17."]:
        got = set(obs[obs.table_code == table].region_code)
        assert expected <= got, (table, sorted(expected - got))
    assert {"RU-ARK-XAO", "RU-TYU-XAO", "RU-NEN", "RU-KHM", "RU-YAN"} <= set(
        obs[obs.table_code == "1.1."].region_code
    )


def test_skipped_tables_are_reported(batch, obs):
    skipped = {note.split("table '")[1].split("'")[0] for note in batch.notes if "skipped" in note}
    assert skipped == SKIPPED_TABLES
    assert not SKIPPED_TABLES & set(obs.table_code)
    assert any("Содержание.xlsx" in n and "contents only" in n for n in batch.notes)


def test_spot_values(obs):
    kurgan = cell(obs, "8.1.!B74")  # GRP, Курганская область, 2000
    assert (kurgan.region_code, kurgan.period, kurgan.value) == ("RU-KGN", 2000, 18705.2)
    assert (
        kurgan.indicator_code == "grp_total"
        and kurgan.unit == "миллионов рублей"
        and kurgan.release == "2023"
    )
    per_capita = cell(obs, "8.2.!W74")  # GRP per capita, Курганская область, 2021
    assert (per_capita.period, per_capita.value, per_capita.indicator_code) == (
        2021,
        330642.2,
        "grp_per_capita",
    )
    ossetia = cell(obs, "8.1.!B55")
    assert (ossetia.region_code, ossetia.value) == ("RU-SE", 8363.2)
    rf_mortality = cell(obs, "1.12.!M7")  # a number stored as the text «1 194,6»
    assert (rf_mortality.region_code, rf_mortality.period, rf_mortality.value) == ("RU", 2022, 1194.6)
    kaliningrad = cell(obs, "1.8.!B35")  # «Калинингpадская область» with a Latin p
    assert (kaliningrad.region_code, kaliningrad.value) == ("RU-KGD", -0.2)
    spb = cell(obs, "3.27.1!O42")  # «1202)»: 120 with footnote 2 glued on
    assert (spb.region_code, spb.period, spb.value) == ("RU-SPE", 2013, 120.0)
    sevastopol = cell(obs, "3.27.1!P51")  # «83)»: 8 with footnote 3
    assert (sevastopol.region_code, sevastopol.period, sevastopol.value) == ("RU-SEV", 2014, 8.0)
    sakhalin = cell(obs, "18.2.!N102")
    assert (sakhalin.region_code, sakhalin.period, sakhalin.value, sakhalin.indicator_code) == (
        "RU-SAK",
        2012,
        827.0,
        "researchers",
    )


def test_missing_and_confidential_cells(obs):
    chechnya = cell(obs, "8.1.!B56")  # «…»: not available
    assert (chechnya.region_code, chechnya.period, chechnya.flag) == ("RU-CE", 2000, "na")
    assert math.isnan(chechnya.value)
    bryansk = cell(obs, "18.10.!I9")  # «... 1)» with footnote 1) = confidentiality
    assert (bryansk.region_code, bryansk.period, bryansk.flag) == ("RU-BRY", 2007, "c")
    assert math.isnan(bryansk.value)
    yev = cell(obs, "18.6.3.!V104")  # «…2)», footnote 2) = confidentiality
    assert (yev.region_code, yev.flag) == ("RU-YEV", "c")
    flags = obs.flag.value_counts()
    assert flags["none"] > 5000 and flags["na"] > 900 and flags["c"] > 900


def test_rf_rows_with_own_unit_and_breakdowns(obs):
    rf = cell(obs, "19.1.!X7")  # «Российская Федерация, млрд руб.»
    assert (rf.region_code, rf.period, rf.unit) == ("RU", 2022, "млрд руб.")
    assert rf.value == pytest.approx(19676.909768, abs=1e-5)
    federal = cell(obs, "2.15.!P10")
    assert (federal.region_code, federal.value) == ("RU", 40713.0)
    assert federal.indicator_key.endswith("| на федеральном уровне")


def test_split_year_keeps_first_column_as_the_series(obs):
    third = cell(obs, "18.12.1.!M77")
    fourth = cell(obs, "18.12.1.!N77")
    assert (third.region_code, third.period, third.value, third.indicator_code) == (
        "RU-SVE",
        2017,
        9.6,
        "innovation_activity",
    )
    assert fourth.period == 2017 and pd.isna(fourth.indicator_code) and "4-й редакции" in fourth.indicator_key


@pytest.mark.parametrize("table", ["1.1.", "1.2.", "2.3.", "8.1.", "18.2."])
def test_tyumen_total_equals_its_parts(obs, table):
    parts = obs[
        (obs.table_code == table) & obs.region_code.isin(["RU-TYU", "RU-KHM", "RU-YAN", "RU-TYU-XAO"])
    ]
    wide = parts.pivot_table(index="period", columns="region_code", values="value", aggfunc="first").dropna()
    assert len(wide) >= 3, f"{table}: the file gives the oblast and all three parts for too few years"
    gap = wide["RU-TYU"] - (wide["RU-KHM"] + wide["RU-YAN"] + wide["RU-TYU-XAO"])
    assert (gap.abs() <= 0.2 + 1e-6 * wide["RU-TYU"].abs()).all(), gap[gap.abs() > 0.2]


def test_arkhangelsk_total_equals_its_parts(obs):
    parts = obs[(obs.table_code == "1.1.") & obs.region_code.isin(["RU-ARK", "RU-NEN", "RU-ARK-XAO"])]
    wide = parts.pivot_table(index="period", columns="region_code", values="value", aggfunc="first").dropna()
    assert len(wide) == 23
    assert ((wide["RU-ARK"] - wide["RU-NEN"] - wide["RU-ARK-XAO"]).abs() <= 0.2).all()


def test_every_mapped_table_exists_in_the_files(obs):
    mapping = load_mapping()
    mapped = mapping[mapping.table_code != ""]
    for row in mapped.itertuples():
        rows = obs[(obs.table_code == row.table_code) & (obs.indicator_code == row.indicator_code)]
        assert rows.region_code.nunique() >= 85, row.table_code
