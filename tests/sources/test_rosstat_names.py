"""Territory names and cell conventions of Rosstat files: every spelling found in the shared files (the fixture
table ``tests/fixtures/rosstat/name_variants.csv``), the general rules one at a time, and the cell tokens."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.sources.rosstat import load_regions
from dagster_project.sources.rosstat.cells import TIMES_FLAG, parse_cell, parse_year
from dagster_project.sources.rosstat.names import RegionMatcher, normalize_name

VARIANTS = Path(__file__).resolve().parents[1] / "fixtures" / "rosstat" / "name_variants.csv"


@pytest.fixture(scope="module")
def matcher() -> RegionMatcher:
    return RegionMatcher(load_regions())


def _variants() -> list[tuple[str, str, str]]:
    with VARIANTS.open(encoding="utf-8") as handle:
        return [(ast.literal_eval(r["spelling"]), r["expected"], r["first_seen"]) for r in csv.DictReader(handle)]


@pytest.mark.parametrize(("spelling", "expected", "where"), _variants(), ids=lambda v: str(v)[:40])
def test_every_spelling_in_the_shared_files(matcher: RegionMatcher, spelling: str, expected: str, where: str) -> None:
    """Each distinct column-A spelling of the shared files' region tables resolves to the code the survey
    expected (or is a label, the RF row with its own unit, a non-territorial row)."""
    key = normalize_name(spelling)
    found = matcher.resolve(key)
    code = found.region_code if found else None
    if expected == "LABEL":  # no territory (a row without values: the importer skips it)
        assert code is None and not matcher.non_territorial(key), where
    elif expected == "RU+unit":
        assert code is None and matcher.match(spelling.rpartition(",")[0]).region_code == "RU", where
    elif expected.startswith(("RU|", "NON-REGION")):
        assert code is None and matcher.non_territorial(key), where
    else:
        assert code == expected, (where, found)


@pytest.mark.parametrize(
    ("raw", "code", "rule"),
    [
        ("в том числе Ненецкий автономный округ", "RU-NEN", "label"),  # innovations_1.xls!1!A30
        ("в том числе:\nХанты-Мансийский автономный округ - Югра", "RU-KHM", "label"),  # nauka_2.xls!2!A77
        ("Архангельская область кроме Hенецкого авт.округа", "RU-ARK-XAO", "without okrugs"),  # ppt-2.xls!3!A30
        ("Тюменская область (кроме автономных округов)", "RU-TYU-XAO", "without okrugs"),
        ("Тюменская обл. без АО", "RU-TYU-XAO", "without okrugs"),
        ("Ненецкий авт. округ", "RU-NEN", "abbreviation"),
        ("Респ. Татарстан", "RU-TA", "abbreviation"),
        ("Ханты Мансийский автономный     округ - Югра", "RU-KHM", "hyphen as space"),  # 16.2!A78
        ("Ямало-Ненецкий автономный округ – Югра", "RU-YAN", "suffix dropped"),  # 15.1!A80
        ("Ненецкий автономный округ (Архангельская область)", "RU-NEN", "suffix dropped"),  # EMISS ОКАТО list
        ("Еврейская автономная", "RU-YEV", "name cut short"),  # 13.35!A105
        ("Северо-Западный", "RU-FD-NW", "name cut short"),  # 5.1.1!A28
        ("Ханты-Мансийский автономный", "RU-KHM", "name cut short"),  # 15.1!A79
        ("Владимировская область", "RU-VLA", "name"),  # a Rosstat typo (13.13–13.18): a register alias
    ],
)
def test_general_rules(matcher: RegionMatcher, raw: str, code: str, rule: str) -> None:
    found = matcher.match(raw)
    assert found is not None and (found.region_code, found.rule) == (code, rule)


@pytest.mark.parametrize("raw", ["Архангельская", "Республика", "Северо", "в том числе:", "Нарния", ""])
def test_ambiguous_short_or_unknown_names_are_never_guessed(matcher: RegionMatcher, raw: str) -> None:
    assert matcher.match(raw) is None


def test_known_non_territorial_rows(matcher: RegionMatcher) -> None:
    for raw in ("Не распределено по субъектам Российской Федерации", "на федеральном уровне",
                "Межрегиональное управление"):
        key = normalize_name(raw)
        assert matcher.resolve(key) is None and matcher.non_territorial(key), raw


def test_normalize_name_folds_spacing_dashes_footnotes_and_homoglyphs() -> None:
    assert normalize_name("Северо-Кавказский       федеральный округ1)") == "северо-кавказский федеральный округ"
    assert normalize_name("Республика Северная Осетия –    Алания") == "республика северная осетия-алания"
    assert normalize_name("Республика Саха    (Якутия)2)") == "республика саха (якутия)"
    assert normalize_name("Калинингpадская область") == "калининградская область"  # Latin p
    assert normalize_name("Город Москва") == normalize_name("г. Москва") == "москва"


def test_ambiguous_register_is_refused() -> None:
    regions = load_regions()
    broken = pd.concat([regions, regions[regions.region_code == "RU-SVE"].assign(region_code="RU-XXX")])
    with pytest.raises(ValueError, match="ambiguous"):
        RegionMatcher(broken)


@pytest.mark.parametrize(
    ("cell", "year"),
    [(2022, 2022), (2022.0, 2022), ("2022 4)", 2022), ("20223)", 2022), ("20211);2)", 2021), ("2015/2016", 2015),
     ("2016/2017 ", 2016), ("2015-16", 2015), ("2018 г.", 2019 - 1), ("202210)", 2022), ("20210)", None),
     (20009, None), ("Справочно", None), (12.5, None), (None, None), (True, None)],
)
def test_parse_year(cell: object, year: int | None) -> None:
    """«202210)» is 2022 with footnote 10 (innovations_1.xls!2!I4); «20210)» is no year (a footnote never starts
    with 0); 20009 (12.10!K6) is no year by itself (the layout infers it between 2008 and 2010)."""
    assert parse_year(cell) == year


@pytest.mark.parametrize(
    ("cell", "value", "flag", "footnote"),
    [
        (1194.6, 1194.6, None, None),
        ("1\u00a0194,6", 1194.6, None, None),  # 1.12.!M7
        ("3\u00a0082", 3082.0, None, None),  # 16.3.!W40
        ("1569, 8", 1569.8, None, None),  # 18.8.1!G37
        ("−0,5", -0.5, None, None),
        ("1202)", 120.0, None, 2),  # 3.27.1!O42
        ("83)", 8.0, None, 3),  # 3.27.1!P51
        ("-", None, "none", None),
        (" –", None, "none", None),
        ("…", None, "na", None),
        ("...", None, "na", None),
        ("….", None, "na", None),  # 18.11.
        ("…1)", None, "na", 1),
        ("... 1)", None, "na", 1),  # 18.10.
        ("в 2,3 р.", 230.0, TIMES_FLAG, None),
        ("в 3.1 р.", 310.0, TIMES_FLAG, None),  # 12.4.1.
        ("в 2,2р.", 220.0, TIMES_FLAG, None),  # 10.3.!V44
        ("в 10,1 р.", 1010.0, TIMES_FLAG, None),  # 10.3.!B44
    ],
)
def test_parse_cell(cell: object, value: float | None, flag: str | None, footnote: int | None) -> None:
    parsed = parse_cell(cell)
    assert parsed.problem is None
    assert parsed.value == pytest.approx(value) if value is not None else parsed.value is None
    assert (parsed.flag, parsed.footnote) == (flag, footnote)


def test_parse_cell_empty_and_garbage() -> None:
    assert parse_cell(None) is None and parse_cell("  ") is None and parse_cell(" " * 1000) is None  # 12.4.1.!Q112
    assert parse_cell("ё").problem  # 3.18.!F78
