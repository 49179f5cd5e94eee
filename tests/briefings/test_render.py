"""End-to-end tests of the briefing renderer: real HTML files and real PDFs compiled by Typst.

PDF text is read with ``pdftotext`` (Debian ``poppler-utils``) when present; without it, the
checks fall back to the PDF's structure and to Typst's own query of the document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typst

from dagster_project.briefings import index_entry, make_charts, render_briefing, render_html, render_index
from dagster_project.briefings.formatting import DASH, MINUS, NBSP
from dagster_project.briefings.render import TEMPLATES_DIR, render_pdf_bytes

HOSTILE_TYPST = '#read("/etc/passwd") [x] $y$ *b* _i_ @ref <lab>'
HOSTILE_HTML = "<script>alert(1)</script> & Co"
BANNER_RU = "Синтетические демонстрационные данные — не официальная статистика"
BANNER_EN = "Synthetic demo data — not official statistics"


def make_context(
    name_ru: str = "Свердловская область", name_en: str = "Sverdlovsk Oblast", demo: bool = True
) -> dict:
    """A small hand-checkable context: 2016–2023, P +0.02/yr, I +0.01/yr, S flat at 0.5 until a 2023 drop.

    2023: P 0.612 (Δ +0.092), I 0.47 (Δ +0.110), S 0.45 (Δ −0.050), ID +0.152, NID 0.18 + 0.152 = 0.332.
    """
    rows = []
    for k, year in enumerate(range(2016, 2023)):
        first = k == 0
        rows.append(
            {
                "year": year,
                "production_code": 0.4 + 0.02 * k,
                "institutional_code": 0.3 + 0.01 * k,
                "social_code": 0.5,
                "innovation_code": None if first else 0.02,
                "information_code": None if first else 0.01,
                "value_competence_code": None if first else 0.0,
                "id_code": None if first else 0.03,
                "nid": None if first else 0.03 * k,
            }
        )
    rows.append(
        {
            "year": 2023,
            "production_code": 0.612,
            "institutional_code": 0.47,
            "social_code": 0.45,
            "innovation_code": 0.092,
            "information_code": 0.11,
            "value_competence_code": -0.05,
            "id_code": 0.152,
            "nid": 0.332,
        }
    )
    return {
        "region": {
            "code": "RU-SVE",
            "name_ru": name_ru,
            "name_en": name_en,
            "district_name_ru": "Уральский федеральный округ",
            "district_name_en": "Ural Federal District",
            "country": "RU",
        },
        "demo": demo,
        "build_id": "20261123T231500Z-ab12",
        "generated_at": "2026-11-23T23:15:00+00:00",
        "data_vintage": "2024-03-01 (demo v2)",
        "latest_year": 2023,
        "codes": rows,
        "district_median": {"production_code": 0.5, "institutional_code": 0.4, "social_code": None},
        "country_median": {"production_code": 0.45, "institutional_code": 0.38, "social_code": 0.52},
        "coverage_notes": [
            {
                "year": 2003,
                "family": "production",
                "reason": "only 0.57 of the family weight present (needs 2/3)",
            }
        ],
        "top_contributions": [
            {
                "indicator_code": "grp_per_capita",
                "name_ru": "ВРП на душу населения",
                "name_en": "Gross regional product per capita",
                "family": "production",
                "contribution_change": 0.012,
            }
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


def pdf_text(path: Path) -> str | None:
    """The PDF's text with no-break spaces as spaces, or None when pdftotext is not installed."""
    if shutil.which("pdftotext") is None:
        return None
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    )
    return " ".join(out.stdout.replace(NBSP, " ").split())


def pdf_pages(data: bytes) -> int:
    """Page count from the PDF's page tree (Typst writes it uncompressed as ``/Type/Pages/Count N``)."""
    match = re.search(rb"/Type\s*/Pages\s*/Count\s+(\d+)", data)
    assert match, "no page tree found in the PDF"
    return int(match.group(1))


def typst_region_name(context: dict, lang: str, tmp_path: Path) -> str:
    """What the Typst template took as the region name, asked from the compiled document itself."""
    folder = tmp_path / "query"
    folder.mkdir()
    from dagster_project.briefings.render import build_view  # the same view the PDF gets

    view = build_view(context, lang, has_chart=False)
    import json

    (folder / "context.json").write_text(json.dumps(view, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(TEMPLATES_DIR / "briefing.typ", folder / "briefing.typ")
    out = typst.query(
        str(folder / "briefing.typ"),
        "<region-name>",
        field="value",
        one=True,
        root=str(folder),
        ignore_system_fonts=True,
    )
    return json.loads(out)


class _Outline(HTMLParser):
    """Collects the heading order, the scopes of header cells and whether any script is present."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.th_scopes: list[str | None] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        elif tag == "th":
            self.th_scopes.append(dict(attrs).get("scope"))
        elif tag == "script":
            self.scripts += 1


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo context rendered in both languages with one shared chart set."""
    context = make_context()
    charts = make_charts(context)
    out = tmp_path_factory.mktemp("briefings")
    return {lang: render_briefing(context, out / lang, lang, charts) for lang in ("ru", "en")}


def test_files_are_written_under_the_region_code(rendered: dict, tmp_path: Path) -> None:
    for lang, files in rendered.items():
        assert files.html.name == "RU-SVE.html" and files.pdf.name == "RU-SVE.pdf"
        assert files.html.parent.name == lang
        assert not list(files.html.parent.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_pdf_is_a_real_pdf_with_pages(rendered: dict) -> None:
    for files in rendered.values():
        data = files.pdf.read_bytes()
        assert data.startswith(b"%PDF")
        assert pdf_pages(data) >= 1


def test_pdf_text_in_russian(rendered: dict) -> None:
    text = pdf_text(rendered["ru"].pdf)
    if text is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    assert "Свердловская область: брифинг о развитии региона" in text
    assert BANNER_RU in text
    # key figures: values, changes and medians, Russian formatting, dash for the missing district median of S
    assert "Производственный код (P) 0,612 +0,092 0,500 0,450" in text
    assert f"Социальный код (S) 0,450 {MINUS}0,050 {DASH} 0,520" in text
    assert "ID = +0,152" in text
    assert "1 марта 2024 г. (demo v2)" in text
    assert "23 ноября 2026 г., 23:15 UTC" in text
    assert "4 321" in text
    assert "2023 0,612 0,470 0,450 +0,092 +0,110 −0,050 +0,152 0,332" in text


def test_pdf_text_in_english(rendered: dict) -> None:
    text = pdf_text(rendered["en"].pdf)
    if text is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    assert "Sverdlovsk Oblast: regional development briefing" in text
    assert BANNER_EN in text
    assert "Production code (P) 0.612 +0.092 0.500 0.450" in text
    assert "4,321" in text
    assert "23 November 2026, 23:15 UTC" in text


def test_pdf_is_reproducible(rendered: dict) -> None:
    """Same context, same bytes: the creation date comes from generated_at, not the clock."""
    context = make_context()
    assert render_pdf_bytes(context, "ru", make_charts(context)) == rendered["ru"].pdf.read_bytes()


def test_html_content_and_russian_formatting(rendered: dict) -> None:
    html = rendered["ru"].html.read_text("utf-8")
    assert '<html lang="ru">' in html
    assert BANNER_RU in html
    assert "0,612" in html and "+0,092" in html and f"{MINUS}0,050" in html
    assert f"4{NBSP}321" in html
    assert f"1{NBSP}марта 2024{NBSP}г. (demo v2)" in html
    # the table has the last 6 years only
    assert '<th scope="row">2018</th>' in html and '<th scope="row">2023</th>' in html
    assert '<th scope="row">2017</th>' not in html
    # the missing district median of S is a dash (S card: value, change, district median, country median)
    s_card = html.split("Социальный код")[1].split("</li>")[0]
    assert re.findall(r'<dd class="num">([^<]*)</dd>', s_card) == [f"{MINUS}0,050", DASH, "0,520"]


def test_html_is_self_contained_and_accessible(rendered: dict) -> None:
    html = rendered["en"].html.read_text("utf-8")
    outline = _Outline()
    outline.feed(html)
    assert outline.scripts == 0
    assert outline.headings[0] == "h1" and outline.headings.count("h1") == 1
    # no level is skipped going down (h1 → h2 → h3)
    levels = [int(h[1]) for h in outline.headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))
    assert outline.th_scopes and all(scope in {"col", "row"} for scope in outline.th_scopes)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    assert '<title id="chart-codes-title">Defining codes P (production)' in html
    assert "Line chart of the defining codes P, I and S from 2016 to 2023" in html
    assert "In 2023: P 0.612, I 0.470, S 0.450." in html
    assert "<link" not in html and 'src="http' not in html  # nothing fetched from outside
    assert '<meta name="viewport"' in html and "@media print" in html


def test_banner_only_for_demo_data(tmp_path: Path) -> None:
    for lang, banner in (("ru", BANNER_RU), ("en", BANNER_EN)):
        real = render_briefing(make_context(demo=False), tmp_path / f"real-{lang}", lang)
        assert banner not in real.html.read_text("utf-8")
        text = pdf_text(real.pdf)
        if text is not None:
            assert banner not in text
        demo_html = render_html(make_context(demo=True), lang)
        assert demo_html.count(banner) == 2  # top of the page and footer


def test_html_escapes_a_hostile_region_name(tmp_path: Path) -> None:
    files = render_briefing(make_context(name_ru=HOSTILE_HTML), tmp_path, "ru")
    html = files.html.read_text("utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    text = pdf_text(files.pdf)
    if text is not None:
        assert f"{HOSTILE_HTML}: брифинг о развитии региона" in text


def test_typst_markup_in_a_region_name_prints_literally(tmp_path: Path) -> None:
    context = make_context(name_en=HOSTILE_TYPST)
    files = render_briefing(context, tmp_path, "en")
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert typst_region_name(context, "en", tmp_path) == HOSTILE_TYPST
    text = pdf_text(files.pdf)
    if text is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed; checked through Typst's query only")
    assert f"{HOSTILE_TYPST}: regional development briefing" in text
    assert "root:" not in text  # /etc/passwd was not read


def test_null_everything_renders_dashes(tmp_path: Path) -> None:
    context = make_context()
    for row in context["codes"]:
        for key in row:
            if key != "year":
                row[key] = None
    context.update(
        district_median=None,
        country_median={},
        coverage_notes=None,
        top_contributions=[],
        provenance=[{"source": None, "observations": None}],
        generated_at=None,
        data_vintage=None,
    )
    assert make_charts(context) == {}
    files = render_briefing(context, tmp_path, "ru")
    html = files.html.read_text("utf-8")
    assert "Нет значений кодов для графика." in html
    assert '<tr><th scope="row">2023</th>' + f'<td class="num">{DASH}</td>' * 8 + "</tr>" in html
    text = pdf_text(files.pdf)
    if text is not None:
        assert f"2023 {DASH} {DASH} {DASH} {DASH} {DASH} {DASH} {DASH} {DASH}" in text


def test_minimal_context_renders(tmp_path: Path) -> None:
    files = render_briefing({"region": {"code": "XX"}}, tmp_path, "en")
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert "Годовые" not in files.html.read_text("utf-8")
    assert "No yearly codes are available." in files.html.read_text("utf-8")


def test_a_chart_with_a_script_is_refused(tmp_path: Path) -> None:
    bad = {"codes": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}
    with pytest.raises(ValueError, match="without scripts"):
        render_briefing(make_context(), tmp_path, "en", charts=bad)


def test_index_lists_regions_with_links(tmp_path: Path) -> None:
    entries = [index_entry(make_context()), index_entry(make_context(name_ru=HOSTILE_HTML, demo=False))]
    entries[1].update(code="RU-TYU", pdf="javascript:alert(1)", html="../ru/RU-TYU.html")
    path = render_index(entries, tmp_path, "ru")
    html = path.read_text("utf-8")
    assert path.name == "index.html"
    assert '<a href="RU-SVE.html">Свердловская область</a>' in html
    assert '<a href="RU-SVE.pdf" type="application/pdf">PDF</a>' in html
    assert '<a href="../ru/RU-TYU.html">&lt;script&gt;' in html and "<script" not in html
    assert "javascript:" not in html and '<a href="RU-TYU.pdf"' in html
    cells = "".join(f'<td class="num">{value}</td>' for value in ("0,612", "0,470", "0,450", "0,332"))
    assert cells in html
    assert BANNER_RU in html
