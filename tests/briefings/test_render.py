"""End-to-end tests of the briefing renderer: real HTML files and real PDFs compiled by Typst.

PDF text is read with ``pdftotext`` (Debian ``poppler-utils``) and pages rasterised with ``pdftoppm``
when present; without them, the checks fall back to the PDF's structure and to Typst's own query.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typst
from briefing_samples import CITATION, HOSTILE_HTML, HOSTILE_TYPST, make_context

from dagster_project.briefings import index_entry, make_charts, render_briefing, render_html, render_index
from dagster_project.briefings.formatting import DASH, MINUS, NBSP
from dagster_project.briefings.render import render_pdf_bytes, typst_inputs
from dagster_project.briefings.view import TEMPLATES_DIR, build_view

BANNER_RU = "Синтетические демонстрационные данные — не официальная статистика"
BANNER_EN = "Synthetic demo data — not official statistics"


def pdf_text(path: Path) -> str | None:
    """The PDF's text with no-break spaces as spaces and soft hyphens dropped, or None without pdftotext."""
    if shutil.which("pdftotext") is None:
        return None
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    )
    text = re.sub(r"\u00ad\s*", "", out.stdout.replace(NBSP, " "))  # a word hyphenated across lines is whole
    return " ".join(text.split())


def pdf_pages(data: bytes) -> int:
    """Page count from the PDF's page tree (Typst writes it uncompressed as ``/Type/Pages/Count N``)."""
    match = re.search(rb"/Type\s*/Pages\s*/Count\s+(\d+)", data)
    assert match, "no page tree found in the PDF"
    return int(match.group(1))


def html_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace(NBSP, " ").split())


def typst_region_name(context: dict, lang: str, tmp_path: Path) -> str:
    """What the Typst template took as the region name, asked from the compiled document itself."""
    root = tmp_path / "typst-root"
    root.mkdir()
    for name, data in typst_inputs(build_view(context, lang, charts=False), {}).items():
        (root / name).write_bytes(data)  # what the renderer puts in its root: the view, no chart
    out = typst.query(
        (TEMPLATES_DIR / "briefing.typ").read_bytes(),
        "<region-name>",
        field="value",
        one=True,
        root=str(root),
        ignore_system_fonts=True,
    )
    return json.loads(out)


class _Outline(HTMLParser):
    """Collects the heading order, the scopes of header cells, ids and whether any script is present."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.th_scopes: list[str | None] = []
        self.ids: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        elif tag == "th":
            self.th_scopes.append(attributes.get("scope"))
        elif tag == "script":
            self.scripts += 1


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample context rendered in both languages."""
    context = make_context()
    out = tmp_path_factory.mktemp("briefings")
    return {lang: render_briefing(context, out / lang, lang, make_charts(context, lang)) for lang in ("ru", "en")}


@pytest.fixture(scope="module")
def texts(rendered: dict) -> dict:
    found = {lang: pdf_text(files.pdf) for lang, files in rendered.items()}
    if any(text is None for text in found.values()):
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    return found


def test_files_are_written_under_the_region_code(rendered: dict) -> None:
    for lang, files in rendered.items():
        assert files.html.name == "RU-SVE.html" and files.pdf.name == "RU-SVE.pdf"
        assert files.html.parent.name == lang
        assert not list(files.html.parent.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_pdf_is_a_real_a4_pdf_with_several_pages(rendered: dict) -> None:
    for files in rendered.values():
        data = files.pdf.read_bytes()
        assert data.startswith(b"%PDF")
        assert pdf_pages(data) >= 3
        # A4 is 595.28 × 841.89 pt
        assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595\.2\d*\s+841\.8\d*\s*\]", data)


def test_first_page_answers_where_what_changed_what_to_do_in_russian(texts: dict) -> None:
    text = texts["ru"]
    first_page = text.split("1/5")[0] if "1/5" in text else text[:4000]
    assert "Свердловская область: брифинг о развитии региона" in first_page
    assert BANNER_RU in first_page
    # where: composite rank 3 of 83, interval 2–6; strongest P (rank 2), weakest I (rank 14)
    assert "Свердловская область занимает 3‑е место из 83 регионов сравнения (Российская Федерация)" in first_page
    assert "место остаётся в пределах 2–6" in first_page
    assert (
        "Самый сильный код — производственный код P (2‑е место), самый слабый — институциональный код I (14‑е место)"
        in first_page
    )
    # what changed: ID 2023 = 0.092 + 0.110 − 0.050 = +0.152; NID 0.332; rank 2 → 3; the largest contribution
    assert (
        "код индустриального развития ID составил +0,152: в сумме коды выросли; базовый код NID достиг 0,332"
        in first_page
    )
    assert "Общее место изменилось с 2‑го на 3‑е" in first_page
    assert "«ВРП на душу населения» (+0,012 к коду P)" in first_page
    # what to do: the strategy and the top instrument for the weakest code
    assert "Рекомендуемая стратегия: умная специализация" in first_page
    assert (
        "институциональный код I (процентиль 0,84): самый актуальный инструмент по данным опроса — "
        "«Льготное кредитование» (66,3 % респондентов)" in first_page
    )


def test_key_figures_and_strategy_scores_in_russian(texts: dict) -> None:
    text = texts["ru"]
    assert "Производственный код (P) 0,612 +0,092 0,500 0,450 2 из 85" in text
    assert f"Социальный код (S) 0,450 {MINUS}0,050 {DASH} 0,520 3 из 84 (2–7)" in text
    assert "ID = +0,152" in text
    assert "Умная специализация." in text
    # 0.8333 → 0,83 against 0,90: not met; 0.9405 → 0,94 ≥ 0,90: met
    assert "Ёмкость локального рынка 0,83 0,90 нет население 2 000,5 тыс. чел. × среднедушевые денежные доходы" in text
    assert "Локальная значимость 0,94 0,90 да 1,8 % ВРП страны, 42,0 % ВРП округа" in text
    assert "1 марта 2024 г. (demo v2)" in text and "23 ноября 2026 г., 23:15 UTC" in text
    assert "4 321" in text
    assert "2023 0,612 0,470 0,450 +0,092 +0,110 −0,050 +0,152 0,332" in text


def test_evidence_sections_in_english(texts: dict) -> None:
    text = texts["en"]
    assert "Sverdlovsk Oblast: regional development briefing" in text and BANNER_EN in text
    assert "Production code (P) 0.612 +0.092 0.500 0.450 2 of 85" in text
    assert "Sum of the defining codes P + I + S 3 2–6 3 83 2" in text  # rank, interval, median, n, a year earlier
    assert "1 Vologda Oblast 0.28 Researchers, production code P" in text
    assert "1 Arnsberg Germany 0.96" in text
    assert "Weakest defining code: institutional code I (percentile 0.84)" in text
    assert "1 Preferential lending 66.3% 2 Preferential taxation 58.7%" in text
    assert CITATION in text and "208 respondents, 2011-2016" in text
    # r 0.9168 → +0.92, significant (*); p 7.16e-05 → < 0.001; changes r +0.06, p 0.867
    assert "Region 11 +0.92* 0.48 0.84 < 0.001 +0.06 0.867" in text
    assert "District (published) 12 +0.90* 0.22 0.82 < 0.001" in text
    assert "Researchers (Social code (S); last value: 2022)" in text
    assert "Advanced technologies used: 2019, 2022 (demo)" in text
    assert "Money income per capita 2023 82,280.7 83,276.9 1.21% demo v1 → demo v2" in text
    assert "Innovation activity of organisations" in text and "Tyumen Oblast (institutional)" in text
    assert "Warehouse build 20261123T231500Z-ab12 of 23 November 2026, 23:14 UTC; sources: demo." in text


def test_pdf_has_running_header_and_page_numbers(rendered: dict, texts: dict) -> None:
    pages = pdf_pages(rendered["en"].pdf.read_bytes())
    for page in range(1, pages + 1):
        assert f"{page}/{pages}" in texts["en"].replace(" / ", "/")
    assert texts["en"].count("Data vintage: 1 March 2024 (demo v2)") >= pages  # the header on every page


def test_pdf_pages_rasterise(rendered: dict, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(rendered["ru"].pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pdf_pages(rendered["ru"].pdf.read_bytes())
    assert all(p.stat().st_size > 5_000 for p in pngs)  # not blank pages


def test_pdf_is_reproducible(rendered: dict) -> None:
    """Same context, same bytes: the creation date comes from generated_at, not the clock."""
    context = make_context()
    assert render_pdf_bytes(context, "ru", make_charts(context, "ru")) == rendered["ru"].pdf.read_bytes()


def test_html_content_and_russian_formatting(rendered: dict) -> None:
    html = rendered["ru"].html.read_text("utf-8")
    text = html_text(html)
    assert '<html lang="ru">' in html
    assert BANNER_RU in text
    assert "0,612" in html and "+0,092" in html and f"{MINUS}0,050" in html
    assert f"4{NBSP}321" in html
    assert f"1{NBSP}марта 2024{NBSP}г. (demo v2)" in html
    assert "Свердловская область занимает 3‑е место из 83 регионов сравнения" in text
    # the yearly table has the last 6 years only
    assert '<th scope="row">2018</th>' in html and '<th scope="row">2023</th>' in html
    assert '<th scope="row">2017</th>' not in html
    # the missing district median of S is a dash (S card: change, district median, country median, rank)
    s_card = html.split("Социальный код")[1].split("</li>")[0]
    cells = [c.replace(NBSP, " ") for c in re.findall(r'<dd class="num">([^<]*)</dd>', s_card)]
    assert cells == [f"{MINUS}0,050", DASH, "0,520", "3 из 84 (2–7)"]
    assert "Льготное кредитование" in html and CITATION in html


def test_html_is_self_contained_and_accessible(rendered: dict) -> None:
    html = rendered["en"].html.read_text("utf-8")
    outline = _Outline()
    outline.feed(html)
    assert outline.scripts == 0
    assert outline.headings[0] == "h1" and outline.headings.count("h1") == 1
    levels = [int(h[1]) for h in outline.headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))  # no level skipped going down
    assert outline.th_scopes and all(scope in {"col", "row", "colgroup"} for scope in outline.th_scopes)
    assert len(outline.ids) == len(set(outline.ids))  # ids are unique (labels point at one element)
    for anchor in re.findall(r'href="#([^"]+)"', html):
        assert anchor in outline.ids, anchor  # every contents link has its target
    assert html.count('role="img"') == 4  # four charts, each with a title and a description
    assert '<title id="chart-profile-title">Defining codes P, I and S of the region, the district median' in html
    assert "Region: P 0.612, I 0.470, S 0.450. District median: P 0.500, I 0.400, S —." in html
    assert "Line chart of the defining codes P, I and S from 2016 to 2023" in html
    assert "<link" not in html and 'src="http' not in html  # nothing fetched from outside
    assert '<meta name="viewport"' in html and "@media print" in html


def test_banner_only_for_demo_data(tmp_path: Path) -> None:
    for lang, banner in (("ru", BANNER_RU), ("en", BANNER_EN)):
        real = render_briefing(make_context(demo=False), tmp_path / f"real-{lang}", lang)
        assert banner not in html_text(real.html.read_text("utf-8"))
        text = pdf_text(real.pdf)
        if text is not None:
            assert banner not in text
        demo_html = html_text(render_html(make_context(demo=True), lang))
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
    assert "root:" not in text and "/bin/" not in text  # /etc/passwd was not read


def test_the_pdf_template_can_read_no_file(tmp_path: Path) -> None:
    """The compiler's root is this process's private folder holding only the template between compiles:
    even the template itself could not read /etc/passwd, and a briefing's inputs are gone once its PDF
    is written."""
    from dagster_project.briefings.render import _typst_root

    render_briefing(make_context(), tmp_path, "en")
    root = _typst_root()
    assert [p.name for p in root.iterdir()] == ["briefing.typ"]
    assert (root / "briefing.typ").read_bytes() == (TEMPLATES_DIR / "briefing.typ").read_bytes()
    assert root.stat().st_mode & 0o077 == 0  # nobody else can put a file there
    with pytest.raises(typst.TypstError, match="file not found"):
        typst.compile(b'#read("/etc/passwd")', root=str(root), ignore_system_fonts=True)
    with pytest.raises(typst.TypstError, match="escape the project root"):
        typst.compile(b'#read("../../etc/passwd")', root=str(root), ignore_system_fonts=True)


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
        ranks=None,
        strategy=None,
        peers=[],
        instruments=None,
        correlations=[],
        quality=None,
        provenance=[{"source": None, "observations": None}],
        generated_at=None,
        data_vintage=None,
    )
    assert set(make_charts(context, "ru")) == set()
    files = render_briefing(context, tmp_path, "ru")
    text = html_text(files.html.read_text("utf-8"))
    assert "Нет значений для графика." in text
    assert "Стратегия для этого региона не оценивалась." in text
    assert "Место региона пока не определено." in text
    assert '<tr><th scope="row">2023</th>' + f'<td class="num">{DASH}</td>' * 8 + "</tr>" in files.html.read_text()
    pdf = pdf_text(files.pdf)
    if pdf is not None:
        assert f"2023 {DASH} {DASH} {DASH} {DASH} {DASH} {DASH} {DASH} {DASH}" in pdf


def test_minimal_context_renders(tmp_path: Path) -> None:
    files = render_briefing({"region": {"code": "XX"}}, tmp_path, "en")
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert "No yearly codes are available." in files.html.read_text("utf-8")


def test_a_chart_with_a_script_or_a_link_is_refused(tmp_path: Path) -> None:
    for bad in (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://x/y.png"/></svg>',
    ):
        with pytest.raises(ValueError, match="without scripts"):
            render_briefing(make_context(), tmp_path, "en", charts={"codes": bad})


def test_index_lists_regions_with_codes_rank_strategy_and_links(tmp_path: Path) -> None:
    entries = [index_entry(make_context()), index_entry(make_context(name_ru=HOSTILE_HTML, demo=False))]
    entries[1].update(code="RU-TYU", pdf="javascript:alert(1)", html="../ru/RU-TYU.html", decision=None)
    path = render_index(entries, tmp_path, "ru")
    html = path.read_text("utf-8")
    assert path.name == "index.html"
    assert '<a href="RU-SVE.html">Свердловская область</a>' in html
    assert '<a href="RU-SVE.pdf" type="application/pdf">PDF</a>' in html
    assert '<a href="../ru/RU-TYU.html">&lt;script&gt;' in html and "<script" not in html
    assert "javascript:" not in html and '<a href="RU-TYU.pdf"' in html
    cells = "".join(f'<td class="num">{value}</td>' for value in ("0,612", "0,470", "0,450", "0,332"))
    assert cells in html
    assert "3 из 83 (2–6)" in html.replace(NBSP, " ") and "умная специализация" in html
    assert BANNER_RU in html_text(html)
