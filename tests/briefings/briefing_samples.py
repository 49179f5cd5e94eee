"""Hand-checkable briefing inputs: a full context (every section filled) and a tiny published warehouse.

The numbers are chosen so the expected text can be worked out by hand; the tests say how.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

HOSTILE_TYPST = '#read("/etc/passwd") [x] $y$ *b* _i_ @ref <lab>'
HOSTILE_HTML = "<script>alert(1)</script> & Co"

# How the survey of the code-model paper is cited where no catalog reference is given (an analyst's survey).
CITATION = "Own questionnaire of the regional ministry, 2024 (internal report 7)."


def _indicator(code: str, name_ru: str, name_en: str, family: str, unit: str, year: int, value: float | None,
               before_1: float | None, before_5: float | None, country: float | None, percent: float | None,
               percent_1: float | None, rank: int | None, n: int | None, comparability: str = "as_is",
               weight: float = 1.0) -> dict:
    return {
        "indicator_code": code, "name_ru": name_ru, "name_en": name_en, "family": family, "direction": 1,
        "weight": weight, "comparability": comparability, "unit": unit, "year": year, "value": value,
        "value_1y_before": before_1, "value_5y_before": before_5, "country_value": country,
        "percent_of_country": percent, "percent_of_country_1y_before": percent_1,
        "percent_of_country_5y_before": None, "rank": rank, "n_regions": n,
    }


SVE_INDICATORS = [
    # GRP per capita 1 371 665 rub in 2023, +8.5 % over a year, 142 % of the country, 8th of 85
    _indicator("grp_per_capita", "ВРП на душу населения", "Gross regional product per capita", "production", "rub",
               2023, 1371665.3, 1264149.4, 744203.39, 963977.55, 142.29, 140.0, 8, 85, "relative_to_country"),
    _indicator("money_income_per_capita", "Среднедушевые денежные доходы населения", "Money income per capita",
               "social", "rub per month", 2023, 83276.9, 67714.2, 41341.0, 62975.8, 132.2, 107.5, 9, 84,
               "relative_to_country"),
    # employment rate 65.5 % in 2023 (+1.0 pp over a year)
    _indicator("employment_rate", "Уровень занятости населения", "Employment rate", "social", "%", 2023, 65.546,
               64.51, 66.23, 62.362, 105.1, 103.0, 13, 83),
    # a negative migration balance has no share of the country
    _indicator("migration_balance_per_10000", "Коэффициент миграционного прироста на 10 000 человек населения",
               "Net migration per 10 000 people", "social", "per 10 000 people", 2023, -12.5, 23.6, 22.7, 2.0, None,
               None, 70, 80),
    # researchers per 10 000 employed (a count made a rate); GRP ended a year earlier than the rest
    _indicator("researchers", "Численность исследователей", "Researchers", "social", "per_10000_employed", 2022,
               350.4, 364.0, 417.0, 93.3, 375.6, None, 4, 82, "per_10000_employed"),
    _indicator("population", "Численность населения", "Average annual population", "context", "thousand persons",
               2023, 4248.174, 4281.08, 4229.9, 139535.5, 3.04, None, 6, 85, weight=0.0),
]

SURVEY = {
    "survey": "uralfd_2011_2016",
    "survey_title_en": "Relevance of instruments affecting the codes of neo-industrial development of the region",
    "survey_title_ru": "Актуальность инструментов воздействия на коды неоиндустриального развития региона",
    "survey_respondents": 208,
    "survey_period": "2011–2016",
    "survey_population_en": "Ural Federal District",
    "survey_population_ru": "Уральский федеральный округ",
    "survey_respondent_groups_en": "the population, business, authorities, students and teaching staff",
    "survey_respondent_groups_ru": "население, бизнес, органы власти, студенты и преподаватели",
    "survey_sample_en": "in-depth questionnaire of 208 respondents",
    "survey_sample_ru": "углублённое анкетирование 208 респондентов",
    "survey_reference": "paper_code_model",
    "survey_source_table": "1",
    "survey_citation": "Table 1 of the code-based model paper.",
}


def _instrument(target: str, weak: str, percentile: float, rank_no: int | None, code: str | None, en: str | None,
                ru: str | None, pct: float | None, scope: str = "population", match: str = "survey",
                addressed: str | None = None, addressed_percentile: float | None = None) -> dict:
    return {
        "year": 2023, "target_type": target, "weak_code": weak, "weak_percentile": percentile,
        "addressed_code": addressed or weak,
        "addressed_percentile": percentile if addressed_percentile is None else addressed_percentile,
        "match_type": match, "instrument_rank": rank_no, "instrument_code": code, "instrument_en": en,
        "instrument_ru": ru, "relevance_pct": pct, **SURVEY, "survey_scope": scope,
    }


def make_context(name_ru: str = "Свердловская область", name_en: str = "Sverdlovsk Oblast", demo: bool = True) -> dict:
    """2016–2023, P +0.02/yr, I +0.01/yr, S flat at 0.5 until a 2023 drop.

    2023: P 0.612 (Δ +0.092), I 0.47 (Δ +0.110), S 0.45 (Δ −0.050), ID +0.152, NID 0.18 + 0.152 = 0.332.
    Composite rank 3 of 83 (interval 2–6), 2 a year earlier; P is the strongest code (rank 2 of 85), I the weakest
    relative to the others (14 of 84) but above the group median (0.38): the region has no weak code. Its slowest
    change, the information code I′, is below the median (percentile 0.2): the survey's instruments for it.
    """
    rows = []
    for k, year in enumerate(range(2016, 2023)):
        first = k == 0
        rows.append(
            {
                "year": year,
                "production_code": 0.4 + 0.02 * k,
                "institutional_code": 0.3 + 0.01 * k,
                "social_code": 0.5,
                "innovation_code": None if first else 0.02,
                "information_code": None if first else 0.01,
                "value_competence_code": None if first else 0.0,
                "id_code": None if first else 0.03,
                "nid": None if first else 0.03 * k,
            }
        )
    rows.append(
        {
            "year": 2023,
            "production_code": 0.612,
            "institutional_code": 0.47,
            "social_code": 0.45,
            "innovation_code": 0.092,
            "information_code": 0.11,
            "value_competence_code": -0.05,
            "id_code": 0.152,
            "nid": 0.332,
        }
    )

    def rank(year: int, measure: str, point: int, low: int, high: int, n: int) -> dict:
        return {
            "universe": "RU",
            "year": year,
            "measure": measure,
            "point_value": 1.0,
            "point_rank": point,
            "n_regions": n,
            "draws": 100,
            "rank_p5": low,
            "rank_median": point,
            "rank_p95": high,
            "rank_low": low,
            "rank_high": high,
            "rank_min": low,
            "rank_max": high,
        }

    return {
        "region": {
            "code": "RU-SVE",
            "name_ru": name_ru,
            "name_en": name_en,
            "district_code": "RU-FD-URL",
            "district_name_ru": "Уральский федеральный округ",
            "district_name_en": "Ural Federal District",
            "district_level": "district",
            "district_regions": 6,
            "country": "RU",
            "country_name_ru": "Российская Федерация",
            "country_name_en": "Russian Federation",
            "level": "subject",
            "universe": "RU",
            "universe_regions": 85,
            "universe_countries": ["RU"],
        },
        "demo": demo,
        "build_id": "20261123T231500Z-ab12",
        "built_at": "2026-11-23T23:14:00+00:00",
        "generated_at": "2026-11-23T23:15:00+00:00",
        "data_vintage": "2024-03-01 (demo v2)",
        "sources": "demo",
        "latest_year": 2023,
        "codes": rows,
        "district_medians": [
            {"year": 2023, "production_code": 0.5, "institutional_code": 0.4, "social_code": None, "nid": 0.3,
             "regions": 6},
        ],
        "universe_medians": [
            {"year": 2022, "production_code": 0.44, "institutional_code": 0.37, "social_code": 0.5, "nid": 0.2,
             "regions": 85},
            {"year": 2023, "production_code": 0.45, "institutional_code": 0.38, "social_code": 0.52, "nid": 0.25,
             "regions": 85},
        ],
        "coverage_notes": [
            {"year": 2003, "family": "production", "reason": "only 0.57 of the family weight present (needs 2/3)",
             "reason_ru": "только 0,57 веса семейства (нужно 2/3)"}
        ],
        "top_contributions": [
            {
                "indicator_code": "grp_per_capita",
                "name_ru": "ВРП на душу населения",
                "name_en": "Gross regional product per capita",
                "family": "production",
                "contribution_change": 0.012,
            }
        ],
        "ranks": [
            rank(2022, "composite", 2, 2, 4, 83),
            rank(2023, "composite", 3, 2, 6, 83),
            rank(2023, "production_code", 2, 2, 2, 85),
            rank(2023, "institutional_code", 14, 12, 15, 84),
            rank(2023, "social_code", 3, 2, 7, 84),
            {"universe": "RU", "year": 2023, "measure": "nid", "point_value": 0.332, "point_rank": 26,
             "n_regions": 83},
        ],
        "indicators": SVE_INDICATORS,
        "strategy": {
            "year": 2023,
            "decision": "smart_specialisation",
            "percentile_group": "RU",
            "min_regions": 5,
            "reasons_en": "Local market capacity 0.83 < 0.90 (not met); location 0.47 < 0.75 (not met).",
            "reasons_ru": "Ёмкость локального рынка 0,83 < 0,90 (не выполнено).",
            "population_thousand": 2000.542,
            "market_basis": "money_income",
            "market_score": 0.8333333333,
            "market_threshold": 0.9,
            "market_met": False,
            "density_per_km2": 3.99,
            "urban_population_share": 85.291,
            "transport_indicators_used": 0,
            "capital_region": False,
            "location_score": 0.4698795181,
            "location_threshold": 0.75,
            "location_met": False,
            "grp_national_share": 0.01829,
            "grp_district_share": 0.41975,
            "significance_score": 0.9404761905,
            "significance_threshold": 0.9,
            "significance_met": True,
            "candidate_domains": ["grp_per_capita", "employment_rate"],
            "candidate_domains_en": ["Gross regional product per capita", "Employment rate"],
            "candidate_domains_ru": ["ВРП на душу населения", "Уровень занятости населения"],
            "sector_domains": [],
            "sector_note_en": "No sector data loaded.",
            "sector_note_ru": "Отраслевые данные не загружены.",
            "weak_families": [],
            "interregional_partners": [],
            "interregional_partners_en": [],
            "interregional_partners_ru": [],
        },
        "peers": [
            {
                "peer_type": "domestic",
                "peer_rank": 1,
                "peer_code": "RU-VLG",
                "peer_country": "RU",
                "peer_name_ru": "Вологодская область",
                "peer_name_en": "Vologda Oblast",
                "peer_country_name_ru": "Российская Федерация",
                "peer_country_name_en": "Russian Federation",
                "reference_year": 2023,
                "window_start": 2021,
                "distance": 0.28177,
                "features_compared": 22,
                "shared_strengths_count": 2,
                "shared_strengths_ru": "Исследователи; производственный код P",
                "shared_strengths_en": "Researchers; production code P",
            },
            {
                "peer_type": "foreign_analogue",
                "peer_rank": 1,
                "peer_code": "DEA5",
                "peer_country": "DE",
                "peer_name_ru": "Арнсберг",
                "peer_name_en": "Arnsberg",
                "peer_country_name_ru": "Германия",
                "peer_country_name_en": "Germany",
                "reference_year": 2023,
                "window_start": 2021,
                "distance": 0.964,
                "features_compared": 22,
                "shared_strengths_count": 0,
                "shared_strengths_ru": None,
                "shared_strengths_en": None,
            },
        ],
        "instruments": [
            # the weakest defining code is above the group's median: no instruments for it
            *(_instrument("weakest_family", "institutional", 0.843, k, code, en, ru, pct)
              for k, code, en, ru, pct in (
                  (1, "preferential_lending", "Preferential lending", "Льготное кредитование", 66.3),
                  (2, "preferential_taxation", "Preferential taxation", "Льготное налогообложение", 58.7))),
            # the slowest change is below it: the survey's two most relevant instruments for it
            *(_instrument("weakest_dynamic_code", "information_code", 0.2, k, code, en, ru, pct)
              for k, code, en, ru, pct in (
                  (1, "modernisation_programmes_assistance", "Assistance for participation in modernisation",
                   "Содействие участию в программах модернизации", 49.0),
                  (2, "tender_information_support", "Information support for tenders",
                   "Информационная поддержка участия в торгах", 41.8))),
        ],
        "correlations": [
            {
                "pair_code": "technologies_vs_education",
                "scope": scope,
                "method": method,
                "label_en": "Advanced technologies used vs education",
                "label_ru": "Передовые технологии и образование",
                "window_start": 2005,
                "window_end": 2016,
                "n": n,
                "r": r,
                "slope": slope,
                "r_squared": r2,
                "p_value": p,
                "significant": p < 0.05,
                "null_reason": None,
            }
            for scope, method, n, r, slope, r2, p in (
                ("region", "levels", 11, 0.9168, 0.4758, 0.8405, 7.16e-05),
                ("region", "changes", 10, 0.0612, 0.05, 0.0037, 0.8666),
                ("district_aggregate", "levels", 12, 0.903, 0.2227, 0.8154, 5.74e-05),
                # p = 0.0496 rounds to 0.050 at three decimals: printed with four, so the star agrees
                ("district_pooled", "levels", 62, -0.6301, -1.28, 0.397, 0.0496),
            )
        ],
        "quality": {
            "missing_indicators": [
                {
                    "indicator_code": "researchers",
                    "name_ru": "Численность исследователей",
                    "name_en": "Researchers",
                    "family": "social",
                    "last_year": 2022,
                }
            ],
            "confidential": [
                {
                    "indicator_code": "advanced_technologies_used",
                    "name_ru": "Передовые технологии",
                    "name_en": "Advanced technologies used",
                    "source": "demo",
                    "years": [2019, 2022],
                }
            ],
            "revisions_total": 1,
            "revisions": [
                {
                    "indicator_code": "money_income_per_capita",
                    "name_ru": "Денежные доходы",
                    "name_en": "Money income per capita",
                    "period": 2023,
                    "old_value": 82280.7,
                    "new_value": 83276.9,
                    "old_release": "demo v1",
                    "new_release": "demo v2",
                    "new_release_date": "2024-09-01",
                    "relative_change": 0.012107,
                }
            ],
        },
        "provenance": [
            {
                "source": "demo",
                "dataset": "demo_panel",
                "release": "v2",
                "release_date": "2024-09-01",
                "retrieved_at": "2026-11-23T23:10:00",
                "observations": 4321,
            }
        ],
    }


def make_eu_context(demo: bool = True) -> dict:
    """Saarland (DEC0): an EU NUTS 2 region that is its own NUTS 1 region (DEC, one comparison region), in a
    universe of 11 regions of 7 countries, with 3 regions of its own country (too few for strategy percentiles).

    It has no district comparison: no district median, no district correlation rows (they would repeat its
    own). The Ural survey is taken abroad: indicative, without the instruments of Russian national policy; its
    social code S and its change S′ are both below the group median and get the same instruments (one list).
    """
    context = make_context("Саар", "Saarland", demo)
    context["region"].update({
        "code": "DEC0", "district_code": "DEC", "district_name_ru": "Саар", "district_name_en": "Saarland",
        "district_level": "nuts1", "district_regions": 1, "country": "DE", "country_name_ru": "Германия",
        "country_name_en": "Germany", "level": "nuts2", "universe": "EU", "universe_regions": 11,
        "universe_countries": ["BE", "CZ", "DE", "ES", "FR", "PL", "UK"],
    })
    context["district_medians"] = [dict(context["codes"][-1], regions=1)]
    context["ranks"] = [dict(r, universe="EU", n_regions=11, point_rank=min(r["point_rank"], 11))
                        for r in context["ranks"]]
    context["indicators"] = [
        _indicator("grp_per_capita", "ВРП на душу населения", "Gross regional product per capita", "production",
                   "rub", 2023, 32689.0, 30045.0, 31892.0, 36362.8, 89.9, 85.0, 9, 11, "relative_to_country"),
        _indicator("population", "Численность населения", "Average annual population", "context",
                   "thousand persons", 2023, 1462.7, 1477.5, 1503.3, 7563.3, 19.3, None, 4, 11, weight=0.0),
        # the EU basket weighs innovation activity 0 (no regional Eurostat series): not a key indicator there
        _indicator("innovation_activity", "Уровень инновационной активности организаций",
                   "Innovation activity of organisations", "production", "%", 2023, 17.1, 16.0, 15.0, 15.0, 114.0,
                   None, 3, 11, weight=0.0),
    ]
    context["strategy"] = {
        "year": 2023, "decision": "insufficient_data", "percentile_group": "DE", "min_regions": 5,
        "population_thousand": 1462.7, "market_basis": "money_income", "transport_indicators_used": 0,
        **{f"{s}_{k}": v for s in ("market", "location", "significance")
           for k, v in (("score", None), ("threshold", 0.9), ("met", None), ("missing_code", "too_few_regions"),
                        ("regions_with_input", 3),
                        ("missing_reason", "only 3 comparison regions in DE have it for 2023 (5 needed)"),
                        ("missing_reason_ru", "лишь у 3 регионов сравнения в DE (нужно 5)"))},
        "candidate_domains": [], "candidate_domains_en": [], "candidate_domains_ru": [], "sector_domains": [],
        "weak_families": [], "interregional_partners": [],
    }
    jobs = (1, "productive_jobs", "Creating highly productive jobs", "Создание высокопроизводительных рабочих мест",
            56.9)
    context["instruments"] = [
        _instrument("weakest_family", "social", 0.4, *jobs, scope="abroad"),
        _instrument("weakest_dynamic_code", "value_competence_code", 0.2, *jobs, scope="abroad"),
    ]
    district_copy = [dict(c, scope=scope) for c in context["correlations"] if c["scope"] == "region"
                     for scope in ("district_aggregate", "district_pooled")]
    context["correlations"] = [c for c in context["correlations"] if c["scope"] == "region"] + district_copy
    return context


# ---------------------------------------------------------------- a tiny published warehouse

_TABLES = {
    "regions": "region_code VARCHAR, name_ru VARCHAR, name_en VARCHAR, country VARCHAR, level VARCHAR, "
    "parent_code VARCHAR, universe VARCHAR, register_universe VARCHAR, measured BOOLEAN",
    "defining_codes": "region_code VARCHAR, year INT, production_code DOUBLE, institutional_code DOUBLE, "
    "social_code DOUBLE, production_null_reason VARCHAR, institutional_null_reason VARCHAR, "
    "social_null_reason VARCHAR, production_null_reason_ru VARCHAR, institutional_null_reason_ru VARCHAR, "
    "social_null_reason_ru VARCHAR, production_coverage DOUBLE, institutional_coverage DOUBLE, "
    "social_coverage DOUBLE",
    "dynamic_codes": "region_code VARCHAR, year INT, innovation_code DOUBLE, information_code DOUBLE, "
    "value_competence_code DOUBLE, id_code DOUBLE",
    "basic_code": "region_code VARCHAR, year INT, nid DOUBLE",
    "indicators": "indicator_code VARCHAR, name_ru VARCHAR, name_en VARCHAR, unit VARCHAR, family VARCHAR, "
    "weight DOUBLE",
    "code_contributions": "region_code VARCHAR, year INT, family VARCHAR, indicator_code VARCHAR, "
    "contribution_change DOUBLE",
    "observations": "source VARCHAR, dataset VARCHAR, region_code VARCHAR, indicator_key VARCHAR, "
    "indicator_code VARCHAR, period INT, value DOUBLE, flag VARCHAR, release VARCHAR, "
    "release_date DATE, retrieved_at TIMESTAMP",
    "build_info": "build_id VARCHAR, data_label VARCHAR, built_at TIMESTAMPTZ, sources VARCHAR, releases VARCHAR",
    "strategy": "region_code VARCHAR, year INT, is_latest_year BOOLEAN, decision VARCHAR, reasons_en VARCHAR, "
    "reasons_ru VARCHAR, market_score DOUBLE, market_threshold DECIMAL(4,2), market_met BOOLEAN, "
    "candidate_domains VARCHAR, candidate_domains_en VARCHAR, candidate_domains_ru VARCHAR, "
    "sector_domains VARCHAR, interregional_partners VARCHAR, interregional_partners_en VARCHAR, "
    "interregional_partners_ru VARCHAR, weak_families VARCHAR, build_id VARCHAR, data_label VARCHAR",
    "rank_intervals": "region_code VARCHAR, universe VARCHAR, year INT, measure VARCHAR, point_value DOUBLE, "
    "point_rank INT, n_regions INT, draws INT, rank_p5 INT, rank_median INT, rank_p95 INT, "
    "rank_low INT, rank_high INT, rank_min INT, rank_max INT",
    "peers": "region_code VARCHAR, peer_type VARCHAR, peer_rank INT, peer_code VARCHAR, peer_country VARCHAR, "
    "reference_year INT, window_start INT, distance DOUBLE, features_compared INT, "
    "shared_strengths_count INT, shared_strengths_ru VARCHAR, shared_strengths_en VARCHAR",
    "instruments": "region_code VARCHAR, year INT, target_type VARCHAR, weak_code VARCHAR, addressed_code VARCHAR, "
    "match_type VARCHAR, instrument_rank INT, instrument_code VARCHAR, build_id VARCHAR, "
    "data_label VARCHAR",
    "code_correlations": "pair_code VARCHAR, scope VARCHAR, group_code VARCHAR, method VARCHAR, year INT, "
    "label_ru VARCHAR, label_en VARCHAR, x_indicator VARCHAR, y_indicator VARCHAR, "
    "education_measure VARCHAR, code_illustrated VARCHAR, window_start INT, window_end INT, "
    "n INT, n_territories INT, first_year INT, last_year INT, r DOUBLE, slope DOUBLE, "
    "r_squared DOUBLE, p_value DOUBLE, significant BOOLEAN, null_reason VARCHAR",
    "indicator_profile": "region_code VARCHAR, country VARCHAR, universe VARCHAR, year INT, indicator_code VARCHAR, "
    "family VARCHAR, direction INT, weight DOUBLE, comparability VARCHAR, unit VARCHAR, value DOUBLE, "
    "value_1y_before DOUBLE, value_5y_before DOUBLE, country_value DOUBLE, percent_of_country DOUBLE, "
    "percent_of_country_1y_before DOUBLE, percent_of_country_5y_before DOUBLE, rank INT, n_regions INT",
    "revisions": "source VARCHAR, dataset VARCHAR, region_code VARCHAR, indicator_key VARCHAR, "
    "indicator_code VARCHAR, period INT, old_value DOUBLE, new_value DOUBLE, old_flag VARCHAR, "
    "new_flag VARCHAR, old_release VARCHAR, new_release VARCHAR, new_release_date DATE, "
    "relative_change DOUBLE",
}


def make_warehouse(path: Path) -> Path:
    """A published warehouse with three Ural subjects (A, B, C), their district and a subject without codes.

    Latest year 2023. P in 2023: A 0.2, B 0.4, C 0.9 → district (and country) median 0.4.
    A (RU-KGN), B (RU-SVE), C (RU-TYU); RU-CHE has no codes.
    A has no codes before 2022 and one confidential cell; B has two revisions, one from an old release.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    for table, columns in _TABLES.items():
        con.execute(f"CREATE TABLE marts.{table} ({columns})")
    # per-universe weights (dbt seed): none for RU here; test_context adds one to see its effect
    con.execute("CREATE SCHEMA seeds")
    con.execute("CREATE TABLE seeds.universe_indicator_weights (universe VARCHAR, indicator_code VARCHAR, "
                "weight DOUBLE, reason_en VARCHAR, reason_ru VARCHAR)")
    ins = con.executemany
    ins(
        "INSERT INTO marts.regions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("RU", "Российская Федерация", "Russian Federation", "RU", "country", None, None, None, True),
            ("RU-FD-URL", "Уральский ФО", "Ural FD", "RU", "district", "RU", None, None, False),
            ("RU-KGN", "Регион А", "Region A", "RU", "subject", "RU-FD-URL", "RU", "RU", True),
            ("RU-SVE", "Регион Б", "Region B", "RU", "subject", "RU-FD-URL", "RU", "RU", True),
            ("RU-TYU", "Регион В", "Region C", "RU", "subject", "RU-FD-URL", "RU", "RU", True),
            ("RU-CHE", "Без кодов", "No codes", "RU", "subject", "RU-FD-URL", "RU", "RU", True),
        ],
    )
    codes = [
        ("RU-KGN", 2022, 0.1, 0.5, 0.5),
        ("RU-KGN", 2023, 0.2, 0.5, None),
        ("RU-SVE", 2022, 0.3, 0.6, 0.4),
        ("RU-SVE", 2023, 0.4, 0.6, 0.4),
        ("RU-TYU", 2022, 0.8, 0.1, 0.2),
        ("RU-TYU", 2023, 0.9, 0.2, 0.3),
    ]
    ins(
        "INSERT INTO marts.defining_codes VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, NULL, NULL, ?, 1.0, 1.0, ?)",
        [(*c, "only 0.50 of the family weight present (needs 2/3)" if c[4] is None else None,
          "только 0,50 веса семейства (нужно 2/3)" if c[4] is None else None, 0.5 if c[4] is None else 1.0)
         for c in codes],
    )
    ins(
        "INSERT INTO marts.dynamic_codes VALUES (?, 2023, ?, 0.0, 0.0, ?)",
        [("RU-KGN", 0.1, 0.1), ("RU-SVE", 0.1, 0.1), ("RU-TYU", 0.1, 0.1)],
    )
    ins("INSERT INTO marts.basic_code VALUES (?, 2023, ?)", [("RU-KGN", 0.1), ("RU-SVE", 0.3), ("RU-TYU", 0.2)])
    # B's GRP per capita: 2022 and 2023 (the latest year is kept); researchers only in 2022
    ins(
        "INSERT INTO marts.indicator_profile VALUES (?, 'RU', 'RU', ?, ?, ?, 1, 1.0, ?, ?, ?, ?, NULL, ?, ?, NULL, "
        "NULL, ?, 3)",
        [
            ("RU-SVE", 2022, "grp_per_capita", "production", "relative_to_country", "rub", 2.0, None, 1.6, 125.0, 2),
            ("RU-SVE", 2023, "grp_per_capita", "production", "relative_to_country", "rub", 2.2, 2.0, 2.0, 110.0, 1),
            ("RU-SVE", 2022, "researchers", "social", "per_10000_employed", "per_10000_employed", 6.0, None, 5.0,
             120.0, 2),
        ],
    )
    ins(
        "INSERT INTO marts.indicators VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("grp_per_capita", "ВРП на душу", "GRP per capita", "rub", "production", 1.0),
            ("researchers", "Исследователи", "Researchers", "persons", "social", 1.0),
            ("population", "Население", "Population", "thousand", "context", 0.0),
        ],
    )
    ins(
        "INSERT INTO marts.code_contributions VALUES (?, ?, 'production', ?, ?)",
        [
            ("RU-SVE", 2022, "grp_per_capita", 0.5),
            ("RU-SVE", 2023, "grp_per_capita", -0.02),
            ("RU-SVE", 2023, "researchers", 0.01),
        ],
    )
    obs = (
        "INSERT INTO marts.observations VALUES ('demo', 'panel', ?, ?, ?, ?, ?, ?, ?, ?, TIMESTAMP '2024-09-01 12:00')"
    )
    ins(
        obs,
        [
            ("RU-KGN", "grp", "grp_per_capita", 2023, 1.0, None, "v2", "2024-09-01"),
            ("RU-KGN", "researchers", "researchers", 2022, 5.0, None, "v2", "2024-09-01"),
            ("RU-KGN", "researchers", "researchers", 2023, None, "c", "v2", "2024-09-01"),
            ("RU-SVE", "grp", "grp_per_capita", 2023, 2.0, None, "v1", "2024-03-01"),
            ("RU-SVE", "researchers", "researchers", 2023, 6.0, None, "v2", "2024-09-01"),
            # a cell of a table no catalog indicator maps (a yearbook's other tables): printed nowhere
            ("RU-SVE", "Число музеев", None, 2023, 7.0, None, "v3", "2025-01-01"),
        ],
    )
    # A source loaded by an earlier refresh but not active in this build (not in build_info.sources): it gave no
    # figure, so its value, its confidential cell and its release appear nowhere in the briefings.
    ins(
        "INSERT INTO marts.observations VALUES ('csv', 'own', ?, ?, ?, ?, ?, ?, 'c1', '2025-05-01', "
        "TIMESTAMP '2025-05-01 12:00')",
        [
            ("RU-KGN", "researchers", "researchers", 2023, 8.0, None),
            ("RU-SVE", "grp", "grp_per_capita", 2021, None, "c"),
        ],
    )
    con.execute(
        "INSERT INTO marts.build_info VALUES ('b1', 'synthetic demo data', TIMESTAMPTZ '2026-11-24 00:00:00+00', "
        "'demo', 'v1, v2')"
    )
    ins(
        "INSERT INTO marts.strategy VALUES "
        "(?, ?, ?, ?, 'why', 'почему', ?, 0.90, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 'b1', 'x')",
        [
            ("RU-SVE", 2022, False, "insufficient_data", None, None, None, None, None, None, None, None, None),
            (
                "RU-SVE",
                2023,
                True,
                "smart_specialisation",
                0.5,
                False,
                "grp_per_capita; researchers",
                "GRP per capita; Researchers",
                "ВРП на душу; Исследователи",
                "RU-TYU",
                "Region C (social)",
                "Регион В (социальный)",
                "social, institutional",
            ),
        ],
    )
    ins(
        "INSERT INTO marts.rank_intervals VALUES (?, 'RU', ?, 'composite', 1.0, ?, 3, 100, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("RU-SVE", 2021, 3, 3, 3, 3, 3, 3, 3, 3),
            ("RU-SVE", 2022, 1, 1, 1, 2, 1, 2, 1, 2),
            ("RU-SVE", 2023, 2, 1, 2, 3, 1, 3, 1, 3),
        ],
    )
    ins(
        "INSERT INTO marts.peers VALUES ('RU-SVE', ?, ?, ?, ?, 2023, 2021, ?, 5, 0, NULL, NULL)",
        [
            ("foreign_analogue", 1, "RU-CHE", "RU", 2.0),
            ("domestic", 2, "RU-KGN", "RU", 1.5),
            ("domestic", 1, "RU-TYU", "RU", 0.5),
        ],
    )
    ins(
        "INSERT INTO marts.instruments VALUES ('RU-SVE', 2023, 'weakest_family', 'production', 'production', ?, ?, ?, "
        "'b1', 'x')",
        [("no_survey_section", None, None), ("fallback_next_weakest", 1, "lending")],
    )
    corr = (
        "INSERT INTO marts.code_correlations VALUES ('tech', ?, ?, ?, NULL, 'Т', 'T', 'x', 'y', NULL, NULL, "
        "2005, 2016, 10, 1, 2005, 2016, ?, 1.0, 0.25, 0.1, false, NULL)"
    )
    ins(
        corr,
        [
            ("region", "RU-SVE", "levels", 0.5),
            ("region", "RU-TYU", "levels", 0.6),
            ("district_pooled", "RU-FD-URL", "levels", 0.7),
            ("district_pooled", "RU-FD-URL", "cross_section", 0.8),
            ("country_pooled", "RU", "levels", 0.9),
        ],
    )
    ins(
        "INSERT INTO marts.revisions VALUES ('demo', 'panel', 'RU-SVE', 'grp', 'grp_per_capita', ?, ?, ?, NULL, NULL, "
        "?, ?, ?, ?)",
        [
            (2021, 1.0, 1.1, "v0", "v1", "2024-03-01", 0.1),
            (2022, 2.0, 2.5, "v1", "v2", "2024-09-01", 0.25),
            (2023, 4.0, 4.2, "v1", "v2", "2024-09-01", 0.05),
        ],
    )
    con.close()
    return path
