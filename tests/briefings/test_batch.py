"""Batch rendering: what is rendered again and what is reused, the manifest, the shared render state."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from briefing_samples import make_context

from dagster_project.briefings.batch import render_all, render_regions
from dagster_project.briefings.view import TEMPLATES_DIR


def _contexts() -> list[dict]:
    out = []
    for code, name in (("RU-SVE", "Свердловская область"), ("RU-CHE", "Челябинская область"), ("RU-TYU", "Тюменская")):
        context = make_context(name_ru=name)
        context["region"]["code"] = code
        out.append(context)
    return out


@pytest.fixture()
def first(tmp_path: Path) -> dict:
    contexts = _contexts()
    summary = render_all(contexts, tmp_path / "day1", tmp_path / "state", workers=1,
                         data_versions={"build_id": "b1", "releases": "demo v2"})
    return {"contexts": contexts, "summary": summary, "root": tmp_path}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_render_writes_files_indexes_and_manifest(first: dict) -> None:
    summary, folder = first["summary"], first["root"] / "day1"
    assert sorted(summary.rendered) == ["RU-CHE", "RU-SVE", "RU-TYU"] and summary.reused == []
    assert summary.files == 3 * 2 * 2
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data_versions"] == {"build_id": "b1", "releases": "demo v2"}
    entries = {(f["region"], f["lang"], f["kind"]): f for f in manifest["files"]}
    assert len(entries) == 3 * 2 * 2 + 2  # + an index per language
    pdf = entries[("RU-CHE", "en", "pdf")]
    assert pdf["path"] == "en/RU-CHE.pdf" and pdf["sha256"] == _sha(folder / "en" / "RU-CHE.pdf")
    assert pdf["inputs"] == entries[("RU-CHE", "ru", "html")]["inputs"]  # one fingerprint per region
    index = (folder / "ru" / "index.html").read_text()
    # grouped by country and district, by name within a district
    assert index.index("Свердловская") < index.index("Тюменская") < index.index("Челябинская")
    assert (first["root"] / "state" / "RU-SVE.json").is_file()


def test_unchanged_rerun_renders_nothing_and_links_yesterdays_files(first: dict) -> None:
    again = render_all(first["contexts"], first["root"] / "day2", first["root"] / "state", workers=1)
    assert again.rendered == [] and sorted(again.reused) == ["RU-CHE", "RU-SVE", "RU-TYU"]
    old, new = first["root"] / "day1" / "ru" / "RU-SVE.pdf", first["root"] / "day2" / "ru" / "RU-SVE.pdf"
    assert new.read_bytes() == old.read_bytes() and new.stat().st_ino == old.stat().st_ino  # a hard link
    assert json.loads((first["root"] / "day2" / "manifest.json").read_text())["files"]


def test_build_id_timestamps_and_noise_below_the_printed_precision_render_nothing(first: dict) -> None:
    contexts = copy.deepcopy(first["contexts"])
    for context in contexts:
        context.update(build_id="another-build", generated_at="2027-01-01T00:00:00+00:00",
                       built_at="2027-01-01T00:00:00+00:00")
        context["codes"][-1]["production_code"] += 1e-9  # the last bits of a parallel sum
    again = render_all(contexts, first["root"] / "day2", first["root"] / "state", workers=1,
                       data_versions={"build_id": "another-build"})
    assert again.rendered == []
    # what is kept says which build it was rendered in: the manifest per file, the index in a line
    rendered_in = first["contexts"][0]["build_id"]
    manifest = json.loads((first["root"] / "day2" / "manifest.json").read_text())
    assert manifest["data_versions"]["build_id"] == "another-build"
    assert {f["rendered_build_id"] for f in manifest["files"] if f["region"]} == {rendered_in}
    assert again.builds == dict.fromkeys(("RU-SVE", "RU-CHE", "RU-TYU"), rendered_in)
    index = (first["root"] / "day2" / "en" / "index.html").read_text()
    assert "Warehouse build another-build. 3 of 3 briefings print the same figures as in an earlier build" in index
    assert f"{rendered_in}" in (first["root"] / "day2" / "en" / "RU-SVE.html").read_text()  # as rendered then
    # a region rendered again in a later build carries that build's id, in the state as in the manifest
    contexts[1]["codes"][-1]["production_code"] = 0.7
    third = render_all(contexts, first["root"] / "day3", first["root"] / "state", workers=1,
                       data_versions={"build_id": "another-build"})
    assert third.builds["RU-CHE"] == "another-build" and third.builds["RU-SVE"] == rendered_in
    assert "2 of 3 briefings" in (first["root"] / "day3" / "en" / "index.html").read_text()


def test_the_index_names_the_build_and_no_kept_briefings_when_all_were_rendered_now(first: dict) -> None:
    index = (first["root"] / "day1" / "ru" / "index.html").read_text()
    assert f"Сборка хранилища {first['contexts'][0]['build_id']}." in index and "сохранены" not in index


def test_a_visible_change_renders_only_that_region(first: dict) -> None:
    contexts = copy.deepcopy(first["contexts"])
    contexts[1]["codes"][-1]["production_code"] = 0.7  # RU-CHE: P 0.612 → 0.700
    again = render_all(contexts, first["root"] / "day2", first["root"] / "state", workers=1)
    assert again.rendered == ["RU-CHE"] and len(again.reused) == 2
    assert "0,700" in (first["root"] / "day2" / "ru" / "RU-CHE.html").read_text()
    # new content in the strategy or peers counts as much as the codes
    contexts[2]["peers"][0]["peer_name_en"] = "Perm Krai"
    assert render_all(contexts, first["root"] / "day3", first["root"] / "state", workers=1).rendered == ["RU-TYU"]


def test_a_template_change_renders_everything(first: dict, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "briefing.css").write_text((templates / "briefing.css").read_text() + "\n/* new */\n")
    again = render_all(first["contexts"], first["root"] / "day2", first["root"] / "state", templates_dir=templates,
                       workers=1)
    assert len(again.rendered) == 3
    assert "/* new */" in (first["root"] / "day2" / "en" / "RU-SVE.html").read_text()


def test_a_lost_file_is_rendered_again(first: dict) -> None:
    (first["root"] / "day1" / "en" / "RU-TYU.pdf").unlink()
    again = render_all(first["contexts"], first["root"] / "day1", first["root"] / "state", workers=1)
    assert again.rendered == ["RU-TYU"]
    assert (first["root"] / "day1" / "en" / "RU-TYU.pdf").is_file()


def test_a_partition_and_the_batch_share_the_render_state(tmp_path: Path) -> None:
    contexts = _contexts()
    summary, files, _ = render_regions(contexts[:1], tmp_path / "day", tmp_path / "state", workers=1)
    assert summary.rendered == ["RU-SVE"] and set(files["RU-SVE"]) == {"ru", "en"}
    batch = render_all(contexts, tmp_path / "day", tmp_path / "state", workers=1)
    assert sorted(batch.rendered) == ["RU-CHE", "RU-TYU"] and batch.reused == ["RU-SVE"]


def test_parallel_workers_write_the_same_files(first: dict, tmp_path: Path) -> None:
    parallel = render_all(first["contexts"], tmp_path / "par", tmp_path / "state2", workers=2)
    assert len(parallel.rendered) == 3
    for lang in ("ru", "en"):
        for kind in ("html", "pdf"):
            name = f"RU-SVE.{kind}"
            assert _sha(tmp_path / "par" / lang / name) == _sha(first["root"] / "day1" / lang / name)


def test_an_unchanged_context_is_reused_without_building_a_view(first: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same context as recorded (build id and timestamps aside): the parent links the files, no worker runs."""
    import dagster_project.briefings.batch as batch

    def no_view(*args: object, **kwargs: object) -> None:
        raise AssertionError("a view was built for an unchanged region")

    monkeypatch.setattr(batch, "prepare", no_view)
    contexts = copy.deepcopy(first["contexts"])
    for context in contexts:
        context.update(build_id="another-build", generated_at="2027-01-01T00:00:00+00:00")
    again = render_all(contexts, first["root"] / "day2", first["root"] / "state", workers=1)
    assert again.rendered == [] and len(again.reused) == 3
    state = json.loads((first["root"] / "state" / "RU-SVE.json").read_text())
    manifest = json.loads((first["root"] / "day2" / "manifest.json").read_text())
    assert {f["inputs"] for f in manifest["files"] if f["region"] == "RU-SVE"} == {state["hash"]}
