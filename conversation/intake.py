"""Intake of one inbound SMS: store it, then compliance keywords, then the safety screen.

Runs inside the webhook request, so it is short and deterministic: no Rasa, no sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance.consent import INVITED, opt_in, text_reply_event
from compliance.keywords import Compliance, classify
from compliance.replies import (
    ClinicInfo,
    help_text,
    opt_in_confirmation,
    opt_out_confirmation,
    unenrolled_reply,
    welcome_confirmation,
)
from escalation.alerts import acknowledge, raise_alert
from escalation.oncall import clinician_by_phone, current
from escalation.policy import Policy
from escalation.safety import crisis_reply, screen
from messaging.outbound import queue_text
from messaging.pool import follow_texted
from store.models import Clinician, Message, Patient, utcnow
from store.patients import by_phone, set_opted_out

RED_FLAG_EMERGENCY = (
    "That can be serious. Please call 911 or go to the nearest emergency room now. "
    "We are letting your care team know."
)
RED_FLAG_URGENT = (
    "Thank you for telling us. That needs a clinician's advice today: we have asked your "
    "care team to call you within 2 hours. If it gets worse, call 911 or go to the ER."
)
# How long an unenrolled number waits before it is told again how to join.
UNENROLLED_REPLY_HOURS = 24


@dataclass
class Intake:
    """What the webhook must do next for a stored message."""

    message_id: int
    patient_id: int | None
    to_dialogue: bool
    urgent_ids: list[int] = field(default_factory=list)
    page_alert_id: int | None = None


def store_inbound(
    session: Session,
    sid: str,
    phone: str,
    body: str,
    to: str | None = None,
    pool: Sequence[str] = (),
) -> Message | None:
    """Insert the inbound row, unique on MessageSid; None if Twilio sent it before.

    `to` is the number they texted (kept on the row); a patient who texted another
    number of the `pool` moves to it (messaging/pool.py, rule 3).
    Two deliveries racing past the check both flush; the unique constraint fails one
    of them with IntegrityError, which the caller treats as a duplicate too.
    """
    if session.scalars(select(Message.id).where(Message.provider_sid == sid)).first():
        return None
    patient = by_phone(session, phone)
    if patient is not None:
        in_arrival_order(session, patient.id)
    msg = Message(
        direction="inbound",
        provider_sid=sid,
        patient_id=patient.id if patient else None,
        external_phone=None if patient else phone,
        our_number=to,
        body=body,
        status="received",
    )
    session.add(msg)
    session.flush()
    if patient is not None:
        follow_texted(session, patient, to, pool)
    return msg


# The first key of the two-key advisory locks this module takes (any constant that no
# other lock of this database uses): "inbound rows of one patient".
INBOUND_LOCK_SPACE = 4_201


def in_arrival_order(session: Session, patient_id: int) -> None:
    """Make one patient's inbound rows commit in the order of their ids.

    Workers answer a patient's messages in id order, taking what is committed. Two
    webhook requests for one patient at once (a burst of texts) take ids in one order
    and may commit in the other: a worker would then answer the later text first. Held
    to the end of the transaction, this lock makes the second request wait for the
    first's commit before it takes its id. SQLite needs none: it has one writer at a
    time, from its first write to its commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(INBOUND_LOCK_SPACE, patient_id)))


def triage(
    session: Session, msg: Message, clinic: ClinicInfo, policy: Policy, opt_out_type: str = ""
) -> Intake:
    """Apply compliance keywords and the safety screen; queue the texts they require.

    0. A clinician's number: ACK <code> acknowledges an alert (never the dialogue).
    1. Safety screen on every message, keywords included: crisis -> crisis reply and an
       emergency alert (a second crisis text joins it: one alert, one page); a red-flag
       symptom for the patient's medicines -> 911/ER or same-day advice and an alert.
    2. Unenrolled sender -> one reply saying how to join (at most once a day).
    3. Compliance keyword -> opt out, opt in or help, with its one confirmation.
    4. Opted-out patient -> stored, no reply.
    5. Otherwise the message goes on to the dialogue (Rasa); after a crisis reply the
       dialogue asks the ASQ screening questions.
    """
    patient = session.get(Patient, msg.patient_id) if msg.patient_id else None
    intake = Intake(msg.id, msg.patient_id, to_dialogue=False)
    clinician = clinician_by_phone(session, msg.external_phone) if msg.external_phone else None
    if clinician is not None:
        msg.handled_by = "clinician"
        intake.urgent_ids += _reply(
            session, msg, None, clinician_reply(session, msg, clinician), "clinician"
        )
        return _done(msg, intake)
    meds = [r.medication.name for r in patient.regimen if r.active] if patient else []
    found = screen(msg.body, meds)
    if found.crisis:
        msg.safety_flag = ",".join(found.reasons)
        raised = raise_alert(
            session,
            policy,
            patient_id=msg.patient_id,
            tier="emergency",
            kind="suicidality",
            rules=list(found.rules) + list(found.entries),
            message_id=msg.id,
            # The page carries no message text and no diagnosis: the evidence is on record.
            summary="Crisis language in a text.",
        )
        intake.page_alert_id = raised.alert_id if raised.page else None
        # Say the care team has been told only when someone is on call to be paged.
        told = " We are letting your care team know now." if current(session) else ""
        intake.urgent_ids += _reply(session, msg, patient, crisis_reply() + told, "crisis")
    elif found.red_flag and patient is not None:
        raised = raise_alert(
            session,
            policy,
            patient_id=patient.id,
            tier=found.tier,
            kind="red_flag",
            rules=list(found.rules) + list(found.entries),
            message_id=msg.id,
            summary="A symptom that can be serious was reported.",
        )
        intake.page_alert_id = raised.alert_id if raised.page else None
        msg.handled_by = "safety"
        # The advice follows the alert's tier after the risk modifiers (a new rash in
        # lamotrigine's first 8 weeks is an emergency), never lower than the screen's.
        body = RED_FLAG_EMERGENCY if raised.tier == "emergency" else RED_FLAG_URGENT
        intake.urgent_ids += _reply(session, msg, patient, body, "red_flag")
        return _done(msg, intake)
    if patient is None:
        msg.handled_by = "unenrolled"
        if not found.crisis and not _told_recently(session, msg.external_phone or ""):
            intake.urgent_ids += _reply(session, msg, None, unenrolled_reply(clinic), "unenrolled")
        return _done(msg, intake)
    action = classify(
        msg.body,
        opted_out=patient.opted_out,
        opt_out_type=opt_out_type,
        invited=patient.status == INVITED,
    )
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
            text_reply_event(session, patient, "withdrawn")
            return _reply(
                session, msg, patient, opt_out_confirmation(clinic), "optout_confirmation"
            )
        return []
    if action is Compliance.OPT_IN:
        resubscribed = set_opted_out(session, patient.id, False)
        session.refresh(patient)
        if opt_in(session, patient):  # an invited patient's first YES: check-ins start
            return _reply(session, msg, patient, welcome_confirmation(clinic), "optin_confirmation")
        if resubscribed:
            text_reply_event(session, patient, "opted_in")
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


def clinician_reply(session: Session, msg: Message, clinician: Clinician) -> str:
    """ACK <code> from a clinician's phone acknowledges the alert (compare-and-set)."""
    words = msg.body.strip().upper().split()
    if len(words) >= 2 and words[0] in ("ACK", "ACKNOWLEDGE", "OK"):
        code = words[1]
        if acknowledge(session, code, clinician):
            return f"medfollow: alert {code} acknowledged. Thank you."
        return f"medfollow: no open alert {code} to acknowledge (already done, or unknown)."
    return "medfollow: reply ACK <code> to acknowledge an alert."


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
