"""Delivery status precedence: callbacks arrive out of order or twice; never go back."""

from __future__ import annotations

RANK = {
    "pending": 0,
    "claimed": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "undelivered": 5,
    "failed": 5,
    "delivered": 5,
    "canceled": 5,
    "suppressed": 5,
    "read": 6,
}
TERMINAL = frozenset({"undelivered", "failed", "delivered", "canceled", "suppressed", "read"})
# Twilio accepted the text and has not said yet whether it reached the phone.
UNCONFIRMED = frozenset({"queued", "accepted", "scheduled", "sending", "sent"})
# The error of a send whose worker died between claiming it and storing Twilio's answer:
# marked failed by the sweeper, never resent (Twilio sends are not idempotent).
LOST_SEND = "send outcome unknown: worker stopped mid-send"


def advances(current: str, new: str) -> bool:
    """True if a callback saying `new` should replace `current`."""
    if new not in RANK:
        return False
    if current in TERMINAL and not (current == "delivered" and new == "read"):
        return False
    return RANK[new] > RANK.get(current, 0)
