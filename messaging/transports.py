"""Outbound SMS transports behind one interface: the Twilio API, or the phone simulator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from medfollow.settings import Settings

# Twilio error codes that will not succeed on retry (the number or recipient is the problem).
PERMANENT_CODES = frozenset({21211, 21214, 21408, 21606, 21610, 21612, 21614, 21617, 30004, 30006})
OPTED_OUT_CODE = 21610
INITIAL = frozenset({"queued", "accepted", "scheduled"})


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class SendError(Exception):
    """A send failed. Permanent errors are not retried."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class Transport(Protocol):
    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        """Send `body` to `to` from `sender` (a number of the pool, Settings.sending_pool)."""
        ...


class SimulatorTransport:
    """Sends nothing: the phone simulator page reads the stored messages (each row keeps
    the number it went from, `our_number`). It reports each text `delivered` at once, as
    Twilio's last callback would (the simulator's phone has it), so no text waits for a
    delivery report (R20, DELIVERY_CONFIRM_SECONDS)."""

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        return SendResult(sid="SM" + uuid.uuid4().hex, status="delivered")


class TwilioTransport:
    """The official client; `api_base` points it at the Prism mock in tests and the demo."""

    def __init__(self, settings: Settings) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.reveal(),
            http_client=TwilioHttpClient(timeout=10),
        )
        if settings.twilio_api_base:
            self._client.api.base_url = settings.twilio_api_base

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs: dict[str, str] = {"to": to, "from_": sender, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            msg = self._client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = int(exc.code) if isinstance(exc.code, int) else None
            permanent = code in PERMANENT_CODES or (400 <= exc.status < 500 and exc.status != 429)
            raise SendError(
                f"Twilio rejected the send (HTTP {exc.status}, code {code})",
                code=code,
                permanent=permanent,
            ) from None
        except (TwilioException, OSError) as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}") from None
        # A create answers with an initial state; later states arrive by status callback.
        # (Prism's dynamic mock invents any status, so anything else counts as queued.)
        status = str(msg.status or "")
        return SendResult(sid=str(msg.sid), status=status if status in INITIAL else "queued")


def make_transport(settings: Settings) -> Transport:
    if settings.sms_transport == "twilio":
        return TwilioTransport(settings)
    return SimulatorTransport()
