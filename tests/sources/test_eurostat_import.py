"""Eurostat file import: every published format, flags, regions, indicators, and the real files.

Fixtures are written here in code, in the exact formats Eurostat publishes; the real files in
``../shared/data/eurostat`` are used when present (skipped with a reason otherwise).
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from fixtures.frames import one

from dagster_project.sources.base import OBSERVATION_COLUMNS, REJECT_COLUMNS, SourceError
from dagster_project.sources.eurostat import dataset_from_filename, import_eurostat_files
from dagster_project.sources.eurostat.regions import RegionResolver
from dagster_project.sources.eurostat.rules import parse_filters

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt" / "seeds"
SHARED = REPO.parent / "shared" / "data" / "eurostat"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"real Eurostat samples not found at {SHARED} (../shared/data is absent)"
)

# Current dissemination-API TSV: ascending years with a trailing space, "value flags" or ":".
API_TSV = (
    "freq,unit,geo\\TIME_PERIOD\t2019 \t2020 \t2021 \t2022 \n"
    "A,EUR_HAB,DEC0\t36300 e\t35100 e\t37000 e\t39200 e\n"
    "A,EUR_HAB,FRE1\t29000 \t28100 \t29900 p\t31600 bp\n"
    "A,EUR_HAB,XX99\t: \t: c\t: z\t12.5 \n"
    "A,MIO_EUR,DEC0\t35860.92 e\t34618.32 e\t: \tabc \n"
)
# Retired bulk-download TSV: no freq, descending years, NUTS 2013 codes.
LEGACY_TSV = (
    "unit,geo\\time\t2014 \t2013 \t2012 \n"
    "EUR_HAB,FR30\t25700 \t25700 \t25500 \n"
    "EUR_HAB,FR41\t24900 \t: e\t24600 \n"
    "EUR_HAB,UKE4\t29100 \t26900 \t27400 \n"
    "EUR_HAB,FR3\t25700 \t25700 \t25500 \n"
)
SDMX_CSV = (
    "DATAFLOW,LAST UPDATE,freq,sectperf,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
    "ESTAT:RD_E_GERDREG(1.0),12/03/25 23:00:00,A,TOTAL,PC_GDP,DEC0,2019,1.61,,\n"
    "ESTAT:RD_E_GERDREG(1.0),12/03/25 23:00:00,A,TOTAL,PC_GDP,DEC0,2021,1.72,p,\n"
    "ESTAT:RD_E_GERDREG(1.0),12/03/25 23:00:00,A,TOTAL,PC_GDP,CZ08,2021,,,C\n"
    "ESTAT:RD_E_GERDREG(1.0),12/03/25 23:00:00,A,BES,PC_GDP,DEC0,2021,0.73,e,\n"
)


def _json_stat(
    values: object, status: object, times: list[str], updated: str = "2025-02-14T23:00:00+0100"
) -> str:
    """A JSON-stat 2.0 dataset as the Statistics API writes it (demo_r_mlifexp-like)."""
    return json.dumps(
        {
            "version": "2.0",
            "class": "dataset",
            "label": "Life expectancy",
            "source": "ESTAT",
            "updated": updated,
            "value": values,
            "status": status,
            "id": ["freq", "unit", "sex", "age", "geo", "time"],
            "size": [1, 1, 1, 1, 2, len(times)],
            "dimension": {
                "freq": {"category": {"index": {"A": 0}}},
                "unit": {"category": {"index": {"YR": 0}}},
                "sex": {"category": {"index": {"T": 0}}},
                "age": {"category": {"index": {"Y_LT1": 0}}},
                "geo": {"category": {"index": {"PL22": 0, "ES21": 1}}},
                "time": {"category": {"index": {t: i for i, t in enumerate(times)}}},
            },
            "extension": {
                "id": "DEMO_R_MLIFEXP",
                "status": {"label": {"p": "provisional", "|C": "|confidential"}},
            },
        }
    )


@pytest.fixture(scope="module")
def seeds() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    read = lambda name: pd.read_csv(SEEDS / name, dtype=str, keep_default_na=False)  # noqa: E731
    regions = read("regions.csv")
    return read("indicator_sources_eurostat.csv"), read("nuts_correspondence.csv"), regions


def _write(tmp_path: Path, name: str, text: str, compress: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


_cell = one  # the single row matching the given column values (tests/fixtures/frames.py)


def test_api_tsv_values_flags_and_mapping(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    path = _write(tmp_path, "estat_nama_10r_2gdp.tsv", API_TSV)
    batch = import_eurostat_files([path], mapping, correspondence, regions)
    obs, rej = batch.observations, batch.rejects
    assert list(obs.columns) == list(OBSERVATION_COLUMNS)
    assert list(rej.columns) == list(REJECT_COLUMNS)
    assert len(obs) == 15 and len(rej) == 1  # 16 cells, "abc" rejected

    dec = _cell(obs, region_key="DEC0", period=2022, table_code="unit=EUR_HAB")
    assert dec.value == 39200 and dec.flag == "e" and dec.unit == "EUR_HAB"
    assert dec.indicator_code == "grp_per_capita" and dec.indicator_key == "nama_10r_2gdp/unit=EUR_HAB"
    assert dec.source == "eurostat" and dec.dataset == "nama_10r_2gdp" and dec.region_code == "DEC0"
    assert dec.cell_ref == "line 2 col 5" and dec.origin == str(path)
    assert _cell(obs, region_key="FRE1", period=2021).flag == "p"
    assert _cell(obs, region_key="FRE1", period=2022).flag == "bp"  # combined flags keep their letters
    assert pd.isna(_cell(obs, region_key="FRE1", period=2019).flag)
    # Missing values: null with the reason as the flag.
    assert [_cell(obs, region_key="XX99", period=y).flag for y in (2019, 2020, 2021)] == ["na", "c", "none"]
    assert all(math.isnan(_cell(obs, region_key="XX99", period=y).value) for y in (2019, 2020, 2021))
    # A geo outside the register is kept, unresolved.
    assert _cell(obs, region_key="XX99", period=2022).value == 12.5
    assert pd.isna(_cell(obs, region_key="XX99", period=2022).region_code)
    assert _cell(obs, table_code="unit=MIO_EUR", period=2019).indicator_code == "grp_total"

    assert rej.iloc[0].raw_value == "abc" and "not a number" in rej.iloc[0].reason
    assert rej.iloc[0].cell_ref == "line 5 col 5 (DEC0, 2022)" and rej.iloc[0].dataset == "nama_10r_2gdp"


def test_legacy_tsv_descending_years_and_nuts2013_codes(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    path = _write(tmp_path, "nama_10r_2gdp.legacy2017.tsv", LEGACY_TSV)
    obs = import_eurostat_files([path], mapping, correspondence, regions).observations
    assert len(obs) == 12
    nord = _cell(obs, region_key="FR30", period=2012)
    assert nord.region_code == "FRE1" and nord.value == 25500 and nord.table_code == "unit=EUR_HAB"
    assert nord.indicator_code == "grp_per_capita" and nord.cell_ref == "line 2 col 4"
    lorraine = _cell(obs, region_key="FR41", period=2013)
    assert lorraine.region_code == "FRF3" and math.isnan(lorraine.value) and lorraine.flag == "na"
    assert _cell(obs, region_key="UKE4", period=2014).region_code == "UKE4"
    # The NUTS-1 FR3 covers the same territory at another level: deliberately unresolved.
    assert pd.isna(_cell(obs, region_key="FR3", period=2014).region_code)


@pytest.mark.parametrize("compress", [False, True])
def test_sdmx_csv_plain_and_gzip(tmp_path, seeds, compress):
    mapping, correspondence, regions = seeds
    path = _write(tmp_path, "download.csv" + (".gz" if compress else ""), SDMX_CSV, compress)
    batch = import_eurostat_files([path], mapping, correspondence, regions)
    obs = batch.observations
    assert len(obs) == 4 and batch.rejects.empty
    assert set(obs.dataset) == {"rd_e_gerdreg"}  # from DATAFLOW, not the file name
    dec = _cell(obs, region_key="DEC0", period=2021, table_code="sectperf=TOTAL;unit=PC_GDP")
    assert dec.value == 1.72 and dec.flag == "p" and dec.indicator_code == "rd_expenditure_share_grp"
    assert dec.release == "2025-03-12" and str(dec.release_date) == "2025-03-12" and dec.cell_ref == "line 3"
    conf = _cell(obs, region_key="CZ08", period=2021)
    assert math.isnan(conf.value) and conf.flag == "c" and conf.region_code == "CZ08"
    business = _cell(obs, table_code="sectperf=BES;unit=PC_GDP")
    assert business.flag == "e" and pd.isna(business.indicator_code)  # only sectperf=TOTAL is mapped


def test_json_stat_sparse_and_dense(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    sparse = _write(
        tmp_path,
        "a.json",
        _json_stat({"0": 78.1, "1": 78.4, "3": 83.9}, {"1": "p", "2": "|C"}, ["2021", "2022"]),
    )
    dense = _write(tmp_path, "b.json", _json_stat([78.1, None, 83.5, 83.9], None, ["2021", "2022"]))
    batch = import_eurostat_files([sparse, dense], mapping, correspondence, regions)
    obs = batch.observations
    first = obs[obs.origin == str(sparse)]
    assert len(first) == 4
    assert _cell(first, region_key="PL22", period=2022).flag == "p"
    es = _cell(first, region_key="ES21", period=2021)
    assert math.isnan(es.value) and es.flag == "c"
    assert _cell(first, region_key="ES21", period=2022).value == 83.9
    pl = _cell(first, region_key="PL22", period=2021)
    assert pl.indicator_code == "life_expectancy" and pl.unit == "YR" and pl.release == "2025-02-14"
    assert pl.table_code == "age=Y_LT1;sex=T;unit=YR" and pl.dataset == "demo_r_mlifexp" and pl.cell_ref == "value[0]"
    assert len(obs[obs.origin == str(dense)]) == 3  # a null in a dense array is no cell


def test_sub_annual_periods_become_rejects(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    path = _write(tmp_path, "m.json", _json_stat({"0": 1.0}, {"1": "|C"}, ["2023-01", "2023-02"]))
    batch = import_eurostat_files([path], mapping, correspondence, regions)
    assert batch.observations.empty and len(batch.rejects) == 2
    assert set(batch.rejects.raw_value) == {"1.0", ": |C"}
    assert all("not a year" in r for r in batch.rejects.reason)


def test_unmapped_dataset_is_imported_without_indicator(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    path = _write(tmp_path, "estat_tgs00010_filtered_en.tsv", API_TSV.replace("EUR_HAB", "PC"))
    batch = import_eurostat_files([path], mapping, correspondence, regions)
    assert len(batch.observations) == 15 and batch.observations.indicator_code.isna().all()
    assert set(batch.observations.dataset) == {"tgs00010"}
    assert any("not in the catalog mapping" in n for n in batch.notes)


def test_truncated_and_malformed_files_raise(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    cut_tsv = _write(tmp_path, "nama_10r_2gdp.tsv", API_TSV[: API_TSV.index("12.5")])
    with pytest.raises(SourceError, match="truncated") as err:
        import_eurostat_files([cut_tsv], mapping, correspondence, regions)
    assert str(cut_tsv) in str(err.value)
    cut_gz = tmp_path / "x.csv.gz"
    cut_gz.write_bytes(gzip.compress(SDMX_CSV.encode())[:-12])
    with pytest.raises(SourceError, match="gzip"):
        import_eurostat_files([cut_gz], mapping, correspondence, regions)
    cut_csv = _write(tmp_path, "y.csv", SDMX_CSV[:-25])
    with pytest.raises(SourceError, match=r"line 5 has 5 fields, the header has 10 \(the content is truncated\)"):
        import_eurostat_files([cut_csv], mapping, correspondence, regions)
    html = _write(tmp_path, "z.tsv", "<html><body>Service unavailable</body></html>")
    with pytest.raises(SourceError, match="XML/HTML"):
        import_eurostat_files([html], mapping, correspondence, regions)


def test_directory_and_sidecar(tmp_path, seeds):
    mapping, correspondence, regions = seeds
    folder = tmp_path / "nama_10r_2gdp"
    folder.mkdir()
    data = _write(folder, "nama_10r_2gdp_2024-04-25_p01.tsv.gz", API_TSV, compress=True)
    meta = {
        "dataset": "nama_10r_2gdp",
        "url": "https://example.test/data/nama_10r_2gdp",
        "release": "2024-04-25",
        "retrieved_at": "2024-05-01T10:00:00",
    }
    (folder / (data.name + ".meta.json")).write_text(json.dumps(meta))
    obs = import_eurostat_files([tmp_path], mapping, correspondence, regions).observations
    assert len(obs) == 15
    assert set(obs.origin) == {meta["url"]} and set(obs.release) == {"2024-04-25"}
    assert set(obs.retrieved_at) == {pd.Timestamp("2024-05-01T10:00:00")}


def test_region_resolution(seeds):
    _, correspondence, regions = seeds
    resolver = RegionResolver(correspondence, regions)
    assert resolver.resolve("FR30") == "FRE1" and resolver.resolve("FR41") == "FRF3"
    assert resolver.resolve("UKD3") == "UKD3" and resolver.resolve("DEA5") == "DEA5"
    assert resolver.resolve("XX13") is None
    # A reused code resolves by the release date; the register's own codes resolve to themselves.
    reused = pd.DataFrame(
        {
            "nuts_code": ["XY1", "XY1"],
            "nuts_version": ["2013", "2016"],
            "region_code": ["OLD", "NEW"],
            "valid_from": ["2015-01-01", "2018-01-01"],
            "valid_to": ["2017-12-31", ""],
            "note": ["", ""],
        }
    )
    register = pd.DataFrame({"region_code": ["ZZ1"], "aliases": ["ZZ-ONE|OLDCODE"]})
    other = RegionResolver(reused, register)
    assert other.resolve("XY1", pd.Timestamp("2016-05-01").date()) == "OLD"
    assert other.resolve("XY1", pd.Timestamp("2024-05-01").date()) == "NEW"
    assert other.resolve("XY1") is None
    assert other.resolve("ZZ1") == "ZZ1" and other.resolve("OLDCODE") == "ZZ1"


def test_filename_and_filters():
    assert dataset_from_filename(Path("estat_nama_10r_3gdp.tsv.gz")) == "nama_10r_3gdp"
    assert dataset_from_filename(Path("nama_10r_2gdp.legacy2017.tsv")) == "nama_10r_2gdp"
    assert dataset_from_filename(Path("estat_lfst_r_lfe2emprt_filtered_en.csv")) == "lfst_r_lfe2emprt"
    assert parse_filters("sex=T; age=Y15-64+Y20-64 ;unit=PC") == {
        "sex": {"T"},
        "age": {"Y15-64", "Y20-64"},
        "unit": {"PC"},
    }


def test_seeds_cover_the_catalog_and_the_register(seeds):
    mapping, correspondence, regions = seeds
    catalog = pd.read_csv(SEEDS / "indicators.csv", dtype=str)
    assert sorted(mapping.indicator_code) == sorted(catalog.indicator_code)  # one row per indicator
    for row in mapping.itertuples():
        if row.dataset:
            assert parse_filters(row.filters) and float(row.scale) > 0, row.indicator_code
        else:
            # either no regional series exists, or dbt derives it from mapped components
            assert "no regional series" in row.note or "derived in dbt" in row.note, row.indicator_code
    nuts = regions[regions.country != "RU"]
    resolver = RegionResolver(correspondence, regions)
    assert all(resolver.resolve(code) == code for code in nuts.region_code), "a register code does not resolve"


@needs_shared
def test_real_api_tsv(seeds):
    mapping, correspondence, regions = seeds
    batch = import_eurostat_files([SHARED / "estat_nama_10r_3gdp.tsv"], mapping, correspondence, regions)
    obs = batch.observations
    assert len(obs) == 12453 * 23 and batch.rejects.empty
    assert set(obs.dataset) == {"nama_10r_3gdp"} and obs.indicator_code.isna().all()  # not mapped
    dec = _cell(obs, region_key="DEC0", table_code="unit=EUR_HAB", period=2022)
    assert (dec.region_code, dec.value, dec.flag, dec.cell_ref) == ("DEC0", 39200.0, "e", "line 600 col 24")
    assert _cell(obs, region_key="DEC0", table_code="unit=EUR_HAB", period=2000).value == 23900
    fre = _cell(obs, region_key="FRE1", table_code="unit=EUR_HAB", period=2021)
    assert (fre.region_code, fre.value, fre.flag) == ("FRE1", 29900.0, "p")
    assert _cell(obs, region_key="FRE1", table_code="unit=MIO_EUR", period=2022).value == 129427.04
    assert _cell(obs, region_key="EL", table_code="unit=EUR_HAB", period=2010).flag == "b"
    assert not (obs.region_key.str.startswith("UK")).any()  # NUTS 2021: no UK rows
    assert obs.flag.value_counts().to_dict() == {"na": 17925, "e": 13545, "p": 3747, "b": 3390, "d": 12}


@needs_shared
def test_real_legacy_tsv(seeds):
    mapping, correspondence, regions = seeds
    obs = import_eurostat_files(
        [SHARED / "nama_10r_2gdp.legacy2017.tsv"], mapping, correspondence, regions
    ).observations
    gdp = obs[obs.table_code == "unit=EUR_HAB"]
    assert set(gdp.indicator_code) == {"grp_per_capita"}
    nord = _cell(gdp, region_key="FR30", period=2014)
    assert (nord.region_code, nord.value, nord.cell_ref) == ("FRE1", 25700.0, "line 184 col 2")
    assert _cell(gdp, region_key="FR30", period=2000).value == 19300
    uk = _cell(gdp, region_key="UKE4", period=2014)
    assert (uk.region_code, uk.value) == ("UKE4", 29100.0)
    assert _cell(gdp, region_key="UKE4", period=2000).value == 24700
    assert _cell(gdp, region_key="DEC0", period=2000).value == 24000
    assert _cell(obs, region_key="UKE4", table_code="unit=MIO_EUR", period=2014).value == 65882
    finland = _cell(gdp, region_key="FIZ", period=2013)  # ": e" -> missing, not available
    assert math.isnan(finland.value) and finland.flag == "na"
    assert set(obs[obs.region_code.isin(["DEC0", "FRE1", "UKE4"])].region_key) == {"DEC0", "FR30", "UKE4"}


@needs_shared
def test_real_sdmx_csv_and_json_stat_edge_cases(seeds):
    mapping, correspondence, regions = seeds
    csv_batch = import_eurostat_files([SHARED / "pat_ep_rtot.first50lines.csv"], mapping, correspondence, regions)
    obs = csv_batch.observations
    assert len(obs) == 49 and set(obs.dataset) == {"pat_ep_rtot"}
    at = _cell(obs, region_key="AT", period=2012)
    assert (at.value, at.flag, at.unit, at.release) == (5.062, "p", "GDP_BEUR", "2016-04-29")
    confidential = import_eurostat_files([SHARED / "sts-inpr-m-ie-confidential.json"], mapping, correspondence, regions)
    assert confidential.observations.empty and len(confidential.rejects) == 6  # monthly, all |C
    assert set(confidential.rejects.raw_value) == {": |C"} and set(confidential.rejects.release) == {
        "2026-08-01"
    }
    empty = import_eurostat_files([SHARED / "nama-10-gdp-de-since-2030.json"], mapping, correspondence, regions)
    assert empty.observations.empty and empty.rejects.empty
    assert any("empty" in n for n in empty.notes)
