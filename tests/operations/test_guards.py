"""The operations guards one by one, on small DuckDB files written here (fast, no refresh)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import duckdb
import pytest

from dagster_project import checks, settings, warehouse
from dagster_project.checks import PublicationRefused, check_row_drop, check_units, publication_gate


def raw_db(path: Path, rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    warehouse.ensure_raw_schema(con)
    for row in rows:
        full = {"dataset": "d", "table_code": "t", "region_key": row.get("region_code"), "indicator_key": "k",
                "period": 2020, "release": "r1", "release_date": None, "retrieved_at": None, "origin": "f",
                "cell_ref": "A1", "flag": None, "unit": None, **row}
        cols = ", ".join(full)
        con.execute(f"INSERT INTO raw.observations ({cols}) VALUES ({', '.join('?' for _ in full)})",
                    list(full.values()))
    return con


# ----------------------------------------------------------------------------- test hook


def test_pause_hook_is_inert_unless_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "m"
    monkeypatch.delenv(settings.TEST_PAUSE_AT.env, raising=False)
    started = time.monotonic()
    warehouse.pause_for_test("publish")
    monkeypatch.setenv(settings.TEST_PAUSE_AT.env, f"ingest:{marker}")
    warehouse.pause_for_test("publish")  # another stage: nothing
    assert time.monotonic() - started < 0.5 and not marker.exists()
    monkeypatch.setenv("REGIOCODE_TEST_PAUSE_SECONDS", "0")
    warehouse.pause_for_test("ingest")
    assert marker.read_text().split() == [str(os.getpid()), "ingest"]


def test_cli_and_dagster_never_set_the_hook() -> None:
    """Production code only reads the variable (settings declares it); nothing in the package sets it."""
    package = Path(warehouse.__file__).parent
    setters = [p for p in package.rglob("*.py")
               if "REGIOCODE_TEST_PAUSE_AT" in p.read_text() and p.name != "settings.py"]
    assert setters == []


# ----------------------------------------------------------------------------- publish


def _db(path: Path, value: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute(f"CREATE OR REPLACE TABLE t AS SELECT {value} AS build")
    con.close()
    return path


def test_publish_removes_copies_left_by_a_killed_publish_only(tmp_path: Path) -> None:
    published = tmp_path / "warehouse" / "regiocode.duckdb"
    warehouse.publish(_db(tmp_path / "w.duckdb", 1), published)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # a process that has exited
    stale = published.with_name(f".regiocode.duckdb.{dead_pid}.0123abcd.tmp")
    live = published.with_name(f".regiocode.duckdb.{os.getpid()}.89abcdef.tmp")  # a publish in progress
    other = published.with_name("notes.tmp")
    for path in (stale, live, other):
        path.write_bytes(b"x" * 1000)
    warehouse.publish(_db(tmp_path / "w.duckdb", 2), published)
    assert not stale.exists() and live.exists() and other.exists()
    con = warehouse.connect_published(published)
    assert con.execute("SELECT build FROM t").fetchone() == (2,)
    con.close()


def test_publish_refuses_a_full_disk_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = tmp_path / "warehouse" / "regiocode.duckdb"
    warehouse.publish(_db(tmp_path / "w.duckdb", 1), published)
    before = published.read_bytes()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(warehouse.shutil, "disk_usage", lambda _: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(OSError, match="not enough free disk space"):
        warehouse.publish(_db(tmp_path / "w.duckdb", 2), published)
    assert published.read_bytes() == before
    assert list(published.parent.glob("*.tmp")) == []


def test_publish_failing_write_leaves_published_and_no_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up half-way through the copy (ENOSPC): the reader's file is untouched."""
    published = tmp_path / "warehouse" / "regiocode.duckdb"
    warehouse.publish(_db(tmp_path / "w.duckdb", 1), published)
    before = published.read_bytes()

    def half_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:4096])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(warehouse.shutil, "copyfile", half_copy)
    with pytest.raises(OSError, match="No space left"):
        warehouse.publish(_db(tmp_path / "w.duckdb", 2), published)
    assert published.read_bytes() == before
    assert list(published.parent.glob("*.tmp")) == []


# ----------------------------------------------------------------------------- raw checks


def test_units_check_flags_a_table_printed_in_thousands(tmp_path: Path) -> None:
    yearbook = {"source": "rosstat", "dataset": "regions_of_russia"}
    rows = [
        # GRP per capita is mapped where the unit reads «рублей»: spacing and case do not matter ...
        {**yearbook, "table_code": "8.2.", "indicator_code": "grp_per_capita", "region_code": "RU-SVE",
         "unit": " Рублей", "value": 1.0},
        # ... a reprint in thousands does (rows loaded by an older mapping: the importer would not map it).
        {**yearbook, "table_code": "8.2.", "indicator_code": "grp_per_capita", "region_code": "RU-PER",
         "unit": "тысяч рублей", "value": 1.0, "release": "r2", "period": 2021},
        # The federation row of the budget revenue table in billions is a known conversion (unit_conversions.csv).
        {**yearbook, "table_code": "19.1.", "indicator_code": "budget_revenue_total", "region_code": "RU",
         "unit": "млрд руб.", "value": 1.0},
    ]
    con = raw_db(tmp_path / "w.duckdb", rows)
    finding = check_units(con, ["rosstat"])
    assert not finding.passed and finding.offending == 1
    assert finding.preview[["table_code", "unit", "expected_unit"]].values.tolist() == [
        ["8.2.", "тысяч рублей", "/^рублей$/"]]
    assert check_units(con, ["demo"]).passed  # not checked when Rosstat is not an active source


def test_negative_values_allowed_only_for_signed_indicators(tmp_path: Path) -> None:
    con = raw_db(tmp_path / "w.duckdb", [
        {"source": "demo", "indicator_code": "migration_balance_per_10000", "region_code": "RU-SVE", "value": -12.5},
        {"source": "demo", "indicator_code": "population", "region_code": "RU-PER", "value": -1.0},
        # an earlier release that was negative, superseded by a corrected one: fine
        {"source": "demo", "indicator_code": "population", "region_code": "RU-SVE", "value": -3.0,
         "release": "r0", "release_date": "2020-01-01"},
        {"source": "demo", "indicator_code": "population", "region_code": "RU-SVE", "value": 4290.0,
         "release": "r1", "release_date": "2021-01-01"},
    ])
    finding = checks.check_negative_values(con, ["demo"])
    assert finding.offending == 1
    assert finding.preview[["region_code", "value"]].values.tolist() == [["RU-PER", -1.0]]


def test_row_drop_threshold_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = {"observations_by_source": {"rosstat": 100}}  # the record the last publish wrote
    rows = [{"source": "rosstat", "region_code": f"R{i}", "indicator_code": "population", "value": 1.0}
            for i in range(75)]
    work = raw_db(tmp_path / "w.duckdb", rows)
    assert check_row_drop(work, published, share=0.25).passed  # exactly 25 % fewer: allowed
    work.execute("DELETE FROM raw.observations WHERE region_code = 'R0'")
    finding = check_row_drop(work, published, share=0.25)
    assert not finding.passed and finding.offending == 26
    assert finding.one_line().startswith("no_sudden_row_drop: rows per source dropped by more than 25%")
    assert "(26 offending rows; first: source=rosstat, published=100, now=74" in finding.one_line()
    monkeypatch.setenv("REGIOCODE_MAX_ROW_DROP", "1")
    assert check_row_drop(work, published).passed  # an intended cut, accepted for one run
    assert check_row_drop(work, None).passed  # first build: nothing to compare


def test_thresholds_come_from_dbt_project() -> None:
    assert checks.signed_indicators() == ("migration_balance_per_10000",)
    assert checks.max_row_drop() == 0.25


# ----------------------------------------------------------------------------- publication gate


def _marts_db(path: Path, code: float, contributions: int, sources: str = "demo") -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(f"CREATE TABLE marts.build_info AS SELECT '{sources}' AS sources")
    con.execute(f"CREATE TABLE marts.defining_codes AS SELECT 'RU-SVE' AS region_code, 2023 AS year, "
                f"{code} AS production_code, 0.5 AS institutional_code, 0.5 AS social_code, "
                f"NULL AS production_null_reason")
    con.execute(f"CREATE TABLE marts.code_contributions AS SELECT 'RU-SVE' AS region_code, 2023 AS year, "
                f"0.5 AS normalised_value FROM range({contributions})")
    for table in ("observations", "dynamic_codes", "basic_code"):
        con.execute(f"CREATE TABLE marts.{table} AS SELECT 1 AS x")
    con.close()
    return path


def _record(path: Path) -> dict:
    """What a publish of ``path`` records (the checks compare with it, never with the published file)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return warehouse.build_facts(con)
    finally:
        con.close()


def test_publication_gate(tmp_path: Path) -> None:
    published = _record(_marts_db(tmp_path / "pub.duckdb", 0.5, 100))
    assert [f.name for f in publication_gate(_marts_db(tmp_path / "ok.duckdb", 1.0, 80), published)] == [
        "some_defining_code", "codes_in_unit_interval", "no_sudden_mart_drop"]
    with pytest.raises(PublicationRefused) as refused:
        publication_gate(_marts_db(tmp_path / "bad.duckdb", -0.2, 50), published)
    message = str(refused.value)
    assert "\n" not in message  # one line; the offending rows are in refused.findings for the run log
    assert "codes_in_unit_interval" in message and "-0.2" in message and "production_code" in message
    assert "no_sudden_mart_drop" in message and "code_contributions" in message
    assert publication_gate(_marts_db(tmp_path / "first.duckdb", 0.1, 1), None)
    # Other sources than the published build (demo -> rosstat): the marts are not compared.
    switched = publication_gate(_marts_db(tmp_path / "switch.duckdb", 0.5, 10, sources="rosstat"), published)
    assert switched[2].passed and "sources changed" in switched[2].description


def test_publication_gate_refuses_a_build_without_any_defining_code(tmp_path: Path) -> None:
    """An Eurostat-only refresh of files too thin for any code: nothing to read, so nothing is published."""
    thin = _marts_db(tmp_path / "thin.duckdb", 0.5, 10)
    con = duckdb.connect(str(thin))
    con.execute("CREATE OR REPLACE TABLE marts.defining_codes AS SELECT 'DE11' AS region_code, 2022 AS year, "
                "NULL::DOUBLE AS production_code, NULL::DOUBLE AS institutional_code, NULL::DOUBLE AS social_code, "
                "'insufficient coverage: 1 of 7 indicators' AS production_null_reason FROM range(3)")
    con.close()
    with pytest.raises(PublicationRefused) as refused:
        publication_gate(thin, None)
    message = str(refused.value)
    assert message.startswith("publication refused, the published warehouse was left as it was: "
                              "some_defining_code: no region has any defining code (P, I or S)")
    assert "regiocode sources NAME --report" in message and "insufficient coverage: 1 of 7 indicators" in message
