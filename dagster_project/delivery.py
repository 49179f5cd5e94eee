"""E-mail delivery of the briefings: the HTML briefing as the body, the PDF attached.

Configuration (optional: without it nothing is sent) comes from ``$REGIOCODE_HOME/delivery.toml``
(or the file named by ``REGIOCODE_DELIVERY_CONFIG``) and from environment variables, which win
(read through :func:`dagster_project.settings.delivery_environment`)::

    [smtp]
    host = "smtp.example.org"      # REGIOCODE_SMTP_HOST
    port = 587                     # REGIOCODE_SMTP_PORT
    username = "briefings"         # REGIOCODE_SMTP_USER
    starttls = true                # REGIOCODE_SMTP_STARTTLS (ssl = true: REGIOCODE_SMTP_SSL, implicit TLS)
    sender = "regiocode <briefings@example.org>"   # REGIOCODE_SMTP_SENDER
    timeout = 30
    attempts = 3                   # tries per message on a transient failure
    retry_delay = 2.0              # seconds, doubled after each try

    [[recipients]]
    email = "analyst@economy.example.ru"
    regions = ["RU-SVE", "RU-CHE"] # or ["*"] for every region
    lang = "ru"

The SMTP password is read from ``REGIOCODE_SMTP_PASSWORD`` only: a password in the file is refused,
and it never appears in a log line, an error or a ``repr``.

One message per recipient, region and language. A transient failure (connection lost, timeout,
4xx reply) is retried with back-off; a permanent one (5xx, e.g. an unknown mailbox) is reported at
once. Either way the other recipients are served. What was delivered is remembered by the PDF's
SHA-256 in ``state/delivery.json``, so an unchanged briefing is not sent twice and a failed one is
tried again on the next run.
"""

from __future__ import annotations

import html
import json
import re
import smtplib
import ssl
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from dagster_project import settings
from dagster_project.briefings.view import load_messages
from dagster_project.files import read_json, write_json_atomic
from dagster_project.settings import SMTP_ENV_PREFIX as ENV_PREFIX

CONFIG_FILE = "delivery.toml"
LANGS = ("ru", "en")


class DeliveryConfigError(ValueError):
    """The delivery configuration cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. ``password`` is excluded from ``repr`` so it cannot leak into a log."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "regiocode <regiocode@localhost>"
    timeout: float = 30.0
    attempts: int = 3
    retry_delay: float = 2.0


@dataclass(frozen=True)
class Recipient:
    email: str
    regions: tuple[str, ...] = ("*",)
    lang: str = "ru"

    def wants(self, region: str) -> bool:
        return "*" in self.regions or region in self.regions


@dataclass(frozen=True)
class DeliveryConfig:
    smtp: SmtpSettings
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class Briefing:
    """One region's files in one language, as listed by a briefings folder's manifest."""

    region: str
    lang: str
    html: Path
    pdf: Path
    pdf_sha256: str


@dataclass
class DeliveryResult:
    email: str
    region: str
    lang: str
    status: str  # sent | failed | unchanged
    attempts: int = 0
    error: str = ""


# ---------------------------------------------------------------- configuration


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise DeliveryConfigError(f"{name}: expected true or false, got {value!r}")


def _smtp_settings(table: Mapping[str, Any], env: Mapping[str, str]) -> SmtpSettings | None:
    if "password" in table:
        raise DeliveryConfigError(
            "delivery.toml: [smtp] password is not read from a file; set REGIOCODE_SMTP_PASSWORD in the environment"
        )
    merged: dict[str, Any] = dict(table)
    for key, setting in (("HOST", "host"), ("PORT", "port"), ("USER", "username"), ("SENDER", "sender"),
                         ("STARTTLS", "starttls"), ("SSL", "ssl"), ("TIMEOUT", "timeout")):
        if env.get(ENV_PREFIX + key):
            merged[setting] = env[ENV_PREFIX + key]
    host = str(merged.get("host") or "").strip()
    if not host:
        return None
    try:
        return SmtpSettings(
            host=host,
            port=int(merged.get("port", 25)),
            username=str(merged["username"]) if merged.get("username") else None,
            password=env.get(ENV_PREFIX + "PASSWORD") or None,
            starttls=_bool(merged.get("starttls", False), "starttls"),
            use_ssl=_bool(merged.get("ssl", False), "ssl"),
            sender=str(merged.get("sender") or SmtpSettings.sender),
            timeout=float(merged.get("timeout", 30)),
            attempts=max(1, int(merged.get("attempts", 3))),
            retry_delay=float(merged.get("retry_delay", 2.0)),
        )
    except (TypeError, ValueError) as err:
        raise DeliveryConfigError(f"delivery [smtp]: {err}") from err


def _recipients(items: Iterable[Mapping[str, Any]]) -> tuple[Recipient, ...]:
    out = []
    for index, item in enumerate(items, start=1):
        email = str(item.get("email") or "").strip()
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", email):
            raise DeliveryConfigError(f"delivery [[recipients]] #{index}: {email!r} is not an e-mail address")
        regions = item.get("regions", ["*"])
        regions = [regions] if isinstance(regions, str) else list(regions)
        lang = str(item.get("lang", "ru"))
        if lang not in LANGS:
            raise DeliveryConfigError(f"delivery [[recipients]] #{index} ({email}): lang must be one of {LANGS}")
        out.append(Recipient(email=email, regions=tuple(str(r) for r in regions), lang=lang))
    return tuple(out)


def load_config(home: Path, env: Mapping[str, str] | None = None) -> DeliveryConfig | None:
    """The delivery configuration, or ``None`` when delivery is not configured (no SMTP host or no recipient).

    ``env`` holds the ``REGIOCODE_SMTP_*`` and ``REGIOCODE_DELIVERY_CONFIG`` variables (default: this
    process's, from the settings). Raises :class:`DeliveryConfigError` naming the file or setting at fault.
    """
    env = settings.delivery_environment() if env is None else env
    path = Path(env.get(settings.DELIVERY_CONFIG.env) or Path(home) / CONFIG_FILE)
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise DeliveryConfigError(f"{path}: {err}") from err
    elif env.get(settings.DELIVERY_CONFIG.env):
        raise DeliveryConfigError(f"{settings.DELIVERY_CONFIG.env} names {path}, which does not exist")
    smtp = _smtp_settings(data.get("smtp", {}), env)
    recipients = _recipients(data.get("recipients", []))
    if smtp is None or not recipients:
        return None
    return DeliveryConfig(smtp=smtp, recipients=recipients)


# ---------------------------------------------------------------- what to send


def briefings_in(folder: Path) -> list[Briefing]:
    """The region briefings listed in ``folder/manifest.json`` (HTML and PDF per region and language)."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    files: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in manifest.get("files", []):
        if entry.get("region") and entry.get("kind") in ("html", "pdf"):
            files.setdefault((entry["region"], entry["lang"]), {})[entry["kind"]] = entry
    return [
        Briefing(region, lang, Path(folder) / kinds["html"]["path"], Path(folder) / kinds["pdf"]["path"],
                 kinds["pdf"]["sha256"])
        for (region, lang), kinds in sorted(files.items())
        if "html" in kinds and "pdf" in kinds
    ]


def latest_folder(briefings_dir: Path) -> Path | None:
    """The folder of the newest briefings: where ``briefings/latest`` points, else the newest ``<date>`` folder
    that has a manifest (the layout before each build had its own folder)."""
    latest = Path(briefings_dir) / settings.LATEST_BRIEFINGS
    if (latest / "manifest.json").is_file():
        return latest.resolve()
    folders = sorted(p.parent for p in Path(briefings_dir).glob("*/manifest.json"))
    return folders[-1] if folders else None


def _subject(page: str, fallback: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    title = html.unescape(match.group(1)).strip() if match else fallback
    return " ".join(title.replace("\u00a0", " ").split())  # a subject line needs no typographic spaces


def build_message(briefing: Briefing, sender: str, recipient: str) -> EmailMessage:
    """The e-mail: a plain-text part, the briefing's HTML as the HTML part, the PDF attached."""
    page = briefing.html.read_text(encoding="utf-8")
    t = load_messages(briefing.lang)
    subject = _subject(page, briefing.region)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain="regiocode")
    message.set_content(t["email_text"].format(title=subject, file=briefing.pdf.name))
    message.add_alternative(page, subtype="html")
    message.add_attachment(briefing.pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=briefing.pdf.name)
    return message


# ---------------------------------------------------------------- sending


def _transient(err: Exception) -> bool:
    """Worth another try: a lost or refused connection, a timeout, or a 4xx reply."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in err.recipients.values())
    if isinstance(err, smtplib.SMTPResponseException):
        return 400 <= err.smtp_code < 500
    return isinstance(err, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def _describe(err: Exception) -> str:
    """An error a person can act on, without credentials (smtplib never puts the password in one)."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for addr, (code, msg) in err.recipients.items())
    if isinstance(err, smtplib.SMTPResponseException):
        text = err.smtp_error.decode(errors="replace") if isinstance(err.smtp_error, bytes) else str(err.smtp_error)
        return f"{err.smtp_code} {text}"
    return f"{type(err).__name__}: {err}"


def _send_once(settings: SmtpSettings, message: EmailMessage) -> None:
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls and not settings.use_ssl:
            client.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            client.login(settings.username, settings.password)
        client.send_message(message)


def send_with_retries(settings: SmtpSettings, message: EmailMessage,
                      sleep: Callable[[float], None] = time.sleep) -> tuple[int, str]:
    """Send one message; retry transient failures with back-off. Returns (attempts, error or "")."""
    delay = settings.retry_delay
    for attempt in range(1, settings.attempts + 1):
        try:
            _send_once(settings, message)
            return attempt, ""
        except (smtplib.SMTPException, OSError) as err:
            if attempt == settings.attempts or not _transient(err):
                return attempt, _describe(err)
            sleep(delay)
            delay *= 2
    return settings.attempts, "not sent"


@dataclass(frozen=True)
class Planned:
    """One message a delivery would send (``unchanged``: the recipient already has this very briefing)."""

    recipient: Recipient
    briefing: Briefing
    unchanged: bool


def plan(config: DeliveryConfig, briefings: Iterable[Briefing], state: Mapping[str, Any],
         force: bool = False) -> list[Planned]:
    """Every recipient × region × language the configuration asks for among ``briefings``, in order, each
    marked unchanged when ``state`` says the recipient received the same PDF (unless ``force``)."""
    by_key = {(b.region, b.lang): b for b in briefings}
    out = []
    for recipient in config.recipients:
        delivered = state.get(recipient.email, {})
        for (region, lang), briefing in sorted(by_key.items()):
            if lang == recipient.lang and recipient.wants(region):
                same = not force and delivered.get(f"{region}/{lang}") == briefing.pdf_sha256
                out.append(Planned(recipient, briefing, same))
    return out


def read_state(state_path: Path) -> dict[str, Any]:
    """What was delivered: recipient → ``region/lang`` → the PDF's SHA-256 ({} when nothing yet)."""
    return read_json(state_path, {}) or {}


def deliver(config: DeliveryConfig, briefings: Iterable[Briefing], state_path: Path, force: bool = False,
            sleep: Callable[[float], None] = time.sleep,
            log: Callable[[str], None] | None = None) -> list[DeliveryResult]:
    """Send every recipient the briefings of its regions in its language that it has not received yet."""
    state = read_state(state_path)
    results = []
    for item in plan(config, briefings, state, force):
        email, region, lang = item.recipient.email, item.briefing.region, item.briefing.lang
        if item.unchanged:
            results.append(DeliveryResult(email, region, lang, "unchanged"))
            continue
        message = build_message(item.briefing, config.smtp.sender, email)
        attempts, error = send_with_retries(config.smtp, message, sleep)
        status = "failed" if error else "sent"
        results.append(DeliveryResult(email, region, lang, status, attempts, error))
        if log:
            log(f"{email} {region}/{lang}: {status} after {attempts} attempt(s){': ' + error if error else ''}")
        if not error:
            state.setdefault(email, {})[f"{region}/{lang}"] = item.briefing.pdf_sha256
            write_json_atomic(state_path, state)  # after each success: a crash never re-sends what went out
    write_json_atomic(state_path, state)
    return results


def summarise(results: Iterable[DeliveryResult]) -> dict[str, Any]:
    """How many messages were sent, failed and left unchanged; to how many recipients messages went; the first
    failure's reason (``"analyst@x.org: 550 mailbox unavailable"``)."""
    results = list(results)
    counts: dict[str, Any] = {"sent": 0, "failed": 0, "unchanged": 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    counts["recipients_sent"] = len({r.email for r in results if r.status == "sent"})
    failed = [r for r in results if r.status == "failed"]
    first = failed[0] if failed else None
    counts["first_failure"] = ("" if first is None else first.error if first.error.startswith(first.email)
                               else f"{first.email}: {first.error}")
    return counts
