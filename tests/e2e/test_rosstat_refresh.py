"""End to end on the real Rosstat files: `regiocode refresh --source rosstat --path <the whole 2023 yearbook>`
in a subprocess (real Dagster, real dbt, real DuckDB, real Typst), then a second refresh the way the
scheduler runs one (the rosstat inbox sensor's tick, then the job it asks for) after a later edition of
table 8.2., the 2019 GRP section (an earlier edition loaded later), a thematic .xls table, an EMISS export and
two broken downloads were dropped into the inbox.

Expected numbers are read from the real workbooks with openpyxl (independently of the importer, which
reads with calamine) and, for the key cells, also written here as literals checked by hand.
One REGIOCODE_HOME is shared by the module (two refreshes, about two minutes each): the only full refreshes of
the real yearbook in the suite.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.refresh_runs import CliRun, keep_published, query, run_cli, run_inbox_job
from fixtures.rosstat_editions import (
    cell_value,
    header_row,
    read_sheet,
    row_values,
    write_html_download,
    write_later_edition,
    write_truncated_xlsx,
)

from dagster_project.settings import OFFICIAL_LABEL

pytestmark = pytest.mark.e2e

SECTION_1 = "Раздел 1 - Население.xlsx"
SECTION_8 = "Раздел 8 - Валовой региональный продукт.xlsx"
SECTION_19 = "Раздел 19 - Финансы.xlsx"
EDITION_2019 = "Раздел 9- Валовой региональный продукт.xlsx"
THEMATIC, EMISS = "ppt-2.xls", "population_regions.xlsx"
SVE, KGN = "Свердловская область", "Курганская область"
# GRP per capita of Sverdlovsk oblast in 2021, table 8.2., cell W75 of the 2023 edition (rub).
SVE_GRP_2021 = 710380.8
# The "2024 edition" written by the test: the same table for four territories (plus the RF total),
# one value revised, a 2022 column added.
EDITION_FILE = "Регионы России 2024 - Раздел 8 - Валовой региональный продукт.xlsx"
EDITION_TERRITORIES = ["Уральский федеральный округ", KGN, SVE, "Челябинская область"]
REVISED = {(SVE, 2021): 715000.0}
NEW_2022 = {SVE: 801234.5, KGN: 350000.0}
TRUNCATED = "Регионы России 2024 - Раздел 4 - Образование.xlsx"
HTML_PAGE = "Регионы России 2024 - Раздел 17 - ИКТ.xlsx"
RAW_FINGERPRINT = (
    "SELECT count(*) AS n, sum(hash(source, dataset, table_code, region_key, region_code, indicator_key, "
    "indicator_code, period, value, flag, unit, release_date, retrieved_at, origin, cell_ref)) AS h "
    "FROM raw.observations WHERE release = ?"
)


@dataclass(frozen=True)
class FirstRefresh:
    """The home after `regiocode refresh --source rosstat --path <2023>`, its build kept aside."""

    home: Path
    published: Path  # hard link to the published warehouse of this build
    run: CliRun
    manifest: dict


@dataclass(frozen=True)
class InboxRefresh:
    """The same home after the inbox refresh (2024 edition + two broken files)."""

    home: Path
    published: Path
    metadata: dict[str, dict]
    raw_2023_before: pd.DataFrame
    raw_2023_after: pd.DataFrame
    seconds: float


@pytest.fixture(scope="module")
def yearbook(shared_data: Path) -> Path:
    folder = shared_data / "rosstat" / "regions_of_russia_2023"
    if not folder.is_dir():
        pytest.skip(f"the Rosstat 2023 yearbook sections are not at {folder}")
    return folder


@pytest.fixture(scope="module")
def first(yearbook: Path, tmp_path_factory: pytest.TempPathFactory) -> FirstRefresh:
    home = tmp_path_factory.mktemp("rosstat_home")
    run = run_cli(home, "refresh", "--source", "rosstat", "--path", str(yearbook))
    assert run.returncode == 0, run.tail()
    published = keep_published(home, tmp_path_factory.mktemp("builds") / "rosstat_2023.duckdb")
    (manifest_path,) = (home / "briefings").glob("[0-9]*/manifest.json")
    return FirstRefresh(home, published, run, json.loads(manifest_path.read_text()))


@pytest.fixture(scope="module")
def second(first: FirstRefresh, yearbook: Path) -> InboxRefresh:
    inbox = first.home / "inbox" / "rosstat"
    write_later_edition(yearbook / SECTION_8, inbox / EDITION_FILE, "8.2.", EDITION_TERRITORIES, 2022,
                        NEW_2022, REVISED, release="2024")
    shared = yearbook.parent
    for path in (shared / "regions_of_russia_2019" / EDITION_2019, shared / "thematic_2024" / THEMATIC,
                 shared / "emiss" / EMISS):
        shutil.copy(path, inbox / path.name)
    write_truncated_xlsx(inbox / TRUNCATED)
    write_html_download(inbox / HTML_PAGE)
    work_db = first.home / "work" / "regiocode.duckdb"
    before = query(work_db, RAW_FINGERPRINT, ["2023"])
    started = time.perf_counter()
    request, result, metadata = run_inbox_job(first.home, "rosstat")
    seconds = time.perf_counter() - started
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    listed = ", ".join(sorted([EDITION_FILE, HTML_PAGE, TRUNCATED, EDITION_2019, THEMATIC, EMISS]))
    assert listed.startswith(request.tags["regiocode/files"])  # the run's tag holds the first 200 characters
    after = query(work_db, RAW_FINGERPRINT, ["2023"])
    return InboxRefresh(first.home, first.home / "warehouse" / "regiocode.duckdb", metadata, before, after, seconds)


# ------------------------------------------------------------------ the 2023 edition, by the CLI


def test_ural_correlations_2005_2016_with_the_printed_education_proxy(first: FirstRefresh) -> None:
    """Seed 004's Fig. 2 on the real yearbook: every pair for the four Ural oblasts, levels over 12 years and
    changes over 11, with the proxy named in the row (students per 10 000 people, table 4.19., now mapped); r,
    slope and R² equal numpy's on the mart's own points."""
    rows = query(first.published, """
        select pair_code, group_code, method, x_indicator, education_measure, n, r, slope, r_squared, p_value,
               window_start, window_end
        from marts.code_correlations
        where scope = 'region' and group_code in ('RU-CHE', 'RU-KGN', 'RU-SVE', 'RU-TYU')
          and method in ('levels', 'changes')""")
    assert len(rows) == 4 * 4 * 2, rows
    assert set(rows["x_indicator"]) == {"students_per_10000"} and set(rows["education_measure"]) == {"proxy"}
    assert set(rows["window_start"]) == {2005} and set(rows["window_end"]) == {2016}
    assert (rows.loc[rows["method"] == "levels", "n"] == 12).all()
    assert (rows.loc[rows["method"] == "changes", "n"] == 11).all()
    assert rows["r"].notna().all() and rows["p_value"].between(0, 1).all()
    points = query(first.published, """
        select pair_code, group_code, method, x, y from intermediate.int_analysis_correlation_points
        where scope = 'region' and group_code in ('RU-CHE', 'RU-KGN', 'RU-SVE', 'RU-TYU')
          and method in ('levels', 'changes')""")
    for row in rows.itertuples():
        pts = points[(points["pair_code"] == row.pair_code) & (points["group_code"] == row.group_code)
                     & (points["method"] == row.method)]
        assert len(pts) == row.n
        r = np.corrcoef(pts["x"], pts["y"])[0, 1]
        slope = np.polyfit(pts["x"], pts["y"], 1)[0]
        assert row.r == pytest.approx(r, abs=1e-9) and row.slope == pytest.approx(slope, rel=1e-9)
        assert row.r_squared == pytest.approx(r * r, abs=1e-9)


def test_cli_summary_names_the_release_and_what_was_skipped(first: FirstRefresh) -> None:
    """The whole 2023 folder: exit 0 (the fixture), the edition its document dates say, the skipped column of
    6.2.2. and the contents file, one reject (3.18.!F78 «ё», a stray letter), none for a printed convention."""
    out = first.run.stdout
    assert "rosstat" in out and OFFICIAL_LABEL in out
    assert re.search(r"rejects \(raw, active sources\)\s*│\s*1\s*│", out), out
    assert "85 regions × 2 languages: 85 rendered" in out
    assert "synthetic" not in out.lower()
    lines = [" ".join(line.split()) for line in out.split("rosstat: ")[1:]]
    assert any(line.startswith("release 2023 edition of regions_of_russia, dated 2023-12-13 (document "
                               "properties saved 2023-12-13 … 2024-03-22; 22 files") for line in lines), lines
    assert any("6.2.2.: column AB has no year in the header; skipped" in line for line in lines), lines
    assert any(line.startswith("rejects: 1 × not a number nor a known missing-value token") and "3.18.!F78" in line
               for line in lines), lines
    rejects = query(first.published, "SELECT cell_ref, raw_value FROM raw.rejects")
    assert rejects.values.tolist() == [["3.18.!F78", "ё"]]


def test_codes_for_every_subject_and_year_labelled_official(first: FirstRefresh) -> None:
    """Every catalog indicator the yearbook prints is mapped, so P, I and S (and NID) exist for every subject
    in 2021 and for nearly all from 2005."""
    subjects = set(query(first.published, "SELECT region_code FROM marts.regions "
                                          "WHERE country = 'RU' AND level = 'subject'").region_code)
    assert len(subjects) == 85
    codes = query(first.published, "SELECT * FROM marts.defining_codes")
    assert set(codes.data_label) == {OFFICIAL_LABEL}
    assert query(first.published, "SELECT data_label FROM marts.build_info").data_label.tolist() == [OFFICIAL_LABEL]
    latest = codes[(codes.year == 2021) & codes.region_code.isin(subjects)]
    for family in ("production", "institutional", "social"):
        present = latest[f"{family}_code"].dropna()
        assert len(present) == 85 and present.between(0, 1).all(), family
    early = codes[(codes.year == 2006) & codes.region_code.isin(subjects)]
    assert early[["production_code", "institutional_code", "social_code"]].notna().all(axis=1).sum() >= 80
    nid = query(first.published, "SELECT count(DISTINCT region_code) AS n FROM marts.basic_code "
                                 "WHERE year = 2021 AND nid IS NOT NULL")
    assert nid.n[0] >= 85


def test_spliced_series_carry_their_breaks(first: FirstRefresh) -> None:
    """Manufacturing (12.2.3. OKVED to 2016, 12.2.4. OKVED2 from 2017) and the Internet (17.1.4. to 2019, the
    fixed column of 17.2. from 2020) are one series each, with the flag b on the first year after the break."""
    rows = query(first.published, """
        SELECT indicator_code, period, table_code, flag FROM marts.observations
        WHERE region_code = 'RU-SVE' AND indicator_code IN ('manufacturing_shipments_total',
              'organisations_using_internet') ORDER BY 1, 2""")
    tables = rows.groupby("indicator_code").table_code.agg(lambda s: sorted(set(s)))
    assert tables.to_dict() == {"manufacturing_shipments_total": ["12.2.3.", "12.2.4."],
                                "organisations_using_internet": ["17.1.4.", "17.2."]}
    flagged = rows[rows.flag == "b"]
    assert flagged[["indicator_code", "period"]].values.tolist() == [["manufacturing_shipments_total", 2017],
                                                                    ["organisations_using_internet", 2020]]
    fed = query(first.published, "SELECT indicator_code, fed_by FROM marts.indicators").set_index("indicator_code")
    assert fed.at["grp_total", "fed_by"] == ("rosstat regions_of_russia: 8.1. Валовой региональный продукт "
                                             "(release 2023, 2000–2021)")
    assert "12.2.3." in fed.at["manufacturing_shipments_total", "fed_by"]
    assert "12.2.4." in fed.at["manufacturing_shipments_total", "fed_by"]
    assert fed.at["budget_expenditure_per_capita", "fed_by"].startswith("derived: budget_expenditure_total / "
                                                                        "population x 1000.0 (rosstat")


def test_grp_per_capita_is_the_published_cell(first: FirstRefresh, yearbook: Path) -> None:
    assert cell_value(yearbook / SECTION_8, "8.2.", SVE, 2021) == SVE_GRP_2021
    rows = query(first.published, "SELECT period, value, release, unit, origin, cell_ref, releases "
                                  "FROM marts.observations WHERE region_code = 'RU-SVE' "
                                  "AND indicator_code = 'grp_per_capita' ORDER BY period")
    assert rows.period.tolist() == list(range(2000, 2022))  # GRP ends in 2021 in the 2023 edition
    published = row_values(yearbook / SECTION_8, "8.2.", SVE)
    assert dict(zip(rows.period, rows.value, strict=True)) == published
    last = rows.iloc[-1]
    assert (last.value, last.release, last.unit, last.cell_ref, last.releases) == (
        SVE_GRP_2021, "2023", "рублей", "8.2.!W75", 1)
    assert last.origin == str(yearbook.resolve() / SECTION_8)


def test_derived_and_converted_values_from_real_cells(first: FirstRefresh, yearbook: Path) -> None:
    """Budget per capita = 19.2. (million rub) x 1000 / 1.2. (thousand people); the RF row of 19.2. is
    printed in billion rub and converted (unit_conversions); R&D share = 18.5. / 8.1. x 100."""
    values = query(first.published, "SELECT region_code, indicator_code, value FROM intermediate.int_indicator_values "
                                    "WHERE period = 2021 AND region_code IN ('RU', 'RU-SVE')")
    value = values.set_index(["region_code", "indicator_code"]).value
    sve_budget = cell_value(yearbook / SECTION_19, "19.2.", SVE, 2021)
    sve_population = cell_value(yearbook / SECTION_1, "1.2.", SVE, 2021)
    assert (round(sve_budget, 2), sve_population) == (410687.58, 4276.6)
    assert value["RU-SVE", "budget_expenditure_per_capita"] == pytest.approx(sve_budget * 1000 / sve_population)
    assert value["RU-SVE", "budget_expenditure_per_capita"] == pytest.approx(96031.33, abs=0.01)
    rf_billion = cell_value(yearbook / SECTION_19, "19.2.", "Российская Федерация, млрд руб.", 2021)
    assert value["RU", "budget_expenditure_total"] == pytest.approx(rf_billion * 1000)
    assert value["RU", "budget_expenditure_per_capita"] == pytest.approx(16885549.58 * 1000 / 147217.9, rel=1e-9)
    assert value["RU-SVE", "rd_expenditure_share_grp"] == pytest.approx(33421.6 / 3038443.0 * 100, rel=1e-6)


def test_coverage_report_lists_the_tables_behind_each_indicator(first: FirstRefresh) -> None:
    run = run_cli(first.home, "sources", "rosstat", "--report", "--format", "csv", timeout=120)
    assert run.returncode == 0, run.tail()
    report = pd.read_csv(io.StringIO(run.stdout), dtype=str, keep_default_na=False).set_index("indicator_code")
    expected = {"grp_total": "8.1.", "population": "1.2.", "students_per_10000": "4.19.",
                "fixed_investment_total": "10.1.", "manufacturing_shipments_total": "12.2.3., 12.2.4.",
                "organisations_using_internet": "17.1.4., 17.2.", "broadband_subscriptions_per_100": "17.9.1.",
                "road_density": "16.10.", "rail_density": "16.3."}
    for indicator, tables in expected.items():
        assert (report.at[indicator, "tables"], report.at[indicator, "status"]) == (tables, "covered"), indicator
    sve = report.loc["grp_per_capita"]
    assert (sve.regions, sve.first_year, sve.last_year) == ("96", "2000", "2021")  # 85 + 8 districts + RF + 2
    # Derived indicators name the tables they are computed from.
    assert report.at["budget_expenditure_per_capita", "tables"] == "19.2., 1.2."
    assert report.at["rd_expenditure_share_grp", "tables"] == "18.5., 8.1."
    assert report.at["budget_expenditure_per_capita", "status"] == "derived"
    for absent in ("area_km2", "higher_education_share_employed"):
        assert (report.at[absent, "tables"], report.at[absent, "status"]) == ("", "not in this source")


def test_briefings_for_every_subject_in_both_languages(first: FirstRefresh) -> None:
    manifest = first.manifest
    assert manifest["data_versions"]["data_label"] == OFFICIAL_LABEL
    assert manifest["data_versions"]["sources"] == "rosstat"
    files = pd.DataFrame(manifest["files"])
    files = files[files.region.notna()]
    subjects = set(query(first.published, "SELECT region_code FROM marts.regions "
                                          "WHERE country = 'RU' AND level = 'subject'").region_code)
    assert set(files.region) == subjects
    assert (files.groupby("region").size() == 4).all()  # html + pdf, ru + en
    folder = next((first.home / "briefings").glob("[0-9]*/manifest.json")).parent
    for lang in ("ru", "en"):
        assert (folder / lang / "RU-SVE.pdf").read_bytes().startswith(b"%PDF")
    assert "Свердловская область" in (folder / "ru" / "RU-SVE.html").read_text(encoding="utf-8")


def _name_key(name: object) -> str:
    """A territory name reduced to its letters (spaces, dashes, footnote marks and «в том числе:» dropped), so
    the same subject matches across tables whatever spacing or footnote a table gives it."""
    text = " ".join(str(name or "").split()).lower().replace("в том числе:", "").replace("ё", "е")
    return re.sub(r"[^а-я]", "", re.sub(r"\d+\)", "", text))


def _subject_panel(path: Path, sheet: str, offset: int = 0) -> tuple[dict[str, dict[int, float]], dict[int, float]]:
    """(subject key -> year -> value, the Russian Federation's year -> value) of one yearbook table, read with
    openpyxl; ``offset`` picks the n-th column under each year (17.2. prints mobile, then fixed Internet). The
    comparison universe is every subject row: not the RF total, not a federal district, not a part «без
    автономного округа»."""
    rows = read_sheet(path, sheet)
    header, years = header_row(rows)
    subjects: dict[str, dict[int, float]] = {}
    country: dict[int, float] = {}
    for row in rows[header + 1:]:
        name = " ".join(str(row[0] or "").split()) if row else ""
        values = {y: row[c + offset] for y, c in years.items() if isinstance(row[c + offset], int | float)}
        if not name or not values or "без автономн" in name.lower() or "федеральный округ" in name.lower():
            continue
        if name.startswith("Российская Федерация"):
            country = values
        else:
            subjects[_name_key(name)] = values
    return subjects, country


def _min_max(panel: dict[str, dict[int, float]], transform) -> dict[str, dict[int, float]]:
    """DESIGN.md's normalisation: transform, winsorise at the 2.5 % and 97.5 % quantiles of all subjects and
    years (linear interpolation, as DuckDB's quantile_cont), min-max to [0, 1]."""
    values = np.array([transform(v) for years in panel.values() for v in years.values()])
    low, high = np.quantile(values, [0.025, 0.975])
    return {r: {y: (min(max(transform(v), low), high) - low) / (high - low) for y, v in years.items()}
            for r, years in panel.items()}


def _institutional_codes_by_hand(yearbook: Path) -> dict[str, dict[int, float]]:
    """The institutional code I of every subject and year computed from the yearbook's cells alone, with the
    formulas of the method: I = mean of four normalised indicators (weights 1):
    - budget expenditure and revenue per capita = 19.2. (19.1.) million rub x 1000 / 1.2. thousand people, relative
      to Russia = 100 (the RF row of 19.x is printed in billion rub: x 1000), then log;
    - organisations using the Internet, % = 17.1.4. to 2019, the fixed-Internet column of 17.2. from 2020;
    - fixed broadband subscriptions per 100 people = 17.9.1.;
    each winsorised and min-maxed over all subjects and years (_min_max)."""
    section_17 = yearbook / "Раздел 17 - Информационные и коммуникационные технологии.xlsx"
    population, population_rf = _subject_panel(yearbook / SECTION_1, "1.2.")

    def per_capita_relative(sheet: str) -> dict[str, dict[int, float]]:
        totals, total_rf = _subject_panel(yearbook / SECTION_19, sheet)
        return {r: {y: (v / population[r][y]) / (total_rf[y] * 1000 / population_rf[y]) * 100
                    for y, v in years.items() if y in population.get(r, {}) and y in total_rf}
                for r, years in totals.items()}

    internet = {r: {y: v for y, v in years.items() if y <= 2019}
                for r, years in _subject_panel(section_17, "17.1.4.")[0].items()}
    for r, years in _subject_panel(section_17, "17.2.", offset=1)[0].items():
        internet.setdefault(r, {}).update({y: v for y, v in years.items() if y >= 2020})
    families = [_min_max(per_capita_relative("19.2."), np.log), _min_max(per_capita_relative("19.1."), np.log),
                _min_max(internet, float), _min_max(_subject_panel(section_17, "17.9.1.")[0], float)]
    return {r: {y: float(np.mean([f[r][y] for f in families])) for y in families[3][r]
                if all(y in f.get(r, {}) for f in families)}
            for r in families[3]}


def test_institutional_code_by_hand_from_the_cells(first: FirstRefresh, yearbook: Path) -> None:
    """I computed by hand from the yearbook's cells (_institutional_codes_by_hand, written out in its docstring)
    equals the warehouse's, for every subject and year; three written down: Sverdlovsk 2021 = mean(0.22904 budget
    expenditure, 0.22716 revenue, 0.74144 Internet, 0.87415 broadband) = 0.51795; Moscow 2021 = 0.68075 (broadband
    at the top of the range: 1); Kurgan 2016 = 0.38527."""
    by_hand = _institutional_codes_by_hand(yearbook)
    assert by_hand[_name_key(SVE)][2021] == pytest.approx(0.5179491197, abs=1e-9)
    assert by_hand[_name_key("г. Москва")][2021] == pytest.approx(0.6807522471, abs=1e-9)
    assert by_hand[_name_key(KGN)][2016] == pytest.approx(0.3852735222, abs=1e-9)
    codes = query(first.published, """
        SELECT r.name_ru, d.year, d.institutional_code FROM marts.defining_codes d
        JOIN marts.regions r USING (region_code)
        WHERE r.country = 'RU' AND r.level = 'subject' AND d.institutional_code IS NOT NULL""")
    compared = 0
    for row in codes.itertuples():
        expected = by_hand.get(_name_key(row.name_ru), {}).get(row.year)
        if expected is not None:
            assert row.institutional_code == pytest.approx(expected, abs=1e-9), (row.name_ru, row.year)
            compared += 1
    assert compared >= 1000  # about 12 years (broadband 17.9.1. is printed from 2010) x 85 subjects


def test_strategy_on_the_latest_year_with_the_data(first: FirstRefresh) -> None:
    """Every subject decided on 2021, the latest year with all three scores (GRP ends in 2021, income in 2022);
    location from the reference area and both transport densities; Moscow and Saint Petersburg comprehensive
    diversification; no subject left without a decision in 2021."""
    latest = query(first.published, """
        SELECT s.region_code, s.year, s.decision, s.market_score, s.location_score, s.significance_score,
               s.area_basis, s.transport_indicators_used, s.reasons_en
        FROM marts.strategy s JOIN marts.regions r USING (region_code)
        WHERE s.is_latest_year AND r.country = 'RU' AND r.level = 'subject'""").set_index("region_code")
    assert len(latest) == 85 and set(latest.year) == {2021}
    assert (latest.decision != "insufficient_data").all(), latest[latest.decision == "insufficient_data"]
    assert set(latest.area_basis) == {"reference"}
    # both densities, except where a subject has no public railway (16.3. prints «-»)
    no_rail = {"RU-AL", "RU-TY", "RU-CHU", "RU-SEV", "RU-MAG", "RU-KAM", "RU-NEN"}
    assert latest.transport_indicators_used.to_dict() == {r: 1 if r in no_rail else 2 for r in latest.index}
    for region in ("RU-MOW", "RU-SPE"):
        row = latest.loc[region]
        assert row.decision == "comprehensive_diversification", row
        assert "Location does not include transport" not in row.reasons_en
    diversifying = set(latest.index[latest.decision == "comprehensive_diversification"])
    assert {"RU-MOW", "RU-SPE"} <= diversifying and len(diversifying) <= 8  # [B]: closed to most Russian regions
    assert latest.at["RU-SVE", "decision"] == "smart_specialisation"
    # 2022 has no GRP yet: its rows say so instead of deciding
    later = query(first.published, "SELECT significance_missing_code FROM marts.strategy "
                                    "WHERE year = 2022 AND region_code = 'RU-SVE'")
    assert later.significance_missing_code.tolist() == ["no_grp"]


def test_instruments_for_every_subject_with_codes(first: FirstRefresh) -> None:
    with_codes = set(query(first.published, """
        SELECT DISTINCT d.region_code FROM marts.defining_codes d JOIN marts.regions r USING (region_code)
        WHERE r.level = 'subject' AND production_code IS NOT NULL AND institutional_code IS NOT NULL
          AND social_code IS NOT NULL""").region_code)
    with_instruments = set(query(first.published, "SELECT DISTINCT region_code FROM marts.instruments "
                                                   "WHERE instrument_code IS NOT NULL").region_code)
    assert len(with_codes) == 85 and with_codes <= with_instruments


@pytest.mark.parametrize("region", ["RU-SVE", "RU-MOW"])
def test_briefings_from_real_data_have_no_empty_section(first: FirstRefresh, region: str) -> None:
    """Page 1 and the rest of the Sverdlovsk and Moscow briefings, both languages: the place stated, every chart
    drawn, the release dated, the strategy of 2021 decided, instruments proposed, the education measure named and
    the Fig. 2 check said against the paper."""
    folder = next((first.home / "briefings").glob("[0-9]*/manifest.json")).parent
    expected = {
        "en": ("to 2022, release of 13 December 2023", "students per 10,000 people",
               "The paper [1] reports a direct (positive) dependence"),
        "ru": ("по 2022 г., выпуск от 13 декабря 2023", "численность студентов на 10 000 человек населения",
               "Статья [1] отмечает прямую (положительную) зависимость"),
    }
    # (the method section explains "insufficient data" as a rule, so the decision itself is checked below)
    absent = {"en": ("not determined", "no values to chart", "release of —"),
              "ru": ("не определено", "нет значений для графика", "выпуск от —")}
    for lang in ("en", "ru"):
        pdf = subprocess.run(["pdftotext", "-enc", "UTF-8", str(folder / lang / f"{region}.pdf"), "-"],
                             capture_output=True, check=True, text=True).stdout
        page = html.unescape(re.sub(r"<[^>]+>", " ", (folder / lang / f"{region}.html").read_text(encoding="utf-8")))
        for text in (" ".join(pdf.split()), " ".join(page.split())):
            lowered = text.lower()
            for phrase in absent[lang]:
                assert phrase.lower() not in lowered, (region, lang, phrase)
            for phrase in expected[lang]:
                assert phrase in text, (region, lang, phrase)
    en = html.unescape(" ".join((folder / "en" / f"{region}.html").read_text(encoding="utf-8").split()))
    decision = "comprehensive diversification" if region == "RU-MOW" else "smart specialisation"
    assert (f"Recommended strategy, decided on 2021, the latest year with all three conditions scored: {decision}"
            in en)
    # derived indicators (budget per capita = 19.2. / 1.2.) are not listed as missing: they have 2022 values
    assert "Consolidated regional budget expenditure per capita (Institutional code (I); last value" not in en
    assert "Gross regional product per capita (Production code (P); last value: 2021)" in en
    assert "Partial data in 2022: the production code P rests on 71% of its indicators' weight" in en
    assert "2021 is the latest year in which every code rests on all the indicators it has in any year" in en


# ------------------------------------------------------------------ the inbox: a new edition, broken files


def test_broken_downloads_are_quarantined_with_the_reason(second: InboxRefresh) -> None:
    inbox = second.home / "inbox" / "rosstat"
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == sorted(
        [EDITION_FILE, EDITION_FILE + ".release.json", EDITION_2019, THEMATIC, EMISS])
    quarantine = inbox / "quarantine"
    assert sorted(p.name for p in quarantine.iterdir()) == sorted(
        [HTML_PAGE, HTML_PAGE + ".reason.txt", TRUNCATED, TRUNCATED + ".reason.txt"])
    truncated = (quarantine / (TRUNCATED + ".reason.txt")).read_text(encoding="utf-8")
    assert TRUNCATED in truncated and "damaged or truncated" in truncated
    html = (quarantine / (HTML_PAGE + ".reason.txt")).read_text(encoding="utf-8")
    assert HTML_PAGE in html and "HTML" in html


def test_rejects_name_each_broken_file(second: InboxRefresh) -> None:
    rejects = query(second.published, "SELECT origin, reason FROM raw.rejects WHERE source = 'rosstat' "
                                      "AND reason LIKE 'file not imported:%' ORDER BY origin")
    assert [Path(o).name for o in rejects.origin] == sorted([TRUNCATED, HTML_PAGE])
    assert all(Path(o).name in r for o, r in zip(rejects.origin, rejects.reason, strict=True))
    assert rejects.reason.str.contains("quarantine").all()
    meta = second.metadata["rosstat_source"]
    assert (meta["files"], meta["rejects"]) == (6, 2)
    summary = meta["summary"]
    assert "release 2024 edition of regions_of_russia, dated 2024-12-31 (sidecar" in summary
    assert "release 2019 edition of regions_of_russia, dated 2020-01-20 (document saved 2020-01-20" in summary
    assert "release 2025-04-04 of thematic, dated 2025-04-04 («Обновлено: 04.04.2025 г.»" in summary
    assert "WARNING release unknown for 1 emiss files (population_regions.xlsx)" in summary


def test_earlier_edition_untouched(second: InboxRefresh) -> None:
    assert second.raw_2023_before.n[0] > 940_000
    pd.testing.assert_frame_equal(second.raw_2023_before, second.raw_2023_after)


def test_both_editions_kept_in_raw(second: InboxRefresh) -> None:
    raw = query(second.published, "SELECT release, value, release_date FROM raw.observations "
                                  "WHERE region_code = 'RU-SVE' AND indicator_code = 'grp_per_capita' "
                                  "AND period IN (2016, 2021) ORDER BY period, release")
    # 2016: 9.2.!R74 of 2019, 8.2.!R75 of 2023 and its copy in the 2024 file; 2021: 8.2.!W75 and the 2024 revision
    assert raw.release.tolist() == ["2019", "2023", "2024", "2023", "2024"]
    assert raw.value.tolist() == [459812.1, 487246.6, 487246.6, SVE_GRP_2021, REVISED[SVE, 2021]]
    assert [str(d.date()) for d in raw.release_date] == ["2020-01-20", "2023-12-13", "2024-12-31", "2023-12-13",
                                                         "2024-12-31"]


def test_the_later_release_is_current_whatever_order_it_came_in(second: InboxRefresh) -> None:
    """The 2024 edition (loaded after 2023) supersedes it; the 2019 edition (loaded after 2023 too) does not; the
    thematic table (released 2025-04-04) supersedes the yearbook's advanced technologies; the undated EMISS export
    only adds the years the yearbook lacks."""
    obs = query(second.published, """
        SELECT region_code, indicator_code, period, value, release, releases, table_code FROM marts.observations
        WHERE region_code IN ('RU-SVE', 'RU-KGN', 'RU-TYU') AND indicator_code IS NOT NULL
    """).set_index(["region_code", "indicator_code", "period"])
    assert tuple(obs.loc[("RU-SVE", "grp_per_capita", 2021)][:3]) == (715000.0, "2024", 2)
    assert tuple(obs.loc[("RU-SVE", "grp_per_capita", 2022)][:3]) == (801234.5, "2024", 1)
    assert tuple(obs.loc[("RU-KGN", "grp_per_capita", 2021)][:3]) == (330642.2, "2024", 2)  # re-published unchanged
    assert tuple(obs.loc[("RU-TYU", "grp_per_capita", 2021)][:3]) == (2992775.4, "2023", 1)  # not in the 2024 file
    assert tuple(obs.loc[("RU-SVE", "grp_total", 2016)]) == (2109619.1, "2023", 2, "8.1.")  # not 9.1. of 2019
    assert tuple(obs.loc[("RU-SVE", "advanced_technologies_used", 2008)]) == (9537.0, "2025-04-04", 2, "3.")
    assert tuple(obs.loc[("RU-SVE", "advanced_technologies_used", 2024)][:2]) == (15220.0, "2025-04-04")  # ppt-2!U72
    assert tuple(obs.loc[("RU-SVE", "population", 2021)][:3]) == (4276.6, "2023", 2)  # 1.2.!W75, not EMISS
    assert pd.isna(obs.loc[("RU-SVE", "population", 2024)].release)  # only the undated EMISS export has 2024
    used = query(second.published, "SELECT value, release FROM intermediate.int_indicator_values "
                                   "WHERE region_code = 'RU-SVE' AND indicator_code = 'grp_per_capita' "
                                   "AND period = 2021")
    assert used.values.tolist() == [[715000.0, "2024"]]


def test_revisions_across_editions_tables_and_publications(second: InboxRefresh) -> None:
    """Rosstat's revisions the files carry: GRP 2016–2017 between the 2019 and 2023 editions (tables 9.1./9.2.
    then 8.1./8.2.: 224 cells each), advanced technologies between the yearbook and the thematic table (82 values of
    2008–2009, and Chechnya 2005–2008 «…» → «-»: 4 flags), the 2024 edition's change; EMISS's population only
    beyond the yearbook's printed precision (0.1 thousand)."""
    revisions = query(second.published, "SELECT * FROM marts.revisions")
    counts = revisions.groupby("indicator_code").size().to_dict()
    assert (counts["grp_total"], counts["grp_per_capita"], counts["advanced_technologies_used"]) == (224, 225, 86)
    flags = revisions[(revisions.indicator_code == "advanced_technologies_used") & revisions.new_value.isna()]
    assert flags[["region_code", "old_flag", "new_flag"]].drop_duplicates().values.tolist() == [
        ["RU-CE", "na", "none"]]
    assert counts.get("population", 0) <= 35 and set(counts) <= {"grp_total", "grp_per_capita",
                                                               "advanced_technologies_used", "population"}
    population = revisions[revisions.indicator_code == "population"]
    # rounding-level only (0.1 thousand at most): EMISS's «Архангельская область» after NAO is the part without it
    # (-41.5 thousand if it were read as the whole)
    assert (population.change.abs() < 0.1).all(), population[["region_code", "period", "old_value", "new_value"]]
    grp = revisions[(revisions.region_code == "RU-SVE") & (revisions.indicator_code == "grp_total")
                    & (revisions.period == 2016)].iloc[0]
    assert (grp.old_value, grp.new_value, grp.old_release, grp.new_release) == (1990836.7, 2109619.1, "2019", "2023")
    assert (grp.old_table_code, grp.table_code, grp.old_cell_ref, grp.new_cell_ref) == ("9.1.", "8.1.", "9.1.!R74",
                                                                                        "8.1.!R75")
    tech = revisions[(revisions.region_code == "RU-SVE") & (revisions.indicator_code == "advanced_technologies_used")
                     & (revisions.period == 2008)].iloc[0]
    assert (tech.old_value, tech.new_value, tech.old_dataset, tech.dataset) == (9533.0, 9537.0, "regions_of_russia",
                                                                                "thematic")
    edition = revisions[(revisions.region_code == "RU-SVE") & (revisions.indicator_code == "grp_per_capita")
                        & (revisions.period == 2021)].iloc[0]
    assert (edition.old_value, edition.new_value, edition.new_release) == (SVE_GRP_2021, 715000.0, "2024")
    assert edition.change == pytest.approx(4619.2)
