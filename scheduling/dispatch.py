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

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from care.checkins import ANSWER_WINDOW
from conversation.jobs import enqueue_trigger
from medfollow.runtime import Runtime
from scheduling.planner import QuietHours, RegimenPlan, parse_days, parse_times, plan
from store.models import Checkin, Patient, Regimen, utcnow

HORIZON = timedelta(hours=24)


def _insert(session: Session) -> Callable[[type[Checkin]], Any]:
    """INSERT ... ON CONFLICT DO NOTHING, in the database's own dialect."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def plan_checkins(rt: Runtime, now: datetime | None = None, horizon: timedelta = HORIZON) -> int:
    """Create the check-in rows due in [now, now + horizon) for every active patient."""
    start = now or utcnow()
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
            for slot in plan(plans, patient.timezone, start, start + horizon, QuietHours()):
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
