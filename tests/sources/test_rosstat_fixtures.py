"""The Rosstat importer on small workbooks written here with openpyxl, one quirk at a time.

Each fixture mimics the yearbook's layout (contents sheet, title/unit/header rows, territory rows,
footnotes) so a failure points at one rule. Expected values are the numbers written into the cells.
"""

from __future__ import annotations

import math
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dagster_project.sources.base import SourceError
from dagster_project.sources.rosstat import import_rosstat, load_mapping, load_regions
from dagster_project.sources.rosstat.cells import parse_cell, parse_year
from dagster_project.sources.rosstat.layout import normalize_table_code, release_from
from dagster_project.sources.rosstat.names import RegionMatcher, normalize_name

TOP = "Социально-экономические показатели по субъектам Российской Федерации"
CONFIDENTIAL = (
    "1) Данные не публикуются в целях обеспечения конфиденциальности первичных статистических данных."
)


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return load_regions()


@pytest.fixture(scope="module")
def mapping() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "indicator_code": "grp_total",
                "table_code": "8.1.",
                "table_title": "ВРП",
                "unit_as_published": "миллионов рублей",
                "scale": 1000.0,
                "note": "",
            },
            {
                "indicator_code": "area_km2",
                "table_code": "",
                "table_title": "",
                "unit_as_published": "",
                "scale": 1.0,
                "note": "not in the yearbook",
            },
        ]
    )


def table_rows(
    code: str, title: str, unit: str | None, header: list, body: list[list], footer: list[list] = ()
) -> list:
    """Rows of one table sheet in the yearbook's layout."""
    rows: list[list] = [[TOP], ["8. ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ"], [f"{code} {title}"]]
    if unit:
        rows.append([f" ({unit})"])
    rows.append([None, *header])
    return rows + [list(r) for r in body] + [list(r) for r in footer]


def write_section(
    path: Path, tables: dict[str, list[list]], contents: list[tuple[str, str]] | None = None
) -> Path:
    """A section workbook: a contents sheet then one sheet per table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Раздел 8"
    sheet.append([TOP])
    sheet.append(["  8. ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ"])
    for code, title in contents or [(name, "Таблица") for name in tables]:
        sheet.append([code, title])
    for name, rows in tables.items():
        table = book.create_sheet(name)
        for row in rows:
            table.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def one(frame: pd.DataFrame, **where) -> pd.Series:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"expected one row for {where}, got {len(rows)}"
    return rows.iloc[0]


# ----------------------------------------------------------------------------- unit rules


@pytest.mark.parametrize(
    ("cell", "year"),
    [
        (2022, 2022),
        (2022.0, 2022),
        ("2022 4)", 2022),
        ("20223)", 2022),
        ("20211);2)", 2021),
        ("2015/2016", 2015),
        ("2015-16", 2015),
        (" 2019 г.", 2019),
        ("Справочно", None),
        (12.5, None),
        (None, None),
    ],
)
def test_parse_year(cell, year):
    assert parse_year(cell) == year


@pytest.mark.parametrize(
    ("cell", "value", "flag", "footnote"),
    [
        (1194.6, 1194.6, None, None),
        ("1\u00a0194,6", 1194.6, None, None),
        ("1569, 8", 1569.8, None, None),
        ("−0,5", -0.5, None, None),
        ("1202)", 120.0, None, 2),
        ("83)", 8.0, None, 3),
        ("-", None, "none", None),
        (" –", None, "none", None),
        ("…", None, "na", None),
        ("...", None, "na", None),
        ("….", None, "na", None),
        ("…1)", None, "na", 1),
        ("... 1)", None, "na", 1),
    ],
)
def test_parse_cell(cell, value, flag, footnote):
    parsed = parse_cell(cell)
    assert parsed.value == value and parsed.flag == flag and parsed.footnote == footnote
    assert parsed.problem is None


def test_parse_cell_empty_and_garbage():
    assert parse_cell(None) is None and parse_cell("  ") is None
    assert parse_cell("abc").problem


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Южный                федеральный округ2)", "RU-FD-S"),
        ("Сибирский\nфедеральный округ3)", "RU-FD-SIB"),
        ("Южный федеральный округ 2); 3)", "RU-FD-S"),
        ("Калинингpадская область", "RU-KGD"),  # Latin p
        ("Ханты-Ман\u00adсийский автономный округ – Югра", "RU-KHM"),
        ("\nХанты-Мансийский \nавтономный округ-Югра", "RU-KHM"),
        ("Республика Северная Осетия_Алания", "RU-SE"),
        ("Республика Северная    Осетия –Алания ", "RU-SE"),
        ("г. Москва4)", "RU-MOW"),
        ("Москва", "RU-MOW"),
        ("Ставропольский край.", "RU-STA"),
        ("Республика Адыгея (Адыгея)", "RU-AD"),
        ("Республика Саха    (Якутия)", "RU-SA"),
        ("Кемеровская область - Кузбасс", "RU-KEM"),
        ("Чувашская Республика - Чувашия", "RU-CU"),
        ("Ханты-Мансийский автономный округ - Югра", "RU-KHM"),
        ("Архангельская область\nбез автономного округа", "RU-ARK-XAO"),
        ("Тюменская область без       автономных округов", "RU-TYU-XAO"),
        ("Российская Федерация2)", "RU"),
        ("¹⁾Российская Федерация", None),
        ("Камчатская область", "RU-KAM"),
    ],
)
def test_names_resolve_to_register(regions, raw, code):
    match = RegionMatcher(regions).match(raw)
    assert (match.region_code if match else None) == code


def test_normalize_name_folds_spacing_dashes_and_footnotes():
    assert (
        normalize_name("Северо-Кавказский       федеральный округ1)") == "северо-кавказский федеральный округ"
    )
    assert normalize_name("Республика Северная Осетия –    Алания") == "республика северная осетия-алания"


def test_ambiguous_register_is_refused(regions):
    broken = pd.concat([regions, regions[regions.region_code == "RU-SVE"].assign(region_code="RU-XXX")])
    with pytest.raises(ValueError, match="ambiguous"):
        RegionMatcher(broken)


def test_table_code_and_release_helpers(tmp_path):
    assert normalize_table_code("3.12. ") == "3.12."
    assert normalize_table_code("1.22.1") == "1.22.1."
    assert normalize_table_code("Раздел 8") is None
    assert release_from(tmp_path / "regions_of_russia_2023" / "Раздел 8.xlsx") == "2023"
    assert release_from(tmp_path / "x" / "Pril_2022.xlsx") == "2022"


# ----------------------------------------------------------------------------- whole tables


def _quirky_table() -> list[list]:
    body = [
        ["Российская Федерация", 100.0, "1\u00a0194,6", 300.0],
        ["Южный                федеральный округ2)", 10.0, 20.0, "…"],
        ["Калинингpадская область", "-", " -", "…1)"],
        ["Тюменская область", 60.0, 61.0, 62.0],
        ["в том числе:", None, None, None],
        ["Ханты-Мансийский \nавтономный округ – Югра", 30.0, 31.0, "…2)"],
        ["Ямало-Ненецкий автономный округ", 20.0, 20.0, 20.0],
        ["Тюменская область без автономных округов", 10.0, 10.0, "1202)"],
        ["Нарния", 1.0, 2.0, 3.0],
        ["Тридесятое царство", None, None, None],
        ["__________", None, None, None],
        [CONFIDENTIAL, None, None, None],
        ["2) Данные не разрабатывались.", None, None, None],
    ]
    return table_rows(
        "8.1.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ1)", "миллионов рублей", [2020, "2021 4)", "20223)"], body
    )


@pytest.fixture()
def quirky(tmp_path, regions, mapping):
    path = write_section(
        tmp_path / "regions_of_russia_2023" / "Раздел 8 - ВРП.xlsx",
        {
            "8.1.": _quirky_table(),
            "8.2.": table_rows(
                "8.2.", "ВРП на душу населения", "рублей", ["2015/2016", 2017], [["г. Москва", 5.0, 6.0]]
            ),
        },
        contents=[
            ("8.1.", "Валовой региональный продукт  "),
            ("8.2.", "Валовой региональный продукт на душу населения"),
        ],
    )
    return path, import_rosstat([path], regions, mapping, release_date=date(2023, 12, 29))


def test_values_flags_and_cell_refs(quirky):
    path, batch = quirky
    obs = batch.observations
    rf = one(obs, region_code="RU", period=2021)
    assert rf.value == pytest.approx(1194.6)  # as published: the mapping scale is applied in dbt
    assert rf.indicator_code == "grp_total" and rf.unit == "миллионов рублей"
    assert rf.cell_ref == "8.1.!C6" and rf.origin == str(path)
    assert rf.indicator_key == "8.1. Валовой региональный продукт" and rf.table_code == "8.1."
    assert rf.source == "rosstat" and rf.dataset == "regions_of_russia" and rf.release == "2023"
    assert rf.release_date == date(2023, 12, 29)  # DATE: a datetime.date, as DuckDB reads it
    assert one(obs, region_code="RU-FD-S", period=2022).flag == "na"
    kgd = obs[obs.region_code == "RU-KGD"].set_index("period")
    assert list(kgd.flag) == ["none", "none", "c"] and kgd.value.isna().all()
    khm = one(obs, region_code="RU-KHM", period=2022)
    assert khm.flag == "na" and math.isnan(khm.value)  # footnote 2) is not about confidentiality
    assert one(obs, region_code="RU-TYU-XAO", period=2022).value == 120.0


def test_nested_rows_keep_their_own_codes_and_add_up(quirky):
    obs = quirky[1].observations
    values = obs[obs.period == 2020].set_index("region_code").value
    assert values["RU-TYU"] == values["RU-KHM"] + values["RU-YAN"] + values["RU-TYU-XAO"]
    assert obs.region_code.notna().all()
    assert not obs.duplicated(["table_code", "region_code", "period", "indicator_key"]).any()


def test_unknown_name_with_data_is_a_reject_naming_file_sheet_row(quirky):
    path, batch = quirky
    assert len(batch.rejects) == 1
    reject = batch.rejects.iloc[0]
    assert reject.raw_value == "Нарния" and reject.cell_ref == "8.1.!A14" and reject.origin == str(path)
    assert "not found in the region register" in reject.reason
    assert not batch.observations.region_key.isin(["Нарния", "Тридесятое царство"]).any()


def test_unmapped_table_keeps_published_values_and_academic_years(quirky):
    obs = quirky[1].observations
    moscow = obs[(obs.table_code == "8.2.")].set_index("period")
    assert list(moscow.index) == [2015, 2017]
    assert list(moscow.value) == [5.0, 6.0] and moscow.indicator_code.isna().all()
    assert moscow.unit.iloc[0] == "рублей" and (moscow.region_code == "RU-MOW").all()


def test_rf_row_with_its_own_unit_and_rf_breakdowns(tmp_path, regions, mapping):
    body = [
        ["Российская Федерация, млрд руб.", 1065.8],
        ["в том числе в органах:", None],
        ["на федеральном уровне", 36.0],
        ["Белгородская область", 5396.8],
    ]
    path = write_section(
        tmp_path / "s2023.xlsx",
        {"8.1.": table_rows("8.1.", "ДОХОДЫ", "миллионов рублей", [2000, 2001], body)},
    )
    obs = import_rosstat([path], regions, mapping).observations
    rf = obs[obs.region_key == "Российская Федерация, млрд руб."].iloc[0]
    assert (
        rf.region_code == "RU"
        and rf.unit == "млрд руб."
        and pd.isna(rf.indicator_code)
        and rf.value == 1065.8
    )
    part = obs[obs.region_key == "на федеральном уровне"].iloc[0]
    assert part.region_code == "RU" and part.indicator_key.endswith("| на федеральном уровне")
    assert one(obs, region_code="RU-BEL").value == 5396.8


def test_formula_cells_read_as_cached_values(tmp_path, regions, mapping):
    body = [["Российская Федерация", 10.0, "=B6*2"]]
    path = write_section(
        tmp_path / "f2023.xlsx", {"8.2.": table_rows("8.2.", "ВРП", "рублей", [2020, 2021], body)}
    )
    _set_cached_value(path, "C6", "20")
    obs = import_rosstat([path], regions, mapping).observations
    assert one(obs, period=2021).value == 20.0


def _set_cached_value(path: Path, ref: str, value: str) -> None:
    """Give a formula cell the cached value Excel would have stored (openpyxl writes none)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet2.xml"
    xml = parts[sheet].decode()
    xml, count = re.subn(
        rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v></v>)?', rf"\1<v>{value}</v>", xml
    )
    assert count == 1
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_two_columns_for_one_year_keep_first_as_the_series(tmp_path, regions, mapping):
    rows = table_rows("8.1.", "ВРП", "в процентах", [2016, 2017, None, 2018], [])
    rows.append([None, None, "по критериям 3-й редакции", "по критериям 4-й редакции", None])
    rows.append(["Свердловская область", 9.4, 9.6, 19.5, 16.7])
    path = write_section(tmp_path / "s2023.xlsx", {"8.1.": rows})
    obs = import_rosstat([path], regions, mapping).observations
    y2017 = obs[obs.period == 2017].set_index("cell_ref")
    assert y2017.loc["8.1.!C7"].indicator_code == "grp_total" and y2017.loc["8.1.!C7"].value == 9.6
    assert pd.isna(y2017.loc["8.1.!D7"].indicator_code) and y2017.loc["8.1.!D7"].value == 19.5
    assert y2017.loc["8.1.!D7"].indicator_key.endswith("| по критериям 4-й редакции")


def test_other_layout_is_skipped_with_a_note(tmp_path, regions, mapping):
    rows = table_rows("3.10.", "СТРУКТУРА ДОХОДОВ", "в процентах", [2000, None, 2001, None, 2002, None], [])
    rows.append([None, "Оплата труда", "Прочие", "Оплата труда", "Прочие", "Оплата труда", "Прочие"])
    rows.append(["Российская Федерация", 60, 40, 61, 39, 62, 38])
    good = table_rows("3.2.", "ДОХОДЫ", "в месяц; рублей", [2000, 2001], [["Российская Федерация", 1.0, 2.0]])
    path = write_section(tmp_path / "s2023.xlsx", {"3.10.": rows, "3.2.": good, "3.3.": [["просто текст"]]})
    batch = import_rosstat([path], regions, mapping)
    assert set(batch.observations.table_code) == {"3.2."}
    assert any("3.10." in n and "skipped" in n and "several columns per year" in n for n in batch.notes)
    assert any("3.3." in n and "no header row of years" in n for n in batch.notes)


def test_legacy_xls(tmp_path, regions, mapping):
    xlwt = pytest.importorskip("xlwt", reason="xlwt (test-only) writes the legacy .xls fixture")
    book = xlwt.Workbook()
    book.add_sheet("Раздел 8").write(2, 0, "8.2.")
    sheet = book.add_sheet("8.2.")
    for r, row in enumerate(
        table_rows("8.2.", "ВРП на душу", "рублей", [2020, 2021], [["Республика Коми", 1.5, "…"]])
    ):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    path = tmp_path / "legacy_2019.xls"
    book.save(str(path))
    obs = import_rosstat([path], regions, mapping).observations
    assert list(obs.value.fillna(-1)) == [1.5, -1] and list(obs.flag.fillna("")) == ["", "na"]
    assert (obs.region_code == "RU-KO").all() and (obs.release == "2019").all()


def test_folder_expands_and_contents_only_file_is_a_note(tmp_path, regions, mapping):
    folder = tmp_path / "regions_of_russia_2022"
    write_section(
        folder / "a.xlsx",
        {"8.2.": table_rows("8.2.", "ВРП", "рублей", [2020, 2021], [["Республика Коми", 1, 2]])},
    )
    book = openpyxl.Workbook()
    book.active.title = "Содержание"
    book.active.append(["Раздел 1.  Население"])
    book.save(folder / "Содержание.xlsx")
    (folder / "~$a.xlsx").write_bytes(b"lock")
    batch = import_rosstat([folder], regions, mapping)
    assert len(batch.observations) == 2 and (batch.observations.release == "2022").all()
    assert any("Содержание.xlsx" in n and "contents only" in n for n in batch.notes)


# ----------------------------------------------------------------------------- broken files


def _valid(tmp_path: Path) -> Path:
    return write_section(
        tmp_path / "ok.xlsx",
        {"8.2.": table_rows("8.2.", "ВРП", "рублей", [2020, 2021], [["Республика Коми", 1, 2]])},
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html><html><body>503</body></html>", "HTML/XML page"),
        (b"", "empty"),
        (b"\x00\x01garbage" * 10, "not an Excel workbook"),
    ],
)
def test_not_an_excel_file(tmp_path, regions, mapping, content, message):
    path = tmp_path / "Раздел 8.xlsx"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as err:
        import_rosstat([path], regions, mapping)
    assert str(path) in str(err.value)


def test_truncated_download(tmp_path, regions, mapping):
    path = _valid(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match="damaged or truncated") as err:
        import_rosstat([path], regions, mapping)
    assert str(path) in str(err.value)


def test_zip_that_is_not_a_workbook(tmp_path, regions, mapping):
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SourceError, match="not an Excel workbook"):
        import_rosstat([path], regions, mapping)


def test_zip_bomb_guard(tmp_path, regions, mapping):
    path = _valid(tmp_path)
    with pytest.raises(SourceError, match="over the .* limit") as err:
        import_rosstat([path], regions, mapping, max_uncompressed_bytes=2_000)
    assert str(path) in str(err.value)
    assert len(import_rosstat([path], regions, mapping).observations) == 2  # the default limit admits it


def test_workbook_without_any_year_header(tmp_path, regions, mapping):
    book = openpyxl.Workbook()
    book.active.append(["какая-то таблица"])
    book.create_sheet("Лист2").append(["Регион", "значение"])
    path = tmp_path / "other.xlsx"
    book.save(path)
    with pytest.raises(SourceError, match="no sheet has a header row of years") as err:
        import_rosstat([path], regions, mapping)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path, regions, mapping):
    with pytest.raises(SourceError, match="not found"):
        import_rosstat([tmp_path / "nope.xlsx"], regions, mapping)


# ----------------------------------------------------------------------------- seeds


def test_register_shape(regions):
    ru = regions[regions.country == "RU"]
    assert regions.region_code.is_unique
    assert (ru.level == "subject").sum() == 85 and (ru.level == "district").sum() == 8
    assert set(ru[ru.level == "subject_part"].region_code) == {"RU-ARK-XAO", "RU-TYU-XAO"}
    assert set(regions.parent_code[regions.parent_code != ""]) <= set(regions.region_code)
    assert set(regions.within_code[regions.within_code != ""]) == {"RU-ARK", "RU-TYU"}
    assert set(ru[ru.level == "subject"].universe) == {"RU"}
    assert set(regions[regions.capital_region == "true"].region_code) == {
        "RU-MOW",
        "RU-MOS",
        "RU-SPE",
        "RU-LEN",
    }
    crimea = regions.set_index("region_code").loc[["RU-CR", "RU-SEV"], "valid_from"]
    assert list(crimea) == ["2014", "2014"]
    assert regions.set_index("region_code").loc["RU-SVE", "okato"] == "65000000000"
    assert regions.set_index("region_code").loc["RU-BU", "parent_code"] == "RU-FD-FE"  # since 2018
    nuts2 = regions[regions.level == "nuts2"]
    assert set(nuts2.region_code) == {
        "DEC0",
        "DEA5",
        "DEA1",
        "FRE1",
        "FRF3",
        "UKE4",
        "UKD3",
        "BE32",
        "PL22",
        "CZ08",
        "ES21",
    }
    assert (nuts2.universe == "EU").all()  # one cross-country universe for the comparison regions


def test_mapping_seed_covers_the_catalog():
    catalog = pd.read_csv(Path(__file__).resolve().parents[2] / "dbt" / "seeds" / "indicators.csv")
    seed = load_mapping()
    assert set(seed.indicator_code) == set(catalog.indicator_code)
    assert seed.indicator_code.is_unique
    unmapped = seed[seed.table_code == ""]
    assert (unmapped.note.str.len() > 10).all()
    assert seed.set_index("indicator_code").loc["grp_per_capita", "table_code"] == "8.2."
