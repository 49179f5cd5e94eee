"""`regiocode sql` is read-only and bounded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project import sqlaccess


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "regiocode.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.t AS SELECT range AS i, '=HYPERLINK(\"x\")' AS s FROM range(5000)")
    con.close()
    return path


@pytest.mark.parametrize("sql", [
    "INSERT INTO marts.t VALUES (1, 'x')",
    "drop table marts.t",
    "/* sneaky */ DELETE FROM marts.t",
    "ATTACH 'other.duckdb' AS o",
    "COPY (SELECT 1) TO 'out.csv'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 1",
    "CREATE TABLE x AS SELECT 1",
    "SELECT 1; DROP TABLE marts.t",
])
def test_refuses_anything_but_queries(warehouse: Path, sql: str) -> None:
    with pytest.raises(sqlaccess.SqlRefused, match="not allowed"):
        sqlaccess.run_query(warehouse, sql)
    assert sqlaccess.run_query(warehouse, "SELECT count(*) FROM marts.t").rows == [(5000,)]


def test_cannot_read_files_outside_the_warehouse(warehouse: Path) -> None:
    with pytest.raises(sqlaccess.SqlRefused, match="outside the warehouse"):
        sqlaccess.run_query(warehouse, "SELECT * FROM read_csv('/etc/passwd')")


def test_row_limit_and_timeout(warehouse: Path) -> None:
    result = sqlaccess.run_query(warehouse, "SELECT i FROM marts.t ORDER BY i", row_limit=10)
    assert len(result.rows) == 10 and result.truncated
    with pytest.raises(sqlaccess.SqlFailed, match="timeout"):
        sqlaccess.run_query(warehouse, "SELECT count(*) FROM range(10000000000) a", timeout_s=0.3)


def test_bad_query_is_a_clear_error(warehouse: Path) -> None:
    with pytest.raises(sqlaccess.SqlFailed, match="marts.nope"):
        sqlaccess.run_query(warehouse, "SELECT * FROM marts.nope")


def test_csv_neutralises_formulas(warehouse: Path) -> None:
    result = sqlaccess.run_query(warehouse, "SELECT s, -1.5 AS n, '+7' AS p, '@x' AS a FROM marts.t LIMIT 1")
    text = sqlaccess.to_csv(result)
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"x\"\")\",-1.5,'+7,'@x"
