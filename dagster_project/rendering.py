"""How regiocode prints a result: DuckDB's own renderer for tables, and streams for everything else.

* ``table`` — DuckDB's box renderer (the relation's ``show()``, what the DuckDB shell prints): the first and
  last columns kept and the middle elided to fit the terminal, the first and last rows with a footer
  "N rows (K shown) … M columns (K shown)", column types under the names, control characters shown
  escaped (``\\n``, ``\\e``) and nothing read as markup. Doubles are rounded to 6 significant digits for
  the eye, but never to fewer than one decimal: 881700.6 stays 881700.6 (not "881701.0", which reads as
  exact), 1234567.89 shows as 1234567.9 (CSV and JSON keep every digit).
* ``line`` — one ``column = value`` line per column, a blank line between rows (the shell's ``.mode line``),
  for results too wide for any table.
* ``csv`` / ``json`` — streamed in Arrow batches straight from DuckDB, so neither holds more than a batch
  in memory and both stop at the query's deadline. CSV neutralises spreadsheet formulas (a cell starting
  with ``= + - @``, a tab or a carriage return gets a leading quote); JSON is an array of objects, one per
  line, with non-finite numbers as null.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from typing import IO

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

BATCH_ROWS = 65_536
DEFAULT_MAX_ROWS = 40  # rows a table shows, as the DuckDB shell does (first and last halves)
SIGNIFICANT_DIGITS = 6
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_PLAIN_TYPES = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "UHUGEINT", "VARCHAR", *_FLOAT_TYPES)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\e"}


def terminal_width() -> int:
    """Columns of the terminal the output goes to (120 when it is not a terminal)."""
    return shutil.get_terminal_size((120, 24)).columns


def quoted(name: str) -> str:
    """``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _projected(rel: duckdb.DuckDBPyRelation, convert: Callable[[str, str], str]) -> duckdb.DuckDBPyRelation:
    """``rel`` with each column replaced by ``convert(column SQL, DuckDB type)``, keeping its name."""
    exprs = [f"{convert(quoted(name), str(kind).upper())} AS {quoted(name)}"
             for name, kind in zip(rel.columns, rel.types, strict=True)]
    return rel.project(", ".join(exprs))


def _rounded(column: str, kind: str) -> str:
    if kind not in _FLOAT_TYPES:
        return column
    return (f"CASE WHEN {column} IS NULL OR {column} = 0 OR NOT isfinite({column}) THEN {column}::DOUBLE "
            f"ELSE round({column}, greatest(1, {SIGNIFICANT_DIGITS} - ceil(log10(abs({column}))))::INTEGER) END")


def show_table(rel: duckdb.DuckDBPyRelation, max_rows: int = DEFAULT_MAX_ROWS, width: int | None = None) -> None:
    """Print ``rel`` with DuckDB's box renderer, doubles rounded (see the module docstring)."""
    _projected(rel, _rounded).show(max_width=width or terminal_width(), max_rows=max_rows, null_value="NULL")


def show_frame(frame: pd.DataFrame, max_rows: int = 1000, width: int | None = None) -> None:
    """Print a pandas frame the way ``regiocode sql`` prints a result (used by ``sources --report`` and
    ``deliver --dry-run``)."""
    con = duckdb.connect()
    try:
        show_table(con.from_df(frame), max_rows=max_rows, width=width)
    finally:
        con.close()


def escaped(text: str) -> str:
    """``text`` with control characters as visible escapes (``\\n``, ``\\e``, ``\\x07``): nothing a cell holds
    reaches the terminal as a control sequence."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(0), f"\\x{ord(m.group(0)):02x}"), text)


def show_lines(rel: duckdb.DuckDBPyRelation, max_rows: int, out: IO[str], deadline_check: Callable[[], None]) -> int:
    """Print ``rel`` as ``column = value`` lines, at most ``max_rows`` rows; returns how many rows it had
    beyond those (0, or 1 meaning "at least one more")."""
    text = _projected(_projected(rel, _rounded), lambda column, kind: f"CAST({column} AS VARCHAR)")
    names = [escaped(name) for name in rel.columns]
    pad = max((len(name) for name in names), default=0)
    reader = text.to_arrow_reader(min(BATCH_ROWS, max_rows + 1))
    shown = 0
    for batch in reader:
        deadline_check()
        for row in batch.to_pylist():
            if shown == max_rows:
                return 1
            if shown:
                out.write("\n")
            for name, value in zip(names, row.values(), strict=True):
                out.write(f"{name.rjust(pad)} = {'NULL' if value is None else escaped(value)}\n")
            shown += 1
    return 0


def _for_csv(column: str, kind: str) -> str:
    if kind == "VARCHAR":
        return f"CASE WHEN regexp_matches({column}, '^[=+\\-@\\t\\r]') THEN '''' || {column} ELSE {column} END"
    if kind.startswith("DECIMAL"):
        return f"CAST({column} AS DOUBLE)"
    return column if kind in _PLAIN_TYPES else f"CAST({column} AS VARCHAR)"


def neutralise_formula(value: str) -> str:
    """A cell starting with = + - @ (or a tab, a carriage return) is a formula to a spreadsheet: quote it."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def write_csv(rel: duckdb.DuckDBPyRelation, out: IO[bytes], deadline_check: Callable[[], None]) -> None:
    """Stream ``rel`` as CSV (header first, formulas neutralised, nested values as DuckDB prints them)."""
    converted = _projected(rel, _for_csv)
    reader = converted.to_arrow_reader(BATCH_ROWS)
    schema = pa.schema([field.with_name(neutralise_formula(field.name)) for field in reader.schema])
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with pacsv.CSVWriter(out, schema, write_options=options) as writer:
        for batch in reader:
            deadline_check()
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            out.flush()


def write_json(rel: duckdb.DuckDBPyRelation, out: IO[str], deadline_check: Callable[[], None]) -> None:
    """Stream ``rel`` as a JSON array of objects, one per line (DuckDB writes each object)."""
    fields = ", ".join(
        f"{quoted(name)} := " + (f"CASE WHEN isfinite({quoted(name)}) THEN {quoted(name)} END"
                                 if str(kind).upper() in _FLOAT_TYPES else quoted(name))
        for name, kind in zip(rel.columns, rel.types, strict=True))
    reader = rel.project(f"to_json(struct_pack({fields})) AS row").to_arrow_reader(BATCH_ROWS)
    out.write("[")
    first = True
    for batch in reader:
        deadline_check()
        for row in batch.column(0).to_pylist():
            out.write(("\n" if first else ",\n") + row)
            first = False
        out.flush()
    out.write("\n]\n" if not first else "]\n")


def stdout_bytes() -> IO[bytes]:
    """The binary standard output (CSV is written as bytes)."""
    sys.stdout.flush()
    return sys.stdout.buffer
