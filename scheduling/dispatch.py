"""The scheduler's check-in work: plan due check-ins into rows, then send what is due.

The schedule lives in the database: `plan_checkins` writes one `checkin` row per dose
(unique on patient, regimen entry and scheduled local time; inserting is a no-op when
the row exists, so planning twice or after a restart never duplicates), and
`dispatch_due` starts each due check-in's conversation once (a compare-and-set from
`due` to `queued`). Nothing is queued ahead as a broker task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from care.adherence import check_silence
from care.checkins import ANSWER_WINDOW, dose_words
from conversation.jobs import enqueue_flush, enqueue_trigger
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from scheduling.planner import QuietHours, RegimenPlan, parse_days, parse_times, plan
from store.models import Checkin, Patient, Regimen, utcnow

HORIZON = timedelta(hours=24)
LOOKBACK = timedelta(minutes=30)


def _insert(session: Session) -> Callable[[type[Checkin]], Any]:
    """INSERT ... ON CONFLICT DO NOTHING, in the database's own dialect."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def plan_checkins(rt: Runtime, now: datetime | None = None, horizon: timedelta = HORIZON) -> int:
    """Create the check-in rows due in [now - lookback, now + horizon) for every active
    patient. The lookback catches doses that fell due since the last run (or just before
    a patient was enrolled): planning runs every half minute, a dose is due on the minute."""
    start = (now or utcnow()) - LOOKBACK
    created = 0
    with rt.sessions.begin() as session:
        patients = session.scalars(
            select(Patient).where(Patient.status == "active", Patient.opted_out.is_(False))
        ).all()
        insert = _insert(session)
        for patient in patients:
            plans = [
                RegimenPlan(r.id, parse_times(r.times), parse_days(r.days))
                for r in session.scalars(
                    select(Regimen).where(Regimen.patient_id == patient.id, Regimen.active)
                )
            ]
            if not plans:
                continue
            end = start + LOOKBACK + horizon
            for slot in plan(plans, patient.timezone, start, end, QuietHours()):
                result = session.execute(
                    insert(Checkin)
                    .values(
                        patient_id=patient.id,
                        regimen_id=slot.regimen_id,
                        scheduled_local=slot.scheduled_local,
                        due_at=slot.due_at,
                        status="due",
                        created_at=utcnow(),
                    )
                    .on_conflict_do_nothing()
                    .returning(Checkin.id)
                )
                created += result.first() is not None
    return created


def dispatch_due(rt: Runtime, now: datetime | None = None) -> int:
    """Start every due check-in once; one whose answer window has passed is skipped."""
    at = now or utcnow()
    with rt.sessions.begin() as session:
        session.execute(
            update(Checkin)
            .where(Checkin.status == "due", Checkin.due_at < at - ANSWER_WINDOW)
            .values(status="skipped")
        )
        due = session.execute(
            select(Checkin.id, Checkin.patient_id).where(
                Checkin.status == "due", Checkin.due_at <= at
            )
        ).all()
    started = 0
    for checkin_id, patient_id in due:
        with rt.sessions.begin() as session:
            claimed = session.execute(
                update(Checkin)
                .where(Checkin.id == checkin_id, Checkin.status == "due")
                .values(status="queued")
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
        enqueue_trigger(rt, patient_id, "EXTERNAL_dose_checkin", {"checkin_id": str(checkin_id)})
        started += 1
    return started


def follow_up(rt: Runtime, now: datetime | None = None) -> tuple[int, int]:
    """Remind once about an unanswered (or "later") check-in when its reminder is due,
    and mark a check-in unanswered when its window closes. Returns (reminded, closed).

    A reminder that would fall in quiet hours is dropped, not held: the dose time has
    passed by then."""
    at = now or utcnow()
    with rt.sessions.begin() as session:
        closing = session.execute(
            update(Checkin)
            .where(Checkin.status == "sent", Checkin.sent_at < at - ANSWER_WINDOW)
            .values(status="unanswered", reminder_at=None)
            .returning(Checkin.patient_id)
        ).all()
        closed = len(closing)
        for patient_id in {row.patient_id for row in closing}:
            check_silence(session, session.get_one(Patient, patient_id))
        due = session.scalars(
            select(Checkin).where(Checkin.status.in_(("sent", "later")), Checkin.reminder_at <= at)
        ).all()
        reminders: list[tuple[int, str]] = []
        for checkin in due:
            claimed = session.execute(
                update(Checkin)
                .where(Checkin.id == checkin.id, Checkin.reminder_at == checkin.reminder_at)
                .values(reminder_at=None)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            patient = session.get_one(Patient, checkin.patient_id)
            local = at.astimezone(ZoneInfo(patient.timezone)).time()
            quiet = QuietHours()
            if not quiet.start <= local < quiet.end or patient.opted_out:
                continue
            words = dose_words(patient, checkin.regimen, checkin.scheduled_local[-5:])
            text = (
                f"Just checking in again: did you take {words}? "
                "Reply YES, NO, or LATER if you will take it soon."
            )
            [row] = queue_text(session, body=text, kind="checkin", patient_id=patient.id)
            reminders.append((patient.id, str(row.id)))
    for patient_id, _ in reminders:
        enqueue_flush(rt, patient_id)
    return len(reminders), int(closed or 0)
