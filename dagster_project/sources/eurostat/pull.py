"""Pulling Eurostat datasets from the dissemination API, incrementally and politely.

What to pull, when, and what is kept of it:

* Only mapped series: each dimension is restricted to the codes the mapping's filters name. The
  request key follows the dataset's data structure (DSD), fetched once and cached in the state file
  (refetched when the table of contents says the structure changed). Requests, retries and the
  split on 413 are :mod:`.api`'s.
* A body that is truncated or malformed raises :class:`SourceError` naming the dataset and the
  URL, and nothing of that dataset is written.
* No ETag: a dataset is downloaded again only when its "last update of data" in the table of
  contents (``{base}/catalogue/toc/txt?lang=en``) differs from the state file's. With
  ``change_detection="content"`` the SDMX-CSV ``LAST UPDATE`` column decides instead (the data is
  fetched, but an unchanged release is not imported twice).

Every download is kept under ``download_dir/<dataset>/`` (one file per release and request
piece, written atomically, with a ``.meta.json`` sidecar giving URL and release), so a later
:func:`~dagster_project.sources.eurostat.files.import_eurostat_files` of that folder reproduces the rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from dagster_project.files import write_atomic, write_json_atomic
from dagster_project.sources.base import ImportBatch, SourceError
from dagster_project.sources.eurostat.api import (
    FORMATS,
    TOC_PATH,
    Fetcher,
    Part,
    RequestSpec,
    TocEntry,
    dataset_dimensions,
    load_toc,
    split_credentials,
)
from dagster_project.sources.eurostat.formats import GZIP_MAGIC
from dagster_project.sources.eurostat.mapping import make_batch, raw_from_bytes
from dagster_project.sources.eurostat.regions import RegionResolver
from dagster_project.sources.eurostat.rules import MappingRule, load_rules

META_SUFFIX = ".meta.json"
STATE_VERSION = 1
DEFAULT_FIRST_YEAR = 1990  # time-split range when the table of contents gives none
ChangeDetection = Literal["toc", "content", "none"]


def pull_eurostat(
    mapping: pd.DataFrame,
    correspondence: pd.DataFrame,
    base_url: str,
    state_path: Path,
    download_dir: Path,
    geos: list[str] | None = None,
    timeout: float = 30,
    retries: int = 4,
    *,
    regions: pd.DataFrame | None = None,
    toc_url: str | None = None,
    change_detection: ChangeDetection = "toc",
    formats: tuple[str, ...] = FORMATS,
    backoff: float = 1.0,
    force: bool = False,
) -> tuple[ImportBatch, list[str]]:
    """Download the datasets the mapping names (changed ones only) and import them.

    ``geos`` restricts the geo dimension (None = all geos); the other dimensions are restricted
    to the codes the mapping's filters name, so only mapped series are downloaded.
    ``state_path`` (JSON) remembers each dataset's last imported release; it is rewritten only
    after every dataset was downloaded and parsed, so a failed pull is retried in full.
    ``toc_url`` defaults to ``{base_url}/catalogue/toc/txt?lang=en``. ``force`` ignores the state.
    Returns the batch (observations of new releases only) and notes (skipped, unchanged, empty).
    """
    state = _load_state(Path(state_path))
    notes: list[str] = []
    observations: list[pd.DataFrame] = []
    rejects: list[pd.DataFrame] = []
    base, auth = split_credentials(base_url.rstrip("/"))
    toc_url, _ = split_credentials(toc_url) if toc_url else (None, None)
    with Fetcher(timeout=timeout, retries=retries, backoff=backoff, auth=auth) as fetcher:
        toc = (
            load_toc(fetcher, toc_url or f"{base}/{TOC_PATH}", notes) if change_detection == "toc" else None
        )
        run = _Run(
            fetcher=fetcher,
            base=base,
            rules=load_rules(mapping),
            resolver=RegionResolver(correspondence, regions),
            geos=geos,
            formats=formats,
            # Without a table of contents, the data's own LAST UPDATE decides.
            detection=change_detection if (change_detection != "toc" or toc is not None) else "content",
            force=force,
            download_dir=Path(download_dir),
        )
        for dataset, dataset_rules in _datasets(run.rules).items():
            entry = toc.get(dataset) if toc is not None else None
            if toc is not None and entry is None:
                notes.append(f"{dataset}: not in Eurostat's table of contents (renamed or withdrawn?)")
            pulled = run.pull(dataset, dataset_rules, entry, state["datasets"].get(dataset, {}), notes)
            if pulled is not None:
                obs, rej, state["datasets"][dataset] = pulled
                observations.append(obs)
                rejects.append(rej)
    write_json_atomic(Path(state_path), state)
    return make_batch(observations, rejects, notes), notes


@dataclass
class _Run:
    """One pull: what to ask for, how to decide what changed, where to keep the downloads."""

    fetcher: Fetcher
    base: str
    rules: list[MappingRule]
    resolver: RegionResolver
    geos: list[str] | None
    formats: tuple[str, ...]
    detection: ChangeDetection
    force: bool
    download_dir: Path

    def pull(
        self, dataset: str, rules: list[MappingRule], entry: TocEntry | None, previous: dict, notes: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
        """Observations, rejects and the new state entry of one dataset; None when unchanged."""
        dims = dataset_dimensions(self.fetcher, self.base, dataset, entry, previous)
        spec = _request_spec(dataset, dims, rules, self.geos, notes)
        signature = _signature(spec)
        toc_release = entry.last_update if entry else None
        if self.detection == "toc" and self._seen(previous, toc_release, signature):
            notes.append(
                f"{dataset}: unchanged since {toc_release.isoformat()} (table of contents); not downloaded"
            )
            return None
        parts = self.fetcher.download(dataset, self.base, spec, self.formats, _year_range(entry))
        obs, rej, part_notes, release = _import_parts(dataset, parts, self.rules, self.resolver, toc_release)
        if self.detection == "content" and self._seen(previous, release, signature):
            notes.append(
                f"{dataset}: release {release.isoformat()} already imported; downloaded, not imported again"
            )
            return None
        files = _write_parts(self.download_dir, dataset, parts, release, signature)
        notes.extend(part_notes)
        label = release.isoformat() if release else None
        notes.append(
            f"{dataset}: {len(obs)} observations from {len(parts)} request(s), release {label or 'unknown'}"
        )
        structure = entry.structure_change.isoformat() if entry and entry.structure_change else None
        return (
            obs,
            rej,
            {
                "release": label,
                "request": signature,
                "dimensions": list(dims),
                "structure_change": structure,
                "files": [str(f) for f in files],
                "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )

    def _seen(self, previous: dict, release: date | None, signature: str) -> bool:
        """Was this release already imported with the same request?"""
        return (
            not self.force
            and release is not None
            and previous.get("release") == release.isoformat()
            and previous.get("request") == signature
        )


# --------------------------------------------------------------------------------------------
# Requests, imports, files, state


def _datasets(rules: list[MappingRule]) -> dict[str, list[MappingRule]]:
    out: dict[str, list[MappingRule]] = {}
    for rule in rules:
        out.setdefault(rule.dataset, []).append(rule)
    return out


def _request_spec(
    dataset: str, dims: tuple[str, ...], rules: list[MappingRule], geos: list[str] | None, notes: list[str]
) -> RequestSpec:
    """Restrict each dimension to the codes the mapping needs (wildcard unless every rule filters it)."""
    constraints: list[tuple[str, tuple[str, ...]]] = []
    for dim in dims:
        if dim == "geo":
            continue
        if all(dim in r.filters for r in rules):
            codes = sorted(set().union(*(r.filters[dim] for r in rules)))
            constraints.append((dim, tuple(codes)))
    unknown = sorted({d for r in rules for d in r.filters} - set(dims))
    if unknown:
        notes.append(
            f"{dataset}: mapping filters on {unknown}, which the data structure "
            f"({', '.join(dims)}) does not have; the request ignores them"
        )
    geo_list = tuple(sorted(set(geos))) if geos else None
    return RequestSpec(dimensions=dims, constraints=tuple(constraints), geos=geo_list)


def _signature(spec: RequestSpec) -> str:
    """What was asked for: a changed geo list or mapping means the state no longer applies."""
    return json.dumps({"constraints": spec.constraints, "geos": spec.geos}, sort_keys=True)


def _year_range(entry: TocEntry | None) -> tuple[int, int]:
    this_year = date.today().year
    start = entry.data_start if entry and entry.data_start else DEFAULT_FIRST_YEAR
    end = entry.data_end if entry and entry.data_end else this_year
    return start, max(start, end)


def _import_parts(
    dataset: str, parts: list[Part], rules: list[MappingRule], resolver: RegionResolver, release: date | None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], date | None]:
    """Parse every piece before anything is written: a bad piece fails the whole dataset."""
    retrieved = datetime.now(UTC).replace(tzinfo=None)
    observations, rejects, notes = [], [], []
    content_release: date | None = None
    for part in parts:
        if part.empty:
            notes.append(f"{dataset}: no results for {part.url}")
            continue
        try:
            obs, rej, part_notes, table = raw_from_bytes(
                part.data,
                origin=part.url,
                rules=rules,
                resolver=resolver,
                dataset=dataset,
                release=release,
                retrieved_at=retrieved,
                name=f"{dataset} from {part.url.split('?', 1)[0]}",
            )
        except SourceError as exc:
            raise SourceError(f"{dataset}: {exc}") from exc
        content_release = max(filter(None, [content_release, table.release]), default=None)
        observations.append(obs)
        rejects.append(rej)
        notes.extend(part_notes)
    chosen = release or content_release
    batch = make_batch(observations, rejects, [])
    obs, rej = batch.observations, batch.rejects
    if release is None and content_release is not None and not obs.empty:
        obs = obs.assign(release=content_release.isoformat(), release_date=[content_release] * len(obs))
    return obs, rej, notes, chosen


def _write_parts(
    download_dir: Path, dataset: str, parts: list[Part], release: date | None, signature: str
) -> list[Path]:
    """Keep every piece as received, atomically, with a sidecar naming URL and release."""
    folder = download_dir / dataset
    folder.mkdir(parents=True, exist_ok=True)
    label = release.isoformat() if release else datetime.now(UTC).strftime("retrieved-%Y%m%dT%H%M%S")
    digest = hashlib.sha1(signature.encode()).hexdigest()[:8]
    retrieved = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    written: list[Path] = []
    for i, part in enumerate(p for p in parts if not p.empty):
        ext = ("sdmx.csv" if part.fmt == "SDMX-CSV" else "tsv") + (
            ".gz" if part.data.startswith(GZIP_MAGIC) else ""
        )
        path = folder / f"{dataset}_{label}_{digest}_p{i + 1:02d}.{ext}"
        meta = {
            "dataset": dataset,
            "url": part.url,
            "release": release.isoformat() if release else None,
            "retrieved_at": retrieved,
            "format": part.fmt,
            "request": signature,
        }
        write_json_atomic(path.with_name(path.name + META_SUFFIX), meta)
        write_atomic(path, part.data)
        written.append(path)
    return written


def _load_state(path: Path) -> dict:
    if not path.exists():
        return {"version": STATE_VERSION, "datasets": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(
            f"{path}: Eurostat pull state is unreadable ({exc}); delete it to pull everything"
        ) from exc
    state.setdefault("datasets", {})
    return state
