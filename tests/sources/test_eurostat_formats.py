"""Every format analysts download from Eurostat, told apart by content, and every way a file can be wrong.

Payloads are written here in each format (API TSV, bulk TSV, SDMX-CSV 1.0 and 2.0 with and without labels,
JSON-stat 2.0), plain, gzip-compressed and UTF-16; the real files of ``shared/data/eurostat`` are read where
present. A file that cannot be read must raise a content error (never retried) naming the file and, where
there is one, the line; a cell that cannot be used is a reject with its reason; nothing raises a plain Python
exception, whatever the bytes.
"""

from __future__ import annotations

import gzip
import json
import random
import tracemalloc
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.seeds import read_seed
from dagster_project.sources.base import SourceError, SourceRun
from dagster_project.sources.eurostat import import_eurostat_files, import_source
from dagster_project.sources.eurostat.jsonstat import MAX_CUBE_CELLS
from dagster_project.sources.eurostat.parsed import ContentError
from dagster_project.warehouse import load_batch

# The data browser's download: SDMX-CSV 2.0 with a label column after every code column; labels with dots
# and commas, in any language.
BROWSER_CSV = (
    "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,unit,Unit of measure,geo,"
    "Geopolitical entity (reporting),TIME_PERIOD,Time,OBS_VALUE,Observation value,OBS_FLAG,"
    "Observation status (Flag) V2 structure,CONF_STATUS,Confidentiality status (flag)\n"
    'dataflow,ESTAT:NAMA_10R_2GDP(1.0),"GDP, by NUTS 2 region",A,Annual,EUR_HAB,Euro per inhabitant,BE32,'
    "Prov. Hainaut,2021,,27000,,,,,\n"
    'dataflow,ESTAT:NAMA_10R_2GDP(1.0),"GDP, by NUTS 2 region",A,Annual,EUR_HAB,Euro per inhabitant,EL51,'
    '"Anatoliki Makedonia, Thraki",2021,,14600,,p,provisional,,\n'
    'dataflow,ESTAT:NAMA_10R_2GDP(1.0),"GDP, by NUTS 2 region",A,Annual,MIO_EUR,"Million euro",DEC0,'
    "Saarland,2021,,37900.5,,,,C,Confidential\n"
)
SDMX_V2 = (  # the API's SDMX-CSV 2.0 without labels, with an ACTION column
    "STRUCTURE,STRUCTURE_ID,ACTION,freq,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
    "dataflow,ESTAT:NAMA_10R_2GDP(1.0),I,A,EUR_HAB,BE32,2021,27000,,\n"
    "dataflow,ESTAT:NAMA_10R_2GDP(1.0),I,A,EUR_HAB,DEC0,2021,37900,e,\n"
)
SDMX_V1_LABELS = (  # SDMX-CSV 1.0 with labels=both: "code:label" in the header and the cells
    "DATAFLOW,LAST UPDATE,freq:Time frequency,unit:Unit of measure,geo:Geopolitical entity (reporting),"
    "TIME_PERIOD:Time,OBS_VALUE:Observation value,OBS_FLAG:Observation status\n"
    "ESTAT:NAMA_10R_2GDP(1.0),25/04/24 23:00:00,A:Annual,EUR_HAB:Euro per inhabitant,"
    '"BE32:Prov. Hainaut",2021,27000,p:provisional\n'
)
API_TSV = ("freq,unit,geo\\TIME_PERIOD\t2020 \t2021 \n"
           "A,EUR_HAB,DEC0\t35700 p\t37900 p\nA,EUR_HAB,BE32\t24900 b\t27000 \n")
BULK_TSV = "unit,geo\\time\t2014 \t2013 \nEUR_HAB,FR30\t25700 \t25700 \nEUR_HAB,DEC0\t34400 \t33700 \n"


def json_stat(values: object = None, *, size: list | None = None, ids: list | None = None, geo_index: object = None,
              status: object = None, updated: str = "2025-02-14T23:00:00+0100") -> str:
    """A JSON-stat 2.0 dataset of demo_r_mlifexp (2 geos x 2 years) as the Statistics API writes it."""
    return json.dumps({
        "version": "2.0", "class": "dataset", "updated": updated,
        "value": {"0": 78.1, "1": 78.4, "2": 83.5, "3": 83.9} if values is None else values,
        "status": status or {},
        "id": ids or ["freq", "unit", "sex", "age", "geo", "time"],
        "size": size or [1, 1, 1, 1, 2, 2],
        "dimension": {
            "freq": {"category": {"index": {"A": 0}}}, "unit": {"category": {"index": {"YR": 0}}},
            "sex": {"category": {"index": {"T": 0}}}, "age": {"category": {"index": {"Y_LT1": 0}}},
            "geo": {"category": {"index": geo_index or {"PL22": 0, "ES21": 1}}},
            "time": {"category": {"index": {"2021": 0, "2022": 1}}},
        },
        "extension": {"id": "DEMO_R_MLIFEXP"},
    }, allow_nan=True)


@pytest.fixture(scope="module")
def seeds() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return read_seed("indicator_sources_eurostat"), read_seed("nuts_correspondence"), read_seed("regions")


def imported(tmp_path: Path, seeds, name: str, content: str | bytes, compress: bool = False):
    data = content.encode("utf-8") if isinstance(content, str) else content
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return import_eurostat_files([path], *seeds)


def rejected(tmp_path: Path, seeds, name: str, content: str | bytes) -> ContentError:
    with pytest.raises(ContentError) as err:
        imported(tmp_path, seeds, name, content)
    assert str(tmp_path / name) in str(err.value) and "\n" not in str(err.value)
    assert err.value.transient is False  # nothing in a file's content is worth another try
    return err.value


@pytest.mark.parametrize("compress", [False, True])
def test_browser_sdmx_csv_2_with_labels(tmp_path, seeds, compress):
    batch = imported(tmp_path, seeds, "download.csv", BROWSER_CSV, compress)
    obs = batch.observations.set_index("region_key")
    assert set(obs.dataset) == {"nama_10r_2gdp"}  # from STRUCTURE_ID, not the file name
    assert sorted(obs.table_code) == ["unit=EUR_HAB", "unit=EUR_HAB", "unit=MIO_EUR"]  # no label in a key
    assert obs.loc["BE32", ["value", "indicator_code", "region_code"]].tolist() == [27000, "grp_per_capita", "BE32"]
    assert obs.loc["EL51", "flag"] == "p" and obs.loc["EL51", "cell_ref"] == "line 3"
    assert pd.isna(obs.loc["DEC0", "value"]) is False and obs.loc["DEC0", "flag"] == "c"  # CONF_STATUS C
    assert obs.loc["DEC0", "indicator_code"] == "grp_total" and batch.rejects.empty


def test_browser_csv_resaved_with_semicolons_and_in_another_language(tmp_path, seeds):
    german = BROWSER_CSV.replace("Time frequency", "Zeitliche Frequenz").replace("Annual", "Jährlich")
    text = "\n".join(line.replace('"GDP, by NUTS 2 region"', "BIP").replace('"Anatoliki Makedonia, Thraki"', "AMT")
                     .replace(",", ";") for line in german.splitlines()) + "\n"
    obs = imported(tmp_path, seeds, "x.csv", text).observations
    assert len(obs) == 3 and set(obs.table_code) == {"unit=EUR_HAB", "unit=MIO_EUR"}


def test_sdmx_csv_2_without_labels_and_1_0_with_labels(tmp_path, seeds):
    v2 = imported(tmp_path, seeds, "a.csv", SDMX_V2).observations
    assert set(v2.table_code) == {"unit=EUR_HAB"} and v2.set_index("region_key").loc["DEC0", "flag"] == "e"
    v1 = imported(tmp_path, seeds, "b.csv", SDMX_V1_LABELS).observations.iloc[0]
    assert (v1.region_key, v1.table_code, v1.flag, v1.release) == ("BE32", "unit=EUR_HAB", "p", "2024-04-25")


def test_real_browser_csv(shared_data, seeds):
    obs = import_eurostat_files([shared_data / "eurostat/browser_csv/estat_nama_10r_2gdp_en.csv"], *seeds).observations
    assert len(obs) == 9 and set(obs.indicator_code) == {"grp_per_capita"} and set(obs.table_code) == {"unit=EUR_HAB"}
    hainaut = obs.set_index(["region_key", "period"]).loc[("BE32", 2019)]
    assert (hainaut.value, hainaut.flag, hainaut.region_code) == (25800, "p", "BE32")
    assert set(obs.region_code) == {"BE32", "DEC0", "FRE1"}


@pytest.mark.parametrize("name", ["data.tsv", "data.json", "data.csv", "download"])
def test_formats_told_apart_by_content_not_name(tmp_path, seeds, name):
    stem = name.split(".")[0]  # a TSV names no dataset: the file name does
    for content, dataset in ((API_TSV, stem), (BROWSER_CSV, "nama_10r_2gdp"), (json_stat(), "demo_r_mlifexp")):
        batch = imported(tmp_path, seeds, name, content, compress=True)
        assert len(batch.observations) >= 3 and set(batch.observations.dataset) == {dataset}


def test_utf16_and_bom(tmp_path, seeds):
    assert len(imported(tmp_path, seeds, "u16.tsv", API_TSV.encode("utf-16")).observations) == 4
    assert len(imported(tmp_path, seeds, "bom.tsv", "\ufeff" + API_TSV).observations) == 4


@pytest.mark.parametrize("value", ["inf", "-Infinity", "NaN", "1e309", "1e16", "12,5", "0x1F", "1_000"])
def test_non_finite_and_out_of_range_values_are_rejects_in_every_format(tmp_path, seeds, value):
    expected = ("out of range" if value == "1e16" else "not a finite number"
                if value.lower().lstrip("+-") in ("inf", "infinity", "nan", "1e309") else "not a number")
    tsv = API_TSV.replace("37900 p", f"{value} p")
    sdmx = SDMX_V2.replace(",37900,", f',"{value}",' if "," in value else f",{value},")
    literal = {"inf": "Infinity", "-Infinity": "-Infinity", "NaN": "NaN", "1e309": "1e309", "1e16": "1e16"}
    payloads = [("x.tsv", tsv, value), ("x.csv", sdmx, value)]
    if value in literal:  # JSON has no other spelling of these numbers
        payloads.append(("x.json", json_stat().replace("83.9", literal[value]), literal[value]))
    for name, text, written in payloads:
        batch = imported(tmp_path, seeds, name, text)
        (reject,) = batch.rejects.itertuples()
        assert expected in reject.reason and reject.raw_value.startswith(written), (name, reject)
        assert batch.observations.value.map(lambda v: pd.isna(v) or abs(v) < 1e15).all()


def test_empty_tsv_cell_is_a_reject_and_an_empty_last_cell_a_cut(tmp_path, seeds):
    middle = imported(tmp_path, seeds, "a.tsv", API_TSV.replace("24900 b", "")).rejects
    assert middle.reason.tolist() == ["empty cell (Eurostat writes ':' for a missing value)"]
    err = rejected(tmp_path, seeds, "b.tsv", API_TSV.rstrip("\n")[: -len("27000 ")])
    assert "line 3" in str(err) and "truncated" in str(err)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["value"].update({"1.5": 1.0}), "value key '1.5' is not a cell position"),
    (lambda d: d["value"].update({"x": 1.0}), "value key 'x' is not a cell position"),
    (lambda d: d["value"].update({"4": 1.0}), "value key 4 is outside the cube of 4 cells"),
    (lambda d: d.update(size=[1, 1, 1, 1, 2]), "'size' [1, 1, 1, 1, 2] does not match 'id'"),
    (lambda d: d.update(size=[1, 1, 1, 1, 3, 2]), "dimension 'geo' lists 2 categories, its size says 3"),
    (lambda d: d["dimension"]["geo"]["category"].update(index={"PL22": 0, "ES21": 5}), "index 5, outside 0..1"),
    (lambda d: d["dimension"]["geo"]["category"].update(index={"PL22": 0, "ES21": 0}), "share index 0"),
    (lambda d: d["dimension"].pop("age"), "dimension 'age' has no category"),
    (lambda d: d.update(value=[1.0, 2.0]), "value array has 2 entries, the cube 4 cells"),
    (lambda d: d.update(size=[1, 1, 1, 1, 2, "2"]), "must hold whole numbers"),
    (lambda d: d.update(id=["freq", "unit", "sex", "age", "geo", "geo"]), "names a dimension twice"),
])
def test_malformed_json_stat_is_a_clear_rejection(tmp_path, seeds, mutate, message):
    doc = json.loads(json_stat())
    mutate(doc)
    assert message in str(rejected(tmp_path, seeds, "bad.json", json.dumps(doc)))


def test_json_stat_declaring_a_billion_cells_allocates_nothing(tmp_path, seeds):
    doc = ('{"class":"dataset","id":["geo","time","unit"],"size":[1000,1000,1000],"value":{"0":1},'
           '"dimension":{"geo":{"category":{"index":{"DEC0":0}}},"time":{"category":{"index":{"2020":0}}},'
           '"unit":{"category":{"index":{"PC":0}}}}}')
    assert len(doc) < 450
    tracemalloc.start()
    try:
        err = rejected(tmp_path, seeds, "bomb.json", doc)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "1,000,000,000 cells" in str(err) and f"{MAX_CUBE_CELLS:,}" in str(err)
    assert peak < 20_000_000, peak


def test_json_stat_status_string_and_sparse_cells(tmp_path, seeds):
    obs = imported(tmp_path, seeds, "s.json", json_stat({"0": 78.1}, status="p")).observations
    assert len(obs) == 4 and obs.value.notna().sum() == 1  # positions with a status only are missing cells
    assert obs.flag.tolist() == ["p", "na", "na", "na"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"error":[{"status":413,"id":413,"label":"EXTRACTION_TOO_BIG: The requested extraction is too big"}]}',
     "API error: EXTRACTION_TOO_BIG"),
    ('<?xml version="1.0"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>413</faultcode>'
     "<faultstring>EXTRACTION_TOO_BIG: too big</faultstring></S:Fault>", "API error: EXTRACTION_TOO_BIG: too big"),
    ('<?xml version="1.0"?><message:GenericData xmlns:message="x"/>', "SDMX-ML (XML) data is not read"),
    ("<html><body>Service unavailable</body></html>", "XML/HTML instead of data"),
    (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP or Excel file"),
    (b"\xff\xd8\xff\xe0 binary", "line 1: not UTF-8 text"),
    ("", "empty content"),
    ("geo;year;value\nDEC0;2020;1\n", "unrecognised format"),
    ("freq,unit\\TIME_PERIOD\t2020 \nA,PC\t1 \n", "has no geo dimension"),
    ("freq,geo\\TIME_PERIOD\t2020 \t2020 \nA,DEC0\t1 \t2 \n", "period column(s) 2020 appear twice"),
    ("freq,geo\\TIME_PERIOD\t2020 \nA,DEC0,X\t1 \n", "line 2: series key 'A,DEC0,X' does not have the 2 codes"),
    ("freq,geo\\TIME_PERIOD\t2020 \nA,DEC0\t1 \t7 \nA,BE32\t2 \n", "line 2 has 3 fields, the header has 2"),
    ("freq,geo\\periods\t2020 \nA,DEC0\t1 \n", "neither TIME_PERIOD (API) nor time"),
    (SDMX_V2.replace("TIME_PERIOD,", "YEAR,"), "lacks TIME_PERIOD"),
    (SDMX_V2.replace("ESTAT:NAMA_10R_2GDP(1.0),I,A,EUR_HAB,DEC0", "ESTAT:NAMA_10R_3GDP(1.0),I,A,EUR_HAB,DEC0"),
     "mixes datasets nama_10r_2gdp, nama_10r_3gdp"),
    ("STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,geo,TIME_PERIOD,Time,OBS_VALUE,Value\n"
     "dataflow,ESTAT:NAMA_10R_2GDP(1.0),GDP,A,Annual,DEC0,2021,,1,\n", "pair each code column with one label column"),
    ('{"version": "2.0", "class": "dataset", "id": ["geo", "time"], "size": [1, ', "JSON is truncated or malformed"),
    ("[1, 2, 3]", "not a JSON-stat 2.0 dataset"),
])
def test_unreadable_content_names_the_file_and_why(tmp_path, seeds, content, message):
    assert message in str(rejected(tmp_path, seeds, "nama_10r_2gdp.tsv", content))


def test_random_damage_never_raises_anything_but_a_content_error(tmp_path, seeds):
    """Truncate, flip and splice bytes of every format (seeded): a file is read or refused, never a crash."""
    rng = random.Random(15)
    payloads = [API_TSV, BULK_TSV, BROWSER_CSV, SDMX_V2, SDMX_V1_LABELS, json_stat()]
    path = tmp_path / "nama_10r_2gdp.dat"
    for _ in range(300):
        data = bytearray(rng.choice(payloads).encode("utf-8"))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            kind = rng.random()
            if kind < 0.3:
                del data[at:]
            elif kind < 0.6:
                data[at] = rng.choice(b'\t,;:\n"{}[]0123456789.eE-+ \x00\xff')
            else:
                data[at:at] = rng.choice([b"\t", b",", b'"', b"\n", b"1e309", b"NaN", b":", b"\\"])
        path.write_bytes(bytes(data) if rng.random() < 0.7 else gzip.compress(bytes(data)))
        try:
            import_eurostat_files([path], *seeds)
        except SourceError as err:
            assert str(path) in str(err) and "\n" not in str(err)


def test_a_bad_file_in_a_folder_does_not_stop_the_good_ones(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "estat_nama_10r_2gdp_en.csv").write_text(BROWSER_CSV, encoding="utf-8")
    (folder / "broken.json").write_text(json_stat().replace('"size": [1, 1, 1, 1, 2, 2]', '"size": [1, 1]'))
    (folder / "nama_10r_2hhinc.tsv").write_text(BULK_TSV.replace("33700 ", "n/a "), encoding="utf-8")
    run = SourceRun(source="eurostat", settings={"path": str(folder)}, inbox=tmp_path / "inbox",
                    downloads=tmp_path / "api", state=tmp_path / "state", file_kinds=(".csv", ".json", ".tsv"))
    batch = import_source(run)
    assert set(batch.observations.dataset) == {"nama_10r_2gdp", "nama_10r_2hhinc"}
    failed = batch.rejects[batch.rejects.origin.str.endswith("broken.json")]
    assert len(failed) == 1 and "'size' [1, 1] does not match 'id'" in failed.reason.iloc[0]
    assert batch.rejects.reason.str.contains("'n/a' is not a number").sum() == 1
    # this income file has no na_item: the catalog's rule for disposable income cannot apply to it, and says so
    assert batch.rejects.reason.str.startswith("mapping of money_income_per_capita").sum() == 1
    loaded = load_batch(duckdb.connect(), batch)  # a file's reject and cells' rejects load side by side
    assert (loaded.observations, loaded.rejects) == (len(batch.observations), 3)
