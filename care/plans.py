"""Clinician-driven plan changes: a new regimen entry, the old one retired, the patient told.

The notice is a text the clinic starts, not an answer: outside the patient's quiet-hours
window it is held (status `held`) until the window opens, and the scheduler's sweep
sends it then (scheduling/holds.py).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from messaging.outbound import queue_text
from scheduling.gate import window_opens
from scheduling.planner import parse_days
from store.enrolment import MedSpec
from store.models import Checkin, Clinic, Message, Patient, Regimen, utcnow
from store.patients import add_regimen


def notice_after(session: Session, patient: Patient, at: datetime) -> datetime | None:
    """When a plan notice made at `at` may go: None for at once (inside the patient's
    window), else the instant the window opens."""
    return window_opens(patient, session.get(Clinic, patient.clinic_id), at)


def held_until(session: Session, patient: Patient) -> str | None:
    """When the patient's newest plan notice goes, local "HH:MM" (and the date when not
    today), if it is held for their window; None when it goes at once."""
    row = session.scalars(
        select(Message)
        .where(Message.patient_id == patient.id, Message.kind == "plan_change")
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if row is None or row.status != "held" or row.send_after is None:
        return None
    zone = ZoneInfo(patient.timezone)
    local = row.send_after.astimezone(zone)
    today = utcnow().astimezone(zone).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


def tell(session: Session, patient: Patient, body: str, at: datetime) -> None:
    """Queue the patient's plan notice, held for their window when `at` is outside it."""
    send_after = notice_after(session, patient, at)
    queue_text(session, body=body, kind="plan_change", patient_id=patient.id, send_after=send_after)


def plan_change_text(patient: Patient, med: MedSpec, days: str) -> str:
    """The one approved text about a change: what and from when (names only with consent)."""
    what = f"{med.name} {med.dose}" if patient.sms_detail_level == "named" else "your medicine"
    when = " and ".join(med.times)
    often = "every day" if days == "daily" else f"on {days.replace(',', ', ')}"
    return (
        f"Your care team has updated your plan for {what}: check-ins at {when} {often}, "
        "starting from today. Questions? Reply here or call the clinic."
    )


def change_regimen(
    session: Session, patient: Patient, med: MedSpec, days: str, now: datetime | None = None
) -> Regimen:
    """Retire the patient's active entry for this medicine, add the new one, skip the old
    entry's planned check-ins, and queue the patient's notification (held for their
    window). `now`: the instant of the change (tests freeze it)."""
    at = now or utcnow()
    parse_days(days)  # a clear error for a bad --days before anything changes
    old_ids = [
        r.id
        for r in session.scalars(
            select(Regimen).where(Regimen.patient_id == patient.id, Regimen.active)
        )
        if r.medication.name == med.name
    ]
    if old_ids:
        session.execute(update(Regimen).where(Regimen.id.in_(old_ids)).values(active=False))
        session.execute(
            update(Checkin)
            # Every check-in of the old entry not started yet, also one held past its time
            # (quiet hours, a conversation): it would ask about a plan that no longer holds.
            .where(Checkin.regimen_id.in_(old_ids), Checkin.status == "due")
            .values(status="skipped")
        )
    entry = add_regimen(session, patient, med.name, med.dose, ",".join(med.times))
    entry.days = days
    session.flush()
    tell(session, patient, plan_change_text(patient, med, days), at)
    return entry


def plan_stop_text(patient: Patient, entry: Regimen) -> str:
    """The one text when a medicine leaves the plan: about check-ins, never about dosing."""
    what = f"your {entry.medication.name}" if patient.sms_detail_level == "named" else "a medicine"
    return (
        f"Your care team has updated your plan: we will no longer send check-ins for {what}. "
        "Please follow your care team's instructions. Questions? Reply here or call the clinic."
    )


def stop_regimen(
    session: Session, patient: Patient, regimen_id: int, now: datetime | None = None
) -> Regimen:
    """Take one active entry out of the plan: retire it, skip its planned check-ins, and
    queue the patient's notification (held for their window). LookupError if it is not
    an active entry of theirs."""
    at = now or utcnow()
    entry = session.get(Regimen, regimen_id)
    if entry is None or entry.patient_id != patient.id or not entry.active:
        raise LookupError("no such medicine in this patient's current plan")
    entry.active = False
    session.execute(
        update(Checkin)
        .where(Checkin.regimen_id == entry.id, Checkin.status == "due")
        .values(status="skipped")
    )
    tell(session, patient, plan_stop_text(patient, entry), at)
    return entry
