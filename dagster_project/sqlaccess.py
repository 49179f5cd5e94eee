"""Read-only, bounded SQL on the published warehouse (what `regiocode sql` runs).

Guards, each enough on its own for its threat:

* the file is opened ``read_only`` (no write can reach it), with ``marts`` as the default schema
  (``show tables``, ``from strategy``);
* a statement is accepted by what it does, not by how DuckDB packages it: queries (``SELECT``, ``FROM``,
  ``WITH``, ``VALUES``, ``TABLE``, ``PIVOT`` — a dynamic pivot too, which DuckDB expands into several
  statements —, ``UNPIVOT``, ``SHOW``, ``DESCRIBE``, ``SUMMARIZE``) and ``EXPLAIN [ANALYZE]`` of a query;
  anything that writes, attaches, copies, installs, loads or sets is refused with a message
  (DuckDB's own parser and tokenizer classify them, so comments or odd casing hide nothing);
* external access is disabled and the configuration locked, so a query cannot read or write files outside
  the warehouse (``read_csv('/etc/passwd')``, ``COPY … TO``, ``ATTACH``, ``INSTALL``/``LOAD``).

Every query runs under a timeout (``--timeout``: interrupted, not abandoned, also while rows are being
written out) and a memory limit (``REGIOCODE_SQL_MEMORY_LIMIT``, no spilling to disk: DuckDB would write
temporary files beside the published warehouse). Results are streamed (:mod:`dagster_project.rendering`),
so a CSV of 300 M rows costs the memory of one batch and stops at the timeout.

A published file another process holds open for writing (a BI tool left in its default read-write mode) is
reported in one line naming the process and how to connect read-only (:func:`lock_message`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from dagster_project import settings

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_SCHEMA = "marts"
# The first keyword of a statement that only reads (a query), and keywords that never appear in one.
QUERY_KEYWORDS = {"SELECT", "FROM", "WITH", "VALUES", "TABLE", "PIVOT", "PIVOT_WIDER", "UNPIVOT", "PIVOT_LONGER",
                  "SHOW", "DESCRIBE", "DESC", "SUMMARIZE"}
WRITE_KEYWORDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "DROP", "ALTER", "COPY", "ATTACH",
                  "DETACH", "INSTALL", "LOAD", "SET", "RESET", "PRAGMA", "CALL", "CHECKPOINT", "VACUUM", "EXPORT",
                  "IMPORT", "USE", "COMMENT", "GRANT", "REVOKE"}
_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>[^.\s]+))?")


class SqlRefused(ValueError):
    """The statement is not a read-only query; the message says why and what is allowed."""


class SqlFailed(RuntimeError):
    """The query is allowed but failed (syntax, unknown table, timeout, memory, a locked file)."""


def reader_config() -> dict[str, str | bool]:
    """DuckDB settings of every reader connection: no file access, bounded memory, no spill files."""
    return {
        "enable_external_access": False,
        "memory_limit": settings.sql_memory_limit(),
        "temp_directory": "",
        "max_temp_directory_size": "0GB",
    }


def lock_message(path: Path, err: duckdb.Error) -> str:
    """One line: which process holds ``path`` open for writing, and how to connect read-only instead."""
    match = _LOCK.search(str(err))
    holder = (f"process {match['pid']} ({match['program']}{', user ' + match['user'] if match['user'] else ''})"
              if match else "another process")
    return (f"{path} is held open for writing by {holder}, so no one can read it; reconnect that tool read-only "
            f"(Python: duckdb.connect(path, read_only=True); SQLAlchemy/Superset: "
            f"duckdb:///{path}?access_mode=read_only; DBeaver/JDBC: driver property duckdb.read_only=true; "
            "DuckDB CLI: duckdb -readonly) or close it; the next refresh publishes a new file there anyway")


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """A reader connection to the published warehouse (:func:`reader_config`, ``marts`` the default schema,
    configuration locked). :class:`SqlFailed` when there is none yet or another process locks it."""
    if not path.exists():
        raise SqlFailed(f"no published warehouse at {path}: run `regiocode refresh` first (or set REGIOCODE_HOME)")
    try:
        con = duckdb.connect(str(path), read_only=True, config=reader_config())
    except duckdb.IOException as err:
        if "lock" in str(err).lower():
            raise SqlFailed(lock_message(path, err)) from err
        raise SqlFailed(f"cannot open {path}: {str(err).splitlines()[0]}") from err
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if con.execute("SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() "
                   "AND schema_name = ?", [DEFAULT_SCHEMA]).fetchone()[0]:
        con.execute(f"USE {DEFAULT_SCHEMA}")
    con.execute("SET lock_configuration = true")
    return con


# ------------------------------------------------------------------------------------------- statements


def _words(sql: str) -> list[tuple[int, str]]:
    """(position, upper-case word) of each keyword, identifier and operator of ``sql`` (comments and string
    literals left out), as DuckDB's tokenizer sees them."""
    out = []
    for position, kind in duckdb.tokenize(sql):
        if kind in (duckdb.token_type.comment, duckdb.token_type.string_const):
            continue
        match = re.match(r"\w+|\S", sql[position:])
        if match:
            out.append((position, match.group(0).upper() if kind == duckdb.token_type.keyword else match.group(0)))
    return out


def reads_only(sql: str) -> bool:
    """Whether a statement DuckDB does not classify as one query (a dynamic ``PIVOT`` is several) only reads:
    it starts as a query does and names no keyword that writes, anywhere (``WITH … INSERT`` included)."""
    words = [w for _, w in _words(sql) if w != "("]
    return bool(words) and words[0] in QUERY_KEYWORDS and not WRITE_KEYWORDS & set(words)


def explained(sql: str) -> tuple[bool, str]:
    """For ``EXPLAIN [ANALYZE] [(options)] statement``: whether it runs the statement (ANALYZE), and the statement."""
    words = _words(sql)
    index, analyze = 1, False
    if index < len(words) and words[index][1] in ("ANALYZE", "ANALYSE"):
        index, analyze = index + 1, True
    if index < len(words) and words[index][1] == "(":
        depth = 0
        while index < len(words):
            depth += {"(": 1, ")": -1}.get(words[index][1], 0)
            analyze = analyze or words[index][1] in ("ANALYZE", "ANALYSE")
            index += 1
            if depth == 0:
                break
    return analyze, sql[words[index][0]:] if index < len(words) else ""


ALLOWED = ("`regiocode sql` runs only read-only statements: SELECT, FROM, WITH, VALUES, PIVOT, UNPIVOT, SHOW, "
           "DESCRIBE, SUMMARIZE, EXPLAIN [ANALYZE] of a query (the published warehouse is read-only)")


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise :class:`SqlRefused` unless every statement of ``sql`` only reads (see the module docstring)."""
    refusal = _refusal(con, sql)
    if refusal:
        raise SqlRefused(f"refused: {refusal}; {ALLOWED}")


def _refusal(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Why ``sql`` may not run here ('' when every statement of it only reads)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as err:
        raise SqlFailed(f"could not parse the query: {err}") from err
    if not statements:
        return "no SQL statement given"
    for statement in statements:
        kind, words = statement.type.name, [w for _, w in _words(statement.query)]
        if kind == "EXPLAIN" or words[:1] == ["EXPLAIN"]:
            analyze, inner = explained(statement.query)
            refusal = _refusal(con, inner) if inner.strip() else "EXPLAIN of nothing"
            if refusal:
                return f"{'EXPLAIN ANALYZE runs the statement it explains, and ' if analyze else 'EXPLAIN: '}{refusal}"
        elif not (kind == "SELECT" or kind == "MULTI" and reads_only(statement.query)):
            shown = words[0] if kind == "MULTI" and words else kind
            return f"{shown} statements are not allowed"
    return ""


# ------------------------------------------------------------------------------------------- running


@contextmanager
def bounded(con: duckdb.DuckDBPyConnection, timeout_s: float) -> Iterator[Deadline]:
    """Run the block under ``timeout_s`` (DuckDB interrupted by a timer; :meth:`Deadline.check` for loops that
    write rows out) and turn DuckDB's errors into :class:`SqlFailed` / :class:`SqlRefused` messages."""
    deadline = Deadline(timeout_s)
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield deadline
    except duckdb.InterruptException as err:
        raise SqlFailed(deadline.message()) from err
    except duckdb.PermissionException as err:
        raise SqlRefused(f"refused: {err} (reading files outside the warehouse is not allowed)") from err
    except duckdb.OutOfMemoryException as err:
        raise SqlFailed(
            f"query ran out of its memory limit ({reader_config()['memory_limit']}, REGIOCODE_SQL_MEMORY_LIMIT "
            f"to change): {str(err).splitlines()[0]}"
        ) from err
    except duckdb.Error as err:
        raise SqlFailed(f"query failed: {err}") from err
    except OSError as err:  # an Arrow stream DuckDB interrupted
        if "INTERRUPT" in str(err) or deadline.passed():
            raise SqlFailed(deadline.message()) from err
        raise
    finally:
        timer.cancel()


class Deadline:
    """When a query's time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def passed(self) -> bool:
        """Whether the time is up."""
        return time.monotonic() >= self.ends

    def check(self) -> None:
        """Raise :class:`SqlFailed` when the time is up (between two batches of rows written out)."""
        if self.passed():
            raise SqlFailed(self.message())

    def message(self) -> str:
        """What a user reads when the query was stopped."""
        return f"query interrupted after the {self.seconds:g} s timeout (--timeout to change); output is incomplete"


def relation(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    """The result of an accepted statement as a relation (nothing is fetched yet)."""
    result = con.sql(sql)
    if result is None:
        raise SqlFailed("the statement returned no result")
    return result
