"""Delivery: e-mail each recipient the briefings of its regions (HTML body, PDF attached).

Optional: without an SMTP host and recipients (``$REGIOCODE_HOME/delivery.toml`` or the
``REGIOCODE_SMTP_*`` variables, see :mod:`dagster_project.delivery`) the asset records that delivery
is not configured and sends nothing. A recipient that fails is reported in the metadata and the log
and does not stop the others; it is tried again on the next run. The metadata's ``outcome`` is the line
``regiocode refresh`` prints: "e-mailed N briefings to M recipients (K unchanged, not resent; F failed: …)".
"""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from dagster_project.assets.briefings import briefings
from dagster_project.delivery import briefings_in, deliver, latest_folder, load_config, summarise
from dagster_project.report import delivery_line
from dagster_project.resources import RegiocodeResource


@asset(
    group_name="briefings",
    kinds={"email"},
    deps=[briefings],
    description="E-mails the latest briefings to the configured recipients (delivery.toml, REGIOCODE_SMTP_*); "
    "only briefings a recipient has not received yet.",
)
def briefing_delivery(context: AssetExecutionContext, regiocode: RegiocodeResource) -> MaterializeResult:
    paths = regiocode.paths
    config = load_config(paths.home)
    if config is None:
        context.log.info("delivery is not configured (no SMTP host or no recipients): nothing sent")
        return MaterializeResult(metadata={"configured": False, "sent": 0, "failed": 0})
    folder = latest_folder(paths.briefings)
    if folder is None:
        note = f"no briefings folder with a manifest under {paths.briefings}: nothing e-mailed"
        context.log.warning(note)
        return MaterializeResult(metadata={"configured": True, "sent": 0, "failed": 0, "note": note})
    results = deliver(config, briefings_in(folder), paths.state / "delivery.json", log=context.log.info)
    counts = summarise(results)
    failures = [r for r in results if r.status == "failed"]
    for failure in failures:
        context.log.warning("delivery to %s of %s (%s) failed after %d attempt(s): %s",
                            failure.email, failure.region, failure.lang, failure.attempts, failure.error)
    return MaterializeResult(
        metadata={
            "configured": True,
            "folder": MetadataValue.path(str(folder)),
            "smtp": f"{config.smtp.host}:{config.smtp.port}",
            "recipients": len(config.recipients),
            **counts,
            "outcome": delivery_line({"configured": True, **counts}),
            "failures": MetadataValue.md(
                "\n".join(f"- {f.email} · {f.region} ({f.lang}): {f.error}" for f in failures) or "none"
            ),
        }
    )
