"""Briefing contexts from a tiny hand-made published warehouse (see briefing_samples.make_warehouse)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from briefing_samples import make_warehouse

from dagster_project.briefings.context import build_contexts
from dagster_project.briefings.view import build_view

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = make_warehouse(tmp_path_factory.mktemp("wh") / "regiocode.duckdb")
    connection = duckdb.connect(str(path), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def contexts(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    return {c["region"]["code"]: c for c in build_contexts(con, generated_at=NOW)}


def test_one_context_per_region_with_codes_in_register_order(con: duckdb.DuckDBPyConnection) -> None:
    codes = [c["region"]["code"] for c in build_contexts(con, generated_at=NOW)]
    assert codes == ["RU-KGN", "RU-SVE", "RU-TYU"]  # RU-CHE has no codes; the district and country get no briefing


def test_region_names_district_country_and_build(contexts: dict) -> None:
    region = contexts["RU-SVE"]["region"]
    assert region["name_ru"] == "Регион Б" and region["district_name_en"] == "Ural FD"
    assert region["country_name_ru"] == "Российская Федерация"
    # the groups it is compared with, as the data say: 4 comparison regions in the district and the universe
    # (RU-CHE has no codes but is one), a universe of one country
    assert (region["district_level"], region["district_regions"]) == ("district", 4)
    assert (region["universe"], region["universe_regions"], region["universe_countries"]) == ("RU", 4, ["RU"])
    b = contexts["RU-SVE"]
    assert b["demo"] is True and b["build_id"] == "b1" and b["data_vintage"] == "v1, v2"
    assert b["generated_at"] == "2026-11-24T12:00:00+00:00"
    assert b["latest_year"] == 2023


def test_medians_of_every_year_over_every_region(contexts: dict) -> None:
    # P 2023: 0.2, 0.4, 0.9 → 0.4; S 2023: A null, 0.4, 0.3 → 0.35; NID 2023: 0.1, 0.3, 0.2 → 0.2
    medians = {m["year"]: m for m in contexts["RU-KGN"]["district_medians"]}
    assert medians[2023] == {"year": 2023, "production_code": 0.4, "institutional_code": 0.5, "social_code": 0.35,
                             "nid": 0.2, "regions": 3}
    assert medians[2022]["production_code"] == 0.3  # 0.1, 0.3, 0.8
    assert contexts["RU-KGN"]["universe_medians"] == contexts["RU-KGN"]["district_medians"]
    assert contexts["RU-KGN"]["coverage_notes"] == [
        {"year": 2023, "family": "social", "reason": "only 0.50 of the family weight present (needs 2/3)",
         "reason_en": "only 0.50 of the family weight present (needs 2/3)",
         "reason_ru": "только 0,50 веса семейства (нужно 2/3)"}
    ]


def test_contributions_of_the_latest_year_largest_first(contexts: dict) -> None:
    top = contexts["RU-SVE"]["top_contributions"]
    assert [(c["indicator_code"], c["contribution_change"]) for c in top] == [
        ("grp_per_capita", -0.02),
        ("researchers", 0.01),
    ]


def test_strategy_of_the_latest_year_with_lists_split(contexts: dict) -> None:
    s = contexts["RU-SVE"]["strategy"]
    assert s["year"] == 2023 and s["decision"] == "smart_specialisation"
    assert s["market_threshold"] == 0.9  # a DECIMAL becomes a float
    assert s["candidate_domains_en"] == ["GRP per capita", "Researchers"]
    assert s["interregional_partners_ru"] == ["Регион В (социальный)"]
    assert s["weak_families"] == ["social", "institutional"]
    assert "build_id" not in s
    assert contexts["RU-KGN"]["strategy"] is None


def test_ranks_of_the_last_two_years(contexts: dict) -> None:
    ranks = contexts["RU-SVE"]["ranks"]
    assert [(r["year"], r["measure"], r["point_rank"], r.get("rank_low"), r.get("rank_high")) for r in ranks] == [
        (2022, "composite", 1, 1, 2),
        (2023, "composite", 2, 1, 3),
        (2023, "nid", 1, None, None),  # NID 0.3 is the highest of 0.1, 0.3, 0.2: no interval, a plain rank
    ]
    assert [r["n_regions"] for r in ranks if r["measure"] == "nid"] == [3]


def test_indicators_in_real_units_each_in_its_latest_year(contexts: dict) -> None:
    rows = {r["indicator_code"]: r for r in contexts["RU-SVE"]["indicators"]}
    assert (rows["grp_per_capita"]["year"], rows["grp_per_capita"]["value"]) == (2023, 2.2)
    assert rows["grp_per_capita"]["percent_of_country"] == 110.0 and rows["grp_per_capita"]["rank"] == 1
    assert rows["grp_per_capita"]["name_ru"] == "ВРП на душу"
    assert (rows["researchers"]["year"], rows["researchers"]["unit"]) == (2022, "per_10000_employed")
    assert contexts["RU-KGN"]["indicators"] == []


def test_peers_with_names_in_order(contexts: dict) -> None:
    peers = contexts["RU-SVE"]["peers"]
    assert [(p["peer_type"], p["peer_rank"], p["peer_code"], p["peer_name_en"]) for p in peers] == [
        ("domestic", 1, "RU-TYU", "Region C"),
        ("domestic", 2, "RU-KGN", "Region A"),
        ("foreign_analogue", 1, "RU-CHE", "No codes"),
    ]


def test_correlations_of_the_region_and_its_district_only(contexts: dict) -> None:
    rows = contexts["RU-SVE"]["correlations"]
    assert [(r["scope"], r["group_code"], r["method"], r["r"]) for r in rows] == [
        ("district_pooled", "RU-FD-URL", "levels", 0.7),
        ("region", "RU-SVE", "levels", 0.5),
    ]


def test_instruments_keep_the_no_survey_note(contexts: dict) -> None:
    rows = contexts["RU-SVE"]["instruments"]
    assert [r["match_type"] for r in rows] == ["fallback_next_weakest", "no_survey_section"]


def test_data_quality(contexts: dict) -> None:
    a, b, c = (contexts[code]["quality"] for code in ("RU-KGN", "RU-SVE", "RU-TYU"))
    assert [(m["indicator_code"], m["last_year"]) for m in a["missing_indicators"]] == [("researchers", 2022)]
    assert b["missing_indicators"] == []
    assert b["confidential"] == []  # the confidential cell is of a source this build did not use (csv)
    assert sorted((m["indicator_code"], m["last_year"], m["in_sources"]) for m in c["missing_indicators"]) == [
        ("grp_per_capita", None, True),  # other regions have them: none for this region, not never published
        ("researchers", None, True),
    ]
    assert a["confidential"] == [
        {
            "indicator_code": "researchers",
            "name_ru": "Исследователи",
            "name_en": "Researchers",
            "source": "demo",
            "years": [2023],
        }
    ]
    # only the revisions brought by the latest release (v2 of 2024-09-01), largest relative change first
    assert b["revisions_total"] == 2
    assert [(r["period"], r["old_value"], r["new_value"]) for r in b["revisions"]] == [
        (2022, 2.0, 2.5),
        (2023, 4.0, 4.2),
    ]


def test_an_indicator_outside_the_universe_basket_is_not_missing(tmp_path: Path) -> None:
    """A universe that weighs an indicator 0 (seed universe_indicator_weights, e.g. EU: no regional Eurostat
    series) does not measure it, so its regions are not told it is missing; the other indicators still are."""
    path = make_warehouse(tmp_path / "regiocode.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO seeds.universe_indicator_weights VALUES ('RU', 'grp_per_capita', 0, 'none', 'нет')")
    with duckdb.connect(str(path), read_only=True) as con:
        contexts = {c["region"]["code"]: c for c in build_contexts(con, generated_at=NOW)}
    c = contexts["RU-TYU"]["quality"]
    assert [(m["indicator_code"], m["last_year"]) for m in c["missing_indicators"]] == [("researchers", None)]
    a = contexts["RU-KGN"]["quality"]
    assert [(m["indicator_code"], m["last_year"]) for m in a["missing_indicators"]] == [("researchers", 2022)]


def test_an_indicator_no_source_of_the_build_holds_is_missing_as_not_in_the_sources(tmp_path: Path) -> None:
    """No region has the indicator in this build (its section was not loaded): the briefing must not say Rosstat
    never published it, only that the loaded sources lack it."""
    path = make_warehouse(tmp_path / "regiocode.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM marts.observations WHERE indicator_code = 'researchers'")
        con.execute("DELETE FROM marts.indicator_profile WHERE indicator_code = 'researchers'")
    with duckdb.connect(str(path), read_only=True) as con:
        contexts = {c["region"]["code"]: c for c in build_contexts(con, generated_at=NOW)}
    missing = {m["indicator_code"]: m for m in contexts["RU-TYU"]["quality"]["missing_indicators"]}
    assert (missing["researchers"]["last_year"], missing["researchers"]["in_sources"]) == (None, False)
    assert (missing["grp_per_capita"]["last_year"], missing["grp_per_capita"]["in_sources"]) == (None, True)
    ru = [m.replace("\u00a0", " ") for m in build_view(contexts["RU-TYU"], "ru", charts=False)["quality"]["missing"]]
    en = build_view(contexts["RU-TYU"], "en", charts=False)["quality"]["missing"]
    assert any("последнее значение: нет в загруженных источниках" in m for m in ru)
    assert any("last value: none for this region in the loaded sources" in m for m in en)
    assert not any("never" in m for m in en)


def test_provenance_per_release(contexts: dict) -> None:
    """The releases behind the briefing's figures: release v3 holds only a cell no catalog indicator maps, so it is
    not listed (and a new yearbook section of such tables changes no briefing); release c1 is of a source this
    build did not use (csv, not in build_info.sources)."""
    prov = contexts["RU-SVE"]["provenance"]
    assert [(p["release"], p["release_date"], p["observations"]) for p in prov] == [
        ("v1", "2024-03-01", 1),
        ("v2", "2024-09-01", 1),
    ]


def test_a_partition_sees_the_same_context_as_the_batch(con: duckdb.DuckDBPyConnection, contexts: dict) -> None:
    one = build_contexts(con, generated_at=NOW, regions=["RU-SVE"])
    assert len(one) == 1
    assert json.dumps(one[0], sort_keys=True) == json.dumps(contexts["RU-SVE"], sort_keys=True)
    assert build_contexts(con, generated_at=NOW, regions=["RU-CHE"]) == []


def test_the_context_is_json_and_stable(con: duckdb.DuckDBPyConnection, contexts: dict, tmp_path: Path) -> None:
    again = {c["region"]["code"]: c for c in build_contexts(con, generated_at=NOW)}
    assert json.dumps(again, sort_keys=True) == json.dumps(contexts, sort_keys=True)
