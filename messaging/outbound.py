"""Outbound SMS: store every text before sending it, then send it once and record the outcome."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.alerts import in_emergency, raise_alert
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from messaging.segments import encode_info, split_reply
from messaging.transports import OPTED_OUT_CODE, SendError
from store.models import Message, Patient, utcnow
from store.patients import set_opted_out

log = logging.getLogger(__name__)

# Texts that go out even to a patient who has opted out: the single confirmation the
# FCC allows, and crisis resources (a safety message, never marketing).
ALWAYS_SENT = frozenset({"optout_confirmation", "crisis"})
# Texts the clinic starts (not answers): they pause during an emergency episode.
SCHEDULED = frozenset({"checkin", "scheduled", "education"})
# Texts sent from the urgent queue, and sent inline if the queue is down.
URGENT_KINDS = frozenset({"crisis", "optout_confirmation", "optin_confirmation", "help"})


class SendFailed(Exception):
    """A transient send failure; the job is retried."""


def queue_text(
    session: Session,
    *,
    body: str,
    kind: str,
    patient_id: int | None = None,
    external_phone: str | None = None,
    in_reply_to_id: int | None = None,
) -> list[Message]:
    """Store one outbound text (split to fit the reply length limit) as pending rows."""
    rows = []
    for part in split_reply(body):
        info = encode_info(part)
        row = Message(
            patient_id=patient_id,
            external_phone=external_phone,
            direction="outbound",
            body=part,
            kind=kind,
            status="pending",
            in_reply_to_id=in_reply_to_id,
            segments=info.segments,
            encoding=info.encoding,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def deliver(rt: Runtime, message_id: int) -> str:
    """Send one pending outbound message; return its status.

    1. Claim the row (compare-and-set pending -> claimed): two workers never both send.
    2. Suppress it if the patient opted out (unless it is always sent).
    3. Send through the transport and store the sid and status, or the error.
    Raises SendFailed on a transient error, leaving the row pending for a retry.
    """
    with rt.sessions.begin() as session:
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == "pending")
            .values(status="claimed", attempts=Message.attempts + 1, updated_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "skipped"
        msg = session.get_one(Message, message_id)
        patient = session.get(Patient, msg.patient_id) if msg.patient_id else None
        if patient is not None and patient.opted_out and msg.kind not in ALWAYS_SENT:
            msg.status = "suppressed"
            msg.error_message = "patient has opted out"
            return msg.status
        if patient is not None and msg.kind in SCHEDULED and in_emergency(session, patient.id):
            msg.status = "suppressed"
            msg.error_message = "paused: open emergency episode"
            return msg.status
        to = patient.phone if patient is not None else msg.external_phone
        body, patient_id = msg.body, msg.patient_id
    if not to:
        return _record(rt, message_id, "failed", error="no recipient number")
    callback = f"{rt.settings.public_base_url}/twilio/status"
    try:
        result = rt.transport.send(to, body, callback)
    except SendError as exc:
        if exc.code == OPTED_OUT_CODE and patient_id is not None:
            with rt.sessions.begin() as session:
                set_opted_out(session, patient_id, True)
        if exc.permanent:
            status = _record(rt, message_id, "failed", error=str(exc), code=exc.code)
            with rt.sessions.begin() as session:
                delivery_failed(rt, session, session.get_one(Message, message_id))
            return status
        _record(rt, message_id, "pending", error=str(exc), code=exc.code)
        raise SendFailed(str(exc)) from None
    return _record(rt, message_id, result.status, sid=result.sid)


def _record(
    rt: Runtime,
    message_id: int,
    status: str,
    *,
    sid: str | None = None,
    error: str | None = None,
    code: int | None = None,
) -> str:
    with rt.sessions.begin() as session:
        msg = session.get_one(Message, message_id)
        msg.status = status
        msg.provider_sid = sid or msg.provider_sid
        msg.error_message = error
        msg.error_code = str(code) if code is not None else None
    log.info("outbound message %s: %s", message_id, status)
    return status


def pending_for(session: Session, patient_id: int) -> list[int]:
    """Ids of a patient's outbound texts still waiting to be sent, oldest first."""
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.patient_id == patient_id,
                Message.direction == "outbound",
                Message.status == "pending",
            )
            .order_by(Message.id)
        )
    )


def delivery_failed(rt: Runtime, session: Session, msg: Message) -> None:
    """A crisis reply that did not reach the patient is itself an emergency alert: a
    person has to phone them (R20)."""
    if msg.kind != "crisis" or msg.patient_id is None:
        return
    raise_alert(
        session,
        load_policy(rt.settings.escalation_policy),
        patient_id=msg.patient_id,
        tier="emergency",
        kind="delivery_failed",
        rules=["R20"],
        message_id=msg.id,
        summary="The crisis reply was not delivered: phone the patient.",
    )
