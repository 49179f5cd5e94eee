"""Compare the marts of two warehouses: are they the same data?

    python benchmarks/compare_marts.py BEFORE.duckdb AFTER.duckdb [--schema marts] [--digits 9]

Used before and after a refactoring or a speed change, which must not change any figure. Every table of the
schema is compared as a multiset of rows (``EXCEPT ALL`` both ways), leaving out the columns that differ by
construction between two builds (``build_id``, ``built_at``, ``retrieved_at``) and rounding doubles to
``--digits`` significant digits (a parallel sum may differ in the last bits; below 1e-9 counts as 0). Tables
or columns present on one side only are listed. Prints one line per table; exit 0 when all are equal, 1
otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

VOLATILE_COLUMNS = {"build_id", "built_at", "retrieved_at"}


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [db, schema, table],
    ).fetchall()
    return {name: kind for name, kind in rows}


def _expr(name: str, kind: str, digits: int) -> str:
    quoted = f'"{name}"'
    if kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL"):
        # significant digits, not decimals: values range from 1e-6 to 1e9
        # below 1e-9 in absolute value is numerical noise (a slope of a constant series: ±1e-15)
        return (f"CASE WHEN abs({quoted}) < 1e-9 THEN '0' "
                f"ELSE printf('%.{digits - 1}e', {quoted}::DOUBLE) END AS {quoted}")
    if kind.endswith("[]"):
        return f"{quoted}::VARCHAR AS {quoted}"
    return quoted


def compare(before: Path, after: Path, schema: str = "marts", digits: int = 9) -> list[str]:
    """One line per table: ``=`` equal, ``≠`` with the counts of rows only before / only after, or what is missing."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS b (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS a (READ_ONLY)")
    tables = {
        db: {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ?",
            [db, schema]).fetchall()}
        for db in ("b", "a")
    }
    lines = []
    for table in sorted(tables["b"] | tables["a"]):
        if table not in tables["a"] or table not in tables["b"]:
            lines.append(f"≠ {schema}.{table}: only in {'before' if table in tables['b'] else 'after'}")
            continue
        cols_b, cols_a = _columns(con, "b", schema, table), _columns(con, "a", schema, table)
        only = sorted(set(cols_b) ^ set(cols_a))
        shared = [c for c in cols_b if c in cols_a and c not in VOLATILE_COLUMNS]
        select = ", ".join(_expr(c, cols_b[c], digits) for c in shared)
        gone = con.execute(f"SELECT count(*) FROM (SELECT {select} FROM b.{schema}.{table} "
                           f"EXCEPT ALL SELECT {select} FROM a.{schema}.{table})").fetchone()[0]
        new = con.execute(f"SELECT count(*) FROM (SELECT {select} FROM a.{schema}.{table} "
                          f"EXCEPT ALL SELECT {select} FROM b.{schema}.{table})").fetchone()[0]
        rows = con.execute(f"SELECT count(*) FROM b.{schema}.{table}").fetchone()[0]
        status = "=" if not gone and not new and not only else "≠"
        detail = f"{rows} rows" if status == "=" else f"{gone} rows only before, {new} only after"
        if only:
            detail += f"; columns on one side only: {', '.join(only)}"
        lines.append(f"{status} {schema}.{table}: {detail}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schema", default="marts")
    parser.add_argument("--digits", type=int, default=9, help="significant digits doubles are compared to")
    args = parser.parse_args()
    lines = compare(args.before, args.after, args.schema, args.digits)
    print("\n".join(lines))
    return 0 if all(line.startswith("=") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
