"""Briefings and the index in a real browser (headless Chromium), at a desktop width (1280 px) and a phone
width (390 px): no console errors, no failed loads, no script in a briefing, no sideways scrolling of the
page, and no clipped column — page 1's tables and the index fit their box, every cell inside it. The index
is grouped by country and district, sorts by each code and by the strategy, and filters; without scripts
it is still the whole grouped table."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "briefings"))

from briefing_samples import HOSTILE_HTML, make_context, make_eu_context  # noqa: E402
from chromium import Chromium, find_chromium, png_size  # noqa: E402

from dagster_project.briefings.batch import render_all  # noqa: E402
from dagster_project.briefings.index import index_entry  # noqa: E402
from dagster_project.briefings.render import render_index  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")

WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}
BRIEFINGS = ("RU-SVE", "DEC0")

# Every table whose columns must all be visible without scrolling: page 1's and the index. Returns the ids of
# the tables (or wrapping boxes) that are wider than their box, and the cells reaching past their table's box.
CLIPPED = """(() => {
  const out = [];
  for (const table of document.querySelectorAll("table.stack, table.index-table")) {
    const box = table.closest(".table-wrap") || table.parentElement;
    const edge = box.getBoundingClientRect().right + 1;
    if (box.scrollWidth > box.clientWidth + 1) { out.push("box " + (table.id || table.className)); }
    for (const cell of table.querySelectorAll("th, td")) {
      if (cell.offsetParent !== null && cell.getBoundingClientRect().right > edge) {
        out.push((table.id || table.className) + ": " + cell.textContent.trim().slice(0, 40));
      }
    }
  }
  return out;
})()"""


def _plain(text: str) -> str:
    """Titles carry Russian typography (no-break spaces); compare them as plain text."""
    return text.replace("\u00a0", " ")


def _many_regions() -> list[dict]:
    """96 index entries like the demo's: 85 Russian subjects in 8 districts and 11 EU regions in 7 countries."""
    entries = []
    base = make_context()
    for k in range(85):
        context = copy.deepcopy(base)
        context["region"].update(code=f"RU-R{k:02d}", name_ru=f"Регион номер {k:02d} с длинным названием",
                                 name_en=f"Region number {k:02d} with a long name",
                                 district_name_ru=f"Федеральный округ {k % 8}", district_name_en=f"District {k % 8}")
        context["codes"][-1]["production_code"] = round(0.1 + k / 100, 3)
        entries.append(index_entry(context))
    eu = make_eu_context()
    for k in range(11):
        context = copy.deepcopy(eu)
        country = ("BE", "CZ", "DE", "ES", "FR", "PL", "UK")[k % 7]
        context["region"].update(code=f"{country}{k:02d}", name_en=f"EU region {k:02d}", name_ru=f"Регион ЕС {k:02d}",
                                 country=country, country_name_en=f"Country {country}",
                                 country_name_ru=f"Страна {country}")
        entries.append(index_entry(context))
    return entries


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("briefings")
    hostile = make_context(name_ru=HOSTILE_HTML, name_en=HOSTILE_HTML)
    hostile["region"]["code"] = "RU-CHE"
    render_all([make_context(), make_eu_context(), hostile], root / "day", root / "state", workers=1)
    for lang in ("ru", "en"):
        render_index(_many_regions(), root / "index" / lang, lang)
    return root


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM) as chromium:
        yield chromium


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("code", BRIEFINGS)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_briefing_reads_at_both_widths(browser: Chromium, folder: Path, lang: str, code: str, width: str) -> None:
    w, h, mobile = WIDTHS[width]
    report = browser.open(folder / "day" / lang / f"{code}.html", width=w, height=h, mobile=mobile,
                          probes={"clipped": CLIPPED,
                                  "key_rows": "document.querySelectorAll('#key-indicators-table tbody tr').length",
                                  "charts": "document.querySelectorAll('svg[role=img]').length"})
    assert report.errors == []
    assert report.scripts == 0
    assert not report.overflow_x  # wide tables scroll inside their own box, the page does not
    assert report.probes["clipped"] == []  # page 1's tables: every column visible without scrolling
    assert report.probes["key_rows"] >= 2 and report.probes["charts"] == 4
    png_width, png_height = png_size(report.png)
    assert png_width == w and png_height > 3000  # the whole briefing, not a blank viewport


def test_briefing_titles(browser: Chromium, folder: Path) -> None:
    ru = browser.open(folder / "day" / "ru" / "RU-SVE.html")
    en = browser.open(folder / "day" / "en" / "RU-SVE.html")
    assert _plain(ru.title) == "Свердловская область: брифинг о развитии региона"
    assert en.title == "Sverdlovsk Oblast: regional development briefing"


def test_a_hostile_region_name_is_text_in_the_browser(browser: Chromium, folder: Path) -> None:
    report = browser.open(folder / "day" / "en" / "RU-CHE.html")
    assert report.errors == [] and report.scripts == 0  # the <script> in the name never became one
    assert report.title == f"{HOSTILE_HTML}: regional development briefing"


INDEX_STATE = """(() => {
  const rows = [...document.querySelectorAll("tr.region")].filter(r => !r.hidden);
  const groups = [...document.querySelectorAll("tr.group")].filter(g => !g.hidden);
  return {shown: rows.length, groups: groups.length, first: rows.slice(0, 3).map(r => r.dataset.p),
          count: (document.getElementById("index-count") || {}).textContent,
          tools: !document.getElementById("index-tools").hidden,
          buttons: document.querySelectorAll("th button.sort").length};
})()"""


def _click(key: str) -> str:
    return f'document.querySelector("th[data-key={key}] button").click(); 0'


def _filter(words: str) -> str:
    return ("(() => { const f = document.getElementById('index-filter'); f.value = " + json.dumps(words)
            + "; f.dispatchEvent(new Event('input')); return 0; })()")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_index_groups_sorts_and_filters_at_both_widths(browser: Chromium, folder: Path, lang: str,
                                                       width: str) -> None:
    w, h, mobile = WIDTHS[width]
    report = browser.open(folder / "index" / lang / "index.html", width=w, height=h, mobile=mobile, probes={
        "clipped": CLIPPED,
        "start": INDEX_STATE,
        "sort": _click("p"), "ascending": INDEX_STATE,
        "again": _click("p"), "descending": INDEX_STATE,
        "back": _click("p"), "grouped": INDEX_STATE,
        "filter": _filter("pl0"), "filtered": INDEX_STATE,
        "clear": _filter(""), "all": INDEX_STATE,
    })
    assert report.errors == [] and report.scripts == 1
    assert not report.overflow_x and report.probes["clipped"] == []  # no clipped column, the PDF links included
    start = report.probes["start"]
    # 96 regions under 8 countries and 8 districts (the EU regions have no district row: theirs is themselves)
    assert start["shown"] == 96 and start["groups"] == 8 + 8 and start["tools"]
    assert start["buttons"] == 7  # name, P, I, S, NID, rank, strategy
    assert report.probes["ascending"]["groups"] == 0  # a sorted list has no group rows
    values = [float(v) for v in report.probes["descending"]["first"]]
    assert values == sorted(values, reverse=True)
    assert float(report.probes["ascending"]["first"][0]) <= values[-1]
    assert report.probes["grouped"] == start  # a third press returns to the groups
    filtered = report.probes["filtered"]
    assert filtered["shown"] == 1 and filtered["count"] == "1"  # PL05, whatever the case typed
    assert filtered["groups"] == 1  # only its country's row: the other groups have nothing to show
    assert report.probes["all"]["shown"] == 96


def test_index_works_without_scripts(browser: Chromium, folder: Path) -> None:
    report = browser.open(folder / "index" / "ru" / "index.html", javascript=False, probes={"state": INDEX_STATE})
    state = report.probes["state"]
    assert state["shown"] == 96 and state["groups"] == 16
    assert not state["tools"] and state["buttons"] == 0  # no filter box or sort buttons that would do nothing
    assert _plain(report.title) == "Брифинги о развитии регионов"
