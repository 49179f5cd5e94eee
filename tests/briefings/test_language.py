"""One language per briefing: no internal jargon (file names of the papers, snake_case ids, ASCII ≥), no words of
the other language's script, in the HTML and in the PDF text (``pdftotext``), on hand-made contexts and on every
briefing the demo build renders. The one exception: the bibliographic title of the English-language paper in a
Russian briefing's references."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from briefing_samples import make_context, make_eu_context
from language import html_text, jargon, other_script_runs

from dagster_project.briefings import make_charts, render_briefing

# the code-model paper is cited by its English title (its Russian title is not verified): allowed in Russian text
ENGLISH_TITLE = "Conceptual Approach to Forming the Basic Code of Neo-Industrial Development of a Region"


def pdf_words(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def problems(folder: Path, lang: str) -> dict[str, list[str]]:
    """Every file of ``folder`` (HTML, and PDF when pdftotext is there) with what it should not contain."""
    found = {}
    allowed = (ENGLISH_TITLE,) if lang == "ru" else ()
    for html in sorted(folder.glob("*.html")):
        texts = {html.name: html_text(html.read_text("utf-8"))}
        pdf = html.with_suffix(".pdf")
        if pdf.is_file() and shutil.which("pdftotext"):
            texts[pdf.name] = pdf_words(pdf)
        for name, text in texts.items():
            bad = jargon(text) + other_script_runs(text, lang, allowed)
            if bad:
                found[name] = bad
    return found


def test_the_checker_catches_what_the_issue_found() -> None:
    assert jargon("The three scores of seed 000; the survey of seed 004 (Table 1)") == ["seed 000", "seed 004"]
    assert jargon("Source demo_panel, dataset regions_of_russia") == ["demo_panel", "regions_of_russia"]
    assert jargon("local market capacity 0.95 >= 0.90") == [">="]
    ru = "Ёмкость рынка: only 3 comparison regions in DE have a market size for 2023 (5 needed); P 0,92, NUTS 2"
    assert other_script_runs(ru, "ru") == ["only 3 comparison regions in DE have a market size for 2023 (5 needed"]
    assert other_script_runs("Coverage: Уральский федеральный округ", "en") == ["Уральский", "федеральный", "округ"]
    assert other_script_runs(f"[1] {ENGLISH_TITLE} // Экономика региона. 2017. URL: http://x.org/a_b", "ru",
                             (ENGLISH_TITLE,)) == []
    assert jargon("URL: http://economyofregion.com/archive/2017/66/2958/a_b") == []


@pytest.mark.parametrize("make", [make_context, make_eu_context], ids=["RU-SVE", "DEC0"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_sample_briefings_speak_one_language(tmp_path: Path, make, lang: str) -> None:
    context = make()
    render_briefing(context, tmp_path, lang, make_charts(context, lang))
    assert problems(tmp_path, lang) == {}


# ---------------------------------------------------------------- every briefing of the demo build


@pytest.fixture(scope="module")
def demo_briefings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo refresh (Dagster, dbt, DuckDB, Typst) into a temporary home: its day's briefing folder."""
    from dagster import materialize

    from dagster_project.assets.dbt import dbt_resource
    from dagster_project.assets.ingest import SOURCE_ASSETS
    from dagster_project.definitions import PIPELINE_ASSETS, refresh_selection
    from dagster_project.resources import RegiocodeResource

    home = tmp_path_factory.mktemp("home")
    result = materialize(
        [*SOURCE_ASSETS.values(), *PIPELINE_ASSETS],
        selection=refresh_selection(["demo"]),
        resources={"dbt": dbt_resource(), "regiocode": RegiocodeResource(home=str(home), sources=["demo"])},
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    (day,) = (home / "briefings").glob("[0-9]*")  # the day's folder, not briefings/latest beside it
    return day


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_demo_briefing_speaks_one_language(demo_briefings: Path, lang: str) -> None:
    files = list((demo_briefings / lang).glob("*.html"))
    assert len(files) == 96 + 1  # every region and the index
    assert problems(demo_briefings / lang, lang) == {}
