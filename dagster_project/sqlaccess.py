"""Read-only, bounded SQL on the published warehouse (what `regiocode sql` runs).

Three guards, each enough on its own for its threat:
- the file is opened ``read_only`` (no write can reach it);
- only SELECT-type statements are accepted (DuckDB's own parser classifies them, so comments or
  odd casing cannot hide an INSERT/ATTACH/COPY/INSTALL);
- external access is disabled and the configuration locked, so a SELECT cannot read or write
  files outside the warehouse (read_csv('/etc/passwd'), COPY ... TO, ATTACH, INSTALL/LOAD).
A query runs under a timeout (interrupted, not abandoned) and the table format stops at a row limit.
Memory is bounded too: a memory limit (``REGIOCODE_SQL_MEMORY_LIMIT``, default 2GB) and no spilling
to disk (DuckDB would otherwise write temporary files beside the published warehouse), so a runaway
query fails with "Out of Memory" instead of exhausting the machine that runs the refresh.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from dagster_project import settings

ALLOWED_STATEMENTS = {"SELECT", "EXPLAIN"}
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_ROW_LIMIT = 1000
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SqlRefused(ValueError):
    """The statement is not a read-only query; the message says why and what is allowed."""


class SqlFailed(RuntimeError):
    """The query is allowed but failed (syntax, unknown table, timeout)."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def reader_config() -> dict[str, str | bool]:
    """DuckDB settings of every reader connection: no file access, bounded memory, no spill files."""
    return {
        "enable_external_access": False,
        "memory_limit": settings.sql_memory_limit(),
        "temp_directory": "",
        "max_temp_directory_size": "0GB",
    }


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SqlFailed(f"no published warehouse at {path}: run `regiocode refresh` first (or set REGIOCODE_HOME)")
    con = duckdb.connect(str(path), read_only=True, config=reader_config())
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise SqlFailed(f"could not parse the query: {err}") from err
    if not statements:
        raise SqlRefused("no SQL statement given")
    for statement in statements:
        kind = statement.type.name
        if kind not in ALLOWED_STATEMENTS:
            raise SqlRefused(
                f"refused: {kind} statements are not allowed; the published warehouse is read-only and "
                f"`regiocode sql` runs only SELECT queries (no INSERT/UPDATE/DELETE/CREATE/DROP, ATTACH, COPY, "
                f"INSTALL/LOAD, SET)"
            )


def run_query(path: Path, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, row_limit: int | None = None) -> QueryResult:
    con = open_readonly(path)
    try:
        check_read_only(con, sql)
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            if row_limit is None:
                rows = cursor.fetchall()
                truncated = False
            else:
                rows = cursor.fetchmany(row_limit + 1)
                truncated = len(rows) > row_limit
                rows = rows[:row_limit]
        except duckdb.InterruptException as err:
            raise SqlFailed(f"query interrupted after the {timeout_s:g} s timeout (--timeout to change)") from err
        except duckdb.PermissionException as err:
            raise SqlRefused(f"refused: {err} (reading files outside the warehouse is not allowed)") from err
        except duckdb.OutOfMemoryException as err:
            raise SqlFailed(
                f"query ran out of its memory limit ({reader_config()['memory_limit']}, REGIOCODE_SQL_MEMORY_LIMIT "
                f"to change): {str(err).splitlines()[0]}"
            ) from err
        except duckdb.Error as err:
            raise SqlFailed(f"query failed: {err}") from err
        finally:
            timer.cancel()
    finally:
        con.close()
    return QueryResult(columns=columns, rows=rows, truncated=truncated)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def neutralise_formula(value: Any) -> Any:
    """A cell starting with = + - @ is a formula to a spreadsheet: prefix it with a quote.
    Numbers are left alone (a negative number is data, not a formula)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise_formula(c) for c in result.columns])
    for row in result.rows:
        writer.writerow([neutralise_formula(_plain(v)) for v in row])
    return buffer.getvalue()


def to_json(result: QueryResult) -> str:
    records = [{c: _plain(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows]
    return json.dumps(records, ensure_ascii=False, default=str, indent=1)
