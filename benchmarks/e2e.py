"""End-to-end timing of the demo refresh (``make bench``): wall time, CPU time and peak memory per stage
(start-up, ingest, dbt build with its analysis share, publish, briefings) for a full refresh in a fresh
home, a no-change refresh in the same home, and the same work without Dagster; medians of three runs.

Run: ``.venv/bin/python benchmarks/e2e.py [--runs N]`` (the scaling curves: ``python -m benchmarks --full``).
Prints figures; asserts nothing. Figures and the machine they come from: benchmarks/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import main  # noqa: E402

if __name__ == "__main__":
    main(["--quick", *sys.argv[1:]])
