"""Receiving briefings: each build's briefings in a fresh folder switched in atomically, with an index that
lists exactly its files; and the refresh says what it e-mailed to whom (a local SMTP server stands in)."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fixtures.refresh_runs import run_cli

from dagster_project.assets.briefings import BUILDS, LATEST, build_folder, switch_to
from dagster_project.report import NOT_CONFIGURED
from dagster_project.settings import Paths

from .conftest import copy_home

WIDE = {"COLUMNS": "400"}


def _build(paths: Paths, now: datetime, build: str) -> Path:
    folder = build_folder(paths, now, build)
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "index.html").write_text(build)
    return folder


def test_each_build_gets_a_fresh_folder_switched_in_by_a_rename(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    day1, day2 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC), datetime(2026, 5, 2, 3, 0, tzinfo=UTC)
    first = _build(paths, day1, "b1")
    assert switch_to(paths, first, day1) == []
    second = _build(paths, day2, "b2")
    switch_to(paths, second, day2)
    third = _build(paths, day2.replace(hour=9), "b3")  # a second build the same day supersedes the second
    assert switch_to(paths, third, day2.replace(hour=9)) == [second]
    briefings = paths.briefings
    assert (briefings / "2026-05-01" / "en" / "index.html").read_text() == "b1"  # an earlier day stays
    assert (briefings / "2026-05-02" / "en" / "index.html").read_text() == "b3"
    assert (briefings / LATEST).resolve() == third.resolve() and not second.exists()
    assert all(p.is_symlink() for p in (briefings / "2026-05-01", briefings / "2026-05-02", briefings / LATEST))
    assert sorted(p.name for p in briefings.iterdir()) == [BUILDS, "2026-05-01", "2026-05-02", LATEST]  # no tmp links


def test_a_day_folder_of_the_earlier_layout_is_taken_over(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    old = paths.briefings / "2026-05-01" / "en"
    old.mkdir(parents=True)
    (old / "RU-SVE.html").write_text("mixed")
    switch_to(paths, _build(paths, now, "b1"), now)
    assert (paths.briefings / "2026-05-01").is_symlink()
    assert sorted(p.name for p in (paths.briefings / "2026-05-01" / "en").iterdir()) == ["index.html"]


@pytest.mark.e2e
def test_the_latest_folder_holds_one_build_and_its_index_lists_exactly_its_files(base_home: Path) -> None:
    latest = base_home / "briefings" / LATEST
    assert latest.is_symlink() and latest.resolve().parent.name == BUILDS
    manifest = json.loads((latest / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {str(p.relative_to(latest.resolve())) for p in latest.resolve().rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == listed
    for lang in ("ru", "en"):
        index = (latest / lang / "index.html").read_text(encoding="utf-8")
        linked = set(re.findall(r'href="([^"/]+\.html)"', index)) - {"index.html"}
        regions = {f["region"] for f in manifest["files"] if f["lang"] == lang and f["kind"] == "html"}
        assert {name.removesuffix(".html") for name in linked} == regions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Refusing:
    """Accepts mail except for nobody@example.org (550, for good)."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address == "nobody@example.org":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.received.extend(envelope.rcpt_tos)
        return "250 Message accepted"


@pytest.mark.e2e
def test_the_refresh_summary_states_the_delivery(base_home: Path, tmp_path: Path) -> None:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    home = copy_home(base_home, tmp_path / "home")
    clean = {k: "" for k in os.environ if k.startswith("REGIOCODE_SMTP_")} | {"REGIOCODE_DELIVERY_CONFIG": ""}
    unconfigured = run_cli(home, "refresh", env={**WIDE, **clean})
    assert unconfigured.returncode == 0, unconfigured.tail()
    assert NOT_CONFIGURED in unconfigured.stdout

    handler, port = Refusing(), _free_port()
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port)
    (home / "delivery.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nretry_delay = 0\n'
        '[[recipients]]\nemail = "analyst@example.org"\nregions = ["RU-SVE", "RU-CHE"]\nlang = "en"\n'
        '[[recipients]]\nemail = "nobody@example.org"\nregions = ["RU-SVE"]\nlang = "ru"\n', encoding="utf-8")
    controller.start()
    try:
        first = run_cli(home, "refresh", env={**WIDE, **clean})
        second = run_cli(home, "refresh", env={**WIDE, **clean})
    finally:
        controller.stop()
    assert first.returncode == 0 and second.returncode == 0, first.tail() + second.tail()
    failure = "1 failed: nobody@example.org: 550 5.1.1 mailbox unavailable"
    assert f"e-mailed 2 briefings to 1 recipient ({failure})" in first.stdout
    assert f"e-mailed 0 briefings to 0 recipients (2 unchanged, not resent; {failure})" in second.stdout
    assert handler.received == ["analyst@example.org", "analyst@example.org"]
