"""The ``csv`` source: analysts' long-format CSV and Parquet files, checked row by row against the register,
the catalog and the raw contract; and one real refresh that shows their values in ``marts.observations``."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.settings import Paths
from dagster_project.sources.base import SourceError
from dagster_project.sources.csv import import_source, import_table, load_reference, release_date
from dagster_project.sources.registry import get

HEADER = "region_code,indicator_code,year,value,flag,unit,release"


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_ref(frame, column: str = "cell_ref") -> dict:
    return {row[column]: row for row in frame.to_dict("records")}


def test_good_rows_become_observations_in_the_raw_contract(tmp_path: Path, reference) -> None:
    path = write(tmp_path / "survey_2024.csv", HEADER,
                 "RU-SVE,grp_per_capita,2022,812345.5,p,rub,2024-05",
                 "RU-SVE,employment_rate,2023,61.25,,%,2024-05",
                 "RU-CHE,grp_per_capita,2022,1.2e5,,,")
    batch = import_table(path, reference, release="2024-06-30")
    assert batch.rejects.empty
    obs = by_ref(batch.observations)
    first = obs["line 2"]
    assert (first["source"], first["dataset"], first["region_code"], first["indicator_code"], first["period"],
            first["value"], first["flag"], first["unit"], first["release"]) == (
        "csv", "survey_2024", "RU-SVE", "grp_per_capita", 2022, 812345.5, "p", "rub", "2024-05")
    assert first["release_date"] == date(2024, 5, 31) and first["origin"] == str(path)
    # A row without a release takes the setting's; scientific notation is a number.
    assert obs["line 4"]["release"] == "2024-06-30" and obs["line 4"]["value"] == 120000.0
    assert pd.isna(obs["line 4"]["unit"]) and pd.isna(obs["line 3"]["flag"])


def test_bad_rows_are_rejected_with_file_row_and_reason(tmp_path: Path, reference) -> None:
    # An unquoted decimal comma in a comma-separated file: a field too many, the file cannot be read as meant.
    path = write(tmp_path / "own.csv", HEADER, "RU-SVE,grp_per_capita,2022,1 234,5,,,r1")
    with pytest.raises(SourceError, match="do not have the header's 7 fields"):
        import_table(path, reference)
    path = write(tmp_path / "own.csv", HEADER,
                 "RU-XXX,grp_per_capita,2022,1.0,,,r1",
                 'RU-SVE,grp_per_capita,2021,"1 234,5",,,r1',
                 "RU-SVE,grp_per_capita,2020,inf,,,r1",
                 "RU-SVE,grp_per_capita,2019,NaN,,,r1",
                 "RU-SVE,grp_per_capita,2018,5.0,x,,r1",
                 "RU-SVE,grp_per_capita,20x7,5.0,,,r1",
                 "RU-SVE,grp_per_capita,2016,,p,,r1",
                 "RU-SVE,grp_per_capita,2015,,c,,r1",
                 "RU-SVE,grp_per_capita,2014,,,,r1",
                 "RU-SVE,grp_per_capita,2014,7.0,,,r1")
    batch = import_table(path, reference)
    rejects = by_ref(batch.rejects)
    assert set(rejects) == {"line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 11"}
    assert all(r["origin"] == str(path) and r["source"] == "csv" for r in rejects.values())
    assert "region_code 'RU-XXX' is not in the region register" in rejects["line 2"]["reason"]
    assert "'1 234,5' is not a number" in rejects["line 3"]["reason"] and "decimal point" in rejects["line 3"]["reason"]
    assert "not a finite number" in rejects["line 4"]["reason"] and "not a finite number" in rejects["line 5"]["reason"]
    assert "flag 'x' is not one of b, c, e, na, none, p" in rejects["line 6"]["reason"]
    assert "year '20x7' is not a year" in rejects["line 7"]["reason"]
    assert "flag p marks a published value" in rejects["line 8"]["reason"]
    assert "as an earlier row" in rejects["line 11"]["reason"]
    assert rejects["line 2"]["raw_value"] == "RU-XXX | grp_per_capita | 2022 | 1.0 | "
    # Empty values are kept as missing, with the flag saying why (na when none is given).
    obs = by_ref(batch.observations)
    assert set(obs) == {"line 9", "line 10"}
    assert obs["line 9"]["flag"] == "c" and math.isnan(obs["line 9"]["value"])
    assert obs["line 10"]["flag"] == "na" and math.isnan(obs["line 10"]["value"])


def test_unknown_indicators_are_kept_unmapped_and_noted(tmp_path: Path, reference) -> None:
    path = write(tmp_path / "survey.csv", "Region_Code;Indicator_Code;Year;Value;Comment",
                 "RU-SVE;trust_in_authorities;2024;0.62;wave 3",
                 "RU-SVE;grp_per_capita;2024;900000;")
    batch = import_table(path, reference, release="2024-09")
    obs = by_ref(batch.observations)
    assert pd.isna(obs["line 2"]["indicator_code"]) and obs["line 2"]["indicator_key"] == "trust_in_authorities"
    assert obs["line 3"]["indicator_code"] == "grp_per_capita"
    notes = "\n".join(batch.notes)
    assert "not in the catalog, kept unmapped" in notes and "trust_in_authorities" in notes
    assert "columns ignored: comment" in notes


def test_release_from_the_sidecar_else_the_setting_never_the_mtime(tmp_path: Path, reference) -> None:
    path = write(tmp_path / "a.csv", "region_code,indicator_code,year,value", "RU-SVE,grp_per_capita,2022,1.5")
    assert import_table(path, reference).observations["release"].isna().all()
    assert "without a release" in "\n".join(import_table(path, reference).notes)
    assert import_table(path, reference, release="2024").observations["release_date"].tolist() == [date(2024, 12, 31)]
    (tmp_path / "a.csv.meta.json").write_text(json.dumps({"release": "2024-03-15"}), encoding="utf-8")
    obs = import_table(path, reference, release="2024").observations
    assert obs["release"].tolist() == ["2024-03-15"] and obs["release_date"].tolist() == [date(2024, 3, 15)]
    assert release_date("wave 3") is None and release_date("2024-02") == date(2024, 2, 29)


def test_files_that_cannot_be_read_name_the_file(tmp_path: Path, reference) -> None:
    missing = write(tmp_path / "m.csv", "region_code,year,value", "RU-SVE,2022,1")
    with pytest.raises(SourceError, match=r"m.csv: missing column\(s\) indicator_code"):
        import_table(missing, reference)
    latin1 = tmp_path / "l.csv"
    latin1.write_bytes("region_code,indicator_code,year,value\nRU-SVE,x\xe9,2022,1\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        import_table(latin1, reference)
    broken = tmp_path / "b.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        import_table(broken, reference)


def test_parquet_with_typed_columns(tmp_path: Path, reference) -> None:
    table = pa.table({
        "region_code": ["RU-SVE", "RU-SVE", "RU-SVE", "DEC0"],
        "indicator_code": ["grp_per_capita"] * 4,
        "year": pa.array([2021.0, 2022.0, 2023.0, 2023.0], pa.float64()),
        "value": pa.array([0.1 + 0.2, None, float("nan"), 34000.0], pa.float64()),
        "flag": [None, "na", None, "e"],
        "release": ["2024-01", "2024-01", "2024-01", "2024-01"],
    })
    path = tmp_path / "panel.parquet"
    pq.write_table(table, path)
    batch = import_table(path, reference)
    obs, rejects = by_ref(batch.observations), by_ref(batch.rejects)
    assert obs["row 1"]["value"] == 0.1 + 0.2 and obs["row 1"]["period"] == 2021  # exact, not via text rounding
    assert math.isnan(obs["row 2"]["value"]) and obs["row 2"]["flag"] == "na"
    assert set(rejects) == {"row 3"} and "not a finite number" in rejects["row 3"]["reason"]
    assert obs["row 4"]["region_code"] == "DEC0" and obs["row 4"]["flag"] == "e"


def test_import_source_takes_the_path_and_the_inbox_and_quarantines_broken_files(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    folder = tmp_path / "given"
    folder.mkdir()
    write(folder / "a.csv", HEADER, "RU-SVE,grp_per_capita,2022,1.5,,,2024")
    inbox = paths.inbox / "csv"
    inbox.mkdir(parents=True)
    write(inbox / "b.csv", HEADER, "RU-CHE,grp_per_capita,2022,2.5,,,")
    (inbox / "c.parquet").write_bytes(b"not parquet")
    (inbox / "notes.txt").write_text("not a table", encoding="utf-8")
    run = get("csv").run({"path": str(folder), "release": "2024-07"}, paths)
    batch = import_source(run)
    assert sorted(batch.observations["region_code"]) == ["RU-CHE", "RU-SVE"]
    assert batch.observations.set_index("region_code")["release"].to_dict() == {"RU-SVE": "2024", "RU-CHE": "2024-07"}
    assert (inbox / "quarantine" / "c.parquet").exists() and (inbox / "notes.txt").exists()
    (reject,) = batch.rejects.to_dict("records")
    assert reject["reason"].startswith("file not imported:") and "c.parquet" in reject["reason"]
    empty = get("csv").run({}, Paths(tmp_path / "other"))
    with pytest.raises(SourceError, match=r"csv: nothing to import\. Give it --path csv=… \(REGIOCODE_CSV_PATH\)"):
        import_source(empty)


def test_declared_once_in_the_registry() -> None:
    from dagster_project.sources import registry

    source = registry.get("csv")
    assert source.file_kinds == (".csv", ".parquet") and source.mapping_seed is None
    assert [s.name for s in source.settings] == ["path", "release"]
    assert source.env(source.settings[0]) == "REGIOCODE_CSV_PATH"
    assert registry.data_label(["csv"]) == "analyst data"
    assert registry.data_label(["rosstat", "csv"]) == "official statistics + analyst data"
    assert registry.data_label(["demo", "csv"]) == "synthetic demo data"


@pytest.mark.e2e
def test_refresh_shows_the_files_values_in_the_marts(tmp_path: Path) -> None:
    """``regiocode refresh --source csv --path FILE`` in a fresh home: the analyst's rows (a catalog indicator
    and an own one) reach marts.observations with their provenance, the bad row raw.rejects, and the build says
    what it is made of. One indicator is too little for any defining code, so the publish gate keeps this build
    from the readers (exit 1, the reason last): the build is read in the working warehouse."""
    from fixtures.refresh_runs import query, run_cli

    data = write(tmp_path / "own_series.csv", HEADER,
                 "RU-SVE,grp_per_capita,2023,950000,,rub,2024-05",
                 "RU-SVE,trust_in_authorities,2023,0.62,,share,2024-05",
                 "RU-CHE,trust_in_authorities,2022,0.58,e,share,2024-05",
                 "XX-NOPE,trust_in_authorities,2023,0.50,,share,2024-05")
    home = tmp_path / "home"
    run = run_cli(home, "refresh", "--source", "csv", "--path", str(data))
    assert run.returncode == 1, run.tail()
    assert run.stderr.strip().splitlines()[-1].startswith("error: publish: publication refused")
    assert "no region has any defining code" in run.stderr and not Paths(home).published_db.exists()
    published = Paths(home).work_db  # the build the gate refused
    rows = query(published, "SELECT region_code, indicator_key, indicator_code, period, value, flag, release, origin, "
                            "cell_ref FROM marts.observations WHERE source = 'csv' ORDER BY region_code, indicator_key")
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["RU-CHE", "trust_in_authorities", None, 2022, 0.58, "e", "2024-05", str(data), "line 4"],
        ["RU-SVE", "grp_per_capita", "grp_per_capita", 2023, 950000.0, None, "2024-05", str(data), "line 2"],
        ["RU-SVE", "trust_in_authorities", None, 2023, 0.62, None, "2024-05", str(data), "line 3"],
    ]
    rejects = query(published, "SELECT origin, cell_ref, reason FROM raw.rejects WHERE source = 'csv'")
    assert rejects.values.tolist() == [
        [str(data), "line 5", "region_code 'XX-NOPE' is not in the region register (dbt/seeds/regions.csv)"]]
    assert query(published, "SELECT data_label FROM marts.build_info")["data_label"].tolist() == ["analyst data"]
