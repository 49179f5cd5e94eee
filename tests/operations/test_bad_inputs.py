"""Bad inputs through the real CLI, as an operator meets them: each bad file beside a good one — an EMISS-like
workbook whose header the Rosstat importer rejects, a Eurostat data-browser CSV that breaks the parser,
malformed JSON-stat, and a source with nothing to import at all — and the refresh still succeeds (exit 0):
the good files are loaded, each bad one is quarantined with its reason, nothing is retried, the ingest
takes seconds. When every file is bad the refresh fails once, with "N files quarantined: …" as its last
line. The run is visible in the home's Dagster instance, without a single retry."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import openpyxl
import pytest
from dagster import DagsterEventType, DagsterInstance
from fixtures.eurostat_payloads import eu_geos, payload_datasets, write_payload_files
from fixtures.refresh_runs import query, run_cli

from dagster_project.settings import Paths

from .faults import GOOD_ROWS, write_grp_workbook

pytestmark = pytest.mark.e2e

# A CSV from Eurostat's data browser (SDMX-CSV 2.0 with labels) cut short by a failed download: its last row
# ends inside a multi-byte character, so no reader can parse it.
BROWSER_CSV = (
    b"STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,unit,Unit of measure,geo,Geopolitical entity "
    b"(reporting),TIME_PERIOD,Time,OBS_VALUE,Observation value,OBS_FLAG,Observation status (Flag) V2 structure,"
    b"CONF_STATUS,Confidentiality status (flag)\n"
    b"dataflow,ESTAT:NAMA_10R_2GDP(1.0),Gross domestic product (GDP) at current market prices by NUTS 2 region,A,"
    b"Annual,EUR_HAB,Euro per inhabitant,BE32,Prov. Hainaut,2019,,25800,,p,provisional,,\n"
    b"dataflow,ESTAT:NAMA_10R_2GDP(1.0),Gross domestic product (GDP) at current market prices by NUTS 2 region,A,"
    b"Annual,EUR_HAB,Euro per inhabitant,DE12,Karlsruhe,2019,,4"
) + "ü".encode()[:1]
# JSON-stat whose id names a dimension it does not describe.
MALFORMED_JSONSTAT = json.dumps({"version": "2.0", "class": "dataset", "id": ["geo", "time"], "size": [2, 1],
                                 "dimension": {"geo": {"category": {"index": {"DE11": 0}}}}, "value": {"0": 1}})


WIDE = {"COLUMNS": "400"}  # the closing table without wrapped cells


def emiss_workbook(path: Path) -> Path:
    """A workbook as EMISS (fedstat.ru) exports it: a title, then rows of region × period × value under a
    header of words, no row of years: not a «Регионы России» section."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in (["Численность постоянного населения на 1 января"], ["Регион", "Период", "Значение"],
                ["Свердловская область", "2023 г.", 4239161], ["Пермский край", "2023 г.", 2508352]):
        sheet.append(row)
    book.save(path)
    return path


def huge_sheet_workbook(path: Path) -> Path:
    """5 KB of xlsx whose sheet has a cell at XFD1048576: a reader that allocates the declared grid asks for
    512 GiB (calamine aborts the process)."""
    book = openpyxl.Workbook()
    book.active.title = "8.2."
    book.active["A1"] = "x"
    book.active["XFD1048576"] = 1
    book.save(path)
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One refresh of rosstat, eurostat and csv: good and bad files in the inboxes, nothing at all for csv."""
    home = tmp_path_factory.mktemp("bad-inputs") / "home"
    inbox = Paths(home).inbox
    write_grp_workbook(inbox / "rosstat" / "regions_2023_razdel8.xlsx", GOOD_ROWS)
    emiss_workbook(inbox / "rosstat" / "population_regions.xlsx")
    huge_sheet_workbook(inbox / "rosstat" / "regions_2023_razdel9.xlsx")
    write_payload_files(payload_datasets(eu_geos()), inbox / "eurostat")
    (inbox / "eurostat" / "estat_nama_10r_2gdp_en.csv").write_bytes(BROWSER_CSV)
    (inbox / "eurostat" / "nama_10r_2gdp.json").write_text(MALFORMED_JSONSTAT, encoding="utf-8")
    started = time.monotonic()
    run = run_cli(home, "refresh", "--source", "rosstat", "--source", "eurostat", "--source", "csv", env=WIDE)
    return {"home": home, "run": run, "seconds": time.monotonic() - started}


def _stage_seconds(stderr: str) -> dict[str, float]:
    return {m["stage"]: float(m["s"]) for m in re.finditer(r"✓ (?P<stage>.+?) (?P<s>[\d.]+) s$", stderr, re.M)}


def _reason(home: Path, source: str, name: str) -> str:
    quarantined = Paths(home).inbox / source / "quarantine" / name
    assert quarantined.is_file() and not (Paths(home).inbox / source / name).exists(), name
    return quarantined.with_name(name + ".reason.txt").read_text(encoding="utf-8")


def test_bad_files_beside_good_ones_do_not_fail_the_refresh(mixed: dict) -> None:
    run = mixed["run"]
    assert run.returncode == 0, run.tail()
    out = " ".join(run.stdout.split())
    quarantined = "2 files quarantined"
    assert "rosstat: 6 rows from 1 files" in out and quarantined in out
    assert "eurostat:" in out and "2 files quarantined" in out
    assert "csv: nothing to import: give it --path csv=…" in out


def test_each_bad_file_is_quarantined_with_its_reason(mixed: dict) -> None:
    home = mixed["home"]
    assert "population_regions.xlsx" in _reason(home, "rosstat", "population_regions.xlsx")
    assert "estat_nama_10r_2gdp_en.csv" in _reason(home, "eurostat", "estat_nama_10r_2gdp_en.csv")
    assert "nama_10r_2gdp.json" in _reason(home, "eurostat", "nama_10r_2gdp.json")
    rejects = query(Paths(home).work_db, "SELECT source, origin, reason FROM raw.rejects "
                                         "WHERE reason LIKE 'file not imported:%' ORDER BY origin")
    assert [Path(o).name for o in rejects.origin] == ["estat_nama_10r_2gdp_en.csv", "nama_10r_2gdp.json",
                                                       "population_regions.xlsx", "regions_2023_razdel9.xlsx"]


def test_a_sheet_declaring_a_cell_at_xfd1048576_is_quarantined_not_a_crash(mixed: dict) -> None:
    assert "regions_2023_razdel9.xlsx" in _reason(mixed["home"], "rosstat", "regions_2023_razdel9.xlsx")


def test_the_good_files_are_loaded_and_published(mixed: dict) -> None:
    published = Paths(mixed["home"]).published_db
    by_source = query(published, "SELECT source, count(*) AS n FROM marts.observations GROUP BY 1 ORDER BY 1")
    assert by_source.source.tolist() == ["eurostat", "rosstat"] and (by_source.n > 0).all()
    sve = query(published, "SELECT value FROM marts.observations WHERE source = 'rosstat' AND region_code = "
                           "'RU-SVE' ORDER BY period")
    assert sve.value.tolist() == [950000.0, 1050000.0]


def test_nothing_was_retried_and_the_ingest_took_seconds(mixed: dict) -> None:
    stages = _stage_seconds(mixed["run"].stderr)
    for source in ("rosstat", "eurostat", "csv"):
        assert stages[f"ingest ({source})"] < 20, stages
    with DagsterInstance.from_config(str(Paths(mixed["home"]).dagster_home)) as instance:
        (run,) = instance.get_runs()
        retries = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY).records
        assert run.is_success and retries == []


def test_every_file_bad_fails_once_with_the_reasons_as_its_last_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    inbox = Paths(home).inbox / "rosstat"
    inbox.mkdir(parents=True)
    emiss_workbook(inbox / "population_regions.xlsx")
    (inbox / "regions_2023_9.xlsx").write_bytes(b"<html>Service unavailable</html>")
    run = run_cli(home, "refresh", "--source", "rosstat")
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: ingest (rosstat): 2 files quarantined (moved to {inbox / 'quarantine'}/ with a "
                           ".reason.txt): population_regions.xlsx: ")
    assert "; regions_2023_9.xlsx: " in last and "HTML" in last
    assert "Traceback" not in run.stdout + run.stderr and "max_retries" not in run.stderr
    assert run.seconds < 60  # no back-off: the same files fail the same way
    assert sorted(p.name for p in (inbox / "quarantine").iterdir()) == [
        "population_regions.xlsx", "population_regions.xlsx.reason.txt", "regions_2023_9.xlsx",
        "regions_2023_9.xlsx.reason.txt"]


def test_verbose_prints_the_stack_trace_before_the_same_last_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (Paths(home).inbox / "csv").mkdir(parents=True)
    (Paths(home).inbox / "csv" / "series.csv").write_text("not,a,contract\n1,2,3\n", encoding="utf-8")
    quiet = run_cli(home, "refresh", "--source", "csv")
    (Paths(home).inbox / "csv" / "series.csv").write_text("not,a,contract\n1,2,3\n", encoding="utf-8")
    loud = run_cli(home, "refresh", "--source", "csv", "--verbose")
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and "Stack Trace" not in quiet.stderr
    assert "Stack Trace" in loud.stderr or "Traceback" in loud.stderr
    assert quiet.stderr.strip().splitlines()[-1].startswith("error: ingest (csv): ")
    assert loud.stderr.strip().splitlines()[-1].startswith("error: ingest (csv): ")
