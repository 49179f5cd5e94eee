"""`regiocode sql`, how results come out: DuckDB's own table renderer (elided middle columns and rows with a
footer, types, rounded doubles, control characters escaped, nothing read as markup), the line format, and
CSV/JSON streamed within the timeout and the memory limit; `sources --report` in the same renderer. What may
run at all: tests/operations/test_sql.py."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CLI, REPO_ROOT, cli_env
from .test_sql import make_home, sql


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path)


WIDE = "SELECT " + ", ".join(f"range + {i} AS column_number_{i}" for i in range(44)) + " FROM range(100)"


def test_a_wide_result_keeps_its_first_and_last_columns_and_says_what_it_left_out(home: Path) -> None:
    code, out, _ = sql(home, WIDE, "--width", "80")
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert max(len(line) for line in lines) <= 80
    header = lines[1]
    assert "column_number_0" in header and "column_number_43" in header and "…" in header
    assert "int64" in lines[2]  # the types under the names
    assert "100 rows" in out and "44 columns (" in out and "shown)" in out
    wide = sql(home, WIDE, "--width", "200")[1]
    shown = [c.strip() for c in wide.splitlines()[1].split("│") if c.strip() and c.strip() != "…"]
    assert len(shown) > 4 and all(name.startswith("column_number_") for name in shown)  # whole names, not 1-2 chars


def test_long_results_show_first_and_last_rows_with_a_footer(home: Path) -> None:
    code, out, _ = sql(home, "SELECT range AS n FROM range(1000)", "--limit", "10")
    assert code == 0
    cells = [line.strip("│ ") for line in out.splitlines()[4:]]
    assert cells[:5] == ["0", "1", "2", "3", "4"] and cells[8:13] == ["995", "996", "997", "998", "999"]
    assert "500" not in cells and "1000 rows" in out and "(10 shown)" in out


def test_doubles_are_rounded_for_the_eye_and_kept_whole_in_csv(home: Path) -> None:
    out = sql(home, "SELECT 1/3 AS third, 123456789.123 AS big, 0.1 + 0.2 AS sum, 1.5e-9 AS tiny, "
                    "'nan'::DOUBLE AS nan")[1]
    assert "0.333333" in out and "0.3333333" not in out
    assert "123456789" in out and "0.3 " in out and "1.5e-09" in out and "nan" in out.lower()
    # never fewer than one decimal: a large value rounded to a whole number would read as exact
    big = sql(home, "SELECT 881700.6::DOUBLE AS grp, 1234567.89::DOUBLE AS big", "--format", "line")[1]
    assert big == "grp = 881700.6\nbig = 1234567.9\n"
    csv = sql(home, "SELECT 1/3 AS third", "--format", "csv")[1]
    assert csv.splitlines()[1] == "0.3333333333333333"


def test_text_is_data_never_markup_nor_terminal_control(home: Path) -> None:
    value = "'[/]bad [link=https://evil.example]hidden[/link] ' || chr(27) || '[31mred' || chr(10) || 'next' || chr(7)"
    for fmt in ("table", "line"):
        code, out, err = sql(home, f"SELECT {value} AS \"[b]name[/b]\"", "--format", fmt)
        assert code == 0, err
        assert "[/]bad [link=https://evil.example]hidden[/link]" in out and "[b]name[/b]" in out
        assert "\x1b" not in out and "\x07" not in out
        assert "\\e[31mred\\nnext" in out


def test_the_line_format_prints_one_column_per_line(home: Path) -> None:
    code, out, err = sql(home, "SELECT i, v FROM t ORDER BY i", "--format", "line", "--limit", "2")
    assert code == 0
    assert out == "i = 0\nv = 0.0\n\ni = 1\nv = 0.142857\n"
    assert "more rows than the 2 shown" in err


def test_csv_neutralises_formulas_and_prints_nested_values_as_duckdb_does(home: Path) -> None:
    code, out, _ = sql(home, "SELECT '=HYPERLINK(\"x\")' AS s, -1.5 AS n, '+7' AS p, '@x' AS a, [1, 2] AS l, "
                             "DATE '2024-01-02' AS d, 2.50::DECIMAL(4, 2) AS dec, '=x' AS \"=col\"", "--format", "csv")
    assert code == 0
    header, row = out.splitlines()
    assert header == '"s","n","p","a","l","d","dec","\'=col"'
    assert row == '"\'=HYPERLINK(""x"")",-1.5,"\'+7","\'@x","[1, 2]","2024-01-02",2.5,"\'=x"'


def test_json_is_an_array_of_objects_with_null_for_non_finite_numbers(home: Path) -> None:
    code, out, _ = sql(home, "SELECT i, v, CASE WHEN i = 0 THEN 'nan'::DOUBLE END AS x, [i] AS l FROM t "
                             "ORDER BY i LIMIT 2", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"i": 0, "v": 0.0, "x": None, "l": [0]}, {"i": 1, "v": 1 / 7, "x": None, "l": [1]}]
    assert json.loads(sql(home, "SELECT 1 AS a WHERE false", "--format", "json")[1]) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_300_million_rows_are_streamed_and_stopped_by_the_timeout_within_seconds(home: Path, fmt: str) -> None:
    """Every row is written as it comes (memory: one batch), and --timeout stops the writing too."""
    started = time.monotonic()
    done = subprocess.run([*CLI, "sql", "SELECT range AS n, range * 0.5 AS half FROM range(300000000)",
                           "--format", fmt, "--timeout", "5", "--home", str(home)],
                          cwd=REPO_ROOT, env=cli_env(home), capture_output=True, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert b"interrupted after the 5 s timeout" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert len(done.stdout) > 1_000_000  # rows were written while the query ran, not collected first
    assert elapsed < 30  # the 5 s timeout, the interpreter's start, a batch in flight
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1_500_000  # KB: far below 300 M rows


def test_a_broken_pipe_ends_quietly(home: Path) -> None:
    """`regiocode sql … --format csv | head`: the reader has what it wanted; no traceback."""
    proc = subprocess.Popen([*CLI, "sql", "SELECT * FROM range(100000000)", "--format", "csv", "--home", str(home)],
                            cwd=REPO_ROOT, env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert first == b'"n"\n' or first.startswith(b'"range"')
    assert b"Traceback" not in err


@pytest.mark.e2e
def test_sources_report_is_rendered_the_same_way_and_fits_80_columns(base_home: Path) -> None:
    done = subprocess.run([*CLI, "sources", "demo", "--report", "--home", str(base_home)], cwd=REPO_ROOT,
                          env={**cli_env(base_home), "COLUMNS": "80"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip().splitlines()
    assert lines[0] == "demo: coverage of the indicator catalog"
    assert max(len(line) for line in lines) <= 80
    assert "│ indicator" in done.stdout.replace("  ", " ") or "indicator" in lines[2]
    assert "grp_per_capita" in done.stdout and "rows" in lines[-1] and "columns" in lines[-1]


def test_the_cli_module_runs_as_a_script() -> None:
    assert subprocess.run([sys.executable, "-m", "dagster_project.cli", "sql", "--help"], capture_output=True,
                          timeout=60).returncode == 0
