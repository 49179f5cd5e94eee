"""Raw loading (bulk, idempotent, releases kept) and the atomic publish."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.sources.base import ImportBatch
from dagster_project.warehouse import connect_published, load_batch, publish, published_record, still_published


def _batch(value: float, release: str = "r1", release_date: date = date(2024, 1, 1)) -> ImportBatch:
    obs = pd.DataFrame({
        "source": ["t", "t"], "dataset": ["d", "d"], "table_code": ["1.1.", "1.1."],
        "region_key": ["Свердловская область", "Пермский край"], "region_code": ["RU-SVE", "RU-PER"],
        "indicator_key": ["x", "x"], "indicator_code": ["grp_per_capita", "grp_per_capita"],
        "period": [2020, 2020], "value": [value, None], "flag": [None, "c"], "unit": ["rub", "rub"],
        "release": [release, release], "release_date": [release_date, release_date],
        "retrieved_at": [datetime(2024, 1, 2)] * 2, "origin": ["f.xlsx"] * 2, "cell_ref": ["1.1.!C5", "1.1.!C6"],
    })
    rejects = pd.DataFrame({"source": ["t"], "origin": ["f.xlsx"], "cell_ref": ["1.1.!A9"], "raw_value": ["Атлантида"],
                            "reason": ["territory name matches no register entry"], "release": [release]})
    return ImportBatch(source="t", observations=obs, rejects=rejects)


def test_load_is_idempotent_and_keeps_releases(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first = load_batch(con, _batch(1.0))
    again = load_batch(con, _batch(1.0))
    assert (first.observations, first.replaced) == (2, 0)
    assert (again.observations, again.replaced) == (2, 2)
    assert con.execute("SELECT count(*) FROM raw.observations").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM raw.rejects").fetchone()[0] == 1
    load_batch(con, _batch(2.0, release="r2", release_date=date(2024, 6, 1)))
    rows = con.execute(
        "SELECT release, value FROM raw.observations WHERE region_code = 'RU-SVE' ORDER BY release"
    ).fetchall()
    assert rows == [("r1", 1.0), ("r2", 2.0)]
    flag = con.execute("SELECT flag, value FROM raw.observations WHERE region_code='RU-PER' LIMIT 1").fetchone()
    assert flag == ("c", None)


def test_failed_load_changes_nothing(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_batch(con, _batch(1.0))
    bad = _batch(5.0, release="r9")
    bad.observations["period"] = ["not a year", "2020"]
    with pytest.raises(duckdb.Error):
        load_batch(con, bad)
    assert con.execute("SELECT count(*), max(value) FROM raw.observations").fetchone() == (2, 1.0)


def test_publish_replaces_atomically_and_is_read_only(tmp_path: Path) -> None:
    work, published = tmp_path / "work.duckdb", tmp_path / "pub" / "regiocode.duckdb"
    con = duckdb.connect(str(work))
    con.execute("CREATE TABLE t AS SELECT 1 AS build")
    con.close()
    publish(work, published)
    reader = connect_published(published)  # a reader holding the old file open
    con = duckdb.connect(str(work))
    con.execute("UPDATE t SET build = 2")
    con.close()
    publish(work, published)
    assert reader.execute("SELECT build FROM t").fetchone() == (1,)  # still the complete old build
    reader.close()
    fresh = connect_published(published)
    assert fresh.execute("SELECT build FROM t").fetchone() == (2,)
    with pytest.raises(duckdb.Error):
        fresh.execute("INSERT INTO t VALUES (3)")
    assert not list(published.parent.glob("*.tmp"))


def test_publish_failure_leaves_published_file(tmp_path: Path) -> None:
    work, published = tmp_path / "work.duckdb", tmp_path / "regiocode.duckdb"
    con = duckdb.connect(str(work))
    con.execute("CREATE TABLE t AS SELECT 1 AS build")
    con.close()
    publish(work, published)
    before = published.read_bytes()
    with pytest.raises(duckdb.Error):
        publish(tmp_path / "missing" / "nothing.duckdb", published)
    assert published.read_bytes() == before


def test_published_file_is_mode_0444_and_recorded_for_the_checks(tmp_path: Path) -> None:
    """Readers own the published file: nobody may write it, and the pipeline knows what it holds from the
    record written at publish (build, sources, rows per mart and source, which file), without opening it."""
    work, published, record = tmp_path / "work.duckdb", tmp_path / "pub" / "regiocode.duckdb", tmp_path / "rec.json"
    con = duckdb.connect(str(work))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.build_info AS SELECT 'b1' AS build_id, 'demo, rosstat' AS sources")
    con.execute("CREATE TABLE marts.observations AS SELECT * FROM (VALUES ('demo'), ('demo'), ('rosstat')) v(source)")
    con.close()
    publish(work, published, record=record)
    assert published.stat().st_mode & 0o777 == 0o444
    facts = published_record(record)
    assert facts["build_id"] == "b1" and facts["sources"] == "demo, rosstat"
    assert facts["marts"] == {"build_info": 1, "observations": 3}
    assert facts["observations_by_source"] == {"demo": 2, "rosstat": 1}
    assert still_published(facts, published)
    published.unlink()  # deleted by hand: the record no longer describes the file there (dbt must build again)
    assert not still_published(facts, published)
