"""The structure of Rosstat sheets (header anywhere, column groups, blocks, unheaded columns), what a table is (title
patterns), and the release a file states: each rule on a small workbook or rows written here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from fixtures.rosstat_sheets import BANNER, one, table_rows, write_release_sidecar, write_section

from dagster_project.sources.rosstat import import_rosstat, load_mapping
from dagster_project.sources.rosstat.layout import Contents, normalize_table_code, read_contents, read_layout
from dagster_project.sources.rosstat.release import resolve_release
from dagster_project.sources.rosstat.titles import (
    load_rules,
    match_rules,
    normalise_title,
    table_identity,
    title_identity,
)
from dagster_project.sources.rosstat.workbook import DocumentDates

SVE, KGN = "Свердловская область", "Курганская область"
BODY = [[SVE, 1, 2]]


def _layout(rows: list[list]):
    layout = read_layout(rows)
    assert not isinstance(layout, str), layout
    return layout


def test_header_found_anywhere_and_column_a_must_be_empty() -> None:
    """7.1.1. starts at row 92 after 91 empty rows; a data row whose values look like years (13.37.1!A65
    «Удмуртская Республика» 2069, 2066 …) is no header because its column A names a territory."""
    rows = [[None]] * 91 + [["Удмуртская Республика", 2069, 2066]] + table_rows("7.1.1.", "Угодья", "тысяч га",
                                                                                 [2021, 2022], [[SVE, 1.0, 2.0]])
    assert _layout(rows).header_row == 97  # 0-based: Excel row 98


def test_unheaded_copy_column_is_skipped_not_a_second_year() -> None:
    """6.2.2.: column AB repeats X (2022) in twelve Far-East rows without a header."""
    rows = table_rows("6.2.2.", "Площадки", "единиц", [2021, 2022], [[SVE, 1.0, 2.0, None, 2.0], [KGN, 3.0, 4.0]])
    layout = _layout(rows)
    assert [(c.index, c.year) for c in layout.columns] == [(1, 2021), (2, 2022)]
    assert layout.notes == ["column E has no year in the header; skipped"]


def test_misaligned_year_headers_follow_the_sub_label_cycle() -> None:
    """3.10.: five sources of income per year; from 2018 the year cell sits two columns right of its group."""
    labels = ["Оплата труда", "Социальные выплаты", "Другие доходы"]
    header = [2016, None, None, 2017, None, None, None, 2018, None, None, None, 2019]
    rows = table_rows("3.10.", "СТРУКТУРА", "в процентах", header, [])
    rows.append([None, *(labels * 4)])
    rows.append([SVE, *range(1, 13)])
    layout = _layout(rows)
    assert [(c.year, c.label) for c in layout.columns] == [(y, lab) for y in (2016, 2017, 2018, 2019) for lab in labels]
    assert not layout.notes


def test_one_year_with_two_labelled_columns() -> None:
    """18.12.1.: 2017 by the 3rd and the 4th edition of the Oslo Manual, the other years one column each."""
    rows = table_rows("18.12.1.", "Уровень", "в процентах", [2016, 2017, None, 2018], [])
    rows.append([None, None, "по критериям 3-й редакции Руководства \nОсло", "по критериям \n4-й редакции", None])
    rows.append([SVE, 9.4, 9.6, 19.5, 16.7])
    layout = _layout(rows)
    assert [(c.year, c.label) for c in layout.columns] == [
        (2016, None), (2017, "по критериям 3-й редакции Руководства Осло"), (2017, "по критериям 4-й редакции"),
        (2018, None)]


def test_blocks_repeating_the_years_are_labelled_from_above() -> None:
    """nauka_2.xls sheet 2: personnel in total, then researchers, each block over the same years."""
    rows = [["К содержанию"], [None], ["Численность персонала, по категориям и субъектам Российской Федерации"],
            [None, "Численность персонала – всего", None, "в том числе"], [None, None, None, "исследователи"],
            [None, 2021.0, "2022 5)", 2021.0, "20225)"], ["Российская Федерация", 10, 11, 5, 6]]
    layout = _layout(rows)
    assert [(c.year, c.label) for c in layout.columns] == [
        (2021, "Численность персонала – всего"), (2022, "Численность персонала – всего"),
        (2021, "исследователи"), (2022, "исследователи")]


def test_a_misprinted_year_between_two_years_is_inferred_with_a_note() -> None:
    """12.10.!K6 holds 20009 between 2008 and 2010."""
    layout = _layout(table_rows("12.10.", "Т", "единиц", [2008, 20009, 2010], [[SVE, 1, 2, 3]]))
    assert [c.year for c in layout.columns] == [2008, 2009, 2010]
    assert "read as 2009 (between 2008 and 2010)" in layout.notes[0]


def test_a_year_printed_twice_outside_blocks_is_skipped() -> None:
    layout = _layout(table_rows("9.9.", "Т", "единиц", [2020, 2021, "Справочно", 2021], [[SVE, 1, 2, 3, 4]]))
    assert [(c.index, c.year) for c in layout.columns] == [(1, 2020), (2, 2021)]
    assert any("headed 'Справочно', not a year" in n for n in layout.notes)


def test_table_codes_in_every_spelling() -> None:
    assert normalize_table_code("3.12. ") == "3.12."
    assert normalize_table_code("1.22.1") == "1.22.1."
    assert normalize_table_code("6.2.3 . Спортивные залы") == "6.2.3."
    assert normalize_table_code("3.19.СТРУКТУРА") == "3.19."
    assert normalize_table_code("Раздел 8") is None and normalize_table_code("2022 год") is None


def test_title_identity_drops_footnotes_year_ranges_and_the_by_region_qualifier() -> None:
    assert title_identity("12.2.4.  «Обрабатывающие производства» в соответствии с ОКВЭД21)") == \
        "обрабатывающие производства в соответствии с оквэд2"
    assert title_identity("12.2.3. «Обрабатывающие производства» в соответствии с ОКВЭД (2005-2016 гг.)1) ") == \
        "обрабатывающие производства в соответствии с оквэд"
    assert title_identity("Используемые передовые производственные технологии по субъектам Российской Федерации1) \n"
                          ) == "используемые передовые производственные технологии"
    assert title_identity("Численность персонала, занятого научными исследованиями и разработками, по категориям и "
                          "субъектам Российской Федерации, 2010, 2015-2024 гг.") == \
        "численность персонала, занятого научными исследованиями и разработками"
    assert normalise_title("(в фактических ценах;  рублей)") == "(в фактических ценах; рублей)"


def _identity(rows: list[list], sheet: str, contents: Contents = Contents()):  # noqa: B008 - an empty value
    layout = _layout(rows)
    return table_identity(sheet, layout.title_cells, contents)


@pytest.mark.parametrize(
    ("sheet", "rows", "indicator"),
    [
        ("8.1.", table_rows("8.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ ", " миллионов рублей", [2020, 2021], BODY),
         "grp_total"),
        ("9.1.", table_rows("9.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ ", "миллионов рублей", [2016, 2017], BODY),
         "grp_total"),
        ("8.2.", table_rows("8.2.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ на душу населения1) ", "рублей", [2020, 2021], BODY),
         "grp_per_capita"),
        ("1.16.1.", table_rows("1.16.1.", "Все население", "число лет", [2020, 2021], BODY,
                               parent="ОЖИДАЕМАЯ ПРОДОЛЖИТЕЛЬНОСТЬ ЖИЗНИ ПРИ РОЖДЕНИИ"), "life_expectancy"),
        ("10.1.", table_rows("10.1.", "ИНВЕСТИЦИИ В ОСНОВНОЙ КАПИТАЛ", "в фактически действовавших ценах; миллионов "
                             "рублей", [2020, 2021], BODY, parent="ИНВЕСТИЦИИ В ОСНОВНОЙ КАПИТАЛ"),
         "fixed_investment_total"),
        ("10.3.", table_rows("10.3.", "ИНДЕКС ФИЗИЧЕСКОГО ОБЪЕМА ИНВЕСТИЦИЙ В ОСНОВНОЙ КАПИТАЛ", "в процентах к "
                             "предыдущему году", [2020, 2021], BODY, parent="ИНВЕСТИЦИИ В ОСНОВНОЙ КАПИТАЛ"),
         None),
        ("17.9.2.", table_rows("17.9.2.", "Численность активных абонентов мобильного широкополосного доступа к сети "
                               "Интернет", "на конец года; единиц", [2020, 2021], BODY,
                               parent="17.9. ЧИСЛЕННОСТЬ АКТИВНЫХ АБОНЕНТОВ … на 100 человек населения1);2)"), None),
        ("17.9.1.", table_rows("17.9.1.", "Численность активных абонентов фиксированного широкополосного доступа к "
                               "сети Интернет ", "на конец года; единиц", [2020, 2021], BODY,
                               parent="17.9. ЧИСЛЕННОСТЬ АКТИВНЫХ АБОНЕНТОВ … на 100 человек населения1);2)"),
         "broadband_subscriptions_per_100"),
    ],
)
def test_tables_are_recognised_by_title_parent_and_unit(sheet: str, rows: list[list], indicator: str | None) -> None:
    """By what they are, not their number: 9.1. of the 2019 edition is GRP like 8.1. of 2023; 10.3. (an index
    under the heading «Инвестиции в основной капитал») and 17.9.2. (mobile) are not catalog tables."""
    found = match_rules(load_rules(load_mapping()), _identity(rows, sheet), "regions_of_russia")
    assert [r.indicator_code for r in found.rules] == ([indicator] if indicator else [])


def test_a_table_resembling_a_catalog_table_is_reported() -> None:
    rules = load_rules(load_mapping())
    thousands = table_rows("8.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ", "миллиардов рублей", [2020, 2021], BODY)
    found = match_rules(rules, _identity(thousands, "8.1."), "regions_of_russia")
    assert not found.rules
    assert found.warnings == [("grp_total", "resembles grp_total but did not map: its unit «миллиардов рублей» is not "
                               "/миллионов рублей/")]
    renamed = table_rows("8.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ В ТЕКУЩИХ ОСНОВНЫХ ЦЕНАХ", "миллионов рублей",
                         [2020, 2021], BODY)
    found = match_rules(rules, _identity(renamed, "8.1."), "regions_of_russia")
    assert [w for w, _ in found.warnings] == ["grp_total"] and "contains the catalog title" in found.warnings[0][1]


def test_contents_sheet_reads_codes_in_any_spelling_and_keeps_every_text() -> None:
    contents = read_contents([["1.14. ", "Браки"], [" 11.1.", "Число организаций"], ["Раздел 1.  Население"],
                              [None, "Обновлено: ", "04.04.2025 г."]])
    assert contents.titles == {"1.14.": "Браки", "11.1.": "Число организаций", "section 1": "Население"}
    assert ["Обновлено:", "04.04.2025 г."] in contents.texts


@pytest.mark.parametrize(
    ("texts", "dates", "yearbook", "sidecar", "setting", "expected"),
    [
        # a thematic table's contents: «Обновлено: » and the date in the cell to its right (ppt-2.xls!Содержание!C15)
        ([["Обновлено:", "04.04.2025 г."]], DocumentDates(datetime(2025, 4, 8)), False, {}, "",
         ("2025-04-04", date(2025, 4, 4))),
        # the edition named on a title page
        ([["Регионы России. Социально-экономические показатели. 2024"]], DocumentDates(), True, {}, "",
         ("2024", date(2024, 12, 31))),
        # a yearbook section: its document date labels the edition (January 2020 → 2019; December 2023 → 2023)
        ([], DocumentDates(datetime(2020, 1, 20, 8, 32)), True, {}, "", ("2019", date(2020, 1, 20))),
        ([], DocumentDates(datetime(2023, 12, 13, 15, 14)), True, {}, "", ("2023", date(2023, 12, 13))),
        # a year range in a contents title is no release (section 12: «… в 2000-2004 гг.»)
        ([["12.1.", "Объем промышленной продукции в 2000-2004 гг."]], DocumentDates(datetime(2023, 12, 26)), True,
         {}, "", ("2023", date(2023, 12, 26))),
        # a file saved by a library (the EMISS export re-saved with openpyxl) states no release …
        ([], DocumentDates(datetime(2025, 6, 3), creator="openpyxl"), False, {}, "", (None, None)),
        # … unless the setting gives one; a sidecar wins over everything
        ([], DocumentDates(datetime(2025, 6, 3), creator="openpyxl"), False, {}, "2025-06-01",
         ("2025-06-01", date(2025, 6, 1))),
        ([["Обновлено: 04.04.2025"]], DocumentDates(), False, {"release": "2025-05"}, "",
         ("2025-05", date(2025, 5, 1))),
        # the server's Last-Modified recorded by the URL pull, when the file says nothing
        ([], DocumentDates(), True, {"http_last_modified": "Tue, 26 Dec 2023 10:00:00 GMT"}, "",
         ("2023", date(2023, 12, 26))),
    ],
)
def test_release_is_what_the_data_says(tmp_path: Path, texts, dates, yearbook, sidecar, setting, expected) -> None:
    path = tmp_path / "regions_of_russia_2031" / "Раздел 8 2030.xlsx"  # a year in the path is never a release
    path.parent.mkdir()
    path.write_bytes(b"")
    if sidecar:
        write_release_sidecar(path, **sidecar)
    release = resolve_release(path, texts, dates, yearbook=yearbook, setting=setting)
    assert (release.label, release.when) == expected, release.evidence


def test_unknown_release_is_a_summary_warning(tmp_path: Path) -> None:
    path = write_section(tmp_path / "x.xlsx", {"8.1.": table_rows("8.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ",
                                                                  "миллионов рублей", [2020, 2021], [[SVE, 0.5, 1.0]])})
    batch = import_rosstat([path])
    assert batch.observations.release.isna().all() and batch.observations.release_date.isna().all()
    assert any(line.startswith("WARNING release unknown for 1 regions_of_russia files (x.xlsx)")
               for line in batch.summary), batch.summary
    write_release_sidecar(path, release="2023")
    batch = import_rosstat([path])
    assert set(batch.observations.release) == {"2023"}
    assert batch.summary[0].startswith("release 2023 edition of regions_of_russia, dated 2023-12-31 (sidecar")


def test_banner_makes_a_workbook_a_yearbook_section(tmp_path: Path) -> None:
    rows = table_rows("8.1.", "Т", "единиц", [2020, 2021], [[SVE, 0.5, 1.0]])
    path = write_section(tmp_path / "a.xlsx", {"8.1.": rows})
    assert set(import_rosstat([path]).observations.dataset) == {"regions_of_russia"}
    rows = [["Содержание:"], ["Некая таблица по субъектам Российской Федерации"], [None, 2020.0, 2021.0],
            [SVE, 0.5, 1.0]]
    other = write_section(tmp_path / "b.xlsx", {"1": rows}, contents=[("1.", "Некая таблица")])
    frame = import_rosstat([other]).observations
    assert BANNER not in str(rows) and set(frame.dataset) == {"regions_of_russia"}  # its contents sheet has the banner
    assert isinstance(frame, pd.DataFrame) and one(frame, period=2021).value == 1.0
