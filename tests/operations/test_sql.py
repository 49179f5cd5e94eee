"""`regiocode sql`, what may run: read-only statements are accepted by what they do (a dynamic PIVOT, SHOW,
DESCRIBE, EXPLAIN of a query), anything that writes, attaches, copies, loads or sets is refused; no file
outside the warehouse is read or written; memory and time are bounded; a published file another process
holds open for writing is reported in one line. How results come out: tests/operations/test_sql_output.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dagster_project import sqlaccess
from dagster_project.cli import app
from dagster_project.settings import Paths


def make_home(root: Path) -> Path:
    """A home whose published warehouse has a few marts (and files outside it that must stay unread)."""
    home = root / "home"
    path = Paths(home).published_db
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.t AS SELECT range AS i, range % 3 AS g, 2000 + range % 4 AS year, "
                "range / 7 AS v FROM range(10)")
    con.execute("CREATE TABLE marts.strategy AS SELECT 'RU-SVE' AS region_code, 'smart_specialisation' AS decision")
    con.close()
    duckdb.sql(f"COPY (SELECT 'top secret' AS s) TO '{root / 'secret.parquet'}' (FORMAT parquet)")
    (root / "secret.csv").write_text("s\ntop secret\n")
    return home


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path)


def sql(home: Path, query: str, *options: str):
    """``regiocode sql QUERY --home HOME OPTIONS``, in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, ["sql", query, "--home", str(home), *options])
    return result.exit_code, result.stdout, result.stderr


def rows(home: Path, query: str) -> list[dict]:
    import json

    code, out, err = sql(home, query, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# ----------------------------------------------------------------------------------- accepted by what it does


@pytest.mark.parametrize(("query", "expected"), [
    ("show tables", [{"name": "strategy"}, {"name": "t"}]),  # marts is the default schema
    ("from strategy select decision", [{"decision": "smart_specialisation"}]),
    ("SELECT max(i) AS m FROM marts.t", [{"m": 9}]),
    ("FROM t SELECT count(*) AS n", [{"n": 10}]),
    ("WITH x AS (SELECT 41 AS a) SELECT a + 1 AS a FROM x", [{"a": 42}]),
    ("VALUES (1)", [{"col0": 1}]),
    ("SELECT * FROM query('SELECT 41 + 1 AS a')", [{"a": 42}]),
])
def test_queries_run(home: Path, query: str, expected: list[dict]) -> None:
    assert rows(home, query) == expected


def test_a_dynamic_pivot_is_a_query_though_duckdb_expands_it_into_several_statements(home: Path) -> None:
    """The natural region × year table: PIVOT … ON year with no IN list (DuckDB's statement type: MULTI)."""
    assert duckdb.connect().extract_statements("PIVOT t ON year USING sum(v)")[0].type.name == "MULTI"
    got = rows(home, "PIVOT t ON year USING count(*) GROUP BY g ORDER BY g")
    assert [list(r) for r in got][0] == ["g", "2000", "2001", "2002", "2003"]
    assert sum(sum(v for k, v in r.items() if k != "g") for r in got) == 10
    assert rows(home, "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v") == [
        {"k": "a", "v": 1}, {"k": "b", "v": 2}]


def test_describe_summarize_and_explain_of_a_query_run(home: Path) -> None:
    assert rows(home, "DESCRIBE t")[0]["column_name"] == "i"
    assert {r["column_name"] for r in rows(home, "SUMMARIZE t")} == {"i", "g", "year", "v"}
    for explain in ("EXPLAIN SELECT * FROM t", "EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN ANALYZE PIVOT t ON year"):
        code, out, err = sql(home, explain)
        assert code == 0, err
        assert "physical_plan" in out or "Physical Plan" in out or "┌" in out


# ----------------------------------------------------------------------------------- refused


@pytest.mark.parametrize("query", [
    "INSERT INTO marts.t VALUES (1, 1, 1, 1)",
    "drop table marts.t",
    "/* sneaky */ DELETE FROM marts.t",
    "ATTACH 'other.duckdb' AS o",
    "COPY (SELECT 1) TO 'out.csv'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 1",
    "RESET threads",
    "CREATE TABLE x AS SELECT 1",
    "CREATE TABLE x AS PIVOT t ON year",  # a write wrapped around a dynamic pivot (MULTI too)
    "INSERT INTO t PIVOT t ON year",
    "COPY (PIVOT t ON year) TO 'out.csv'",
    "SELECT 1; DROP TABLE marts.t",
    "SELECT 1;\u200bDROP TABLE marts.t",  # zero-width space before the second statement
    "SELECT 1; -- comment\nDROP TABLE marts.t",
    "PRAGMA database_list",
    "CALL pragma_database_list()",
    "CHECKPOINT",
    "VACUUM",
    "EXPORT DATABASE 'dump'",
    "DETACH regiocode",
    "USE memory",
    "EXPLAIN ANALYZE DELETE FROM marts.t",  # EXPLAIN ANALYZE runs what it explains: only of a query
    "EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1",
    "EXPLAIN /* hidden */ ANALYZE COPY (SELECT 1) TO 'out.csv'",
    "EXPLAIN (FORMAT json) DELETE FROM marts.t",
])
def test_anything_but_a_read_is_refused_with_exit_3(home: Path, query: str) -> None:
    code, out, err = sql(home, query)
    assert code == 3 and out == ""
    assert "not allowed" in err and len(err.strip().splitlines()) == 1
    assert rows(home, "SELECT count(*) AS n FROM marts.t") == [{"n": 10}]
    assert not (home / "out.csv").exists() and not Path("out.csv").exists()


def test_explain_analyze_says_it_would_run_the_statement(home: Path) -> None:
    code, _, err = sql(home, "EXPLAIN ANALYZE DELETE FROM marts.t")
    assert code == 3 and err.startswith("error: refused: EXPLAIN ANALYZE runs the statement it explains, and DELETE "
                                        "statements are not allowed")


@pytest.mark.parametrize("query", [
    "SELECT * FROM read_parquet('{dir}/secret.parquet')",
    "SELECT * FROM '{dir}/secret.parquet'",  # replacement scan: a path as a table name
    "SELECT * FROM '{dir}/secret.csv'",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM read_text('{dir}/secret.csv')",
    "SELECT * FROM read_blob('{dir}/secret.csv')",
    "SELECT * FROM read_json_auto('{dir}/secret.csv')",
    "SELECT * FROM sniff_csv('{dir}/secret.csv')",
    "SELECT * FROM duckdb_secrets()",
])
def test_no_file_outside_the_warehouse_is_read(home: Path, query: str) -> None:
    code, out, err = sql(home, query.format(dir=home.parent))
    assert code == 3 and "refused" in err and "top secret" not in out


@pytest.mark.parametrize("query", [
    "WITH x AS (DELETE FROM marts.t RETURNING *) SELECT * FROM x",  # a write inside a SELECT
    "SELECT * FROM query('DROP TABLE marts.t')",  # a statement smuggled as a string
    "SELECT * FROM query('COPY marts.t TO ''x.csv''')",
    "ＳＥＬＥＣＴ 1",  # full-width letters are not keywords
    "SELECT 1\uff1b DROP TABLE marts.t",  # full-width semicolon is not a separator
    "SELECT getenv('HOME')",  # no environment variables (they may hold secrets)
])
def test_wrapped_writes_and_unicode_fail_without_effect(home: Path, query: str) -> None:
    code, _, err = sql(home, query)
    assert code in (1, 3) and err.startswith("error: ")
    assert rows(home, "SELECT count(*) AS n FROM marts.t") == [{"n": 10}]


def test_classification_reads_what_a_statement_does() -> None:
    assert sqlaccess.reads_only("PIVOT t ON year USING sum(v)")
    assert not sqlaccess.reads_only("CREATE TABLE x AS PIVOT t ON year")
    assert not sqlaccess.reads_only("WITH p AS (PIVOT t ON year) INSERT INTO y SELECT * FROM p")
    assert sqlaccess.reads_only("PIVOT t ON year USING first('insert into x')")  # a string is data, not a keyword
    assert sqlaccess.explained("EXPLAIN ANALYZE SELECT 1") == (True, "SELECT 1")
    assert sqlaccess.explained("EXPLAIN (FORMAT json, ANALYZE) DELETE FROM t") == (True, "DELETE FROM t")
    assert sqlaccess.explained("explain select 1") == (False, "select 1")


# ----------------------------------------------------------------------------------- bounds


def test_a_bad_query_is_one_clear_line(home: Path) -> None:
    code, out, err = sql(home, "SELECT * FROM marts.nope")
    assert code == 1 and out == "" and err.startswith("error: query failed: Catalog Error") and "nope" in err


def test_memory_is_bounded_and_nothing_spills_beside_the_warehouse(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("REGIOCODE_SQL_MEMORY_LIMIT", "64MB")
    heavy = "SELECT count(*) FROM (SELECT range r, md5(range::varchar) s FROM range(20000000) ORDER BY s)"
    code, _, err = sql(home, heavy, "--timeout", "120")
    assert code == 1 and "memory limit (64MB" in err
    published = Paths(home).published_db
    assert sorted(p.name for p in published.parent.iterdir()) == ["regiocode.duckdb"]
    settings = {r["name"]: r["value"] for r in rows(home, "SELECT name, value FROM duckdb_settings() WHERE name IN "
                                                          "('enable_external_access', 'temp_directory', "
                                                          "'lock_configuration')")}
    assert settings == {"enable_external_access": "false", "lock_configuration": "true", "temp_directory": ""}


def test_a_query_stops_at_its_timeout(home: Path) -> None:
    code, _, err = sql(home, "SELECT count(*) FROM range(10000000000) a", "--timeout", "0.3")
    assert code == 1 and "timeout" in err


def test_a_file_held_open_for_writing_is_one_line_naming_the_process(home: Path) -> None:
    """A BI tool in its default read-write mode locks the published file: `regiocode sql` says who and how to
    connect read-only, in one line, without a traceback."""
    published = Paths(home).published_db
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(60)", str(published)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        code, out, err = sql(home, "SELECT 1")
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"held open for writing by process {holder.pid} (" in err
    assert "read_only=True" in err and "access_mode=read_only" in err and "duckdb.read_only=true" in err
