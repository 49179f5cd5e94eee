"""The SQL statistics macros of the analysis marts, checked without dbt.

DuckDB has no Student t CDF, so ``macros/analysis_t_tail_probability.sql`` computes the p-value of a correlation
from the t distribution's finite series. These tests render the macros with plain Jinja2 (they use no dbt
context), evaluate them in an in-memory DuckDB and compare with values worked out independently: the
textbook continued fraction of the regularised incomplete beta (written out below), closed forms for
1-3 degrees of freedom, printed critical values of t tables, and scipy when it is installed.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import duckdb
import jinja2
import pytest

MACROS = Path(__file__).resolve().parents[2] / "dbt" / "macros"


def _render(sql: str) -> str:
    """Render `sql` with the analysis macros (one per file, ``analysis_*.sql``) in scope."""
    source = "".join(path.read_text() for path in sorted(MACROS.glob("analysis_*.sql")))
    return jinja2.Environment().from_string(source + sql).render()


def _incomplete_beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta (modified Lentz), as in Numerical Recipes."""
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def regularised_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), using the continued fraction on the side where it converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_cf(b, a, 1.0 - x) / b


def student_t_p_value(t: float, df: int) -> float:
    """Two-sided P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2): an algorithm independent of the SQL series."""
    return regularised_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def _sql_p_values(cases: list[tuple[float, int]]) -> list[float]:
    con = duckdb.connect()
    con.execute("CREATE TABLE cases (i INTEGER, t DOUBLE, df INTEGER)")
    con.executemany("INSERT INTO cases VALUES (?, ?, ?)", [(i, t, df) for i, (t, df) in enumerate(cases)])
    sql = _render("select {{ analysis_student_t_p_value('t', 'df') }} as p from cases order by i")
    return [row[0] for row in con.execute(sql).fetchall()]


GRID = [(t, df) for df in (1, 2, 3, 4, 5, 8, 9, 10, 29, 30, 99, 100, 499, 1000, 1001)
        for t in (0.0, 0.05, 0.5, 1.0, 1.96, 2.5, 4.0, 8.0, 15.0, 40.0)]


def test_p_value_matches_the_incomplete_beta_over_a_grid() -> None:
    """Relative agreement to 1e-9 from p = 1 down to p ~ 1e-300 (pooled correlations reach such values)."""
    for (t, df), p in zip(GRID, _sql_p_values(GRID), strict=True):
        expected = student_t_p_value(t, df)
        assert p == pytest.approx(expected, rel=1e-9, abs=1e-300), (t, df, p, expected)


def test_p_value_closed_forms_for_one_to_three_df() -> None:
    """Cauchy (1 df), 2 df and 3 df have elementary CDFs."""
    cases = [(0.7, 1), (3.0, 1), (0.7, 2), (3.0, 2), (0.7, 3), (4 / math.sqrt(3), 3)]
    closed = [
        1 - 2 / math.pi * math.atan(0.7),
        1 - 2 / math.pi * math.atan(3.0),
        1 - 0.7 / math.sqrt(2 + 0.49),
        1 - 3.0 / math.sqrt(2 + 9.0),
    ]
    for t in (0.7, 4 / math.sqrt(3)):
        theta = math.atan(t / math.sqrt(3))
        closed.append(1 - 2 / math.pi * (theta + math.sin(theta) * math.cos(theta)))
    for p, expected in zip(_sql_p_values(cases), closed, strict=True):
        assert p == pytest.approx(expected, rel=1e-12)
    # the five-point unit test of marts.code_correlations: r = 0.8, n = 5
    assert closed[-1] == pytest.approx(0.104088038662, abs=5e-13)


def test_p_value_at_printed_critical_values() -> None:
    """Two-sided 5 % and 1 % critical values of Student's t, as printed in statistical tables."""
    table = [(12.706204736, 1, 0.05), (4.302652730, 2, 0.05), (3.182446305, 3, 0.05), (2.570581836, 5, 0.05),
             (2.228138852, 10, 0.05), (2.042272456, 30, 0.05), (1.983971519, 100, 0.05),
             (5.840909310, 3, 0.01), (3.169272673, 10, 0.01)]
    p_values = _sql_p_values([(t, df) for t, df, _ in table])
    for (t, df, alpha), p in zip(table, p_values, strict=True):
        assert p == pytest.approx(alpha, rel=1e-7), (t, df, p)


def test_p_value_against_scipy_when_installed() -> None:
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed; the other tests cover the values")
    for (t, df), p in zip(GRID, _sql_p_values(GRID), strict=True):
        assert p == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9, abs=1e-300)


def test_correlation_p_value_edges() -> None:
    """|r| = 1 gives p = 0 (no division by zero), r = 0 gives 1, fewer than 3 points gives null."""
    con = duckdb.connect()
    sql = _render(
        "select r, n, {{ analysis_correlation_p_value('r', 'n') }} as p "
        "from (values (1.0, 5), (-1.0, 12), (0.0, 7), (0.5, 2)) as v(r, n) order by n"
    )
    assert con.execute(sql).fetchall() == [(0.5, 2, None), (1.0, 5, 0.0), (0.0, 7, 1.0), (-1.0, 12, 0.0)]


def test_round_to_significant_digits() -> None:
    con = duckdb.connect()
    values = "(0.7999999999999999), (-1.4000000000000004), (1.234567890123456e-42), (0.0), (null)"
    sql = _render("select {{ analysis_round('x') }} from (values " + values + ") as v(x)")
    rounded = [row[0] for row in con.execute(sql).fetchall()]
    assert rounded == [0.8, -1.4, pytest.approx(1.23456789012e-42, rel=1e-15), 0.0, None]


def test_uniform_draw_is_md5_based_and_in_the_open_unit_interval() -> None:
    """The same key gives the same number on any machine: the first 52 bits of its MD5."""
    con = duckdb.connect()
    keys = ["20240901/1/normalisation", "20240901/7/grp_per_capita/0", "x"]
    sql = _render("select {{ analysis_uniform('k') }} from (values " + ", ".join(f"('{k}')" for k in keys)
                  + ") as v(k)")
    drawn = [row[0] for row in con.execute(sql).fetchall()]
    expected = [(int(hashlib.md5(k.encode()).hexdigest()[:13], 16) + 0.5) / 2**52 for k in keys]
    assert drawn == pytest.approx(expected, rel=1e-15)
    assert all(0.0 < u < 1.0 for u in drawn)
