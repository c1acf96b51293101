"""R20: a text to a patient that did not arrive, when it mattered, is itself an alert.

It mattered when it was the crisis reply, or when it answered a message that raised an
emergency or urgent alert (the red-flag advice, the dialogue's replies to a crisis): a
person has to phone the patient, within that alert's deadline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.alerts import Raised, raise_alert
from escalation.policy import Policy
from store.models import Alert, Message

# Replies that are emergency advice whatever raised them.
EMERGENCY_KINDS = frozenset({"crisis"})
PAGED_TIERS = ("emergency", "urgent")


def tier_of_reply(session: Session, msg: Message) -> str | None:
    """The tier the patient's text answered (emergency or urgent), or None."""
    if msg.kind in EMERGENCY_KINDS:
        return "emergency"
    if msg.in_reply_to_id is None:
        return None
    tiers = set(
        session.scalars(
            select(Alert.tier).where(
                Alert.evidence_message_id == msg.in_reply_to_id, Alert.tier.in_(PAGED_TIERS)
            )
        )
    )
    return next((t for t in PAGED_TIERS if t in tiers), None)


def reply_not_delivered(session: Session, policy: Policy, msg: Message) -> Raised | None:
    """Raise (or join) the patient's ``delivery_failed`` alert for a failed text that
    mattered; None for any other text."""
    if msg.patient_id is None or msg.direction != "outbound":
        return None
    tier = tier_of_reply(session, msg)
    if tier is None:
        return None
    what = "The crisis reply" if msg.kind in EMERGENCY_KINDS else f"An {tier} reply"
    return raise_alert(
        session,
        policy,
        patient_id=msg.patient_id,
        tier=tier,
        kind="delivery_failed",
        rules=["R20"],
        message_id=msg.id,
        summary=f"{what} was not delivered: phone the patient.",
        modify=False,  # R20 keeps the tier of what it answered
    )
