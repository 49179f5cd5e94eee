"""Unit tests of the briefing's number/date formatting, charts and view (no PDF compile here)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from briefing_samples import make_context

from dagster_project.briefings.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    PROFILE_COLOURS,
    PROFILE_LEFT,
    PROFILE_RIGHT,
    RIGHT,
    TOP,
    VALUE_LEFT,
    WIDTH,
    make_charts,
    nice_ticks,
    year_ticks,
)
from dagster_project.briefings.formatting import (
    DASH,
    MINUS,
    NBSP,
    format_date,
    format_int,
    format_list,
    format_number,
    format_p_value,
    format_percent,
    format_release_date,
    format_vintage,
    format_year,
    safe_code,
    typograph,
)
from dagster_project.briefings.view import TEMPLATES_DIR, build_view

SVG = "{http://www.w3.org/2000/svg}"


def test_russian_number_format_uses_nbsp_groups_and_decimal_comma() -> None:
    assert format_number(1234.5, "ru") == f"1{NBSP}234,5"
    assert format_number(1234567.25, "ru", digits=2) == f"1{NBSP}234{NBSP}567,25"
    assert format_number(0.5, "ru", digits=3) == "0,500"


def test_english_number_format() -> None:
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_number(1234567.25, "en", digits=2) == "1,234,567.25"


def test_signs_use_real_minus_and_plus_for_changes() -> None:
    assert format_number(-0.0071, "ru", digits=3) == f"{MINUS}0,007"
    assert format_number(0.012, "en", digits=3, signed=True) == "+0.012"
    assert format_number(0.012, "en", digits=3) == "0.012"
    # a change that rounds to zero carries no sign: never "−0,000"
    assert format_number(-0.0001, "ru", digits=3, signed=True) == "0,000"


@pytest.mark.parametrize("value", [None, float("nan"), math.inf, "abc", True, ""])
def test_missing_or_unusable_numbers_are_a_dash(value: object) -> None:
    assert format_number(value, "ru") == DASH
    assert format_number(value, "en", signed=True) == DASH


def test_counts_and_years() -> None:
    assert format_int(4321, "ru") == f"4{NBSP}321"
    assert format_int(4321, "en") == "4,321"
    assert format_int(None, "en") == DASH
    assert format_year(2023) == "2023"  # a year is never grouped
    assert format_year(2023.0) == "2023"
    assert format_year(None) == DASH


def test_dates_are_localised() -> None:
    assert (
        format_date("2026-11-23T23:15:00+00:00", "ru", with_time=True)
        == f"23{NBSP}ноября 2026{NBSP}г., 23:15 UTC"
    )
    assert (
        format_date("2026-11-23T23:15:00+00:00", "en", with_time=True) == f"23{NBSP}November 2026, 23:15 UTC"
    )
    assert (
        format_date("2026-05-02T08:05:00+03:00", "en", with_time=True) == f"2{NBSP}May 2026, 08:05 UTC+03:00"
    )
    assert format_date("2026-11-23T23:10:00", "ru", with_time=True) == f"23{NBSP}ноября 2026{NBSP}г., 23:10"
    assert format_date("2024-03-01", "ru", with_time=True) == f"1{NBSP}марта 2024{NBSP}г."
    assert format_date("spring 2024", "en") == "spring 2024"
    assert format_date(None, "ru") == DASH


def test_a_release_date_is_printed_as_precisely_as_its_label_states_it() -> None:
    """csv's release_date: '2024-05' → 2024-05-31, '2024' → 2024-12-31 (the period's end, for ordering); the
    briefing prints the period, not a day the data never stated. A real day stays a day."""
    assert format_release_date("2024-05-31", "2024-05", "ru") == f"май 2024{NBSP}г."
    assert format_release_date("2024-05-31", "2024-05", "en") == "May 2024"
    assert format_release_date("2024-02-29", "2024-02", "en") == "February 2024"
    assert format_release_date("2023-12-31", "2023", "ru") == f"2023{NBSP}г."
    assert format_release_date("2023-12-31", "2023", "en") == "2023"
    # a day that is not the period's end, another label, no label: the day as stated
    assert format_release_date("2023-12-26", "2023", "ru") == f"26{NBSP}декабря 2023{NBSP}г."
    assert format_release_date("2024-05-15", "2024-05", "en") == f"15{NBSP}May 2024"
    assert format_release_date("2024-05-31", "v2", "en") == f"31{NBSP}May 2024"
    assert format_release_date("2024-05-31", None, "en") == f"31{NBSP}May 2024"
    assert format_release_date(None, "2024", "en") == DASH


def test_vintage_localises_a_leading_date_and_keeps_the_rest() -> None:
    assert format_vintage("2024-03-01 (demo v2)", "ru") == f"1{NBSP}марта 2024{NBSP}г. (demo v2)"
    assert format_vintage("2024-03-01 (demo v2)", "en") == f"1{NBSP}March 2024 (demo v2)"
    assert format_vintage("Регионы России 2023", "en") == "Регионы России 2023"
    assert format_vintage(None, "en") == DASH


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported briefing language 'de'"):
        format_number(1, "de")


def test_safe_code() -> None:
    assert safe_code("RU-SVE") == "RU-SVE"
    assert safe_code("../x y") == "x_y"
    assert safe_code(None) == "region"


def test_message_catalogs_have_the_same_keys_and_no_empty_text() -> None:
    catalogs = {
        lang: json.loads((TEMPLATES_DIR / "messages" / f"{lang}.json").read_text("utf-8"))
        for lang in ("ru", "en")
    }
    assert set(catalogs["ru"]) == set(catalogs["en"])
    for catalog in catalogs.values():
        assert all(isinstance(text, str) and text.strip() for text in catalog.values())
        # the same placeholders in both languages, or str.format would fail in one of them
    for key in catalogs["en"]:
        assert set(re.findall(r"{(\w+)}", catalogs["en"][key])) == set(
            re.findall(r"{(\w+)}", catalogs["ru"][key])
        ), key


# ---------------------------------------------------------------- charts


def _rows() -> list[dict]:
    return [
        {"year": 2000, "production_code": 1.0, "institutional_code": 0.0, "social_code": 0.5},
        {"year": 2001, "production_code": 0.5, "institutional_code": 0.5, "social_code": None},
        {"year": 2002, "production_code": 0.0, "institutional_code": 1.0, "social_code": 0.5},
    ]


def test_chart_reads_without_the_text() -> None:
    """Value ticks on the 0–1 scale, the axis title with its unit in the reader's language, the first and last
    year, the symbols of the legend and each series' last value at its last point."""
    svg = make_charts({"codes": _rows()}, "ru")["codes"]
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = sorted((el.text or "").replace(NBSP, " ") for el in root.iter(f"{SVG}text"))
    assert texts == sorted(["0,00", "0,25", "0,50", "0,75", "1,00", "2000", "2001", "2002", "I", "P", "S",
                            "код (от 0 до 1)", "0,000", "1,000", "0,500"])
    english = {el.text for el in ET.fromstring(make_charts({"codes": _rows()}, "en")["codes"]).iter(f"{SVG}text")}
    assert "code (0 to 1)" in english and "0.25" in english


def test_chart_points_are_placed_on_the_0_1_scale() -> None:
    root = ET.fromstring(make_charts({"codes": _rows()})["codes"])
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    p_line = groups["P"].find(f"{SVG}polyline").get("points").split()
    right = WIDTH - RIGHT
    # P goes 1.0 → 0.5 → 0.0 across 2000–2002: top-left to bottom-right of the plot area
    assert p_line == [
        f"{LEFT:.1f},{TOP:.1f}",
        f"{(LEFT + right) / 2:.1f},{(TOP + HEIGHT - BOTTOM) / 2:.1f}",
        f"{right:.1f},{HEIGHT - BOTTOM:.1f}",
    ]


def test_chart_breaks_the_line_at_a_missing_value() -> None:
    root = ET.fromstring(make_charts({"codes": _rows()})["codes"])
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    # S has 2000 and 2002 only: two markers, no line bridging the missing 2001
    assert groups["S"].findall(f"{SVG}polyline") == []
    assert len(groups["S"].findall(f"{SVG}polygon")) == 2
    assert len(groups["I"].findall(f"{SVG}polyline")) == 1


def test_no_chart_without_values() -> None:
    assert make_charts({"codes": [{"year": 2000, "production_code": None}]}) == {}
    assert make_charts({}) == {}


def test_year_ticks() -> None:
    assert year_ticks(2000, 2023) == [2000, 2005, 2010, 2015, 2020, 2023]  # the range's ends are always shown
    assert year_ticks(2001, 2023) == [2001, 2005, 2010, 2015, 2020, 2023]
    assert year_ticks(2004, 2023) == [2004, 2010, 2015, 2020, 2023]  # 2005 is too close to 2004
    assert year_ticks(2018, 2023) == [2018, 2019, 2020, 2021, 2022, 2023]
    assert year_ticks(2011, 2022) == [2011, 2014, 2016, 2018, 2020, 2022]  # the dynamics chart's 12 years: no 2012
    assert year_ticks(2023, 2023) == [2023]


# ---------------------------------------------------------------- view


def test_view_of_an_empty_context_is_all_dashes() -> None:
    view = build_view({"region": {"code": "RU-X"}}, "ru", charts=False)
    assert view["region_name"] == "RU-X"
    assert all(spec is None for spec in view["charts"].values()) and view["table"]["rows"] == []
    assert {k["value"] for k in view["codes"]} == {DASH} and view["key_indicators"] == []
    assert view["data_vintage"] == DASH and view["generated_at"] == DASH
    json.dumps(view)  # the PDF template reads it as JSON


def test_view_takes_the_latest_year_and_the_other_language_as_fallback() -> None:
    context = {
        "region": {"code": "DE71", "name_en": "Darmstadt"},
        "latest_year": 2022,
        "codes": [
            {"year": 2023, "production_code": 0.9},
            {"year": 2022, "production_code": 0.25, "innovation_code": -0.05},
        ],
    }
    view = build_view(context, "ru", charts=False)
    assert view["region_name"] == "Darmstadt"
    assert view["codes"][0]["value"] == "0,250"
    assert view["codes"][0]["change"] == f"{MINUS}0,050"
    assert [row[0] for row in view["table"]["rows"]] == ["2022", "2023"]


def test_templates_dir_exists() -> None:
    assert Path(TEMPLATES_DIR, "briefing.typ").is_file() and Path(TEMPLATES_DIR, "briefing.html.j2").is_file()


def test_view_prefers_the_language_then_the_generic_text() -> None:
    context = {
        "region": {"code": "RU-SVE", "name_ru": "Свердловская область", "name_en": "Sverdlovsk Oblast"},
        "coverage_notes": [
            {"year": 2004, "family": "social", "reason": "weight 0.5", "reason_ru": "вес 0,5"},
            {"year": 2003, "family": "unknown", "reason": "weight 0.4"},
        ],
        "top_contributions": [
            {"indicator_code": "x_code", "family": "social", "contribution_change": 0.01, "year": 2022}
        ],
    }
    ru, en = build_view(context, "ru", charts=False), build_view(context, "en", charts=False)
    ru_notes, en_notes = ru["quality"]["coverage_notes"], en["quality"]["coverage_notes"]
    assert [n["year"] for n in ru_notes] == ["2003", "2004"]  # sorted by year
    assert ru_notes[1] == {"year": "2004", "family": "Социальный код (S)", "reason": "вес 0,5"}
    assert en_notes[1] == {"year": "2004", "family": "Social code (S)", "reason": "weight 0.5"}
    assert en_notes[0]["family"] == "unknown"
    assert en["contributions"] == [{"name": "x_code", "code": "S", "change": "+0.010", "moved": DASH}]
    assert "2022" in en["contributions_intro"]


# ---------------------------------------------------------------- typography, percentages, p-values


def test_russian_typography_binds_short_words_dashes_and_digit_groups() -> None:
    text = typograph("Код I в 2023 г. — на 10 000 человек, 49 % ВРП", "ru")
    assert text == f"Код I{NBSP}в{NBSP}2023{NBSP}г.{NBSP}— на{NBSP}10{NBSP}000 человек, 49{NBSP}% ВРП"
    assert typograph("Code I in 2023 — a 10 000 test", "en") == "Code I in 2023 — a 10 000 test"


def test_percentages_and_p_values() -> None:
    assert format_percent(66.3, "ru") == f"66,3{NBSP}%"
    assert format_percent(66.3, "en") == "66.3%"
    assert format_percent(0.01829, "ru", share=True) == f"1,8{NBSP}%"
    assert format_percent(None, "en") == DASH
    assert format_p_value(7.16e-05, "ru") == f"<{NBSP}0,001"
    assert format_p_value(0.8666, "en") == "0.867"
    assert format_list(["a", "b", "c"], "ru") == "a, b и c"
    assert format_list(["a"], "en") == "a"


# ---------------------------------------------------------------- the new charts


def test_nice_ticks_cover_the_range_on_round_steps() -> None:
    assert nice_ticks(-0.032, 0.05) == [-0.05, -0.025, 0.0, 0.025, 0.05]
    assert nice_ticks(0.0, 0.649) == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(-0.1, 0.0) == [-0.1, -0.075, -0.05, -0.025, 0.0]  # no "−0" tick
    assert nice_ticks(0.0, 0.0) == [0.0, 0.25, 0.5, 0.75, 1.0]


def _full_context() -> dict:
    return {
        "latest_year": 2002,
        "codes": [
            {"year": 2001, "production_code": 0.5, "institutional_code": 0.5, "social_code": 0.5, "nid": 0.0},
            {"year": 2002, "production_code": 0.75, "institutional_code": 0.25, "social_code": 1.0,
             "innovation_code": 0.25, "information_code": -0.25, "value_competence_code": 0.5, "id_code": 0.5,
             "nid": 0.5},
        ],
        "region": {"district_regions": 3},
        "district_medians": [{"year": 2002, "production_code": 0.5, "institutional_code": None, "social_code": 0.25}],
        "universe_medians": [{"year": 2002, "production_code": 1.0, "institutional_code": 0.0, "social_code": 0.5}],
    }


def test_profile_bars_are_proportional_to_the_codes() -> None:
    root = ET.fromstring(make_charts(_full_context(), "en")["profile"])
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    width = WIDTH - PROFILE_LEFT - PROFILE_RIGHT  # the profile chart's plot width
    p_bars = [(r.get("fill"), float(r.get("width"))) for r in groups["P"].findall(f"{SVG}rect")]
    assert p_bars == [(PROFILE_COLOURS[0], pytest.approx(0.75 * width, abs=0.06)),
                      (PROFILE_COLOURS[1], pytest.approx(0.5 * width, abs=0.06)),
                      (PROFILE_COLOURS[2], pytest.approx(1.0 * width, abs=0.06))]
    # each bar carries its value; the missing district median of I is a dash, not a zero-length bar
    assert [t.text for t in groups["P"].findall(f"{SVG}text")] == ["0.750", "0.500", "1.000"]
    assert len(groups["I"].findall(f"{SVG}rect")) == 2
    assert [t.text for t in groups["I"].findall(f"{SVG}text")] == ["0.250", "—", "0.000"]


def test_profile_has_no_district_bars_when_the_district_is_the_region_alone() -> None:
    context = _full_context()
    context["region"] = {"district_regions": 1}  # Saarland in the NUTS 1 region Saarland
    root = ET.fromstring(make_charts(context, "en")["profile"])
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    assert [r.get("fill") for r in groups["P"].findall(f"{SVG}rect")] == [PROFILE_COLOURS[0], PROFILE_COLOURS[2]]


def test_dynamics_bars_go_up_and_down_from_zero_and_ticks_are_localised() -> None:
    charts = {lang: make_charts(_full_context(), lang)["dynamics"] for lang in ("ru", "en")}
    root = ET.fromstring(charts["en"])
    groups = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    (up,), (down,) = groups["P′"].findall(f"{SVG}rect"), groups["I′"].findall(f"{SVG}rect")
    # +0.25 and −0.25 have the same height; one ends at the zero line from above, the other starts there
    assert float(up.get("height")) == pytest.approx(float(down.get("height")), abs=0.11)
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")), abs=0.11)
    assert len(groups["ID"].findall(f"{SVG}circle")) == 1
    labels = {t.text for t in root.iter(f"{SVG}text")}
    assert {"0.0", "0.2", "0.4", "−0.4"} <= labels
    ru_labels = {t.text for t in ET.fromstring(charts["ru"]).iter(f"{SVG}text")}
    assert {"0,0", "0,2", "0,4", "−0,4"} <= ru_labels and "0.2" not in ru_labels


def test_nid_chart_and_which_charts_exist() -> None:
    charts = make_charts(_full_context(), "en")
    assert set(charts) == {"codes", "profile", "dynamics", "nid"}
    root = ET.fromstring(charts["nid"])
    line = root.find(f".//{SVG}polyline").get("points").split()
    assert len(line) == 2 and float(line[0].split(",")[0]) == VALUE_LEFT  # first year on the left edge


# ---------------------------------------------------------------- view sections


def _view(lang: str, **extra: object) -> dict:
    context = _full_context()
    context["region"] = {"code": "RU-B", "name_en": "Region B", "country_name_en": "Russia", **context["region"]}
    context.update(extra)
    return build_view(context, lang, charts=False)


def test_rank_text_and_answers_when_the_rank_is_exact() -> None:
    ranks = [{"year": 2002, "measure": "composite", "point_rank": 1, "n_regions": 3, "rank_low": 1, "rank_high": 1},
             {"year": 2002, "measure": "production_code", "point_rank": 2, "n_regions": 3, "rank_low": 1,
              "rank_high": 3}]
    view = _view("en", ranks=ranks)
    assert view["codes"][0]["rank"] == "2 of 3 (1–3)"
    assert view["codes"][1]["rank"] == DASH
    # no universe in the context: the group is named generically, never a country it was not computed over
    assert view["answers"]["stand"].startswith("Region B ranks 1st of the 3 comparison regions with all three codes")
    assert "changed by +0.500" in view["answers"]["changed"] and "reached 0.500" in view["answers"]["changed"]
    assert view["ranks"]["rows"][0]["interval"] == "1–1"


def test_strategy_insufficient_data_says_why_in_the_briefings_language() -> None:
    strategy = {"year": 2002, "decision": "insufficient_data", "percentile_group": "DE", "min_regions": 5,
                "market_score": None, "market_missing_code": "too_few_regions", "market_regions_with_input": 3,
                "market_missing_reason": "only 3 comparison regions in DE (5 needed)", "market_threshold": 0.9,
                "location_score": None, "location_missing_code": "no_area", "location_threshold": 0.75}
    view = _view("ru", strategy=strategy)
    s = view["strategy"]
    assert s["title"] == "Данных для рекомендации недостаточно"
    assert s["scores"][0]["status"] == "missing"
    assert s["scores"][0]["basis"].replace(NBSP, " ") == "за 2002 г. данные есть лишь у 3 регионов этой группы; " \
                                                         "для процентиля нужно 5"
    assert s["scores"][1]["basis"].replace(NBSP, " ") == "нет площади территории за 2002 г."
    assert "DE" not in s["reasons"] and "comparison" not in s["reasons"]
    assert view["answers"]["todo"].replace(NBSP, " ").startswith(
        "Рекомендуемая стратегия: данных для рекомендации недостаточно [2].")


def test_instruments_group_by_weak_code_with_the_no_survey_note_first() -> None:
    rows = [
        {"target_type": "weakest_family", "weak_code": "production", "weak_percentile": 0.1,
         "addressed_code": "information_code", "addressed_percentile": 0.3,
         "match_type": "fallback_next_weakest", "instrument_rank": 1, "instrument_code": "a", "instrument_en": "A",
         "relevance_pct": 50.0},
        {"target_type": "weakest_family", "weak_code": "production", "weak_percentile": 0.1,
         "addressed_code": "production", "match_type": "no_survey_section", "instrument_rank": None},
    ]
    groups = _view("en", instruments=rows)["instruments"]["groups"]
    assert len(groups) == 1
    assert groups[0]["title"] == "Weakest defining code: production code P"
    assert groups[0]["notes"] == ["No loaded survey covers the production code P.",
                                  "The instruments below are for the weakest code a survey covers, the information "
                                  "code I′."]
    assert groups[0]["rows"] == [{"rank": "1", "name": "A", "relevance": "50.0%"}]


def test_instruments_for_a_weakest_code_above_the_median_say_so() -> None:
    """Every region with codes gets instruments for its relatively weakest code; when even that code is above the
    median, the status and page 1 say so (the region is not told it is weak)."""
    rows = [{"target_type": "weakest_family", "weak_code": "institutional", "weak_percentile": 0.84,
             "addressed_code": "institutional", "addressed_percentile": 0.84, "match_type": "survey",
             "instrument_rank": 1, "instrument_code": "a", "instrument_en": "A", "relevance_pct": 66.3}]
    view = _view("en", instruments=rows)
    group = view["instruments"]["groups"][0]
    assert group["rows"] == [{"rank": "1", "name": "A", "relevance": "66.3%"}] and not group["weak"]
    assert "higher than in 84% of the comparison regions, above their median. The survey's most relevant " \
           "instruments for it follow all the same." in group["status"]
    assert view["answers"]["todo"].endswith("Even its relatively weakest code, the institutional code I, is above the "
                                            "median of its group; for it the survey [1] ranks “A” first (66.3% of "
                                            "respondents).")


def test_a_weak_code_below_the_median_comes_first_on_page_1() -> None:
    rows = [{"target_type": "weakest_family", "weak_code": "institutional", "weak_percentile": 0.84,
             "addressed_code": "institutional", "addressed_percentile": 0.84, "match_type": "survey",
             "instrument_rank": 1, "instrument_code": "a", "instrument_en": "A", "relevance_pct": 66.3},
            {"target_type": "weakest_dynamic_code", "weak_code": "information_code", "weak_percentile": 0.2,
             "addressed_code": "information_code", "addressed_percentile": 0.2, "match_type": "survey",
             "instrument_rank": 1, "instrument_code": "b", "instrument_en": "B", "relevance_pct": 40.0}]
    view = _view("en", instruments=rows)
    assert [g["weak"] for g in view["instruments"]["groups"]] == [False, True]
    assert "“B” first for it (40.0% of respondents)" in view["answers"]["todo"]


def test_partial_codes_of_the_latest_year_are_shown_as_such() -> None:
    """2023's P rests on 5 of 7 indicators (5/7 = 71%) where 2022 had all 7; S has 7 of 8 in both years (an
    indicator never published), so S is not called partial and 2022 is the latest year of full coverage."""
    codes = [{"year": 2022, "production_code": 0.5, "institutional_code": 0.5, "social_code": 0.5,
              "production_coverage": 1.0, "institutional_coverage": 1.0, "social_coverage": 0.875},
             {"year": 2023, "production_code": 0.6, "institutional_code": 0.5, "social_code": 0.5,
              "production_coverage": 5 / 7, "institutional_coverage": 1.0, "social_coverage": 0.875}]
    view = _view("en", codes=codes, latest_year=2023)
    assert view["codes_partial"] == (
        "Partial data in 2023: the production code P rests on 71% of its indicators' weight (up to 100% in other "
        "years); the indicators missing that year are listed under data quality. 2022 is the latest year in which "
        "every code rests on all the indicators it has in any year.")
    codes[1]["production_coverage"] = 1.0
    assert _view("en", codes=codes, latest_year=2023)["codes_partial"] == ""


def test_the_header_never_prints_a_release_older_than_its_data() -> None:
    """A release cannot predate the data it carries: a source's misread date (a yearbook's '2000') stays in the
    sources table, not at the top of every page."""
    context = {"region": {"code": "RU-SVE"}, "latest_year": 2022, "codes": [{"year": 2022, "social_code": 0.5}],
               "provenance": [{"source": "rosstat", "dataset": "regions_of_russia", "release_date": "2000-12-31"}]}
    view = build_view(context, "en", charts=False)
    assert view["data_vintage"] == "to 2022"
    assert view["provenance"][0]["release_date"] == f"31{NBSP}December 2000"
    assert view["provenance"][0]["dataset"] == "Regions of Russia. Socio-economic indicators (yearbook)"
    context["provenance"][0]["release_date"] = "2023-12-20"
    assert build_view(context, "en", charts=False)["data_vintage"] == f"to 2022, release of 20{NBSP}December 2023"


@pytest.mark.parametrize(("country", "name_en", "group"), [
    ("DE", "Germany", "regions of Germany"),
    ("UK", "United Kingdom", "regions of the United Kingdom"),
])
def test_a_universe_of_one_country_is_named_by_it(country: str, name_en: str, group: str) -> None:
    """Once a country has enough regions to be its own universe, its briefings say so — from the data."""
    context = _full_context()
    context["region"] = {"code": f"{country}A1", "name_en": "Region", "country": country, "country_name_en": name_en,
                         "universe": country, "universe_regions": 38, "universe_countries": [country]}
    view = build_view(context, "en", charts=False)
    assert {"label": "Compared with", "value": f"38 {group}"} in view["meta"]
    assert view["codes_note"].startswith(f"Codes run from 0 (lowest) to 1 (highest) over all years of the {group}.")


def test_the_empirical_check_names_its_measure_and_says_where_the_data_differ_from_the_paper() -> None:
    """The paper finds every pair positive: a significant negative r is called the opposite, a p above 5% no
    relation; the proxy is named (region scope: the sample region is its district's only comparison region)."""
    def row(pair: str, label: str, r: float, significant: bool) -> dict:
        return {"pair_code": pair, "scope": "region", "method": "levels", "label_en": label, "r": r,
                "significant": significant, "n": 12, "x_indicator": "students_per_10000",
                "education_measure": "proxy", "window_start": 2005, "window_end": 2016}
    rows = [row("grp_vs_education", "GRP vs education", -0.55, True),
            row("income_vs_education", "Money income vs education", 0.62, True),
            row("spending_vs_education", "Consumer spending vs education", 0.20, False)]
    section = _view("en", correlations=rows)["correlations"]
    assert section["intro"].endswith("Education is measured by students per 10,000 people, a proxy: the paper's "
                                     "measure, the share of the employed with higher education, is not published by "
                                     "region in the loaded data.")
    assert section["verdict"] == (
        "The paper [1] reports a direct (positive) dependence for every pair. What these data show (Region, levels): "
        "positive and significant, as in the paper, for money income vs education; negative and significant, the "
        "opposite of the paper's finding, for GRP vs education; no significant relation for consumer spending vs "
        "education.")


def test_no_weak_code_speaks_only_of_the_codes_computed() -> None:
    """A region whose I and S could not be computed (their yearbook sections were not loaded) is not told that
    none of its codes is weak: only P was compared, and the note names the two missing codes."""
    context = make_context()
    context["strategy"].update(weak_families=[], interregional_partners=[], interregional_partners_en=[],
                               interregional_partners_ru=[])
    full = build_view(context, "en", charts=False)["strategy"]["partners_note"]
    assert full.startswith("No code of the region is below the median of the")
    for row in context["codes"]:
        row.update(institutional_code=None, social_code=None)
    en = build_view(context, "en", charts=False)["strategy"]["partners_note"]
    assert en.startswith("No computed code of the region is below the median of the")
    assert "(institutional code I and social code S: not computed from the data loaded, see Data quality)" in en
    ru = build_view(context, "ru", charts=False)["strategy"]["partners_note"].replace("\u00a0", " ")
    assert ru.startswith("Ни один из рассчитанных кодов региона не ниже медианы")
    assert "не рассчитаны по загруженным данным: институциональный код I и социальный код S" in ru


def test_no_instruments_says_why_when_a_defining_code_is_never_computed() -> None:
    """marts.instruments answers the weakest of the three codes in the latest year that has all three: a region
    with P alone gets none, and the briefing says which codes are missing rather than a bare 'none proposed'."""
    context = make_context()
    context["instruments"] = []
    assert build_view(context, "en", charts=False)["instruments"]["none_note"] == (
        "No instruments are proposed for this region.")
    for row in context["codes"]:
        row.update(institutional_code=None, social_code=None)
    note = build_view(context, "en", charts=False)["instruments"]["none_note"]
    assert note == ("No instruments are proposed: they answer the weakest of the three defining codes, and the "
                    "institutional code I and social code S could not be computed from the data loaded in any year "
                    "(see Data quality).")
    ru = build_view(context, "ru", charts=False)["instruments"]["none_note"].replace("\u00a0", " ")
    assert "ни за один год не рассчитаны: институциональный код I и социальный код S" in ru
