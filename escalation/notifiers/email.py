"""Pages by email: one plain-text message to one address over SMTP (smtplib).

Errors follow the SMTP reply class: a 5xx reply is permanent (this server will never
take this page), a 4xx reply or trouble on the wire (refused connection, timeout,
dropped session) is transient. A setup the server cannot serve (no STARTTLS, no AUTH,
an untrusted certificate) is permanent too: no retry fixes it, and the page should
move on to the next channel rather than wait out the retries.

Error messages carry the reply code and enhanced status code only: server replies
often echo the address, and neither the address nor the page text may reach a log
or an AlertDelivery row.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from escalation.notifiers.base import NotifyError, Page
from medfollow.settings import Settings

log = logging.getLogger(__name__)

# RFC 3463 enhanced status code at the start of a reply text, e.g. b"5.1.1 ...".
ENHANCED_STATUS = re.compile(rb"[245]\.\d{1,3}\.\d{1,3}")
ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")
STAGES: dict[type[smtplib.SMTPResponseException], str] = {
    smtplib.SMTPConnectError: "greeting refused",
    smtplib.SMTPHeloError: "HELO refused",
    smtplib.SMTPAuthenticationError: "login refused",
    smtplib.SMTPSenderRefused: "sender refused",
    smtplib.SMTPDataError: "message refused",
}


class EmailNotifier:
    """Sends `page.text()` by SMTP; returns the Message-ID it set."""

    channel: str = "email"

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> None:
        # tls_context: for STARTTLS; the system's trusted CAs when None (tests pass their own).
        self.settings = settings
        self.tls_context = tls_context

    def notify(self, page: Page, to: str) -> str:
        message = self.compose(page, to)
        try:
            self.send(message, to)
        except smtplib.SMTPRecipientsRefused as exc:
            # One recipient, so it is the only entry; the dict's key is the address.
            code, reply = next(iter(exc.recipients.values()))
            raise reply_error("recipient refused", code, reply) from None
        except smtplib.SMTPResponseException as exc:
            stage = STAGES.get(type(exc), "command refused")
            raise reply_error(stage, exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib turns a read timeout into this; the original is its context.
            why = f": {type(exc.__context__).__name__}" if exc.__context__ else ""
            raise NotifyError(f"SMTP connection lost{why}") from None
        except (smtplib.SMTPException, ssl.SSLCertVerificationError) as exc:
            # SMTPNotSupportedError (no STARTTLS, no AUTH, no SMTPUTF8), no usable AUTH
            # mechanism, a certificate we do not trust: configuration, not bad luck.
            raise NotifyError(f"SMTP setup failed: {type(exc).__name__}", permanent=True) from None
        except OSError as exc:  # refused connection, timeout, TLS handshake, reset
            raise NotifyError(f"SMTP server unreachable: {type(exc).__name__}") from None
        message_id = str(message["Message-ID"])
        log.info("email page %s accepted as %s", page.code, message_id)
        return message_id

    def compose(self, page: Page, to: str) -> EmailMessage:
        if not is_address(to):
            raise NotifyError("not an email address", permanent=True)
        sender = self.settings.smtp_from
        message = EmailMessage()
        message["Subject"] = f"[medfollow] {page.tier.upper()} alert {page.code}"
        message["From"] = sender
        message["To"] = to
        message["Date"] = formatdate(usegmt=True)
        # An explicit domain: the default asks DNS for this host's FQDN, which can stall.
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
        message.set_content(page.text())
        return message

    def send(self, message: EmailMessage, to: str) -> None:
        s = self.settings
        with contextlib.closing(
            smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.notify_timeout)
        ) as smtp:
            if s.smtp_starttls:
                smtp.starttls(context=self.tls_context or ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password.reveal())
            smtp.send_message(message, from_addr=s.smtp_from, to_addrs=[to])
            # The server has taken the page: a failed QUIT must not become a retry
            # (and so a duplicate page). closing() drops the socket either way.
            with contextlib.suppress(OSError):
                smtp.quit()


def is_address(to: str) -> bool:
    """A single bare or named address, with no line breaks that could forge headers."""
    if any(ch in to for ch in "\r\n\0"):
        return False
    return ADDRESS.fullmatch(parseaddr(to)[1]) is not None


def reply_error(stage: str, code: int, reply: bytes | str) -> NotifyError:
    """NotifyError from an SMTP reply: 5xx permanent, anything else transient."""
    raw = reply.encode("utf-8", "replace") if isinstance(reply, str) else reply
    enhanced = ENHANCED_STATUS.match(raw)
    detail = f" {enhanced.group().decode()}" if enhanced else ""
    return NotifyError(f"SMTP {stage}: {code}{detail}", permanent=500 <= code < 600)
