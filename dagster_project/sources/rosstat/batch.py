"""From the files of one refresh to one batch: an edition's date, no cell twice, and the refresh summary.

* **One date per yearbook edition**: the sections of one edition are saved over weeks (the 2023 edition from
  2023-12-13 to 2024-03-22, the last a redistributor's re-save); every section dated by its document properties
  gets the earliest date of its edition in the batch, so the edition orders as one release.
* **No cell twice**: a file whose cells all repeat an earlier file's (the same section saved twice) is skipped
  with a note; a single repeated cell is a reject naming the first; two tables of one release mapping the same
  indicator, territory and year: the first keeps the mapping, the other is left unmapped with a warning.
* **The summary** (:attr:`ImportBatch.summary`): the release of each dataset and edition with its evidence,
  files whose release is unknown, warnings (tables that resemble a catalog table but did not map), skipped
  tables and columns with the reason, and the rejects grouped by reason.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..base import OBSERVATION_COLUMNS, REJECT_COLUMNS, ImportBatch
from .rows import concat_frames
from .tables import SOURCE, YEARBOOK, FileResult

_SUMMARY_ITEMS = 12  # skipped tables and warnings listed by name in the summary; the rest are counted
_KEY = ["source", "dataset", "table_code", "region_key", "indicator_key", "period", "release"]
_SERIES = ["indicator_code", "region_code", "period", "release"]


def file_frame(result: FileResult) -> pd.DataFrame:
    """One file's observations as a frame in the raw contract, with its release and provenance."""
    constants = {"source": SOURCE, "dataset": result.dataset, "release": result.release.label,
                 "release_date": result.release.when, "retrieved_at": result.retrieved_at,
                 "origin": str(result.path)}
    return result.observations.frame(OBSERVATION_COLUMNS, constants)


def date_editions(results: list[FileResult]) -> None:
    """Give every yearbook section dated by its document properties the earliest date of its edition."""
    earliest: dict[str, object] = {}
    for result in results:
        if result.dataset == YEARBOOK and result.release.evidence.startswith("document saved"):
            when = earliest.get(result.release.label)
            earliest[result.release.label] = min(when, result.release.when) if when else result.release.when
    for result in results:
        if result.dataset == YEARBOOK and result.release.evidence.startswith("document saved"):
            result.release = replace(result.release, when=earliest[result.release.label])


def build_batch(results: list[FileResult]) -> ImportBatch:
    """The batch of ``results`` (one per file), after :func:`date_editions` and without repeated cells."""
    date_editions(results)
    frames = [file_frame(result) for result in results]
    observations = concat_frames(frames) if frames else pd.DataFrame(columns=list(OBSERVATION_COLUMNS))
    observations, extra = _without_repeats(observations, results)
    rejects = [r for result in results for r in result.rejects] + extra
    return ImportBatch(SOURCE, observations, pd.DataFrame(rejects, columns=list(REJECT_COLUMNS)),
                       [n for result in results for n in result.notes], files=[r.path for r in results])


def _without_repeats(frame: pd.DataFrame, results: list[FileResult]) -> tuple[pd.DataFrame, list[dict]]:
    """Drop repeated cells (only tables whose code and release come twice can repeat one) and unmap a second
    table of one release mapping the same indicator (module doc)."""
    seen: dict[tuple, str] = {}
    suspects: set[tuple] = set()
    for result in results:
        for code, sheet in result.tables_read:
            key = (result.dataset, code, result.release.label)
            if key in seen and seen[key] != f"{result.path}!{sheet}":
                suspects.add(key)
            seen.setdefault(key, f"{result.path}!{sheet}")
    rejects: list[dict] = []
    if suspects:
        release = frame["release"].astype(object).where(frame["release"].notna(), None)
        subset = pd.Series(list(zip(frame["dataset"].astype(object), frame["table_code"].astype(object), release,
                                    strict=True)), index=frame.index).isin(suspects)
        repeated = frame[subset].duplicated(_KEY, keep="first").reindex(frame.index, fill_value=False)
        if repeated.any():
            frame, rejects = _drop_repeats(frame, repeated, results)
    releases = {}
    for result in results:
        for indicator, keys in result.mapped.items():
            releases.setdefault((indicator, result.release.label), []).extend(keys)
    if any(len(keys) > 1 for keys in releases.values()):
        mapped = frame["indicator_code"].notna() & frame["region_code"].notna()
        twice = frame[mapped].duplicated(_SERIES, keep="first").reindex(frame.index, fill_value=False)
        for (indicator, table), count in frame[twice].groupby(["indicator_code", "table_code"]).size().items():
            results[0].warnings.append(f"{table}: {count} cells of {indicator} already mapped from another table "
                                       "of the same release; left unmapped")
        frame.loc[twice, "indicator_code"] = None
    return frame, rejects


def _drop_repeats(frame: pd.DataFrame, repeated: pd.Series, results: list[FileResult]
                  ) -> tuple[pd.DataFrame, list[dict]]:
    by_origin = repeated.groupby(frame["origin"]).agg(["sum", "size"])
    whole = set(by_origin.index[by_origin["sum"] == by_origin["size"]])
    for result in results:
        if str(result.path) in whole:
            result.skipped.append(f"{result.path.name}: every cell repeats a file imported before it "
                                  "(the same tables twice): not imported again")
    first = frame[~repeated].set_index(_KEY)["cell_ref"]
    rejects = []
    for row in frame[repeated & ~frame["origin"].isin(whole)].itertuples(index=False):
        before = first.get(tuple(getattr(row, k) for k in _KEY), "?")
        rejects.append({"source": SOURCE, "dataset": row.dataset, "table_code": row.table_code, "origin": row.origin,
                        "cell_ref": row.cell_ref, "raw_value": str(row.value),
                        "reason": f"the same cell as {before} (table, territory, indicator, year and release)",
                        "release": row.release, "retrieved_at": row.retrieved_at})
    return frame[~repeated].reset_index(drop=True), rejects


def summary_lines(results: list[FileResult], batch: ImportBatch) -> list[str]:
    """The lines the refresh summary prints for Rosstat (module doc): releases, warnings, skipped, rejects."""
    lines: list[str] = []
    releases: dict[tuple[str, str], list[FileResult]] = {}
    for result in results:
        releases.setdefault((result.dataset, result.release.label or ""), []).append(result)
    for (dataset, label), files in sorted(releases.items()):
        names = ", ".join(r.path.name for r in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        if label:
            edition = f"{label} edition" if dataset == YEARBOOK and re.fullmatch(r"\d{4}", label) else label
            dates = sorted({str(r.release.when) for r in files if r.release.when})
            evidence = sorted({r.release.evidence for r in files})
            saved = sorted(d for e in evidence for d in re.findall(r"^document saved (\S+)$", e))
            every = len(saved) > 1 and len(saved) == len(evidence)
            said = (f"document properties saved {saved[0]} … {saved[-1]}" if every
                    else "; ".join(evidence[:3]))
            lines.append(f"release {edition} of {dataset}, dated {', '.join(dates) or 'no date'} ({said}; "
                         f"{len(files)} files: {names})")
        else:
            lines.append(f"WARNING release unknown for {len(files)} {dataset} files ({names}): "
                         f"{files[0].release.evidence}. They sort before every dated release; state it with "
                         "--set rosstat.release=… or a <file>.release.json sidecar")
    warnings = [w for r in results for w in r.warnings]
    lines += [f"WARNING {w}" for w in warnings[:_SUMMARY_ITEMS]]
    if len(warnings) > _SUMMARY_ITEMS:
        lines.append(f"WARNING … and {len(warnings) - _SUMMARY_ITEMS} more warnings (asset metadata: notes)")
    skipped = [s for r in results for s in r.skipped]
    if skipped:
        lines.append(f"skipped ({len(skipped)}): " + "; ".join(skipped[:_SUMMARY_ITEMS])
                     + (f"; … and {len(skipped) - _SUMMARY_ITEMS} more" if len(skipped) > _SUMMARY_ITEMS else ""))
    assumed = [n for r in results for n in r.notes if " read as " in n]
    if assumed:
        lines.append(f"read with an assumption ({len(assumed)}): " + "; ".join(assumed[:_SUMMARY_ITEMS]))
    # rejected cells; a whole file's reject ("file not imported: …") is the ingest line's, with what to do
    cells = batch.rejects[batch.rejects["cell_ref"].notna()] if len(batch.rejects) else batch.rejects
    rejects = cells.assign(why=cells["reason"].astype(str).str.replace(r" \(.*\)$", "", regex=True))
    for why, group in sorted(rejects.groupby("why"), key=lambda item: -len(item[1]))[:5]:
        first = group.iloc[0]
        lines.append(f"rejects: {len(group)} × {why} (first: {Path(str(first.origin)).name}!{first.cell_ref} "
                     f"{str(first.raw_value)[:40]!r})")
    return lines


def notes_of(results: list[FileResult]) -> list[str]:
    """Every note, warning and skipped item of ``results``, for the asset metadata."""
    return [*(f"warning: {w}" for r in results for w in r.warnings),
            *(f"skipped: {s}" for r in results for s in r.skipped),
            *(n for r in results for n in r.notes)]
