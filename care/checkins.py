"""Dose check-ins: how a check-in names the dose, and recording the patient's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from scheduling.preferences import Waits
from store.models import Checkin, DoseEvent, Patient, Regimen, utcnow

# How long each check-in waits for its answer is the plan's (scheduling.preferences.waits)
# and is stored on the row (closes_at); rows from before that close after this long.
UNSET_WINDOW = timedelta(hours=6)
OPEN = ("sent", "later")


def closed_by(at: datetime, since: Any = None) -> ColumnElement[bool]:
    """SQL: the check-in's answer window has closed at `at` (measured from `since`, default
    sent_at, for rows that carry no closes_at)."""
    start = Checkin.sent_at if since is None else since
    # Each branch is definitely true or false (never NULL), so the negation works too.
    return or_(
        and_(Checkin.closes_at.is_not(None), Checkin.closes_at <= at),
        and_(Checkin.closes_at.is_(None), start.is_not(None), start < at - UNSET_WINDOW),
    )


def mark_asked(checkin: Checkin, wait: Waits, now: datetime | None = None) -> None:
    """The question went out: open the answer window and set the one reminder."""
    at = now or utcnow()
    checkin.status, checkin.sent_at = "sent", at
    checkin.reminder_at = at + wait.reminder
    checkin.closes_at = at + wait.answer


def part_of_day(hhmm: str) -> str:
    hour = int(hhmm[:2])
    if hour < 12:
        return "morning"
    if hour < 17:
        return "afternoon"
    if hour < 21:
        return "evening"
    return "night-time"


def dose_words(patient: Patient, regimen: Regimen, hhmm: str) -> str:
    """ "your evening medicine", or "your sertraline" only if the patient agreed to names."""
    if patient.sms_detail_level == "named":
        return f"your {regimen.medication.name}"
    return f"your {part_of_day(hhmm)} medicine"


def local_now(patient: Patient) -> datetime:
    return datetime.now(ZoneInfo(patient.timezone))


def create_due_now(session: Session, patient: Patient, regimen: Regimen) -> Checkin:
    """A check-in for the dose due now (the CLI and tests; the scheduler plans the rest)."""
    now = local_now(patient)
    # Queued, not due: the caller starts it now, so the scheduler must not start it too.
    checkin = Checkin(
        patient_id=patient.id,
        regimen_id=regimen.id,
        scheduled_local=now.strftime("%Y-%m-%dT%H:%M"),
        due_at=utcnow(),
        status="queued",
    )
    session.add(checkin)
    session.flush()
    return checkin


def open_checkin(
    session: Session, patient_id: int, checkin_id: int | None = None
) -> Checkin | None:
    """The check-in the patient is answering: the one asked about, if still open."""
    query = select(Checkin).where(
        Checkin.patient_id == patient_id,
        Checkin.status.in_(OPEN),
        ~closed_by(utcnow()),
    )
    if checkin_id is not None:
        query = query.where(Checkin.id == checkin_id)
    return session.scalars(query.order_by(Checkin.sent_at.desc())).first()


def record_answer(
    session: Session,
    checkin: Checkin,
    outcome: str,
    *,
    message_id: int | None = None,
    later_at: datetime | None = None,
) -> DoseEvent:
    """Record taken, missed or later against an open check-in, with its dose event."""
    if outcome not in ("taken", "missed", "later"):
        raise ValueError(f"unknown outcome {outcome!r}")
    checkin.outcome = outcome
    checkin.answered_at = utcnow()
    checkin.status = "later" if outcome == "later" else "answered"
    # Stored in UTC like every other instant (SQLite keeps no offset).
    checkin.reminder_at = later_at.astimezone(UTC) if outcome == "later" and later_at else None
    event = DoseEvent(
        patient_id=checkin.patient_id,
        regimen_id=checkin.regimen_id,
        outcome=outcome,
        message_id=message_id,
    )
    session.add(event)
    session.flush()
    return event


def mark_skipped(session: Session, checkin_id: str | None) -> None:
    """A check-in that cannot go out (opted out, paused) is skipped, not left due."""
    if checkin_id and checkin_id.isdigit():
        checkin = session.get(Checkin, int(checkin_id))
        if checkin is not None and checkin.status in ("due", "queued"):
            checkin.status = "skipped"
