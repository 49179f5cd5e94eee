"""The Rosstat importer on whole files written here: rows a table's position explains, files that cannot be read
(each a :class:`SourceError` with a true one-line reason, refused before calamine allocates anything), folders
with repeated files, and the source's refresh (quarantine, nothing retried)."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fixtures.rosstat_sheets import CONFIDENTIAL, REAL, one, table_rows, write_release_sidecar, write_section

from dagster_project.sources.base import SourceError, SourceRun
from dagster_project.sources.rosstat import import_rosstat, import_source

SVE, KGN = "Свердловская область", "Курганская область"
GRP = ("ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ1)", "миллионов рублей")


def _grp(path: Path, body: list[list], header: list | None = None, **extra: list[list]) -> Path:
    tables = {"8.1.": table_rows("8.1.", *GRP, header or [2020, "2021 4)", "20223)"], body), **extra}
    return write_section(path, tables, contents=[("8.1.", "Валовой региональный продукт  ")])


def test_values_flags_names_and_cell_refs(tmp_path: Path) -> None:
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
    path = _grp(tmp_path / "Раздел 8.xlsx", body)
    batch = import_rosstat([path])
    obs = batch.observations
    rf = one(obs, region_code="RU", period=2021)
    assert rf.value == pytest.approx(1194.6) and rf.cell_ref == "8.1.!C7" and rf.origin == str(path)
    assert (rf.indicator_code, rf.unit, rf.table_code, rf.indicator_key) == (
        "grp_total", "миллионов рублей", "8.1.", "8.1. Валовой региональный продукт")
    assert one(obs, region_code="RU-FD-S", period=2022).flag == "na"
    assert list(obs[obs.region_code == "RU-KGD"].sort_values("period").flag) == ["none", "none", "c"]
    assert one(obs, region_code="RU-KHM", period=2022).flag == "na"  # footnote 2) is not about confidentiality
    assert one(obs, region_code="RU-TYU-XAO", period=2022).value == 120.0
    values = obs[obs.period == 2020].set_index("region_code").value
    assert values["RU-TYU"] == values["RU-KHM"] + values["RU-YAN"] + values["RU-TYU-XAO"]  # nested rows kept apart
    (reject,) = batch.rejects.itertuples()
    assert (reject.raw_value, reject.cell_ref) == ("Нарния", "8.1.!A15")
    assert "not found in the region register" in reject.reason


def test_rows_only_their_position_explains(tmp_path: Path) -> None:
    """A name cut over two rows; a territory named again after its okrugs (the part without them); any other
    repeated territory is a reject; the federation row with its own unit maps only where unit_conversions lists
    it; a known non-territorial row is a breakdown of the federation row."""
    budget = table_rows("19.1.", "ДОХОДЫ КОНСОЛИДИРОВАННЫХ БЮДЖЕТОВ СУБЪЕКТОВ РОССИЙСКОЙ ФЕДЕРАЦИИ1) ",
                        "миллионов рублей", [2020, 2021], [
                            ["Российская Федерация, млрд руб.", 16.0, 19.5],
                            ["Тюменская область", 60.0, 61.0],
                            ["Ханты-Мансийский автономный", None, None],
                            ["округ – Югра", 30.0, 31.0],
                            ["Ямало-Ненецкий автономный округ", 20.0, 20.0],
                            ["Тюменская область", 10.0, 10.0],
                            ["Свердловская область", 5.0, 6.0],
                            ["Свердловская область", 7.0, 8.0],
                            ["Не распределено по субъектам Российской Федерации", 1.0, 2.0],
                        ])
    land = table_rows("7.1.1.", "Сельскохозяйственные угодья", "на конец года; тысяч га", [2021, 2022],
                      [["Российская Федерация,          млн га", 220.0, 221.0], [SVE, 1.0, 2.0]])
    path = write_section(tmp_path / "s.xlsx", {"19.1.": budget, "7.1.1.": land})
    batch = import_rosstat([path])
    obs = batch.observations
    rf = one(obs, table_code="19.1.", region_code="RU", period=2021, region_key="Российская Федерация, млрд руб.")
    assert (rf.unit, rf.value, rf.indicator_code) == ("млрд руб.", 19.5, "budget_revenue_total")
    land_rf = one(obs, table_code="7.1.1.", region_code="RU", period=2021)
    assert land_rf.unit == "млн га" and pd.isna(land_rf.indicator_code)
    assert one(obs, region_code="RU-KHM", period=2021).cell_ref == "19.1.!C10"
    part = one(obs, region_code="RU-TYU-XAO", period=2021)
    assert part.value == 10.0 and part.region_key.endswith("(after its okrugs: without them)")
    assert one(obs, table_code="19.1.", region_code="RU-SVE", period=2021).value == 6.0
    assert batch.rejects.reason.tolist() == ["territory named twice in the table: RU-SVE already named in row 13 "
                                             "(never two values under one code)"]
    unallocated = one(obs, region_key="Не распределено по субъектам Российской Федерации", period=2021)
    assert unallocated.region_code == "RU" and pd.isna(unallocated.indicator_code)
    assert unallocated.indicator_key.endswith("| Не распределено по субъектам Российской Федерации")


def test_times_in_a_table_not_in_per_cent_is_a_reject(tmp_path: Path) -> None:
    path = _grp(tmp_path / "s.xlsx", [[SVE, "в 2,3 р.", 1.0, 2.0]])
    batch = import_rosstat([path])
    assert "is not per cent" in batch.rejects.reason.iloc[0] and batch.rejects.cell_ref.iloc[0] == "8.1.!B7"


def test_rows_that_are_not_territories_skip_the_sheet(tmp_path: Path) -> None:
    """innovations_1.xls sheet 2: rows are activities by OKVED code, not territories."""
    rows = [["К содержанию"], ["Уровень инновационной активности по видам экономической деятельности"],
            [None, 2021.0, 2022.0], ["Добыча полезных ископаемых", 1.0, 2.0], ["Обрабатывающие производства", 3, 4],
            ["Российская Федерация", 5.0, 6.0]]
    grp = table_rows("8.1.", *GRP, [2020, 2021], [[SVE, 1, 2]])
    path = write_section(tmp_path / "t.xlsx", {"2": rows, "8.1.": grp})
    batch = import_rosstat([path])
    assert set(batch.observations.table_code) == {"8.1."} and batch.rejects.empty
    assert any("t.xlsx!2: rows are not territories (1 of 3 named rows with values are regions)" in line
               for line in batch.summary)


def test_formula_cells_read_as_cached_values(tmp_path: Path) -> None:
    path = _grp(tmp_path / "f.xlsx", [["Российская Федерация", 10.0, "=B7*2", None]])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml, count = re.subn(r'(<c r="C7"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v></v>)?', r"\1<v>20</v>",
                         parts["xl/worksheets/sheet2.xml"].decode())
    assert count == 1
    parts["xl/worksheets/sheet2.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert one(import_rosstat([path]).observations, period=2021).value == 20.0


def test_legacy_xls(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt", reason="xlwt (test-only) writes the legacy .xls fixture")
    book = xlwt.Workbook()
    book.add_sheet("Раздел 8").write(2, 0, "8.2.")
    sheet = book.add_sheet("8.2.")
    for r, row in enumerate(table_rows("8.2.", "ВАЛОВОЙ РЕГИОНАЛЬНЫЙ ПРОДУКТ на душу населения", "рублей",
                                       [2020, 2021], [["Республика Коми", 1.5, "…"]])):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    path = tmp_path / "legacy.xls"
    book.save(str(path))
    obs = import_rosstat([path]).observations
    assert list(obs.value.fillna(-1)) == [1.5, -1] and list(obs.flag.astype(object).fillna("")) == ["", "na"]
    assert (obs.region_code == "RU-KO").all() and (obs.indicator_code == "grp_per_capita").all()


def test_folder_with_a_repeated_file_a_lock_file_and_contents_only(tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    first = _grp(folder / "a.xlsx", [[SVE, 1.0, 2.0, 3.0]])
    shutil.copy(first, folder / "b - копия.xlsx")
    book = openpyxl.Workbook()
    book.active.title = "Содержание"
    book.active.append(["Раздел 1.  Население"])
    book.save(folder / "Содержание.xlsx")
    (folder / "~$a.xlsx").write_bytes(b"lock")
    batch = import_rosstat([folder])
    assert len(batch.observations) == 3 and set(batch.observations.origin) == {str(first)} and batch.rejects.empty
    skipped = next(line for line in batch.summary if line.startswith("skipped"))
    assert "b - копия.xlsx: every cell repeats a file imported before it" in skipped
    assert "Содержание.xlsx: contents only (1 entries)" in skipped


def test_two_tables_of_one_release_mapping_one_indicator(tmp_path: Path) -> None:
    twice = table_rows("8.9.", *GRP, [2020, 2021], [[SVE, 5.0, 6.0]])
    path = _grp(tmp_path / "s.xlsx", [[SVE, 1.0, 2.0, 3.0]], **{"8.9.": twice})
    batch = import_rosstat([path])
    later = batch.observations[batch.observations.table_code == "8.9."]
    assert later.indicator_code.isna().all()
    assert any("8.9.: 2 cells of grp_total already mapped from another table of the same release" in line
               for line in batch.summary)


# ----------------------------------------------------------------------------- files that cannot be read


def _valid(tmp_path: Path) -> Path:
    return _grp(tmp_path / "ok.xlsx", [[SVE, 1.0, 2.0, 3.0]])


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"<!DOCTYPE html><html><body>503</body></html>", "HTML/XML page"), (b"", "empty"),
     (b"\x00\x01garbage" * 10, "not an Excel workbook")],
)
def test_not_an_excel_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "Раздел 8.xlsx"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as err:
        import_rosstat([path])
    assert str(path) in str(err.value)


def test_truncated_download_and_a_zip_that_is_no_workbook(tmp_path: Path) -> None:
    path = _valid(tmp_path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(SourceError, match="damaged or truncated"):
        import_rosstat([path])
    other = tmp_path / "x.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SourceError, match="not an Excel workbook"):
        import_rosstat([other])


def test_zip_bomb_guard(tmp_path: Path) -> None:
    path = _valid(tmp_path)
    with pytest.raises(SourceError, match="over the .* limit"):
        import_rosstat([path], max_uncompressed_bytes=2_000)
    assert len(import_rosstat([path]).observations) == 3  # the default limit admits it


def _patch(path: Path, part: str, edit) -> None:  # noqa: ANN001 - str -> str
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[part] = edit(parts[part].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_a_cell_at_xfd1048576_is_refused_before_calamine_reads_it(tmp_path: Path) -> None:
    """A 5 KB file whose sheet holds a cell at XFD1048576 would make calamine allocate the whole grid (512 GiB)
    and abort the process: refused from the sheet XML, with the part, row and column named."""
    path = _valid(tmp_path)
    _patch(path, "xl/worksheets/sheet2.xml", lambda xml: xml.replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'))
    with pytest.raises(SourceError, match=r"sheet part xl/worksheets/sheet2.xml has cells up to row 1,048,576 "
                                          r"and column 16,384") as err:
        import_rosstat([path])
    assert str(path) in str(err.value)


def test_shared_strings_that_cannot_be_true_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s08.xlsx"
    shutil.copy(REAL / "rr2023_s08_grp.xlsx", path)
    _patch(path, "xl/sharedStrings.xml", lambda xml: re.sub(r'uniqueCount="\d+"', 'uniqueCount="2000000000"', xml,
                                                                count=1))
    with pytest.raises(SourceError, match="declares 2,000,000,000 strings"):
        import_rosstat([path])


def test_a_workbook_without_any_table_says_what_it_expected(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["какая-то таблица"])
    book.create_sheet("Лист2").append(["Регион", "значение"])
    path = tmp_path / "other.xlsx"
    book.save(path)
    with pytest.raises(SourceError, match="no sheet is a table of territories by year") as err:
        import_rosstat([path])
    assert str(path) in str(err.value)
    with pytest.raises(SourceError, match="not found"):
        import_rosstat([tmp_path / "nope.xlsx"])


def test_refresh_quarantines_a_bad_file_loads_the_rest_and_takes_the_release_setting(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox" / "rosstat"
    good = _grp(inbox / "good.xlsx", [[SVE, 1.0, 2.0, 3.0]])
    (inbox / "bad.xlsx").write_text("<html>403</html>", encoding="utf-8")
    dated = _grp(tmp_path / "given" / "dated.xlsx", [[KGN, 4.0, 5.0, 6.0]])
    write_release_sidecar(dated, release="2024")
    run = SourceRun("rosstat", {"path": str(dated.parent), "release": "2025-06-03"}, inbox, tmp_path / "dl",
                    tmp_path / "state", (".xlsx", ".xls"))
    batch = import_source(run)
    releases = batch.observations.groupby("origin", observed=True).release.first().to_dict()
    assert releases == {str(good): "2025-06-03", str(dated): "2024"}
    assert (inbox / "quarantine" / "bad.xlsx").exists() and not (inbox / "bad.xlsx").exists()
    reason = (inbox / "quarantine" / "bad.xlsx.reason.txt").read_text(encoding="utf-8")
    assert "bad.xlsx: the file is an HTML/XML page" in reason
    assert batch.rejects.reason.str.startswith("file not imported: ").sum() == 1


def test_a_sheet_no_rule_foresaw_is_skipped_with_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project.sources.rosstat import tables

    path = _grp(tmp_path / "s.xlsx", [[SVE, 1.0, 2.0, 3.0]], **{"8.9.": table_rows("8.9.", "Т", "единиц", [2020, 2021],
                                                                                  [[KGN, 1, 2]])})
    real = tables.read_layout
    monkeypatch.setattr(tables, "read_layout", lambda rows: (_ for _ in ()).throw(ValueError("odd")) if any(
        r and r[0] == KGN for r in rows) else real(rows))
    batch = import_rosstat([path])
    assert set(batch.observations.table_code) == {"8.1."}
    assert any("s.xlsx!8.9.: could not be read as a table (ValueError: odd)" in line for line in batch.summary)
