"""`regiocode sql` beyond tests/operations/test_sqlaccess.py: file readers, PRAGMA/CALL, wrapped
statements, Unicode tricks, memory and spill bounds."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project import sqlaccess


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse" / "regiocode.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.t AS SELECT range AS i FROM range(10)")
    con.close()
    secret = tmp_path / "secret.parquet"
    duckdb.sql(f"COPY (SELECT 'top secret' AS s) TO '{secret}' (FORMAT parquet)")
    (tmp_path / "secret.csv").write_text("s\ntop secret\n")
    return path


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_parquet('{dir}/secret.parquet')",
    "SELECT * FROM '{dir}/secret.parquet'",  # replacement scan: a path as a table name
    "SELECT * FROM '{dir}/secret.csv'",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM read_text('{dir}/secret.csv')",
    "SELECT * FROM read_blob('{dir}/secret.csv')",
    "SELECT * FROM read_json_auto('{dir}/secret.csv')",
    "SELECT * FROM sniff_csv('{dir}/secret.csv')",
    "SELECT * FROM duckdb_secrets()",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{dir}/out.csv'",
])
def test_no_file_is_read_or_written(warehouse: Path, sql: str) -> None:
    with pytest.raises(sqlaccess.SqlRefused, match="refused"):
        sqlaccess.run_query(warehouse, sql.format(dir=warehouse.parent.parent))
    assert not (warehouse.parent.parent / "out.csv").exists()


@pytest.mark.parametrize("sql", [
    "PRAGMA database_list",
    "CALL pragma_database_list()",
    "CHECKPOINT",
    "VACUUM",
    "EXPORT DATABASE 'dump'",
    "DETACH regiocode",
    "USE memory",
    "RESET threads",
    "SELECT 1;\u200bDROP TABLE marts.t",  # zero-width space before the second statement
    "SELECT 1; -- comment\nDROP TABLE marts.t",
    "PIVOT marts.t ON i",  # a multi-statement in disguise (creates a type)
])
def test_refused_statement_kinds(warehouse: Path, sql: str) -> None:
    with pytest.raises(sqlaccess.SqlRefused, match="not allowed"):
        sqlaccess.run_query(warehouse, sql)


@pytest.mark.parametrize("sql", [
    "WITH x AS (DELETE FROM marts.t RETURNING *) SELECT * FROM x",  # a write inside a SELECT
    "SELECT * FROM query('DROP TABLE marts.t')",  # a statement smuggled as a string
    "SELECT * FROM query('COPY marts.t TO ''x.csv''')",
    "ＳＥＬＥＣＴ 1",  # full-width letters are not keywords
    "SELECT 1\uff1b DROP TABLE marts.t",  # full-width semicolon is not a separator
    "SELECT getenv('HOME')",  # no environment variables (they may hold secrets)
])
def test_wrapped_writes_and_unicode_fail_without_effect(warehouse: Path, sql: str) -> None:
    with pytest.raises((sqlaccess.SqlFailed, sqlaccess.SqlRefused)):
        sqlaccess.run_query(warehouse, sql)
    assert sqlaccess.run_query(warehouse, "SELECT count(*) FROM marts.t").rows == [(10,)]


def test_memory_is_bounded_and_nothing_spills_beside_the_warehouse(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGIOCODE_SQL_MEMORY_LIMIT", "64MB")
    heavy = "SELECT count(*) FROM (SELECT range r, md5(range::varchar) s FROM range(20000000) ORDER BY s)"
    with pytest.raises(sqlaccess.SqlFailed, match="memory limit.*64MB"):
        sqlaccess.run_query(warehouse, heavy, timeout_s=120)
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["regiocode.duckdb"]
    settings = dict(sqlaccess.run_query(
        warehouse, "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('enable_external_access', 'temp_directory', 'lock_configuration', 'memory_limit')").rows)
    assert settings["enable_external_access"] == "false" and settings["lock_configuration"] == "true"
    assert settings["temp_directory"] == ""


def test_query_describes_and_summarises_are_allowed(warehouse: Path) -> None:
    assert sqlaccess.run_query(warehouse, "FROM marts.t SELECT max(i)").rows == [(9,)]
    assert sqlaccess.run_query(warehouse, "DESCRIBE marts.t").rows[0][:2] == ("i", "BIGINT")
    assert sqlaccess.run_query(warehouse, "SELECT * FROM query('SELECT 41 + 1')").rows == [(42,)]
