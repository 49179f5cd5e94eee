"""E-mail delivery against a real SMTP server (aiosmtpd) started on 127.0.0.1 by the test."""

from __future__ import annotations

import email
import socket
from email import policy
from pathlib import Path

import pytest
from briefing_samples import make_context
from typer.testing import CliRunner

from dagster_project.briefings.batch import render_all
from dagster_project.cli import app
from dagster_project.delivery import (
    DeliveryConfig,
    DeliveryConfigError,
    Recipient,
    SmtpSettings,
    briefings_in,
    deliver,
    latest_folder,
    load_config,
    summarise,
)
from dagster_project.report import NOT_CONFIGURED, delivery_line

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (a test dependency) is not installed")
PASSWORD = "s3cret-Pa55"


class Handler:
    """Accepts mail; refuses some recipients for good (550) and others once (451)."""

    def __init__(self, refused: set[str], flaky: set[str]) -> None:
        self.refused, self.flaky = refused, set(flaky)
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.rcpt_attempts: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        if address in self.flaky:
            self.flaky.discard(address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def smtp():
    handler = Handler(refused={"nobody@example.org"}, flaky={"flaky@example.org"})
    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        from aiosmtpd.smtp import AuthResult

        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password.decode() == PASSWORD)

    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                                     auth_require_tls=False)
    controller.start()
    try:
        yield controller, handler, logins
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("briefings")
    contexts = []
    for code in ("RU-SVE", "RU-CHE"):
        context = make_context()
        context["region"]["code"] = code
        contexts.append(context)
    render_all(contexts, root / "2026-11-24", root / "state", workers=1)
    return root / "2026-11-24"


def _config(port: int, *recipients: Recipient, username: str | None = None) -> DeliveryConfig:
    settings = SmtpSettings(host="127.0.0.1", port=port, username=username, password=PASSWORD, timeout=10,
                            attempts=3, retry_delay=0.0, sender="regiocode <briefings@example.org>")
    return DeliveryConfig(smtp=settings, recipients=recipients)


def test_briefings_are_found_from_the_manifest(folder: Path) -> None:
    found = briefings_in(folder)
    assert [(b.region, b.lang) for b in found] == [("RU-CHE", "en"), ("RU-CHE", "ru"), ("RU-SVE", "en"),
                                                   ("RU-SVE", "ru")]
    assert latest_folder(folder.parent) == folder


def test_a_briefing_arrives_with_the_pdf_attached_and_the_html_as_body(smtp, folder: Path, tmp_path: Path) -> None:
    controller, handler, logins = smtp
    config = _config(controller.port, Recipient("analyst@example.org", ("RU-SVE",), "ru"), username="briefings")
    lines: list[str] = []
    results = deliver(config, briefings_in(folder), tmp_path / "delivery.json", log=lines.append)
    assert [(r.email, r.region, r.lang, r.status, r.attempts) for r in results] == [
        ("analyst@example.org", "RU-SVE", "ru", "sent", 1)
    ]
    assert logins == [("briefings", PASSWORD)]  # the password reached the server, and nothing else
    (rcpts, message), = handler.messages
    assert rcpts == ["analyst@example.org"]
    assert message["Subject"] == "Свердловская область: брифинг о развитии региона"
    assert message["From"] == "regiocode <briefings@example.org>"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Синтетические демонстрационные данные" in html.replace("\u00a0", " ") and "<svg" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == "RU-SVE.pdf"
    assert attachment.get_content() == (folder / "ru" / "RU-SVE.pdf").read_bytes()
    assert "RU-SVE.pdf" in message.get_body(preferencelist=("plain",)).get_content()
    assert not any(PASSWORD in line for line in lines) and PASSWORD not in repr(config)
    # an unchanged briefing is not sent again
    again = deliver(config, briefings_in(folder), tmp_path / "delivery.json")
    assert [r.status for r in again] == ["unchanged"] and len(handler.messages) == 1


def test_a_refusing_recipient_is_reported_and_the_others_are_delivered(smtp, folder: Path, tmp_path: Path) -> None:
    controller, handler, _ = smtp
    config = _config(
        controller.port,
        Recipient("nobody@example.org", ("*",), "en"),
        Recipient("flaky@example.org", ("RU-CHE",), "en"),
        Recipient("analyst@example.org", ("*",), "en"),
    )
    results = deliver(config, briefings_in(folder), tmp_path / "delivery.json")
    by = {(r.email, r.region): r for r in results}
    refused = by[("nobody@example.org", "RU-SVE")]
    assert refused.status == "failed" and refused.attempts == 1  # a permanent 550 is not retried
    assert "550" in refused.error and "mailbox unavailable" in refused.error
    assert by[("flaky@example.org", "RU-CHE")].status == "sent" and by[("flaky@example.org", "RU-CHE")].attempts == 2
    counts = summarise(results)
    assert (counts["sent"], counts["failed"], counts["unchanged"], counts["recipients_sent"]) == (3, 2, 0, 2)
    assert delivery_line({"configured": True, **counts}) == (
        "e-mailed 3 briefings to 2 recipients (2 failed: nobody@example.org: 550 5.1.1 mailbox unavailable)")
    delivered = sorted((tuple(rcpts), m["Subject"]) for rcpts, m in handler.messages)
    assert delivered == [
        (("analyst@example.org",), "Sverdlovsk Oblast: regional development briefing"),
        (("analyst@example.org",), "Sverdlovsk Oblast: regional development briefing"),
        (("flaky@example.org",), "Sverdlovsk Oblast: regional development briefing"),
    ]
    # the failed ones are tried again on the next run, the delivered ones are not
    retry = deliver(config, briefings_in(folder), tmp_path / "delivery.json")
    assert delivery_line({"configured": True, **summarise(retry)}) == (
        "e-mailed 0 briefings to 0 recipients (3 unchanged, not resent; "
        "2 failed: nobody@example.org: 550 5.1.1 mailbox unavailable)")


def test_an_unreachable_server_is_retried_then_reported(folder: Path, tmp_path: Path) -> None:
    config = _config(_free_port(), Recipient("analyst@example.org", ("RU-SVE",), "en"))
    (result,) = deliver(config, briefings_in(folder), tmp_path / "delivery.json")
    assert result.status == "failed" and result.attempts == 3 and "ConnectionRefusedError" in result.error


# ---------------------------------------------------------------- configuration


def test_configuration_from_file_and_environment(tmp_path: Path) -> None:
    (tmp_path / "delivery.toml").write_text(
        '[smtp]\nhost = "smtp.example.org"\nport = 587\nstarttls = true\nsender = "r <r@example.org>"\n'
        '[[recipients]]\nemail = "a@example.org"\nregions = ["RU-SVE"]\nlang = "en"\n'
        '[[recipients]]\nemail = "b@example.org"\nregions = "*"\n',
        encoding="utf-8",
    )
    env = {"REGIOCODE_SMTP_PORT": "2525", "REGIOCODE_SMTP_USER": "u", "REGIOCODE_SMTP_PASSWORD": PASSWORD}
    config = load_config(tmp_path, env)
    assert config is not None
    assert (config.smtp.host, config.smtp.port, config.smtp.starttls, config.smtp.username) == (
        "smtp.example.org", 2525, True, "u")
    assert config.smtp.password == PASSWORD and PASSWORD not in repr(config)
    assert config.recipients == (
        Recipient("a@example.org", ("RU-SVE",), "en"), Recipient("b@example.org", ("*",), "ru")
    )
    assert config.recipients[1].wants("RU-CHE") and not config.recipients[0].wants("RU-CHE")


def test_no_configuration_means_no_delivery(tmp_path: Path) -> None:
    assert load_config(tmp_path, {}) is None
    assert load_config(tmp_path, {"REGIOCODE_SMTP_HOST": "smtp.example.org"}) is None  # nobody to send to


def test_a_password_in_the_file_or_a_bad_address_is_refused(tmp_path: Path) -> None:
    (tmp_path / "delivery.toml").write_text('[smtp]\nhost = "h"\npassword = "x"\n', encoding="utf-8")
    with pytest.raises(DeliveryConfigError, match="REGIOCODE_SMTP_PASSWORD"):
        load_config(tmp_path, {})
    (tmp_path / "delivery.toml").write_text('[smtp]\nhost = "h"\n[[recipients]]\nemail = "not an address"\n')
    with pytest.raises(DeliveryConfigError, match="not an e-mail address"):
        load_config(tmp_path, {})


# ---------------------------------------------------------------- regiocode deliver


def _home_with_briefings(root: Path, folder: Path, port: int) -> Path:
    """A home whose briefings/latest is ``folder``, e-mailing two recipients through 127.0.0.1:``port``."""
    home = root / "home"
    (home / "briefings").mkdir(parents=True)
    (home / "briefings" / "latest").symlink_to(folder)
    (home / "delivery.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nretry_delay = 0\n'
        '[[recipients]]\nemail = "analyst@example.org"\nregions = ["*"]\nlang = "ru"\n'
        '[[recipients]]\nemail = "minister@example.org"\nregions = ["RU-SVE"]\nlang = "en"\n', encoding="utf-8")
    return home


def test_deliver_dry_run_lists_recipients_regions_and_languages_and_sends_nothing(smtp, folder: Path,
                                                                                  tmp_path: Path, monkeypatch) -> None:
    controller, handler, _ = smtp
    for name in ("REGIOCODE_SMTP_HOST", "REGIOCODE_SMTP_PORT", "REGIOCODE_DELIVERY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    home = _home_with_briefings(tmp_path, folder, controller.port)
    dry = CliRunner().invoke(app, ["deliver", "--dry-run", "--home", str(home)])
    assert dry.exit_code == 0, dry.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in dry.stdout.splitlines()
            if line.startswith("│") and "@" in line]
    assert rows == [
        ["analyst@example.org", "RU-CHE", "ru", "RU-CHE.pdf", "would send"],
        ["analyst@example.org", "RU-SVE", "ru", "RU-SVE.pdf", "would send"],
        ["minister@example.org", "RU-SVE", "en", "RU-SVE.pdf", "would send"],
    ]
    assert dry.stdout.splitlines()[-1] == "would e-mail 3 briefings to 2 recipients (0 unchanged, not resent)"
    assert handler.messages == []

    sent = CliRunner().invoke(app, ["deliver", "--home", str(home)])
    assert sent.exit_code == 0 and sent.stdout.strip() == "e-mailed 3 briefings to 2 recipients"
    assert sorted(rcpts[0] for rcpts, _ in handler.messages) == [
        "analyst@example.org", "analyst@example.org", "minister@example.org"]
    again = CliRunner().invoke(app, ["deliver", "--dry-run", "--home", str(home)])
    assert again.stdout.splitlines()[-1] == "would e-mail 0 briefings to 0 recipients (3 unchanged, not resent)"


def test_deliver_says_when_delivery_is_not_configured(tmp_path: Path, monkeypatch) -> None:
    for name in ("REGIOCODE_SMTP_HOST", "REGIOCODE_DELIVERY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["deliver", "--dry-run", "--home", str(tmp_path)])
    assert result.exit_code == 0 and result.stdout.strip() == NOT_CONFIGURED
