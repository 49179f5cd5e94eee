"""The Rosstat importer on the trimmed real files of ``tests/fixtures/rosstat/`` (their README says what each keeps).

The trimmed files keep the real rows with their real row numbers and the real document properties, so every
expected value below is the real cell, named in a comment (``sheet!cell`` = value as stored).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from fixtures.rosstat_sheets import REAL, cell

from dagster_project.sources.rosstat import import_rosstat


@pytest.fixture(scope="module")
def batch():
    """Every fixture imported at once (nine files of four kinds: 2019 and 2023 yearbook, thematic .xls, EMISS)."""
    return import_rosstat(sorted(REAL.glob("*.xls*")))


@pytest.fixture(scope="module")
def obs(batch) -> pd.DataFrame:
    return batch.observations


def test_nothing_rejected_and_no_cell_twice(batch, obs) -> None:
    assert batch.rejects.empty, batch.rejects.to_string()
    assert obs.region_code.notna().all()
    key = ["source", "dataset", "table_code", "region_key", "indicator_key", "period", "release"]
    assert not obs.duplicated(key).any()
    mapped = obs[obs.indicator_code.notna()]
    assert not mapped.duplicated(["indicator_code", "region_code", "period", "release"]).any()


def test_grp_of_two_editions_maps_by_title(obs) -> None:
    """GRP is 9.1. in the 2019 edition and 8.1. in 2023: both map to grp_total (and 9.2./8.2. to grp_per_capita),
    each with the edition its document date says."""
    old, new = cell(obs, "9.1.!R74"), cell(obs, "8.1.!R75")  # Свердловская область, 2016
    assert (old.region_code, old.period, old.value, old.indicator_code) == ("RU-SVE", 2016, 1990836.7, "grp_total")
    assert (new.region_code, new.period, new.value, new.indicator_code) == ("RU-SVE", 2016, 2109619.1, "grp_total")
    assert (old.release, old.release_date) == ("2019", date(2020, 1, 20))  # modified 2020-01-20
    assert (new.release, new.release_date) == ("2023", date(2023, 12, 26))  # section 8 modified 2023-12-26
    assert (old.table_code, new.table_code) == ("9.1.", "8.1.")
    assert (cell(obs, "9.2.!R74").value, cell(obs, "9.2.!R74").indicator_code) == (459812.1, "grp_per_capita")
    assert (cell(obs, "8.2.!W75").value, cell(obs, "8.2.!W75").indicator_code) == (710380.8, "grp_per_capita")
    rf = cell(obs, "8.1.!W7")  # «Валовой региональный продукт по субъектам Российской Федерации (…) – всего»
    assert (rf.region_code, rf.period, rf.value) == ("RU", 2021, 121182987.5)
    assert cell(obs, "8.1.!R26").value == 15121534.2 and cell(obs, "8.1.!R26").region_code == "RU-MOW"


def test_manufacturing_spliced_from_okved_and_okved2_with_the_break_flagged(obs) -> None:
    okved, okved2 = cell(obs, "12.2.3.!M76"), cell(obs, "12.2.4.!F76")  # Свердловская 2016 / 2021
    assert (okved.period, okved.value, okved.indicator_code) == (2016, 1642785.0, "manufacturing_shipments_total")
    assert (okved2.period, okved2.value, okved2.indicator_code) == (2021, 2559396.0, "manufacturing_shipments_total")
    first = cell(obs, "12.2.4.!B76")  # 2017: the first year by OKVED2
    assert (first.period, first.flag) == (2017, "b")
    assert pd.isna(okved.flag) and pd.isna(okved2.flag)


def test_times_printed_indices_are_values_with_their_flag(obs) -> None:
    """12.4.1. (in per cent of the previous year): «в 3.1 р.» (F11) = 310, «в 4,8 р.» (D18) = 480."""
    assert (cell(obs, "12.4.1.!F11").value, cell(obs, "12.4.1.!F11").flag) == (310.0, "times")
    assert (cell(obs, "12.4.1.!D18").value, cell(obs, "12.4.1.!D18").flag) == (480.0, "times")


def test_internet_to_2019_then_the_fixed_column_of_2020_with_the_break(obs) -> None:
    assert (cell(obs, "17.1.4.!M76").value, cell(obs, "17.1.4.!M76").indicator_code) == (
        93.2, "organisations_using_internet")  # Свердловская 2016
    fixed, mobile = cell(obs, "17.2.!E77"), cell(obs, "17.2.!D77")  # 2021: fixed 83.8, mobile 42.7
    assert (fixed.period, fixed.value, fixed.indicator_code) == (2021, 83.8, "organisations_using_internet")
    assert mobile.value == 42.7 and pd.isna(mobile.indicator_code)
    assert mobile.indicator_key.endswith("| мобильный Интернет")
    assert cell(obs, "17.2.!C77").flag == "b"  # 2020, fixed: the first year after the break
    broadband = cell(obs, "17.9.1.!L76")  # per 100 people (the parent title says so), 2021
    assert (broadband.value, broadband.indicator_code) == (27.3, "broadband_subscriptions_per_100")


def test_five_columns_per_year_with_misaligned_headers(obs) -> None:
    """3.10.: the group of 2018 starts at CN, its year cell sits at CP; 2022's last column is DL."""
    first, third, last = cell(obs, "3.10.!CN9"), cell(obs, "3.10.!CP9"), cell(obs, "3.10.!DL9")
    assert (first.period, first.value) == (2018, 6.1)
    assert first.indicator_key.endswith("| Доходы от предпринимательской деятельности")
    assert (third.period, third.value) == (2018, 19.0) and third.indicator_key.endswith("| Социальные выплаты")
    assert (last.period, last.value) == (2022, 11.4) and last.indicator_key.endswith("| Прочие денежные поступления")
    rf = obs[(obs.table_code == "3.10.") & (obs.region_code == "RU")]
    assert len(rf) == 23 * 5 and not rf.duplicated(["indicator_key", "period"]).any()


def test_the_unheaded_copy_column_is_not_a_second_2022(batch, obs) -> None:
    """6.2.2.!AB93:AB104 repeat X (2022) with no header: skipped with a note, X read once."""
    buryatia = obs[(obs.table_code == "6.2.2.") & (obs.region_code == "RU-BU") & (obs.period == 2022)]
    assert buryatia.cell_ref.tolist() == ["6.2.2.!X94"] and buryatia.value.tolist() == [1124.0]
    assert not obs.cell_ref.str.startswith("6.2.2.!AB").any()
    assert any("6.2.2.: column AB has no year in the header; skipped" in line for line in batch.summary)


def test_two_oslo_editions_in_2017_are_two_series(obs) -> None:
    third, fourth = cell(obs, "18.12.1.!M77"), cell(obs, "18.12.1.!N77")  # Свердловская 2017
    assert (third.value, third.indicator_code) == (9.6, "innovation_activity")
    assert fourth.value == pytest.approx(19.527760051052965) and pd.isna(fourth.indicator_code)
    assert "4-й редакции" in fourth.indicator_key and "3-й редакции" in third.indicator_key
    assert cell(obs, "18.12.1.!O77").flag == "b"  # 2018: the first year by the 4th edition only
    tech = cell(obs, "18.11.!J74")  # no unit row; Свердловская 2008
    assert (tech.value, tech.indicator_code) == (9533.0, "advanced_technologies_used") and pd.isna(tech.unit)


def test_thematic_xls_maps_to_the_same_indicator_with_its_update_date(obs) -> None:
    """ppt-2.xls: sheet 3 by region, «Обновлено: » | «04.04.2025 г.» on its contents sheet."""
    tech = cell(obs, "3!E72")  # Свердловская 2008: 9537 (the 2023 yearbook printed 9533)
    assert (tech.dataset, tech.value, tech.indicator_code) == ("thematic", 9537.0, "advanced_technologies_used")
    assert (tech.release, tech.release_date) == ("2025-04-04", date(2025, 4, 4))
    assert cell(obs, "3!T72").value == 15732.0 and cell(obs, "3!T72").period == 2023  # header «2023 4)»
    ppt = obs[obs.dataset == "thematic"]
    assert {"RU-NEN", "RU-ARK-XAO"} <= set(ppt.region_code)  # A29 «в том числе Ненецкий…», A30 «… кроме Hенецкого…»


def test_emiss_export_reads_its_metadata_and_okato_names(obs, batch) -> None:
    emiss = obs[obs.dataset == "emiss"]
    sve = cell(obs, "Отчет!E61")  # Свердловская 2021, persons
    assert (sve.value, sve.indicator_code, sve.unit, sve.table_code) == (4276579.0, "population", "Человек",
                                                                         "23110000100040200001")
    assert sve.indicator_key == "23110000100040200001 Численность постоянного населения в среднем за год"
    assert (cell(obs, "Отчет!B23").region_code, cell(obs, "Отчет!B23").value) == ("RU-ARK-XAO", 1039524.0)
    assert (cell(obs, "Отчет!B62").region_code, cell(obs, "Отчет!B65").region_code) == ("RU-TYU", "RU-TYU-XAO")
    assert cell(obs, "Отчет!B65").region_key.startswith("Тюменская область (кроме")
    assert cell(obs, "Отчет!B79").region_code == "RU-SA"  # «Республика Саха»
    assert emiss.release.isna().all()  # no export date; the core properties are an openpyxl re-save
    assert any(line.startswith("WARNING release unknown for 1 emiss files") for line in batch.summary)
