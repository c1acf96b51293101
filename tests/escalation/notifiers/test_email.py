"""EmailNotifier against a real SMTP server (aiosmtpd) on a loopback port of its own."""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from escalation.notifiers.base import NotifyError, Page
from escalation.notifiers.email import EmailNotifier
from medfollow.settings import Secret, Settings
from tests.support import free_ports

TO = "oncall@clinic.example"
PAGE = Page(
    code="7KQ2ZD",
    tier="urgent",
    summary="Reply needs review within 15 minutes.",
    patient_ref="A.D. #12",
    deadline=datetime(2026, 1, 1, 9, 15, tzinfo=UTC),
    ack_hint="Reply ACK 7KQ2ZD",
)

StartServer = Callable[..., int]


class Recorder:
    """Takes every message and keeps its envelope."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"


class Refuser(Recorder):
    """Answers `reply` at `stage` (MAIL, RCPT or DATA); at RCPT only for `address`."""

    def __init__(self, stage: str, reply: str, address: str = TO) -> None:
        super().__init__()
        self.stage, self.reply, self.address = stage, reply, address

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.stage == "MAIL":
            return self.reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.stage == "RCPT" and address == self.address:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stage == "DATA":
            return self.reply
        return await super().handle_DATA(server, session, envelope)


@dataclass
class Logins:
    """An authenticator that accepts one user and password, and records every attempt."""

    user: bytes = b"pager"
    password: bytes = b"s3cret-pw"
    seen: list[LoginPassword] | None = None

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen = [*(self.seen or []), data]
        ok = data.login == self.user and data.password == self.password
        # handled=False lets aiosmtpd answer 535 itself on a failure.
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Starts aiosmtpd with a handler (and SMTP options) on a free port; returns the port."""
    controllers: list[Controller] = []

    def start(handler: object, **options: Any) -> int:
        port = free_ports(1)[0]
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by openssl): (cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def settings(port: int, **overrides: Any) -> Settings:
    return Settings(**{"smtp_port": port, "notify_timeout": 5.0, **overrides})


def received(recorder: Recorder) -> EmailMessage:
    [envelope] = recorder.envelopes
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_it_sends_the_page_as_plain_text(start_server: StartServer) -> None:
    recorder = Recorder()
    port = start_server(recorder)

    message_id = EmailNotifier(settings(port)).notify(PAGE, TO)

    [envelope] = recorder.envelopes
    assert envelope.mail_from == "medfollow@localhost"
    assert envelope.rcpt_tos == [TO]
    message = received(recorder)
    assert message["Subject"] == "[medfollow] URGENT alert 7KQ2ZD"
    assert message["To"] == TO
    assert message["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@localhost>")
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert isinstance(body, str)
    assert body.strip() == PAGE.text()
    assert "7KQ2ZD" in body


def test_it_gives_each_page_its_own_message_id(start_server: StartServer) -> None:
    port = start_server(Recorder())
    notifier = EmailNotifier(settings(port))

    assert notifier.notify(PAGE, TO) != notifier.notify(PAGE, TO)


def test_it_fails_permanently_when_the_recipient_is_refused(start_server: StartServer) -> None:
    recorder = Refuser("RCPT", "550 5.1.1 <oncall@clinic.example>: no such user")
    notifier = EmailNotifier(settings(start_server(recorder)))

    with pytest.raises(NotifyError) as caught:
        notifier.notify(PAGE, TO)

    assert caught.value.permanent
    assert str(caught.value) == "SMTP recipient refused: 550 5.1.1"
    # The refusal is for that one address: another still gets through.
    notifier.notify(PAGE, "backup@clinic.example")
    assert received(recorder)["To"] == "backup@clinic.example"


@pytest.mark.parametrize(
    ("stage", "reply", "permanent"),
    [
        ("RCPT", "451 4.3.0 try again later", False),
        ("MAIL", "451 4.3.0 try again later", False),
        ("DATA", "452 4.3.1 insufficient storage", False),
        ("RCPT", "550 5.1.1 no such user", True),
        ("MAIL", "553 5.7.1 sender not allowed", True),
        ("DATA", "554 5.6.0 message refused", True),
    ],
)
def test_it_sorts_smtp_replies_by_class(
    start_server: StartServer, stage: str, reply: str, permanent: bool
) -> None:
    port = start_server(Refuser(stage, reply))

    with pytest.raises(NotifyError) as caught:
        EmailNotifier(settings(port)).notify(PAGE, TO)

    assert caught.value.permanent is permanent
    assert reply[:9] in str(caught.value)  # the code and the enhanced status code


def test_it_is_transient_when_nothing_listens() -> None:
    with pytest.raises(NotifyError) as caught:
        EmailNotifier(settings(free_ports(1)[0])).notify(PAGE, TO)

    assert not caught.value.permanent
    assert "ConnectionRefusedError" in str(caught.value)


def test_it_is_transient_when_the_server_never_greets() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts in the kernel, says nothing
        port = silent.getsockname()[1]
        with pytest.raises(NotifyError) as caught:
            EmailNotifier(settings(port, notify_timeout=0.3)).notify(PAGE, TO)

    assert not caught.value.permanent
    assert "TimeoutError" in str(caught.value)


def test_it_upgrades_to_tls_and_logs_in(
    start_server: StartServer, certificate: tuple[Path, Path]
) -> None:
    recorder, logins = Recorder(), Logins()
    port = start_server(
        recorder,
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=logins,
    )
    config = settings(
        port, smtp_starttls=True, smtp_user="pager", smtp_password=Secret("s3cret-pw")
    )

    EmailNotifier(config, tls_context=client_tls(certificate)).notify(PAGE, TO)

    assert logins.seen == [LoginPassword(b"pager", b"s3cret-pw")]
    assert received(recorder)["Subject"] == "[medfollow] URGENT alert 7KQ2ZD"


def test_it_fails_permanently_on_a_wrong_password(
    start_server: StartServer, certificate: tuple[Path, Path]
) -> None:
    recorder = Recorder()
    port = start_server(
        recorder, tls_context=server_tls(certificate), auth_required=True, authenticator=Logins()
    )
    config = settings(port, smtp_starttls=True, smtp_user="pager", smtp_password=Secret("wrong"))

    with pytest.raises(NotifyError) as caught:
        EmailNotifier(config, tls_context=client_tls(certificate)).notify(PAGE, TO)

    assert caught.value.permanent
    assert str(caught.value) == "SMTP login refused: 535 5.7.8"
    assert recorder.envelopes == []


def test_it_fails_permanently_on_an_untrusted_certificate(
    start_server: StartServer, certificate: tuple[Path, Path]
) -> None:
    recorder = Recorder()
    port = start_server(recorder, tls_context=server_tls(certificate))

    with pytest.raises(NotifyError) as caught:  # the system's CAs do not know this certificate
        EmailNotifier(settings(port, smtp_starttls=True)).notify(PAGE, TO)

    assert caught.value.permanent
    assert "SSLCertVerificationError" in str(caught.value)
    assert recorder.envelopes == []


def test_it_fails_permanently_when_the_server_has_no_starttls(start_server: StartServer) -> None:
    port = start_server(Recorder())

    with pytest.raises(NotifyError) as caught:
        EmailNotifier(settings(port, smtp_starttls=True)).notify(PAGE, TO)

    assert caught.value.permanent
    assert "SMTPNotSupportedError" in str(caught.value)


@pytest.mark.parametrize("to", ["", "not-an-address", "a@b.example\r\nBcc: c@d.example"])
def test_it_refuses_a_malformed_address_without_connecting(to: str) -> None:
    closed_port = free_ports(1)[0]  # connecting would be a transient error, not this one

    with pytest.raises(NotifyError) as caught:
        EmailNotifier(settings(closed_port)).notify(PAGE, to)

    assert caught.value.permanent
    assert str(caught.value) == "not an email address"


def test_it_logs_neither_the_address_nor_the_text(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = EmailNotifier(settings(start_server(Refuser("RCPT", "550 5.1.1 no such user"))))
    caplog.set_level(logging.DEBUG)

    notifier.notify(PAGE, "backup@clinic.example")
    with pytest.raises(NotifyError) as caught:
        notifier.notify(PAGE, TO)

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("escalation")]
    assert ours, "the accepted page is logged by code"
    for text in [*ours, str(caught.value)]:
        assert "clinic.example" not in text
        assert PAGE.summary not in text and PAGE.patient_ref not in text
