"""The Eurostat pull against a local stand-in for the dissemination API.

A ``ThreadingHTTPServer`` on 127.0.0.1 serves, at Eurostat's URL paths, the table of contents
(TXT), data structures (SDMX 2.1 XML) and data (SDMX-CSV or TSV, gzip without a
Content-Encoding header, as Eurostat sends ``compressed=true``), filtered by the positional key
and ``startPeriod``/``endPeriod`` as the real API does. Faults are switched on per test: 429 with
Retry-After, 5xx, 413 EXTRACTION_TOO_BIG (the real error body), truncated bodies, refused formats.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fixtures.frames import one

from dagster_project.sources.base import SourceError
from dagster_project.sources.eurostat import import_eurostat_files, pull_eurostat
from dagster_project.sources.eurostat.api import RequestSpec, _retry_after

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt" / "seeds"
SHARED = REPO.parent / "shared" / "data" / "eurostat"
PREFIX = "/eurostat/api/dissemination"
# The SOAP fault variant of the same error (as in ../shared/data/eurostat/api_errors).
TOO_BIG_SOAP = (
    '<?xml version="1.0" encoding="UTF-8"?><S:Fault xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">'
    "<faultcode>413</faultcode><faultstring>EXTRACTION_TOO_BIG: The requested extraction is too big, "
    "estimated 17348292 rows, max authorised is 5000000, please change your filters to reduce the "
    "extraction size</faultstring></S:Fault>"
)
# The body Eurostat returns with HTTP 413 (as in ../shared/data/eurostat/api_errors).
TOO_BIG_BODY = json.dumps(
    {
        "error": [
            {
                "status": 413,
                "id": 413,
                "label": (
                    "EXTRACTION_TOO_BIG: The requested extraction is too big, estimated 10305182 rows, "
                    "max authorised is 5000000, please change your filters to reduce the extraction size"
                ),
            }
        ]
    },
    indent=2,
)


@dataclass
class Dataset:
    """A small cube: series dimensions in DSD order and observations per (codes, year)."""

    code: str
    dims: tuple[str, ...]
    obs: dict[tuple[tuple[str, ...], int], tuple[str, str, str]]  # value, flag, conf status
    last_update: str  # SDMX-CSV "LAST UPDATE"
    toc_date: str  # table of contents "last update of data"
    structure: str = "01.01.2024"
    years: tuple[int, int] = (2015, 2022)


def gdp_dataset() -> Dataset:
    values = {"DEC0": 33600, "FRE1": 26200, "UKE4": 28000, "DEA1": 40000, "DE": 36000, "AT13": 47000}
    obs: dict = {}
    for geo, base in values.items():
        for year in range(2015, 2023):
            if geo == "UKE4" and year > 2019:
                continue  # the UK left: no data after 2019
            flag = "p" if year == 2022 else ("e" if geo == "DEC0" and year >= 2018 else "")
            obs[(("A", "EUR_HAB", geo), year)] = (str(base + 500 * (year - 2015)), flag, "")
            obs[(("A", "MIO_EUR", geo), year)] = (f"{(base + 500 * (year - 2015)) * 1.5:.2f}", flag, "")
    obs[(("A", "EUR_HAB", "FRE1"), 2021)] = ("29900", "bp", "")
    return Dataset("nama_10r_2gdp", ("freq", "unit", "geo"), obs, "25/04/24 23:00:00", "25.04.2024")


def gerd_dataset() -> Dataset:
    obs = {
        (("A", "TOTAL", "PC_GDP", "DEC0"), 2021): ("1.72", "", ""),
        (("A", "TOTAL", "PC_GDP", "FRE1"), 2021): ("1.05", "e", ""),
        (("A", "TOTAL", "PC_GDP", "CZ08"), 2021): ("", "", "C"),
        (("A", "BES", "PC_GDP", "DEC0"), 2021): ("0.73", "", ""),
        (("A", "TOTAL", "MIO_EUR", "DEC0"), 2021): ("700", "", ""),
    }
    return Dataset(
        "rd_e_gerdreg",
        ("freq", "sectperf", "unit", "geo"),
        obs,
        "12/03/25 23:00:00",
        "12.03.2025",
        years=(2021, 2021),
    )


@dataclass
class FakeEurostat:
    """State and switchable faults of the stand-in API."""

    datasets: dict[str, Dataset] = field(default_factory=dict)
    raw_bodies: dict[str, bytes] = field(default_factory=dict)  # dataset -> fixed SDMX-CSV body
    requests: list[str] = field(default_factory=list)
    sent_headers: list[dict[str, str]] = field(default_factory=list)
    fail_429: int = 0
    fail_503: int = 0
    max_geos: int | None = None  # 413 above this many geos (a wildcard counts as many)
    max_years: int | None = None  # 413 above this many years (no range counts as many)
    too_big_body: str = TOO_BIG_BODY
    truncate: bool = False
    cut_mid_line: bool = False
    refuse: set[str] = field(default_factory=set)  # formats answered with 406
    gzip_body: bool = True
    toc_status: int = 200
    lock: threading.RLock = field(default_factory=threading.RLock)

    def data_requests(self) -> list[str]:
        return [r for r in self.requests if "/sdmx/2.1/data/" in r]

    def toc(self) -> str:
        lines = [
            '"title"\t"code"\t"type"\t"last update of data"\t"last table structure change"\t'
            '"data start"\t"data end"\t"values"',
            '"Database by themes"\t"data"\t"folder"\t""\t""\t""\t""\t""',
        ]
        for ds in self.datasets.values():
            lines.append(
                f'"    {ds.code} title"\t"{ds.code}"\t"dataset"\t"{ds.toc_date}"\t"{ds.structure}"\t'
                f'"{ds.years[0]}"\t"{ds.years[1]}"\t"{len(ds.obs)}"'
            )
        return "\n".join(lines) + "\n"

    def dsd(self, code: str) -> bytes | None:
        ds = self.datasets.get(code.lower())
        if ds is None:
            return None
        dims = "".join(
            f'<s:Dimension id="{d}" position="{i + 1}"><s:LocalRepresentation/></s:Dimension>'
            for i, d in enumerate(ds.dims)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><m:Structure '
            'xmlns:m="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
            'xmlns:s="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"><m:Structures>'
            f'<s:DataStructures><s:DataStructure id="{ds.code.upper()}" agencyID="ESTAT" version="1.0">'
            f'<s:DataStructureComponents><s:DimensionList id="DimensionDescriptor">{dims}'
            f'<s:TimeDimension id="TIME_PERIOD" position="{len(ds.dims) + 1}"/></s:DimensionList>'
            "</s:DataStructureComponents></s:DataStructure></s:DataStructures></m:Structures></m:Structure>"
        ).encode()

    def select(self, ds: Dataset, key: str, start: int | None, end: int | None) -> list:
        wanted = [set(p.split("+")) if p else None for p in key.split(".")] if key else [None] * len(ds.dims)
        rows = []
        for (codes, year), cell in sorted(ds.obs.items()):
            if all(w is None or c in w for w, c in zip(wanted, codes, strict=True)) and (
                start is None or start <= year <= end
            ):
                rows.append((codes, year, cell))
        return rows

    def too_big(self, ds: Dataset, key: str, start: int | None, end: int | None) -> bool:
        geo_part = key.split(".")[ds.dims.index("geo")] if key else ""
        geos = len(geo_part.split("+")) if geo_part else 10**6  # a wildcard is every geo
        years = (end - start + 1) if start is not None else 10**6  # no range is every year
        limits = [(self.max_geos, geos), (self.max_years, years)]
        return any(limit is not None for limit, _ in limits) and all(
            limit is None or count > limit for limit, count in limits
        )

    def sdmx_csv(self, ds: Dataset, rows: list) -> str:
        head = ",".join(
            ["DATAFLOW", "LAST UPDATE", *ds.dims, "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"]
        )
        lines = [head] + [
            ",".join([f"ESTAT:{ds.code.upper()}(1.0)", ds.last_update, *codes, str(year), *cell])
            for codes, year, cell in rows
        ]
        return "\n".join(lines) + "\n"

    def tsv(self, ds: Dataset, rows: list) -> str:
        years = sorted({year for _, year, _ in rows})
        series: dict[tuple[str, ...], dict[int, str]] = {}
        for codes, year, (value, flag, conf) in rows:
            text = f"{value} {flag}".rstrip() if value else (": c" if conf == "C" else ":")
            series.setdefault(codes, {})[year] = text + " "
        head = ",".join(ds.dims) + "\\TIME_PERIOD\t" + "\t".join(f"{y} " for y in years)
        lines = [head] + [
            ",".join(codes) + "\t" + "\t".join(cells.get(y, ": ") for y in years)
            for codes, cells in series.items()
        ]
        return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    api: FakeEurostat  # set per server

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        api = self.api
        url = urlsplit(self.path)
        with api.lock:
            api.requests.append(self.path)
        path = url.path.removeprefix(PREFIX)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if path == "/catalogue/toc/txt":
            if api.toc_status != 200:
                return self.reply(api.toc_status, b"unavailable", "text/plain")
            return self.reply(200, api.toc().encode(), "text/plain")
        if path.startswith("/sdmx/2.1/datastructure/ESTAT/"):
            body = api.dsd(path.rsplit("/", 1)[-1])
            return (
                self.reply(200, body, "application/xml")
                if body
                else self.reply(404, b"not found", "text/plain")
            )
        if path.startswith("/sdmx/2.1/data/"):
            return self.data(path.removeprefix("/sdmx/2.1/data/"), query)
        self.reply(404, b"no such path", "text/plain")

    def data(self, rest: str, query: dict[str, str]) -> None:
        api = self.api
        code, _, key = rest.partition("/")
        with api.lock:
            if api.fail_429:
                api.fail_429 -= 1
                return self.reply(429, b"Too many requests", "text/plain", {"Retry-After": "0"})
            if api.fail_503:
                api.fail_503 -= 1
                return self.reply(503, b"Service unavailable", "text/plain")
        fmt = query.get("format", "")
        if fmt in api.refuse:
            return self.reply(406, f"format {fmt} not acceptable".encode(), "text/plain")
        if code in api.raw_bodies:
            return self.reply(200, gzip.compress(api.raw_bodies[code]), "application/octet-stream")
        ds = api.datasets.get(code)
        if ds is None:
            return self.reply(404, b"No results found", "text/plain")
        start = int(query["startPeriod"]) if "startPeriod" in query else None
        end = int(query["endPeriod"]) if "endPeriod" in query else None
        if api.too_big(ds, key, start, end):
            ctype = "application/xml" if api.too_big_body.startswith("<") else "application/json"
            return self.reply(413, api.too_big_body.encode(), ctype)
        rows = api.select(ds, key, start, end)
        if not rows:
            return self.reply(404, b"No results found", "text/plain")
        text = api.sdmx_csv(ds, rows) if fmt == "SDMX-CSV" else api.tsv(ds, rows)
        body = text.encode()
        if api.cut_mid_line:
            body = body[: len(body) - 9]
        if api.gzip_body and query.get("compressed") == "true":
            body = gzip.compress(body)
        if api.truncate:
            body = body[: len(body) // 2]
        self.reply(200, body, "application/octet-stream")

    def reply(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        sent = {"Content-Type": ctype, "Content-Length": str(len(body)), **(headers or {})}
        for name, value in sent.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        with self.api.lock:
            self.api.sent_headers.append(sent)


@pytest.fixture()
def api():
    fake = FakeEurostat(datasets={"nama_10r_2gdp": gdp_dataset(), "rd_e_gerdreg": gerd_dataset()})
    handler = type("BoundHandler", (Handler,), {"api": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def seeds() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    read = lambda name: pd.read_csv(SEEDS / name, dtype=str, keep_default_na=False)  # noqa: E731
    mapping = read("indicator_sources_eurostat.csv")
    # Only the two datasets the stand-in serves (the real seed names 17).
    mapping = mapping[mapping.dataset.isin(["nama_10r_2gdp", "rd_e_gerdreg"])].reset_index(drop=True)
    return mapping, read("nuts_correspondence.csv"), read("regions.csv")


def pull(api: FakeEurostat, tmp_path: Path, seeds, **kwargs):
    mapping, correspondence, regions = seeds
    kwargs.setdefault("regions", regions)
    kwargs.setdefault("geos", ["DEC0", "FRE1", "UKE4", "DE"])
    kwargs.setdefault("backoff", 0.0)
    return pull_eurostat(
        mapping,
        correspondence,
        api.base_url,
        tmp_path / "state.json",
        tmp_path / "downloads",
        timeout=5,
        **kwargs,
    )


_cell = one  # the single row matching the given column values (tests/fixtures/frames.py)


def test_full_pull(api, tmp_path, seeds):
    batch, notes = pull(api, tmp_path, seeds)
    obs = batch.observations
    gdp = obs[obs.dataset == "nama_10r_2gdp"]
    # 3 geos x 8 years + UKE4 2015-2019, for EUR_HAB and MIO_EUR (the mapped units).
    assert len(gdp) == 2 * (3 * 8 + 5) and set(gdp.unit) == {"EUR_HAB", "MIO_EUR"}
    dec = _cell(gdp, region_key="DEC0", period=2020, unit="EUR_HAB")
    assert (dec.value, dec.flag, dec.indicator_code, dec.region_code) == (
        36100.0,
        "e",
        "grp_per_capita",
        "DEC0",
    )
    assert dec.release == "2024-04-25" and str(dec.release_date) == "2024-04-25"
    assert dec.origin.startswith(
        api.base_url + "/sdmx/2.1/data/nama_10r_2gdp/.EUR_HAB+MIO_EUR.DE+DEC0+FRE1+UKE4?"
    )
    assert "format=SDMX-CSV&compressed=true" in dec.origin and dec.cell_ref.startswith("line ")
    assert _cell(gdp, region_key="FRE1", period=2021, unit="EUR_HAB").flag == "bp"
    assert _cell(gdp, region_key="DE", period=2022, unit="MIO_EUR").value == 59250.0
    assert _cell(gdp, region_key="DE", period=2022, unit="MIO_EUR").indicator_code == "grp_total"
    gerd = obs[obs.dataset == "rd_e_gerdreg"]
    # Only sectperf=TOTAL & unit=PC_GDP is asked for; CZ08 is not in the geo list.
    assert len(gerd) == 2 and set(gerd.table_code) == {"sectperf=TOTAL;unit=PC_GDP"}
    assert _cell(gerd, region_key="FRE1").flag == "e" and _cell(gerd, region_key="DEC0").value == 1.72
    assert set(gerd.release) == {"2025-03-12"}
    # The stand-in sent gzip bodies without Content-Encoding, as Eurostat does.
    assert all("Content-Encoding" not in h for h in api.sent_headers)
    # Files: one per request, with a sidecar; re-importing them reproduces the rows.
    files = sorted((tmp_path / "downloads").rglob("*.sdmx.csv.gz"))
    assert [f.parent.name for f in files] == ["nama_10r_2gdp", "rd_e_gerdreg"]
    assert all(f.with_name(f.name + ".meta.json").exists() for f in files)
    again = import_eurostat_files([tmp_path / "downloads"], *seeds).observations
    cols = ["dataset", "region_key", "period", "value", "flag", "release", "origin", "indicator_code"]
    key = ["dataset", "region_key", "unit", "period"]
    assert (
        again.sort_values(key)[cols]
        .reset_index(drop=True)
        .equals(obs.sort_values(key)[cols].reset_index(drop=True))
    )
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["datasets"]["nama_10r_2gdp"]["release"] == "2024-04-25"
    assert state["datasets"]["nama_10r_2gdp"]["dimensions"] == ["freq", "unit", "geo"]
    assert any("nama_10r_2gdp: 58 observations" in n for n in notes)


def test_unchanged_pull_fetches_no_data(api, tmp_path, seeds):
    pull(api, tmp_path, seeds)
    api.requests.clear()
    batch, notes = pull(api, tmp_path, seeds)
    assert batch.observations.empty
    assert api.requests == [PREFIX + "/catalogue/toc/txt?lang=en"]  # no data, not even a DSD
    assert sum("unchanged since" in n for n in notes) == 2
    # A new release of one dataset: only that one is fetched; the earlier release's files stay.
    api.datasets["nama_10r_2gdp"].toc_date = "03.03.2025"
    api.datasets["nama_10r_2gdp"].obs[(("A", "EUR_HAB", "DEC0"), 2022)] = ("39900", "", "")
    api.requests.clear()
    batch, notes = pull(api, tmp_path, seeds)
    assert len(api.data_requests()) == 1 and "nama_10r_2gdp" in api.data_requests()[0]
    assert set(batch.observations.release) == {"2025-03-03"}
    assert _cell(batch.observations, region_key="DEC0", period=2022, unit="EUR_HAB").value == 39900
    releases = {f.name.split("_")[3] for f in (tmp_path / "downloads" / "nama_10r_2gdp").glob("*.gz")}
    assert releases == {"2024-04-25", "2025-03-03"}
    # A different geo list is a different request: pulled although the release is unchanged.
    api.requests.clear()
    batch, _ = pull(api, tmp_path, seeds, geos=["DEC0"])
    assert len(api.data_requests()) == 2 and set(batch.observations.region_key) == {"DEC0"}


def test_429_then_success(api, tmp_path, seeds):
    api.fail_429 = 2
    batch, _ = pull(api, tmp_path, seeds, retries=4)
    assert len(batch.observations) == 58 + 2
    first_url = api.data_requests()[0]
    assert api.data_requests().count(first_url) == 3  # 429, 429, 200
    assert sum(h.get("Retry-After") == "0" for h in api.sent_headers) == 2


def test_5xx_exhausted_names_dataset_and_url(api, tmp_path, seeds):
    api.fail_503 = 10
    with pytest.raises(SourceError) as err:
        pull(api, tmp_path, seeds, retries=2)
    message = str(err.value)
    assert "nama_10r_2gdp" in message and api.base_url + "/sdmx/2.1/data/nama_10r_2gdp/" in message
    assert "3 attempts" in message and "503" in message
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize("body", [TOO_BIG_BODY, TOO_BIG_SOAP], ids=["json", "soap"])
def test_413_split_by_geo_and_merged(api, tmp_path, seeds, body):
    api.max_geos = 2
    api.too_big_body = body
    batch, _ = pull(api, tmp_path, seeds)
    gdp_requests = [r for r in api.data_requests() if "nama_10r_2gdp" in r]
    assert [r.split("/")[-1].split("?")[0] for r in gdp_requests] == [
        ".EUR_HAB+MIO_EUR.DE+DEC0+FRE1+UKE4",
        ".EUR_HAB+MIO_EUR.DE+DEC0",
        ".EUR_HAB+MIO_EUR.FRE1+UKE4",
    ]
    obs = batch.observations
    gdp = obs[obs.dataset == "nama_10r_2gdp"]
    assert len(gdp) == 58 and not gdp.duplicated(["region_key", "unit", "period"]).any()
    assert _cell(gdp, region_key="UKE4", period=2019, unit="EUR_HAB").value == 30000
    assert len(list((tmp_path / "downloads" / "nama_10r_2gdp").glob("*.gz"))) == 2


def test_413_split_by_time_when_no_geo_list(api, tmp_path, seeds):
    api.max_years = 3
    batch, _ = pull(api, tmp_path, seeds, geos=None)
    gdp_requests = [r for r in api.data_requests() if "nama_10r_2gdp" in r]
    ranges = [r.split("startPeriod=")[1] for r in gdp_requests if "startPeriod" in r]
    # 2015-2022 (from the table of contents) -> 2015-2018, 2019-2022 -> halves of 2 years.
    assert ranges == [
        "2015&endPeriod=2018",
        "2015&endPeriod=2016",
        "2017&endPeriod=2018",
        "2019&endPeriod=2022",
        "2019&endPeriod=2020",
        "2021&endPeriod=2022",
    ]
    gdp = batch.observations[batch.observations.dataset == "nama_10r_2gdp"]
    assert len(gdp) == 2 * (5 * 8 + 5)  # every geo, every year, merged
    assert _cell(gdp, region_key="AT13", period=2022, unit="EUR_HAB").value == 50500


def test_gzip_detection_and_plain_bodies(api, tmp_path, seeds):
    api.gzip_body = False  # a server (or proxy) that ignores compressed=true
    batch, _ = pull(api, tmp_path, seeds)
    assert len(batch.observations) == 60
    assert sorted(p.name.rsplit(".", 1)[-1] for p in (tmp_path / "downloads").rglob("*.csv")) == [
        "csv",
        "csv",
    ]


def test_truncated_body_raises_and_writes_nothing(api, tmp_path, seeds):
    api.truncate = True
    with pytest.raises(SourceError) as err:
        pull(api, tmp_path, seeds)
    message = str(err.value)
    assert message.startswith("nama_10r_2gdp: ") and "/sdmx/2.1/data/nama_10r_2gdp/" in message
    assert "gzip data is truncated" in message
    assert not any((tmp_path / "downloads").rglob("*.gz")) and not (tmp_path / "state.json").exists()


def test_body_cut_mid_line_raises(api, tmp_path, seeds):
    api.cut_mid_line = True
    with pytest.raises(SourceError, match=r"nama_10r_2gdp: http://127\.0\.0\.1:\d+/.*truncated"):
        pull(api, tmp_path, seeds)


def test_tsv_fallback_when_sdmx_csv_is_refused(api, tmp_path, seeds):
    api.refuse = {"SDMX-CSV"}
    batch, _ = pull(api, tmp_path, seeds)
    obs = batch.observations
    # The TSV writes ':' for the UK's missing 2020-2022 (SDMX-CSV omits them): 6 more rows.
    assert len(obs) == 66 and all("format=TSV" in o for o in obs.origin)
    uk = _cell(obs, region_key="UKE4", period=2021, unit="EUR_HAB")
    assert pd.isna(uk.value) and uk.flag == "na"
    assert _cell(obs, region_key="FRE1", period=2021, unit="EUR_HAB").flag == "bp"
    assert _cell(obs, region_key="DEC0", period=2021, dataset="rd_e_gerdreg").release == "2025-03-12"


def test_toc_unavailable_falls_back_to_last_update_column(api, tmp_path, seeds):
    api.toc_status = 500
    batch, notes = pull(api, tmp_path, seeds, retries=0)
    assert len(batch.observations) == 60 and any("table of contents unavailable" in n for n in notes)
    assert set(batch.observations[batch.observations.dataset == "rd_e_gerdreg"].release) == {"2025-03-12"}
    batch, notes = pull(api, tmp_path, seeds, retries=0)
    assert batch.observations.empty and sum("already imported" in n for n in notes) == 2


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"real Eurostat samples not found at {SHARED}")
def test_real_sdmx_csv_sample_served(api, tmp_path, seeds):
    """The real pat_ep_rtot download, served gzipped at its API path, for a mapping that names it."""
    mapping, correspondence, _ = seeds
    api.raw_bodies["pat_ep_rtot"] = (SHARED / "pat_ep_rtot.first50lines.csv").read_bytes()
    api.datasets["pat_ep_rtot"] = Dataset("pat_ep_rtot", ("freq", "unit", "geo"), {}, "", "29.04.2016")
    extra = pd.DataFrame(
        [
            {
                "indicator_code": "patents",
                "dataset": "pat_ep_rtot",
                "filters": "unit=GDP_BEUR",
                "unit_as_published": "GDP_BEUR",
                "scale": "1",
                "note": "",
            }
        ]
    )
    batch, _ = pull_eurostat(
        pd.concat([mapping, extra]),
        correspondence,
        api.base_url,
        tmp_path / "s.json",
        tmp_path / "d",
        geos=["AT", "AT1"],
        timeout=5,
        backoff=0,
    )
    pat = batch.observations[batch.observations.dataset == "pat_ep_rtot"]
    assert len(pat) == 49 and set(pat.indicator_code) == {"patents"}
    assert (
        _cell(pat, region_key="AT", period=2012).value,
        _cell(pat, region_key="AT", period=2012).flag,
    ) == (5.062, "p")
    assert set(pat.release) == {"2016-04-29"}


def test_unreachable_server_names_dataset_and_url(tmp_path, seeds):
    mapping, correspondence, _ = seeds
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}{PREFIX}"
    with pytest.raises(SourceError, match=r"nama_10r_2gdp: http://127\.0\.0\.1:\d+/.*ConnectError") as err:
        pull_eurostat(
            mapping, correspondence, base, tmp_path / "s.json", tmp_path / "d", retries=0, timeout=2
        )
    assert err.value.transient is True  # a network failure may pass: the failure policy may retry it


def test_request_keys_splits_and_retry_after():
    spec = RequestSpec(("freq", "unit", "geo"), (("unit", ("EUR_HAB", "MIO_EUR")),), ("DE", "DEC0", "FRE1"))
    assert spec.key() == ".EUR_HAB+MIO_EUR.DE+DEC0+FRE1"
    assert [s.geos for s in spec.split((2000, 2022))] == [("DE",), ("DEC0", "FRE1")]
    one_geo = RequestSpec(("freq", "unit", "geo"), (), ("DEC0",))
    assert [(s.start, s.end) for s in one_geo.split((2000, 2022))] == [(2000, 2011), (2012, 2022)]
    assert RequestSpec(("geo",), (), ("DEC0",), 2020, 2020).split((2000, 2022)) == []
    assert RequestSpec(("freq", "geo"), (), None).key() == ""
    assert _retry_after("7") == 7.0 and _retry_after(None) is None and _retry_after("soon") is None
    assert 0 <= _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0  # a date in the past: no wait
