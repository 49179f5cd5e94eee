"""Hostile input: names that try to leave their folder, XML entities, compression bombs.

Covered elsewhere and not repeated here: HTML escaping of data and Typst receiving data as data,
never as markup (tests/briefings/test_render.py::test_html_escapes_a_hostile_region_name and
::test_typst_markup_in_a_region_name_prints_literally); spreadsheet formulas neutralised in CSV
exports and terminal control characters escaped (tests/operations/test_sql_output.py); the xlsx zip-bomb guard
(dagster_project/sources/rosstat_cells.py, tests/sources/test_rosstat_fixtures.py).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from dagster_project.briefings.render import safe_code
from dagster_project.sources.base import SourceError
from dagster_project.sources.eurostat.api import parse_dsd
from dagster_project.sources.eurostat.formats import decompress_if_gzip, parse_bytes
from dagster_project.sources.rosstat.pull import file_name_for

HOSTILE_NAMES = ["../../etc/passwd", "..", ".", "/abs/path", "a\\..\\b", "RU-SVE/../../x", "\x00evil",
                 "ru-sve\n#read(\"/etc/passwd\")", "~root", "%2e%2e%2f"]


@pytest.mark.parametrize("code", HOSTILE_NAMES)
def test_briefing_file_names_stay_in_their_folder(tmp_path: Path, code: str) -> None:
    name = safe_code(code)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert (tmp_path / f"{name}.html").resolve().parent == tmp_path.resolve()


def test_region_codes_keep_their_name() -> None:
    assert safe_code("RU-SVE") == "RU-SVE" and safe_code("DE11") == "DE11"


@pytest.mark.parametrize("url", [
    "https://rosstat.example/files/..%2F..%2F..%2Fetc%2Fcron.d%2Fx",
    "https://rosstat.example/%2e%2e",
    "https://rosstat.example/a/..",
    "https://rosstat.example/dir/",
    "https://rosstat.example/x%5C..%5C..%5Cwin.ini",
    "https://rosstat.example/.hidden.xlsx",
])
def test_download_names_cannot_traverse(tmp_path: Path, url: str) -> None:
    name = file_name_for(url)
    assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and not name.startswith(".")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Structure><Dimension id="&lol3;" position="1"/></Structure>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Structure><Dimension id="&x;" position="1"/></Structure>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_entities_are_refused_not_expanded(xml: bytes) -> None:
    with pytest.raises(SourceError, match="entities or a DTD"):
        parse_dsd(xml, "nama_10r_2gdp: https://api.example/datastructure")


def test_plain_dsd_still_parses() -> None:
    xml = b'<S><Dimension id="freq" position="1"/><Dimension id="geo" position="2"/></S>'
    assert parse_dsd(xml, "x") == ("freq", "geo")


def test_gzip_bomb_is_refused_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024), compresslevel=9)  # 8 MB of zeros in ~8 KB
    assert len(bomb) < 64 * 1024
    with pytest.raises(SourceError, match="unpacks to more than"):
        decompress_if_gzip(bomb, "estat_bomb.tsv.gz", limit=1024 * 1024)
    monkeypatch.setenv("REGIOCODE_MAX_UNPACKED_MB", "1")
    with pytest.raises(SourceError, match="estat_bomb.tsv.gz: gzip data unpacks to more than 1 MB"):
        parse_bytes(bomb, "estat_bomb.tsv.gz")  # the path every file and API body takes


def test_gzip_within_the_limit_and_truncated_gzip() -> None:
    body = b"freq,unit,geo\\TIME_PERIOD\t2020 \nA,EUR_HAB,DE11\t51000 \n"
    packed = gzip.compress(body)
    assert decompress_if_gzip(packed, "x", limit=len(body)) == body
    with pytest.raises(SourceError, match="truncated or corrupt"):
        decompress_if_gzip(packed[: len(packed) // 2], "x")
