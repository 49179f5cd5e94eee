"""The words of the briefings: the message catalog of each language, and how names go into sentences.

Every label and sentence a briefing prints comes from ``reports/templates/messages/<lang>.json``, so
the code holds no prose and a translator edits one file per language. The view sections look a
message up through :class:`Say`, which also applies Russian typography, and take names that the
warehouse stores in both languages (``name_ru``/``name_en``) through :func:`localised`, which falls
back to the other language rather than printing nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster_project.briefings.formatting import check_lang, text_or_dash, typograph
from dagster_project.settings import TEMPLATES_DIR  # reports/templates, or REGIOCODE_TEMPLATES_DIR


@functools.lru_cache(maxsize=8)
def load_messages(lang: str, templates_dir: Path = TEMPLATES_DIR) -> dict[str, str]:
    """The message catalog of ``lang`` (``messages/<lang>.json``), Russian typography applied."""
    path = Path(templates_dir) / "messages" / f"{check_lang(lang)}.json"
    return {k: typograph(v, lang) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


class Say:
    """Message lookup with ``str.format`` and Russian typography on the result."""

    def __init__(self, t: Mapping[str, str], lang: str) -> None:
        self.t, self.lang = t, lang

    def __call__(self, key: str, **values: object) -> str:
        return typograph(self.t[key].format(**values), self.lang)


def localised(record: Mapping[str, Any], field: str, lang: str, fallback: object = None) -> str:
    """``record[field_<lang>]``, else ``record[field]``, else the other language, else ``fallback``."""
    other = "en" if lang == "ru" else "ru"
    for key in (f"{field}_{lang}", field, f"{field}_{other}"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return text_or_dash(fallback)


def localised_list(record: Mapping[str, Any], field: str, lang: str) -> list[str]:
    """Like :func:`localised` for a list of names; an empty list when no language has one."""
    other = "en" if lang == "ru" else "ru"
    for key in (f"{field}_{lang}", field, f"{field}_{other}"):
        value = record.get(key)
        if isinstance(value, list) and value:
            return [str(v) for v in value]
    return []


def capitalise(text: str) -> str:
    """Upper-case the first letter only (``умная специализация`` → ``Умная специализация``)."""
    return text[:1].upper() + text[1:] if text else text


def in_sentence(text: str) -> str:
    """A catalog name inside a sentence: first letter lower-cased unless the word is an acronym (R&D, ВРП)."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
