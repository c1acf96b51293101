"""Texts to a patient that did not arrive (§6.3 of the risk summary).

R20: a text that mattered and did not arrive is itself an alert. It mattered when it was
the crisis reply, or when it answered a message that raised an emergency or urgent alert
(the red-flag advice, the dialogue's replies to a crisis): a person has to phone the
patient, within that alert's deadline. It did not arrive when Twilio reports it failed
or undelivered, or when Twilio accepted it and has not reported it delivered within
DELIVERY_CONFIRM_SECONDS (carriers do not always send a receipt; the sweeper checks).
One R20 per text, whichever comes first: a later report adds nothing and a later
`delivered` undoes nothing (the alert stays until a clinician resolves it).

R28: three texts in a row to a patient that failed (any kind) -> a routine
`contact_check` alert: staff re-verify the patient's phone number.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from escalation.alerts import Raised, raise_alert
from escalation.policy import Policy
from messaging.status import LOST_SEND
from messaging.transports import OPTED_OUT_CODE
from store.models import Alert, Message, utcnow

# Replies that are emergency advice whatever raised them.
EMERGENCY_KINDS = frozenset({"crisis"})
PAGED_TIERS = ("emergency", "urgent")
# The statuses that say whether a text reached the phone, and those that say it did not.
OUTCOMES = ("delivered", "read", "failed", "undelivered")
NOT_ARRIVED = frozenset({"failed", "undelivered"})
# Twilio's "recipient has unsubscribed" as stored in error_code: an opt-out (handled as
# one), not a bad number.
OPTED_OUT = str(OPTED_OUT_CODE)
CONTACT_RUN = 3  # R28: this many failed texts in a row


def may_matter(msg: Message) -> bool:
    """Whether a text could turn out to have answered an emergency or urgent signal
    (decided for good by :func:`tier_of_reply` when its delivery is in doubt)."""
    return msg.patient_id is not None and (
        msg.kind in EMERGENCY_KINDS or msg.in_reply_to_id is not None
    )


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
    mattered; None for any other text, or one already alerted about."""
    return _r20(session, policy, msg, "was not delivered")


def reply_unconfirmed(
    session: Session, policy: Policy, msg: Message, seconds: int
) -> Raised | None:
    """The same alert for a text that mattered and that Twilio accepted but has not
    reported delivered within `seconds`."""
    return _r20(
        session,
        policy,
        msg,
        f"was sent but its delivery is unconfirmed after {_duration(seconds)} (no delivery report)",
    )


def _r20(session: Session, policy: Policy, msg: Message, what_happened: str) -> Raised | None:
    if msg.patient_id is None or msg.direction != "outbound":
        return None
    tier = tier_of_reply(session, msg)
    if tier is None:
        return None
    # Compare-and-set: one R20 per text (a failure reported after the text was found
    # unconfirmed, or twice, raises nothing more).
    marked = session.execute(
        update(Message)
        .where(Message.id == msg.id, Message.delivery_alerted_at.is_(None))
        .values(delivery_alerted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
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
        summary=f"{what} {what_happened}: phone the patient.",
        modify=False,  # R20 keeps the tier of what it answered
    )


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds} s"


def counts_against_contact(msg: Message) -> bool:
    """A text that did not reach the phone for a reason that may be the number: failed
    or undelivered, not an opt-out (21610) and not a send whose outcome we lost (our
    failure, which says nothing about the number)."""
    return (
        msg.status in NOT_ARRIVED and msg.error_code != OPTED_OUT and msg.error_message != LOST_SEND
    )


def contact_failing(session: Session, policy: Policy, msg: Message) -> Raised | None:
    """R28: raise (or join) the patient's routine ``contact_check`` alert when this
    failed text makes the last three outcomes of their texts all failures; None otherwise.

    The run is over the patient's outbound texts with an outcome (delivered, read, failed,
    undelivered), newest first: texts still without a report say nothing and are passed
    over; a lost send is passed over too; a delivered text or an opt-out refusal (21610)
    ends the run. Texts sent before the last contact check was resolved do not count:
    staff re-verified the number then.
    """
    if msg.patient_id is None or msg.direction != "outbound" or not counts_against_contact(msg):
        return None
    resolved = session.scalar(
        select(func.max(Alert.resolved_at)).where(
            Alert.patient_id == msg.patient_id,
            Alert.kind == "contact_check",
            Alert.state == "resolved",
        )
    )
    query = (
        select(Message)
        .where(
            Message.patient_id == msg.patient_id,
            Message.direction == "outbound",
            Message.status.in_(OUTCOMES),
            or_(Message.error_message.is_(None), Message.error_message != LOST_SEND),
        )
        .order_by(Message.id.desc())
        .limit(CONTACT_RUN)
    )
    if resolved is not None:
        query = query.where(Message.created_at > resolved)
    run = session.scalars(query).all()
    if len(run) < CONTACT_RUN or not all(counts_against_contact(m) for m in run):
        return None
    return raise_alert(
        session,
        policy,
        patient_id=msg.patient_id,
        tier="routine",
        kind="contact_check",
        rules=["R28"],
        message_id=msg.id,
        summary=(
            f"The last {CONTACT_RUN} texts to this patient were not delivered: re-verify "
            "their phone number (ask them another way) and correct it in their record."
        ),
        modify=False,  # an administrative task: the risk modifiers do not apply
    )
