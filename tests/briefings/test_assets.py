"""The briefing assets in real Dagster runs on a tiny published warehouse: per region, all at once, delivery."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from briefing_samples import make_warehouse
from dagster import materialize

from dagster_project.assets.briefings import REGION_PARTITIONS, briefing_per_region, briefing_region_codes, briefings
from dagster_project.assets.delivery import briefing_delivery
from dagster_project.resources import RegiocodeResource
from dagster_project.settings import Paths


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    make_warehouse(Paths(tmp_path).published_db)
    return tmp_path


def _resources(home: Path) -> dict:
    return {"regiocode": RegiocodeResource(home=str(home), sources=["demo"], render_workers=1)}


def _meta(result, key: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.event_specific_data.materialization.asset_key.to_user_string() == key]
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def test_partitions_are_the_registers_current_subjects_and_nuts2_regions() -> None:
    codes = briefing_region_codes()
    assert REGION_PARTITIONS.get_partition_keys() == codes
    assert len(codes) == 85 + 334 and "RU-SVE" in codes and "DEA5" in codes and "UKE4" in codes
    assert "RU-FD-URL" not in codes and "RU" not in codes


def test_one_partition_renders_its_region_and_the_batch_reuses_it(home: Path) -> None:
    result = materialize([briefing_per_region], partition_key="RU-SVE", resources=_resources(home))
    assert result.success
    meta = _meta(result, "briefing_per_region")
    assert meta["rendered"] == 1 and meta["unchanged"] == 0
    build = json.loads((home / "state" / "briefings" / "RU-SVE.json").read_text())["build_id"]
    assert build and meta["rendered_build_id"] == {"RU-SVE": build}  # the published build it was rendered from
    work = home / "briefings" / ".builds" / "regions"  # partitions render into a work folder, nothing published
    assert sorted(p.name for p in (work / "ru").iterdir()) == ["RU-SVE.html", "RU-SVE.pdf"]
    assert not (home / "briefings" / "latest").exists()

    batch = materialize([briefings], resources=_resources(home))
    assert batch.success
    meta = _meta(batch, "briefings")
    assert (meta["regions"], meta["rendered"], meta["unchanged"]) == (3, 2, 1)  # RU-SVE was rendered by its partition
    folder = home / "briefings" / "latest"
    assert (folder / "manifest.json").is_file() and (folder / "en" / "index.html").is_file()
    assert (folder / "ru" / "RU-SVE.pdf").samefile(work / "ru" / "RU-SVE.pdf")  # linked, not rendered again

    again = materialize([briefing_per_region], partition_key="RU-SVE", resources=_resources(home))
    assert _meta(again, "briefing_per_region")["rendered"] == 0


def test_a_partition_without_codes_renders_nothing(home: Path) -> None:
    result = materialize([briefing_per_region], partition_key="RU-CHE", resources=_resources(home))
    assert result.success
    meta = _meta(result, "briefing_per_region")
    assert meta["rendered"] == 0 and meta["without_codes"] == ["RU-CHE"]


def test_delivery_is_skipped_when_not_configured_and_sends_when_it_is(home: Path, monkeypatch) -> None:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    monkeypatch.delenv("REGIOCODE_SMTP_HOST", raising=False)
    monkeypatch.delenv("REGIOCODE_DELIVERY_CONFIG", raising=False)
    assert materialize([briefings], resources=_resources(home)).success
    skipped = materialize([briefing_delivery], resources=_resources(home))
    assert skipped.success and _meta(skipped, "briefing_delivery")["configured"] is False

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
            received.extend(envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = controller_module.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (home / "delivery.toml").write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nretry_delay = 0\n'
            '[[recipients]]\nemail = "analyst@example.org"\nregions = ["RU-SVE", "RU-TYU"]\nlang = "en"\n',
            encoding="utf-8",
        )
        sent = materialize([briefing_delivery], resources=_resources(home))
    finally:
        controller.stop()
    meta = _meta(sent, "briefing_delivery")
    assert (meta["sent"], meta["failed"]) == (2, 0)
    assert received == ["analyst@example.org", "analyst@example.org"]
