"""Language-neutral SVG charts for the briefings, written by hand.

One chart set per region is shared by both languages and by both outputs (inlined into the HTML,
read as a file by Typst for the PDF), so a chart carries no words: only the letters P, I, S, years
and the 0 and 1 of the scale. The accessible title and description are added by the HTML renderer
in the reader's language. Writing the SVG directly takes well under a millisecond per chart,
where a plotting library would cost seconds of import time per worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from dagster_project.briefings.formatting import as_float

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 34, 16, 36, 30
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    """One line: its symbol, the context field it plots, and how it looks in colour and in grey."""

    symbol: str
    field: str
    colour: str
    dash: str
    marker: str


# Okabe–Ito colours (safe for colour-blind readers); dashes and markers keep lines apart in greyscale print.
CODE_SERIES: tuple[Series, ...] = (
    Series("P", "production_code", "#0072B2", "", "circle"),
    Series("I", "institutional_code", "#D55E00", "7 4", "square"),
    Series("S", "social_code", "#009E73", "2 3", "triangle"),
)


def make_charts(context: Mapping[str, object]) -> dict[str, str]:
    """Make every chart of one region's briefing: ``{"codes": "<svg …>"}``.

    A chart with nothing to draw is left out, and the templates then say so in words.
    """
    rows = context.get("codes") or []
    charts: dict[str, str] = {}
    if isinstance(rows, Sequence) and has_values(rows, CODE_SERIES):
        charts["codes"] = line_chart(rows, CODE_SERIES)
    return charts


def has_values(rows: Iterable[object], series: Sequence[Series]) -> bool:
    """True when at least one row has a year and a number for one of the series."""
    return any(points(rows, s.field) for s in series)


def points(rows: Iterable[object], field: str) -> list[tuple[int, float]]:
    """(year, value) pairs of one field, sorted by year, skipping rows without a year or a number."""
    found: dict[int, float] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        year, value = as_float(row.get("year")), as_float(row.get(field))
        if year is not None and value is not None:
            found[int(year)] = value
    return sorted(found.items())


def _years(rows: Iterable[object]) -> list[int]:
    years = {as_float(row.get("year")) for row in rows if isinstance(row, Mapping)}
    return sorted(int(y) for y in years if y is not None)


def year_ticks(first: int, last: int, max_ticks: int = 8) -> list[int]:
    """Round years to label on the x axis: at most ``max_ticks``, on a step of 1, 2, 5, 10, 20, 25 or 50."""
    span = last - first
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50) if span // s + 1 <= max_ticks), 100)
    ticks = [y for y in range(first, last + 1) if y % step == 0]
    return ticks or [first]


class _Scale:
    """Maps years and values to SVG coordinates inside the plot area."""

    def __init__(self, first: int, last: int, low: float, high: float) -> None:
        self.first, self.last, self.low, self.high = first, last, low, high

    def x(self, year: float) -> float:
        width = WIDTH - LEFT - RIGHT
        if self.last == self.first:
            return LEFT + width / 2
        return LEFT + (year - self.first) / (self.last - self.first) * width

    def y(self, value: float) -> float:
        height = HEIGHT - TOP - BOTTOM
        return TOP + (self.high - value) / (self.high - self.low) * height


def _num(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, label: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>{escape(label)}</text>'


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{_num(x - 3)}" y="{_num(y - 3)}" width="6" height="6" fill="{colour}"/>'
    if kind == "triangle":
        pts = f"{_num(x)},{_num(y - 4)} {_num(x - 3.6)},{_num(y + 2.6)} {_num(x + 3.6)},{_num(y + 2.6)}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.2" fill="{colour}"/>'


def _runs(pairs: list[tuple[int, float]]) -> list[list[tuple[int, float]]]:
    """Split a series into runs of consecutive years: a missing year breaks the line, never bridges it."""
    runs: list[list[tuple[int, float]]] = []
    for year, value in pairs:
        if runs and year == runs[-1][-1][0] + 1:
            runs[-1].append((year, value))
        else:
            runs.append([(year, value)])
    return runs


def _series_svg(series: Series, pairs: list[tuple[int, float]], scale: _Scale) -> str:
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    parts = [f'<g data-series="{series.symbol}">']
    for run in _runs(pairs):
        if len(run) > 1:
            coords = " ".join(f"{_num(scale.x(y))},{_num(scale.y(v))}" for y, v in run)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{series.colour}" stroke-width="2.2"'
                f' stroke-linejoin="round"{dash}/>'
            )
    parts.extend(_marker(series.marker, scale.x(y), scale.y(v), series.colour) for y, v in pairs)
    parts.append("</g>")
    return "".join(parts)


def _axes_svg(scale: _Scale) -> str:
    parts = []
    for quarter in range(5):
        value = scale.low + (scale.high - scale.low) * quarter / 4
        y = scale.y(value)
        stroke = "#555" if quarter == 0 else "#ddd"
        parts.append(
            f'<line x1="{LEFT}" y1="{_num(y)}" x2="{WIDTH - RIGHT}" y2="{_num(y)}" stroke="{stroke}"/>'
        )
    for value in (0.0, 1.0):
        if scale.low <= value <= scale.high:
            parts.append(_text(LEFT - 6, scale.y(value) + 4, f"{value:g}", "end"))
    for year in year_ticks(scale.first, scale.last):
        x = scale.x(year)
        base = HEIGHT - BOTTOM
        parts.append(f'<line x1="{_num(x)}" y1="{base}" x2="{_num(x)}" y2="{base + 4}" stroke="#555"/>')
        parts.append(_text(x, base + 19, str(year)))
    return "".join(parts)


def _legend_svg(series: Sequence[Series]) -> str:
    parts = []
    for index, item in enumerate(series):
        x = LEFT + index * 62
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        parts.append(
            f'<line x1="{x}" y1="14" x2="{x + 26}" y2="14" stroke="{item.colour}" stroke-width="2.2"{dash}/>'
        )
        parts.append(_marker(item.marker, x + 13, 14, item.colour))
        parts.append(_text(x + 32, 19.5, item.symbol, "start", ' font-weight="bold"'))
    return "".join(parts)


def line_chart(rows: Sequence[object], series: Sequence[Series] = CODE_SERIES) -> str:
    """An SVG line chart of the series over all years of ``rows`` on a 0–1 scale.

    The scale widens only if a value falls outside [0, 1], so charts of different regions compare
    at a glance. Years missing a value leave a gap in the line.
    """
    data = {s.symbol: points(rows, s.field) for s in series}
    years = _years(rows) or [y for pairs in data.values() for y, _ in pairs]
    values = [v for pairs in data.values() for _, v in pairs]
    scale = _Scale(min(years), max(years), min([0.0, *values]), max([1.0, *values]))
    body = _axes_svg(scale) + "".join(_series_svg(s, data[s.symbol], scale) for s in series)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}"'
        f' height="{HEIGHT}" font-family="{FONT}" font-size="14" fill="#222">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{body}{_legend_svg(series)}</svg>'
    )
