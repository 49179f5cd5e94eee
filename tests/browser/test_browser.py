"""Briefings in a real browser: headless Chromium loads the HTML with no console errors, no failed
loads and no script, lays it out without sideways scrolling on a phone, and draws a full page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "briefings"))

from briefing_samples import HOSTILE_HTML, make_context  # noqa: E402
from chromium import Chromium, find_chromium, png_size  # noqa: E402

from dagster_project.briefings.batch import render_all  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")


def _plain(text: str) -> str:
    """Titles carry Russian typography (no-break spaces); compare them as plain text."""
    return text.replace("\u00a0", " ")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("briefings")
    hostile = make_context(name_ru=HOSTILE_HTML, name_en=HOSTILE_HTML)
    hostile["region"]["code"] = "RU-CHE"
    render_all([make_context(), hostile], root / "day", root / "state", workers=1)
    return root / "day"


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM) as chromium:
        yield chromium


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_briefing_renders_without_errors_on_a_desktop(browser: Chromium, folder: Path, lang: str) -> None:
    report = browser.open(folder / lang / "RU-SVE.html", width=1280, height=900)
    assert report.errors == []
    assert report.scripts == 0
    assert _plain(report.title) == ("Свердловская область: брифинг о развитии региона" if lang == "ru"
                                    else "Sverdlovsk Oblast: regional development briefing")
    width, height = png_size(report.png)
    assert width == 1280 and height > 3000  # the whole briefing, not a blank viewport
    assert len(report.png) > 100_000


def test_briefing_fits_a_phone_screen(browser: Chromium, folder: Path) -> None:
    report = browser.open(folder / "ru" / "RU-SVE.html", width=390, height=844, mobile=True)
    assert report.errors == []
    assert not report.overflow_x  # wide tables scroll inside their own box, the page does not
    width, height = png_size(report.png)
    assert width == 390 and height > 6000


def test_a_hostile_region_name_is_text_in_the_browser(browser: Chromium, folder: Path) -> None:
    report = browser.open(folder / "en" / "RU-CHE.html")
    assert report.errors == [] and report.scripts == 0  # the <script> in the name never became one
    assert report.title == f"{HOSTILE_HTML}: regional development briefing"


def test_index_renders_without_errors(browser: Chromium, folder: Path) -> None:
    report = browser.open(folder / "ru" / "index.html", width=1024, height=768)
    assert report.errors == [] and report.scripts == 0
    assert _plain(report.title) == "Брифинги о развитии регионов"
    assert png_size(report.png)[1] > 300
