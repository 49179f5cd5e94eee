"""The bundled demo source: a deterministic synthetic panel for the real register (:mod:`.panel`).

Everything built from it is labelled "synthetic demo data"; it reads no files and no settings.
"""

from __future__ import annotations

from dagster_project.sources.base import ImportBatch, SourceRun
from dagster_project.sources.demo.panel import REVISED_INDICATOR, demo_batch, generate_panel, load_register

__all__ = ["REVISED_INDICATOR", "demo_batch", "generate_panel", "import_source", "load_register"]


def import_source(run: SourceRun) -> ImportBatch:
    """The demo panel (both of its releases); ``run`` is not needed: the panel is generated."""
    return demo_batch()
