"""The refresh's closing table (report.summary_rows): what each row counts, labelled so two rows never seem to
contradict each other."""

from __future__ import annotations

from pathlib import Path

from dagster_project.report import summary_rows
from dagster_project.settings import Paths


def test_the_rejects_row_counts_the_raw_layer_as_the_rows_row_does(tmp_path: Path) -> None:
    """A source's line counts this import's rejects (0); the rejects row counts raw.rejects of the active sources,
    which keeps the rows of a file quarantined by an earlier refresh (3): labelled as the rows row is."""
    summary = {"paths": Paths(tmp_path), "seconds": 1.0, "metadata": {
        "rosstat_source": {"summary": "298020 rows from 8 files; 0 rejects"},
        "raw_observations": {"rows": 298020, "regions": 85, "years": "1990–2022"},
        "raw_rejects": {"rejects": 3},
        "published_warehouse": {"build_id": "3178994d", "data_label": "official statistics"},
    }}
    rows = dict(summary_rows(summary, ["rosstat"]))
    assert rows["rows (raw, active sources)"] == "298020"
    assert rows["rejects (raw, active sources)"] == "3"
    assert "rejects" not in rows and rows["time"] == "1.0 s"
