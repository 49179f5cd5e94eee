"""Briefing rendering throughput: charts, HTML, PDF (Typst), and both files, per briefing.

Run: ``.venv/bin/python benchmarks/bench_render.py [--count N]``. Prints figures; asserts nothing.
The context is synthetic (24 years, all sections filled), shaped like the warehouse's.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dagster_project.briefings import make_charts, render_briefing, render_html, render_pdf_bytes  # noqa: E402


def synthetic_context(index: int) -> dict:
    """A full context for region ``index``: 2000–2023 codes with a gap, notes, contributions, provenance."""
    rows, previous, nid = [], None, 0.0
    for year in range(2000, 2024):
        row = {
            "year": year,
            "production_code": 0.3 + 0.3 * (year - 2000) / 23 + 0.03 * math.sin(year + index),
            "institutional_code": 0.25 + 0.4 * (year - 2000) / 23,
            "social_code": None if year == 2003 else 0.5 + 0.1 * math.cos(year / 3 + index),
        }
        dynamic = {}
        for field, dyn in (
            ("production_code", "innovation_code"),
            ("institutional_code", "information_code"),
            ("social_code", "value_competence_code"),
        ):
            ok = previous and previous[field] is not None and row[field] is not None
            dynamic[dyn] = row[field] - previous[field] if ok else None
        row.update(dynamic)
        row["id_code"] = None if None in dynamic.values() else sum(dynamic.values())
        nid += row["id_code"] or 0.0
        row["nid"] = nid if previous else None
        rows.append(row)
        previous = row
    return {
        "region": {
            "code": f"RU-R{index:02d}",
            "name_ru": f"Регион № {index}",
            "name_en": f"Region {index}",
            "district_name_ru": "Уральский федеральный округ",
            "district_name_en": "Ural Federal District",
            "country": "RU",
        },
        "demo": True,
        "build_id": "bench",
        "generated_at": "2026-11-23T23:15:00+00:00",
        "data_vintage": "2024-03-01 (demo v2)",
        "latest_year": 2023,
        "codes": rows,
        "district_median": {"production_code": 0.48, "institutional_code": 0.51, "social_code": 0.5},
        "country_median": {"production_code": 0.44, "institutional_code": 0.47, "social_code": 0.5},
        "coverage_notes": [
            {"year": 2003, "family": "social", "reason": "only 0.57 of the family weight present"}
        ],
        "top_contributions": [
            {
                "indicator_code": f"ind_{k}",
                "name_ru": f"Показатель {k}",
                "name_en": f"Indicator {k}",
                "family": "production",
                "contribution_change": 0.01 / (k + 1),
            }
            for k in range(5)
        ],
        "provenance": [
            {
                "source": "demo",
                "dataset": "demo_panel",
                "release": "v2",
                "retrieved_at": "2026-11-23T23:10:00",
                "observations": 4321,
            }
        ],
    }


def measure(label: str, count: int, work: Callable[[int], object]) -> None:
    work(0)  # warm-up: imports, template compilation, font loading
    start = time.perf_counter()
    for i in range(count):
        work(i)
    elapsed = time.perf_counter() - start
    rate, each_ms = count / elapsed, 1000 * elapsed / count
    print(f"{label:<28} {count:>4} in {elapsed:6.2f} s  {rate:8.1f}/s  {each_ms:7.2f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=40, help="briefings per measurement")
    args = parser.parse_args()
    contexts = [synthetic_context(i) for i in range(args.count)]
    charts = [make_charts(c, "ru") for c in contexts]
    with tempfile.TemporaryDirectory() as out:
        measure("charts (per region and language)", args.count, lambda i: make_charts(contexts[i], "ru"))
        for lang in ("ru", "en"):
            measure(
                f"HTML {lang}", args.count, lambda i, lang=lang: render_html(contexts[i], lang, charts[i])
            )
            measure(
                f"PDF {lang} (Typst)",
                args.count,
                lambda i, lang=lang: render_pdf_bytes(contexts[i], lang, charts[i]),
            )
        measure(
            "render_briefing ru+en",
            args.count,
            lambda i: [
                render_briefing(contexts[i], Path(out) / lang, lang, charts[i]) for lang in ("ru", "en")
            ],
        )


if __name__ == "__main__":
    main()
