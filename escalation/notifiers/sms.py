"""Pages by SMS, through the same outbound path (and transport) as patient texts."""

from __future__ import annotations

from escalation.notifiers.base import NotifyError, Page
from medfollow.runtime import Runtime
from messaging.outbound import SendFailed, deliver, queue_text
from messaging.phones import InvalidPhone, to_e164


class SmsNotifier:
    channel = "sms"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def notify(self, page: Page, to: str) -> str:
        """Store the page as an outbound text and send it now; return its message id."""
        try:
            phone = to_e164(to, self.rt.settings.default_region)
        except InvalidPhone:
            # Twilio would refuse it with 21211: a permanent error, so say so before trying.
            raise NotifyError("not a valid phone number (21211)", permanent=True) from None
        with self.rt.sessions.begin() as session:
            [row] = queue_text(session, body=page.text(), kind="page", external_phone=phone)
            message_id = row.id
        try:
            status = deliver(self.rt, message_id)
        except SendFailed as exc:
            raise NotifyError(f"SMS not sent: {exc}") from None
        if status == "failed":
            raise NotifyError("SMS refused by the provider", permanent=True)
        return str(message_id)
