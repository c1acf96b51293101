"""One interface for every paging channel (SMS, email, signed webhook).

A notifier sends one page to one address and returns the provider's id for it, or
raises NotifyError. Permanent errors (a bad address) move on to the next channel;
transient ones are retried. Every attempt is stored by the caller as an AlertDelivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class NotifyError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Page:
    """What a clinician is told. Minimum necessary: no message text, no diagnosis; the
    evidence is in the clinician web app and the CLI, never in a page or a log."""

    code: str
    tier: str
    summary: str
    patient_ref: str  # initials and record number, e.g. "A.D. #12"
    deadline: datetime
    ack_hint: str  # how to acknowledge, e.g. "Reply ACK 7KQ2ZD"

    def text(self) -> str:
        due = self.deadline.strftime("%H:%M UTC")
        return (
            f"medfollow {self.tier.upper()} alert {self.code}: {self.summary} "
            f"Patient {self.patient_ref}. Acknowledge by {due}. {self.ack_hint}"
        )


class Notifier(Protocol):
    channel: str

    def notify(self, page: Page, to: str) -> str: ...
