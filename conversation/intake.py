"""Intake of one inbound SMS: store it, then compliance keywords, then the safety screen.

Runs inside the webhook request, so it is short and deterministic: no Rasa, no sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.keywords import Compliance, classify
from compliance.replies import (
    ClinicInfo,
    help_text,
    opt_in_confirmation,
    opt_out_confirmation,
    unenrolled_reply,
)
from escalation.safety import crisis_reply, screen
from messaging.outbound import queue_text
from store.models import Message, Patient, utcnow
from store.patients import by_phone, set_opted_out

# How long an unenrolled number waits before it is told again how to join.
UNENROLLED_REPLY_HOURS = 24


@dataclass
class Intake:
    """What the webhook must do next for a stored message."""

    message_id: int
    patient_id: int | None
    to_dialogue: bool
    urgent_ids: list[int] = field(default_factory=list)


def store_inbound(session: Session, sid: str, phone: str, body: str) -> Message | None:
    """Insert the inbound row, unique on MessageSid; None if Twilio sent it before.

    Two deliveries racing past the check both flush; the unique constraint fails one
    of them with IntegrityError, which the caller treats as a duplicate too.
    """
    if session.scalars(select(Message.id).where(Message.provider_sid == sid)).first():
        return None
    patient = by_phone(session, phone)
    msg = Message(
        direction="inbound",
        provider_sid=sid,
        patient_id=patient.id if patient else None,
        external_phone=None if patient else phone,
        body=body,
        status="received",
    )
    session.add(msg)
    session.flush()
    return msg


def triage(session: Session, msg: Message, clinic: ClinicInfo, opt_out_type: str = "") -> Intake:
    """Apply compliance keywords and the safety screen; queue the texts they require.

    1. Safety screen on every message, keywords included: crisis -> crisis reply.
    2. Unenrolled sender -> one reply saying how to join (at most once a day).
    3. Compliance keyword -> opt out, opt in or help, with its one confirmation.
    4. Opted-out patient -> stored, no reply.
    5. Otherwise the message goes on to the dialogue (Rasa); after a crisis reply the
       dialogue asks the ASQ screening questions.
    """
    patient = session.get(Patient, msg.patient_id) if msg.patient_id else None
    found = screen(msg.body)
    intake = Intake(msg.id, msg.patient_id, to_dialogue=False)
    if found.crisis:
        msg.safety_flag = ",".join(found.reasons)
        intake.urgent_ids += _reply(session, msg, patient, crisis_reply(), "crisis")
    if patient is None:
        msg.handled_by = "unenrolled"
        if not found.crisis and not _told_recently(session, msg.external_phone or ""):
            intake.urgent_ids += _reply(session, msg, None, unenrolled_reply(clinic), "unenrolled")
        return _done(msg, intake)
    action = classify(msg.body, opted_out=patient.opted_out, opt_out_type=opt_out_type)
    if action is not None:
        msg.handled_by = "compliance"
        intake.urgent_ids += _compliance(session, msg, patient, action, clinic)
        return _done(msg, intake)
    if patient.opted_out:
        msg.handled_by = "opted_out"
        return _done(msg, intake)
    # A crisis goes on to the dialogue too: after the resources, the screening questions.
    intake.to_dialogue = True
    return intake


def _compliance(
    session: Session, msg: Message, patient: Patient, action: Compliance, clinic: ClinicInfo
) -> list[int]:
    if action is Compliance.OPT_OUT:
        if set_opted_out(session, patient.id, True):
            return _reply(
                session, msg, patient, opt_out_confirmation(clinic), "optout_confirmation"
            )
        return []
    if action is Compliance.OPT_IN:
        set_opted_out(session, patient.id, False)
        session.refresh(patient)
        return _reply(session, msg, patient, opt_in_confirmation(clinic), "optin_confirmation")
    return _reply(session, msg, patient, help_text(clinic), "help")


def _reply(
    session: Session, msg: Message, patient: Patient | None, body: str, kind: str
) -> list[int]:
    rows = queue_text(
        session,
        body=body,
        kind=kind,
        patient_id=patient.id if patient else None,
        external_phone=None if patient else msg.external_phone,
        in_reply_to_id=msg.id,
    )
    return [r.id for r in rows]


def _told_recently(session: Session, phone: str) -> bool:
    since = utcnow() - timedelta(hours=UNENROLLED_REPLY_HOURS)
    return (
        session.scalars(
            select(Message.id).where(
                Message.external_phone == phone,
                Message.kind == "unenrolled",
                Message.created_at >= since,
            )
        ).first()
        is not None
    )


def _done(msg: Message, intake: Intake) -> Intake:
    msg.status = "processed"
    msg.processed_at = utcnow()
    return intake
