"""SVG charts for the briefings, written by hand.

One chart set per region and language feeds both outputs (inlined into the HTML, handed to Typst
as bytes for the PDF), so the two outputs show the same charts. A chart reads without the text: its
value axis has labelled ticks and a title with the unit (from the language's message catalog), the
year axis shows the first and the last year of the range, and each series carries its last value at
its last point; numbers are formatted for the language (``0,05`` / ``0.05``). Colours are the
Okabe–Ito palette, safe for colour-blind readers, with dashes and markers for greyscale print.
Legends that need more words and the accessible title and description are written by the templates.
Writing the SVG directly takes well under a millisecond per chart, where a plotting library would
cost seconds of import time per worker.

Charts: ``codes`` (P, I, S over time, 0–1 scale), ``profile`` (P, I, S of the region against the
district and country medians), ``dynamics`` (P′, I′, S′ bars and the ID line per year) and ``nid``
(the basic code's trajectory).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from dagster_project.briefings.formatting import as_float, format_code, format_number
from dagster_project.briefings.messages import load_messages
from dagster_project.briefings.view_groups import MIN_DISTRICT_REGIONS

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 48, 30
AXIS_TITLE_Y = 38  # the value axis's title sits above the plot, under the legend
LABEL_GAP = 13  # least vertical distance between two end-of-line value labels
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


# Bars of the profile chart: the region, the district median, the country median (dark, mid, light in grey print).
PROFILE_COLOURS = ("#0072B2", "#E69F00", "#BBBBBB")
DYNAMIC_SERIES: tuple[Series, ...] = (
    Series("P′", "innovation_code", "#0072B2", "", "circle"),
    Series("I′", "information_code", "#D55E00", "", "square"),
    Series("S′", "value_competence_code", "#009E73", "", "triangle"),
)
ID_SERIES = Series("ID", "id_code", "#222222", "", "circle")
NID_SERIES = Series("NID", "nid", "#1f4e79", "", "circle")
DYNAMICS_YEARS = 12
VALUE_LEFT = 60  # room for tick labels such as −0,075
CODE_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def make_charts(context: Mapping[str, object], lang: str = "en") -> dict[str, str]:
    """Make every chart of one region's briefing in ``lang``: ``{"codes": "<svg …>", "profile": …}``.

    A chart with nothing to draw is left out, and the templates then say so in words.
    """
    rows = context.get("codes") or []
    rows = rows if isinstance(rows, Sequence) else []
    words = load_messages(lang)
    charts: dict[str, str] = {}
    if has_values(rows, CODE_SERIES):
        charts["codes"] = line_chart(rows, CODE_SERIES, lang, words["chart_axis_code"])
    profile = profile_values(context)
    if any(v is not None for triple in profile.values() for v in triple):
        charts["profile"] = profile_chart(profile, lang)
    recent = _recent(rows, DYNAMICS_YEARS)
    if has_values(recent, (*DYNAMIC_SERIES, ID_SERIES)):
        charts["dynamics"] = dynamics_chart(recent, lang, words["chart_axis_change"])
    if has_values(rows, (NID_SERIES,)):
        charts["nid"] = nid_chart(rows, lang, words["chart_axis_nid"])
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
    """Years to label on the x axis: round years on a step of 1, 2, 5, 10, 20, 25 or 50 (at most ``max_ticks``),
    and always the first and the last year, so the range reads off the axis; a round year too close to an end
    (half a step or less: 2012 beside 2011 on a step of 2) gives way to it."""
    span = last - first
    step = next((s for s in (1, 2, 5, 10, 20, 25, 50) if span // s + 1 <= max_ticks), 100)
    inner = [y for y in range(first + 1, last) if y % step == 0 and min(y - first, last - y) * 2 > step]
    return sorted({first, *inner, last})


class _Scale:
    """Maps years and values to SVG coordinates inside the plot area."""

    def __init__(
        self, first: float, last: float, low: float, high: float, left: int = LEFT, right: int = RIGHT
    ) -> None:
        self.first, self.last, self.low, self.high = first, last, low, high
        self.left, self.right = left, right

    def x(self, year: float) -> float:
        width = WIDTH - self.left - self.right
        if self.last == self.first:
            return self.left + width / 2
        return self.left + (year - self.first) / (self.last - self.first) * width

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
    parts = [f'<g data-series="{escape(series.symbol)}">']
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


def _axis_title(title: str, left: float) -> str:
    """The value axis's title with its unit, above the plot at its left edge."""
    return _text(left - 6, AXIS_TITLE_Y, title, "start", ' font-size="12" fill="#555"')


def _end_labels(ends: Sequence[tuple[float, float, str, str]], lang: str, left_of: float | None = None) -> str:
    """Value labels at the last points (x, y, value, colour), pushed apart so that none overlaps another."""
    placed: list[list] = [[x, y, value, colour] for x, y, value, colour in sorted(ends, key=lambda e: e[1])]
    for i in range(1, len(placed)):
        placed[i][1] = max(placed[i][1], placed[i - 1][1] + LABEL_GAP)
    overflow = placed[-1][1] - (HEIGHT - BOTTOM) if placed else 0
    if overflow > 0:
        for item in placed:
            item[1] -= overflow
    x_text = left_of
    return "".join(
        _text((x_text if x_text is not None else x) + 7, y + 4, format_code(value, lang), "start",
              f' font-size="12" font-weight="bold" fill="{colour}"')
        for x, y, value, colour in placed
    )


def _legend_svg(series: Sequence[Series], bars: int = 0, left: int = LEFT) -> str:
    """Symbols along the top: the first ``bars`` series drawn as bars, the rest as lines with markers."""
    parts = []
    for index, item in enumerate(series):
        x = left + index * 70
        if index < bars:
            parts.append(f'<rect x="{x + 6}" y="7" width="14" height="14" fill="{item.colour}"/>')
        else:
            dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
            parts.append(
                f'<line x1="{x}" y1="14" x2="{x + 26}" y2="14" stroke="{item.colour}" stroke-width="2.2"{dash}/>'
            )
            parts.append(_marker(item.marker, x + 13, 14, item.colour))
        parts.append(_text(x + 32, 19.5, item.symbol, "start", ' font-weight="bold"'))
    return "".join(parts)


def line_chart(rows: Sequence[object], series: Sequence[Series] = CODE_SERIES, lang: str = "en",
               axis_title: str = "") -> str:
    """An SVG line chart of the series over all years of ``rows`` on a 0–1 scale.

    The scale widens only if a value falls outside [0, 1], so charts of different regions compare
    at a glance. Years missing a value leave a gap in the line; each series ends with its last value.
    """
    data = {s.symbol: points(rows, s.field) for s in series}
    years = _years(rows) or [y for pairs in data.values() for y, _ in pairs]
    values = [v for pairs in data.values() for _, v in pairs]
    low, high = min([0.0, *values]), max([1.0, *values])
    ticks = list(CODE_TICKS) if (low, high) == (0.0, 1.0) else nice_ticks(low, high)
    scale = _Scale(min(years), max(years), ticks[0], ticks[-1])
    ends = [(scale.x(data[s.symbol][-1][0]), scale.y(data[s.symbol][-1][1]), data[s.symbol][-1][1], s.colour)
            for s in series if data[s.symbol]]
    body = (_value_axis(scale, ticks, lang) + _year_axis(scale, min(years), max(years))
            + "".join(_series_svg(s, data[s.symbol], scale) for s in series) + _end_labels(ends, lang)
            + (_axis_title(axis_title, LEFT) if axis_title else ""))
    return _svg(body + _legend_svg(series))


# ---------------------------------------------------------------- scales with numbers


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high]: a step of 1, 2, 2.5 or 5 × 10^k, about ``target`` ticks."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next((m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw), 10 * power)
    first = math.floor(low / step + 1e-9) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 10) + 0.0)  # + 0.0 turns −0.0 into 0.0
        value += step
    return ticks


def _tick_digits(ticks: Sequence[float]) -> int:
    """Decimals needed to tell the ticks apart (0.05 → 2, 0.25 → 2, 1 → 0)."""
    for digits in range(0, 5):
        if all(abs(t - round(t, digits)) < 1e-9 for t in ticks):
            return digits
    return 4


def _value_axis(scale: _Scale, ticks: Sequence[float], lang: str) -> str:
    digits = _tick_digits(ticks)
    parts = []
    for tick in ticks:
        y = scale.y(tick)
        stroke = "#555" if abs(tick) < 1e-12 else "#ddd"
        parts.append(
            f'<line x1="{scale.left}" y1="{_num(y)}" x2="{WIDTH - scale.right}" y2="{_num(y)}" stroke="{stroke}"/>'
        )
        parts.append(_text(scale.left - 6, y + 4, format_number(tick, lang, digits=digits), "end"))
    return "".join(parts)


def _year_axis(scale: _Scale, first: int, last: int) -> str:
    parts = []
    base = HEIGHT - BOTTOM
    for year in year_ticks(first, last):
        x = scale.x(year)
        parts.append(f'<line x1="{_num(x)}" y1="{base}" x2="{_num(x)}" y2="{base + 4}" stroke="#555"/>')
        parts.append(_text(x, base + 19, str(year)))
    return "".join(parts)


def _svg(body: str, height: int = HEIGHT, left: int = LEFT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}"'
        f' height="{height}" font-family="{FONT}" font-size="14" fill="#222">'
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>{body}</svg>'
    )


def _recent(rows: Sequence[object], years: int) -> list[Mapping]:
    dated = [r for r in rows if isinstance(r, Mapping) and as_float(r.get("year")) is not None]
    if not dated:
        return []
    last = max(int(as_float(r["year"])) for r in dated)
    return [r for r in dated if int(as_float(r["year"])) > last - years]


# ---------------------------------------------------------------- profile: region vs medians


def profile_values(context: Mapping[str, object]) -> dict[str, tuple[float | None, float | None, float | None]]:
    """(region, district median, group median) of P, I and S in the region's latest year; the district median
    is ``None`` throughout when the district is no comparison (the region is its only comparison region)."""
    rows = [r for r in (context.get("codes") or []) if isinstance(r, Mapping) and as_float(r.get("year")) is not None]
    latest_year = as_float(context.get("latest_year"))
    chosen = [r for r in rows if as_float(r.get("year")) == latest_year] or sorted(
        rows, key=lambda r: as_float(r["year"])
    )[-1:]
    row = chosen[-1] if chosen else {}
    year = as_float(row.get("year"))
    region = context.get("region") if isinstance(context.get("region"), Mapping) else {}
    district_ok = (as_float(region.get("district_regions")) or 0) >= MIN_DISTRICT_REGIONS

    def medians(key: str) -> Mapping[str, object]:
        found = [m for m in (context.get(key) or []) if isinstance(m, Mapping) and as_float(m.get("year")) == year]
        return found[0] if found else {}

    district, group = (medians("district_medians") if district_ok else {}), medians("universe_medians")
    return {
        s.symbol: (as_float(row.get(s.field)), as_float(district.get(s.field)) if district_ok else None,
                   as_float(group.get(s.field)))
        for s in CODE_SERIES
    }


PROFILE_HEIGHT = 240
PROFILE_LEFT, PROFILE_RIGHT = 40, 56


def profile_chart(values: Mapping[str, Sequence[float | None]], lang: str = "en") -> str:
    """Horizontal bars on a 0–1 scale: for each code the region, the district median (when the district is a
    comparison) and the group median, each bar with its value at its end."""
    top, bottom = 12, 28
    width = WIDTH - PROFILE_LEFT - PROFILE_RIGHT
    district_shown = any(triple[1] is not None for triple in values.values())
    shown = (0, 1, 2) if district_shown else (0, 2)
    band = (PROFILE_HEIGHT - top - bottom) / len(values)
    bar = band / (len(shown) + 1.2)
    parts = []
    for tick in CODE_TICKS:
        x = PROFILE_LEFT + width * tick
        parts.append(f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{PROFILE_HEIGHT - bottom}"'
                     f' stroke="{"#555" if tick == 0 else "#ddd"}"/>')
        parts.append(_text(x, PROFILE_HEIGHT - bottom + 19, format_number(tick, lang, _tick_digits(CODE_TICKS))))
    for index, (symbol, triple) in enumerate(values.items()):
        y0 = top + band * index + (band - len(shown) * bar) / 2
        parts.append(_text(PROFILE_LEFT - 10, y0 + len(shown) * bar / 2 + 5, symbol, "end", ' font-weight="bold"'))
        parts.append(f'<g data-series="{escape(symbol)}">')
        for k, slot in enumerate(shown):
            value, colour = triple[slot], PROFILE_COLOURS[slot]
            y = y0 + k * bar
            if value is None:
                parts.append(_text(PROFILE_LEFT + 8, y + bar - 3, "—", "start", ' font-size="12" fill="#555"'))
                continue
            length = max(0.0, min(1.0, value)) * width
            outline = ' stroke="#555" stroke-width="0.8"' if slot == 2 else ""
            parts.append(f'<rect x="{PROFILE_LEFT}" y="{_num(y + 1)}" width="{_num(length)}"'
                         f' height="{_num(bar - 2)}" fill="{colour}"{outline}/>')
            parts.append(_text(PROFILE_LEFT + length + 4, y + bar / 2 + 4, format_code(value, lang), "start",
                               ' font-size="11" fill="#222"'))
        parts.append("</g>")
    return _svg("".join(parts), PROFILE_HEIGHT)


# ---------------------------------------------------------------- dynamics: P′, I′, S′ bars and the ID line


def dynamics_chart(rows: Sequence[object], lang: str, axis_title: str = "") -> str:
    """Grouped bars of the three dynamic codes per year, with the code of industrial development as a line
    ending in its last value."""
    data = {s.symbol: dict(points(rows, s.field)) for s in (*DYNAMIC_SERIES, ID_SERIES)}
    years = _years(rows)
    values = [v for pairs in data.values() for v in pairs.values()]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]))
    first, last = min(years), max(years)
    scale = _Scale(first - 0.5, last + 0.5, ticks[0], ticks[-1], left=VALUE_LEFT)
    slot = (WIDTH - VALUE_LEFT - RIGHT) / (last - first + 1)  # RIGHT leaves room for the last ID value
    bar = slot * 0.8 / 3
    parts = [_value_axis(scale, ticks, lang), _year_axis(scale, first, last)]
    for k, series in enumerate(DYNAMIC_SERIES):
        parts.append(f'<g data-series="{escape(series.symbol)}">')
        for year, value in sorted(data[series.symbol].items()):
            x = scale.x(year) - 1.5 * bar + k * bar
            y0, y1 = scale.y(max(value, 0.0)), scale.y(min(value, 0.0))
            parts.append(f'<rect x="{_num(x)}" y="{_num(y0)}" width="{_num(bar - 1)}" height="{_num(y1 - y0)}"'
                         f' fill="{series.colour}"/>')
        parts.append("</g>")
    id_points = sorted(data["ID"].items())
    parts.append(_series_svg(ID_SERIES, id_points, scale))
    if id_points:
        year, value = id_points[-1]
        parts.append(_end_labels([(scale.x(year), scale.y(value), value, ID_SERIES.colour)], lang,
                                 left_of=scale.x(last + 0.5) - 4))
    if axis_title:
        parts.append(_axis_title(axis_title, VALUE_LEFT))
    parts.append(_legend_svg((*DYNAMIC_SERIES, ID_SERIES), bars=3, left=VALUE_LEFT))
    return _svg("".join(parts))


# ---------------------------------------------------------------- NID trajectory


def nid_chart(rows: Sequence[object], lang: str, axis_title: str = "") -> str:
    """The basic code of neo-industrial development over the years, with the zero line and its last value."""
    pairs = points(rows, NID_SERIES.field)
    years = [y for y, _ in pairs]
    ticks = nice_ticks(min([0.0, *(v for _, v in pairs)]), max([0.0, *(v for _, v in pairs)]))
    scale = _Scale(min(years), max(years), ticks[0], ticks[-1], left=VALUE_LEFT, right=RIGHT)
    body = _value_axis(scale, ticks, lang) + _year_axis(scale, min(years), max(years))
    body += _series_svg(NID_SERIES, pairs, scale)
    last_year, last_value = pairs[-1]
    body += _end_labels([(scale.x(last_year), scale.y(last_value), last_value, NID_SERIES.colour)], lang)
    if axis_title:
        body += _axis_title(axis_title, VALUE_LEFT)
    return _svg(body)
