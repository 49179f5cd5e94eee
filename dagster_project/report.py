"""What `regiocode refresh` says when it ends, from the metadata its assets recorded: per source what was
imported (or that nothing new was, or which files were quarantined and why), the raw layer, the briefings,
what was e-mailed to whom, the published warehouse and the build; and, when the refresh failed, one line per
failure, the last line of the output. Plain text in, plain text out: nothing here is read as markup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster_project.settings import Paths
from dagster_project.sources import registry

NOT_CONFIGURED = "e-mail delivery not configured (see README, \"Receive briefings\")"


def source_lines(metadata: Mapping[str, Mapping[str, Any]], sources: Sequence[str]) -> list[str]:
    """``rosstat: 1234 rows from 2 files; 0 rejects; 1 file quarantined …`` per source of the refresh."""
    lines = []
    for name in sources:
        meta = metadata.get(registry.get(name).asset_name)
        if meta is not None:
            lines.append(f"{name}: {meta.get('outcome') or str(meta.get('rows', 0)) + ' rows'}")
    return lines


def delivery_line(meta: Mapping[str, Any] | None) -> str:
    """"e-mailed N briefings to M recipients (K unchanged, not resent; F failed: reason)", or that delivery
    is not configured; '' when the delivery step did not run."""
    if meta is None:
        return ""
    if not meta.get("configured"):
        return NOT_CONFIGURED
    if meta.get("note"):
        return str(meta["note"])
    sent, recipients = int(meta.get("sent", 0)), int(meta.get("recipients_sent", 0))
    line = f"e-mailed {_count(sent, 'briefing')} to {_count(recipients, 'recipient')}"
    extras = []
    if meta.get("unchanged"):
        extras.append(f"{meta['unchanged']} unchanged, not resent")
    if meta.get("failed"):
        extras.append(f"{meta['failed']} failed: {meta.get('first_failure', '')}".rstrip(": "))
    return line + (f" ({'; '.join(extras)})" if extras else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def plan_line(sending: int, recipients: int, unchanged: int) -> str:
    """What ``regiocode deliver --dry-run`` would do, in the words of the refresh summary."""
    return (f"would e-mail {_count(sending, 'briefing')} to {_count(recipients, 'recipient')} "
            f"({unchanged} unchanged, not resent)")


def summary_rows(summary: Mapping[str, Any], sources: Sequence[str]) -> list[tuple[str, str]]:
    """The closing table of a successful refresh, as (label, value) rows."""
    meta = summary["metadata"]
    paths: Paths = summary["paths"]
    raw, brief, pub = meta.get("raw_observations", {}), meta.get("briefings", {}), meta.get("published_warehouse", {})
    rows = [("sources", "\n".join(source_lines(meta, sources)) or "—"),
            ("rows (raw, active sources)", str(raw.get("rows", "—"))),
            ("regions", str(raw.get("regions", "—"))),
            ("years", str(raw.get("years", "—"))),
            ("rejects (raw, active sources)", str(meta.get("raw_rejects", {}).get("rejects", 0)))]
    if brief:
        rows.append(("briefings", str(brief.get("outcome") or f"{brief.get('regions', 0)} regions → "
                                                               f"{brief.get('folder', '—')}")))
    delivery = delivery_line(meta.get("briefing_delivery"))
    if delivery:
        rows.append(("delivery", delivery))
    rows.append(("published warehouse", str(pub.get("path", paths.published_db))))
    reused = " — inputs unchanged: dbt not run, nothing republished" if pub.get("unchanged") else ""
    rows.append(("build", f"{pub.get('build_id', '—')} ({pub.get('data_label', '—')}){reused}"))
    rows.append(("time", f"{summary['seconds']:.1f} s"))
    return rows


def source_notes(metadata: Mapping[str, Mapping[str, Any]], sources: Sequence[str]) -> list[str]:
    """A source's own lines for the end of a refresh (its ``summary`` metadata: the release it read, warnings,
    what it skipped), each prefixed with the source's name."""
    lines = []
    for name in sources:
        text = str(metadata.get(registry.get(name).asset_name, {}).get("summary") or "")
        lines.extend(f"{name}: {line}" for line in text.splitlines() if line.strip())
    return lines


def failure_lines(failures: Sequence[tuple[str, str]]) -> list[str]:
    """``error: <stage>: <message>`` per failed step (a source's stage does not repeat the source's name)."""
    lines = []
    for stage, message in failures:
        for source in registry.SOURCES:
            if stage == source.stage_label and message.startswith(f"{source.name}: "):
                message = message[len(source.name) + 2:]
        lines.append(f"error: {stage}: {message}")
    return lines
