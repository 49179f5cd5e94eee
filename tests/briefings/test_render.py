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
from briefing_samples import HOSTILE_HTML, HOSTILE_TYPST, make_context, make_eu_context

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
    first_page = text.split("1/")[0]
    assert "Свердловская область: брифинг о развитии региона" in first_page
    assert BANNER_RU in first_page
    assert "Федеральный округ: Уральский федеральный округ" in first_page  # a label, the name in the nominative
    assert "Группа сравнения: 85 регионов России" in first_page
    # where: composite rank 3 of the 83 with all three codes, interval 2–6; strongest P (2 of 85), weakest I
    # (14 of 84) but above the median 0.38 of the group: the region has no weak code
    assert "Свердловская область занимает 3‑е место из 83 регионов России с тремя кодами" in first_page
    assert "от 2 до 6 места" in first_page
    assert "Самый сильный код — производственный код P (2‑е место из 85)" in first_page
    assert "институциональный код I (14‑е место из 84), но и он выше медианы регионов России: слабых " \
           "определяющих кодов у региона нет" in first_page
    assert "ВРП на душу населения: 1 371 665 руб. в 2023 г., 142 % от уровня страны" in first_page
    # what changed: ID 2023 = 0.092 + 0.110 − 0.050 = +0.152; NID 0.332; rank 2 → 3; the driver in real terms
    assert "сумма трёх кодов изменилась на +0,152" in first_page and "достиг 0,332" in first_page
    assert "Общее место изменилось с 2 на 3" in first_page
    assert "ВРП на душу населения (с 140 % до 142 % от уровня страны; +0,012 к коду P)" in first_page
    # what to do: the strategy with its reason, strengths and the instrument for the code below the median
    assert "Рекомендуемая стратегия: умная специализация [2]" in first_page
    assert "не выполнено: ёмкость локального рынка (0,83 < 0,90) и экономико-географическое положение " \
           "(0,47 < 0,75)" in first_page
    assert "Сильные стороны, на которые можно опереться: ВРП на душу населения и уровень занятости населения" \
        in first_page
    assert "Медленнее всего меняется информационный код I′ — ниже медианы группы; для него опрос [1] называет " \
           "самым актуальным инструмент «Содействие участию в программах модернизации» (49,0 % респондентов)" \
        in first_page
    # key indicators in real units: value, change over 1 and 5 years, % of the country, rank
    assert "ВРП на душу населения 2023 1 371 665 руб. +8,5 % +84,3 % 142 % 8 из 85" in first_page
    assert "Уровень занятости 2023 65,5 % +1,0 п. п. −0,7 п. п. 105 % 13 из 83" in first_page
    # the codes with their rank and range, the district's and the group's medians (S: no district median)
    assert "Производственный код (P) 2023 0,612 +0,092 2 из 85 0,500 0,450" in first_page
    assert f"Социальный код (S) 2023 0,450 {MINUS}0,050 3 из 84 (2–7) {DASH} 0,520" in first_page
    assert "26 из 83 0,300 0,250" in first_page  # NID: its rank and medians, no longer dashes


def test_strategy_scores_and_yearly_table_in_russian(texts: dict) -> None:
    text = texts["ru"]
    assert "Умная специализация." in text
    # 0.8333 → 0,83 against 0,90: not met; 0.9405 → 0,94 ≥ 0,90: met
    assert "Ёмкость локального рынка 0,83 0,90 нет население 2 000,5 тыс. чел. × среднедушевые денежные доходы" in text
    assert "Локальная значимость 0,94 0,90 да 1,8 % ВРП страны, 42,0 % ВРП округа" in text
    assert "Три условия из [2] — процентили среди регионов России, 2023 г." in text
    assert "ВРП на душу населения: 1 371 665 руб. (8‑е место из 85)" in text
    # no weak code: partners are not sought (not "no region is strong where this one is weak")
    assert "Ни один код региона не ниже медианы регионов России" in text
    assert "1 сентября 2024 г." in text and "23 ноября 2026 г., 23:15 UTC" in text
    assert "4 321" in text
    assert "2023 0,612 0,470 0,450 +0,092 +0,110 −0,050 +0,152 0,332" in text


def test_evidence_sections_in_english(texts: dict) -> None:
    text = texts["en"]
    assert "Sverdlovsk Oblast: regional development briefing" in text and BANNER_EN in text
    assert "Production code (P) 2023 0.612 +0.092 2 of 85 0.500 0.450" in text
    assert "Sum of the defining codes P + I + S 3 2–6 3 83 2" in text  # rank, interval, median, n, a year earlier
    assert "1 Vologda Oblast 0.28 Researchers, production code P" in text
    assert "1 Arnsberg Germany 0.96" in text
    # the survey where its instruments are used: where, when, whom, how many, and the paper it is in
    assert "Survey: Relevance of instruments affecting the codes of neo-industrial development of the region " \
           "(Ural Federal District; 2011–2016; the population, business, authorities, students and teaching " \
           "staff; in-depth questionnaire of 208 respondents), reported in [1], Table 1." in text
    assert "Weakest defining code: institutional code I" in text
    assert "it is higher than in 84% of the Russian regions, above their median. The survey's most relevant " \
           "instruments for it follow all the same." in text
    assert "Preferential lending" in text  # above the median, and still the region's relatively weakest code
    assert "1 Assistance for participation in modernisation 49.0% 2 Information support for tenders 41.8%" in text
    # r 0.9168 → +0.92, significant (*); p 7.16e-05 → < 0.001; changes r +0.06, p 0.867
    assert "Region 11 +0.92* 0.48 0.84 < 0.001 +0.06 0.867" in text
    assert "Ural Federal District (published) 12 +0.90* 0.22 0.82 < 0.001" in text
    # p = 0.0496 would round to 0.050 and contradict its star: a fourth decimal
    assert "Ural Federal District (regions together) 62 −0.63* −1.28 0.40 0.0496" in text
    assert "Researchers (Social code (S); last value: 2022)" in text
    assert "Advanced technologies used: 2019, 2022 (Synthetic demo data)" in text  # the source named, not its id
    assert "The latest release changed 1 value: Indicator Year Was Now Change Release date Money income per " \
           "capita 2023 82,280.7 83,276.9 1.21% 1 September 2024" in text
    # references: both papers, by title, journal, year where known, and where to find them
    assert "[1] Conceptual Approach to Forming the Basic Code of Neo-Industrial Development of a Region. Economy " \
           "of Region (Ekonomika regiona), 2017. http://economyofregion.com/archive/2017/66/2958/" in text
    assert "[2] Akulov A. O., Chelombitko A. N. Theory and Methodology of Strategic Modernization of Industrial " \
           "Regions." in text
    assert "Synthetic demo data Demo panel of regions (invented values) 1 September 2024" in text
    assert "Warehouse build 20261123T231500Z-ab12 of 23 November 2026, 23:14 UTC; sources: Synthetic demo data." in text


def test_an_eu_region_is_compared_with_its_group_not_with_itself(tmp_path: Path) -> None:
    """Saarland is its own NUTS 1 region: no district line, median or correlation rows; its group is the EU
    comparison regions, not 'Germany'; the Ural survey is indicative abroad; S and S′ share one list."""
    context = make_eu_context()
    files = render_briefing(context, tmp_path, "en", make_charts(context, "en"))
    text = pdf_text(files.pdf)
    if text is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    assert "Compared with: 11 EU comparison regions (NUTS 2)" in text
    assert "NUTS 1 region" not in text and "Median of the NUTS 1" not in text
    assert "ranks 3rd of the 11 EU comparison regions (NUTS 2) with all three codes" in text
    assert "of Germany" not in text.split("Strategy recommendation")[0]  # page 1 never calls the group Germany
    assert "only 3 regions of this group have the inputs for 2023; a percentile needs 5" in text
    assert "Indicative for this region: the survey was taken abroad, in the Ural Federal District" in text
    assert "Weakest defining code: social code S; slowest change: value-and-competence code S′" in text
    assert text.count("Creating highly productive jobs") == 2  # page 1 and one list (not one per code)
    assert "Saarland (published)" not in text and "(regions together)" not in text
    assert "Region 11 +0.92*" in text
    assert "Gross regional product per capita: 32,689 EUR in 2023, 90% of the national level" in text
    assert "Innovation activity" not in text.split("Codes of neo-industrial development")[0]  # not in the EU basket


def test_pdf_has_running_header_and_page_numbers(rendered: dict, texts: dict) -> None:
    pages = pdf_pages(rendered["en"].pdf.read_bytes())
    for page in range(1, pages + 1):
        assert f"{page}/{pages}" in texts["en"].replace(" / ", "/")
    assert texts["en"].count("Data: to 2023, release of 1 September 2024") >= pages  # the header on every page


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
    assert f"1{NBSP}сентября 2024{NBSP}г." in html
    assert "Свердловская область занимает 3‑е место из 83 регионов России" in text
    # the yearly table has the last 6 years only
    assert '<th scope="row">2018</th>' in html and '<th scope="row">2023</th>' in html
    assert '<th scope="row">2017</th>' not in html
    # the missing district median of S is a dash (S row: year, value, change, rank, district median, group median)
    s_row = html.split("Социальный код")[1].split("</tr>")[0]
    cells = [c.replace(NBSP, " ") for c in re.findall(r'<td class="num[^"]*" data-label="[^"]*">([^<]*)</td>', s_row)]
    assert cells == ["2023", "0,450", f"{MINUS}0,050", "3 из 84 (2–7)", DASH, "0,520"]
    # the weak change's instruments, and those of the relatively weakest code (above the median, said so)
    assert "Содействие участию в программах модернизации" in html and "Льготное кредитование" in html


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
    assert '<title id="chart-profile-title">Defining codes P, I and S of the region, the median of Ural Federal ' \
           'District and the median of the Russian regions' in html
    assert "Region: P 0.612, I 0.470, S 0.450. Median of the Russian regions: P 0.450, I 0.380, S 0.520. Median " \
           "of Ural Federal District: P 0.500, I 0.400, S —." in html
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
        district_medians=None,
        universe_medians=[{}],
        indicators=None,
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
    assert "Коды для этого региона пока не рассчитаны." in text  # no key indicators
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
    assert '<a href="../ru/RU-TYU.html">&lt;script&gt;' in html
    assert html.count("<script") == 1 and "alert(1)</script>" not in html  # only the page's own sorting script
    assert "javascript:" not in html and '<a href="RU-TYU.pdf"' in html
    cells = "".join(f'<td class="num" data-label="{label}">{value}</td>'
                    for label, value in (("P", "0,612"), ("I", "0,470"), ("S", "0,450"), ("NID", "0,332")))
    assert cells in html
    # grouped by country, then district
    assert '<tr class="group group-country"><th scope="colgroup" colspan="9">Российская Федерация</th></tr>' in html
    assert '<th scope="colgroup" colspan="9">Уральский федеральный округ</th>' in html
    assert "3 из 83 (2–6)" in html.replace(NBSP, " ") and "умная специализация" in html
    assert BANNER_RU in html_text(html)
