"""The scheduler's check-in work: plan due check-ins into rows, then start what is due.

The schedule lives in the database: `plan_checkins` writes one `checkin` row per dose
(unique on patient, regimen entry and scheduled local time; inserting is a no-op when
the row exists, so planning twice, two schedulers or a restart never duplicate), and
`dispatch_due` starts each due check-in's conversation once (a compare-and-set from
`due` to `queued`). Nothing is queued ahead as a broker task.

Every function takes the time (`now`) so tests drive them with a frozen clock, and a
`stop` callable checked between units of work (a scheduler that is shutting down or
lost its leadership stops there; whatever it did is committed, the rest is done by the
next run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from care.adherence import check_silence
from care.checkins import closed_by, dose_words
from conversation.jobs import enqueue_flush, enqueue_trigger
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from scheduling.gate import Verdict, in_window, verdicts
from scheduling.planner import RegimenPlan, parse_days, parse_times, plan
from scheduling.preferences import conversation_quiet, quiet_hours, waits
from store.models import Checkin, Clinic, Patient, Regimen, utcnow

HORIZON = timedelta(hours=24)
LOOKBACK = timedelta(minutes=30)
BATCH = 500  # patients per planning transaction
Stop = Callable[[], bool]


def dialect_insert(session: Session) -> Callable[..., Any]:
    """INSERT ... ON CONFLICT DO NOTHING, in the database's own dialect."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def planned_patients(
    rt: Runtime, batch: int
) -> Iterator[list[tuple[int, str, Patient, Clinic | None]]]:
    """Active, opted-in patients in batches of ids (read fresh for each batch)."""
    last = 0
    while True:
        with rt.sessions() as session:
            rows = session.execute(
                select(Patient, Clinic)
                .outerjoin(Clinic, Clinic.id == Patient.clinic_id)
                .where(Patient.status == "active", Patient.opted_out.is_(False))
                .where(Patient.id > last)
                .order_by(Patient.id)
                .limit(batch)
            ).all()
            out = [(p.id, p.timezone, p, c) for p, c in rows]
        if not out:
            return
        yield out
        last = out[-1][0]


def plan_checkins(
    rt: Runtime,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
    *,
    batch: int = BATCH,
    stop: Stop | None = None,
) -> int:
    """Create the check-in rows due in [now - lookback, now + horizon) for every active
    patient, one transaction per batch of patients. The lookback catches doses that fell
    due since the last run (or just before a patient was enrolled): planning runs every
    half minute, a dose is due on the minute. Returns how many rows were created."""
    start = (now or utcnow()) - LOOKBACK
    end = start + LOOKBACK + horizon
    created = 0
    for patients in planned_patients(rt, batch):
        if stop is not None and stop():
            break
        with rt.sessions.begin() as session:
            regimens: dict[int, list[RegimenPlan]] = defaultdict(list)
            # Columns, not entities (with their joined medicine): planning reads only these.
            for regimen_id, patient_id, times, days in session.execute(
                select(Regimen.id, Regimen.patient_id, Regimen.times, Regimen.days).where(
                    Regimen.patient_id.in_([p[0] for p in patients]), Regimen.active
                )
            ):
                regimens[patient_id].append(
                    RegimenPlan(regimen_id, parse_times(times), parse_days(days))
                )
            rows = []
            for patient_id, tz, patient, clinic in patients:
                if not regimens[patient_id]:
                    continue
                window = waits(patient, rt.settings).answer
                quiet = quiet_hours(patient, clinic)
                for slot in plan(regimens[patient_id], tz, start, end, quiet):
                    rows.append(
                        {
                            "patient_id": patient_id,
                            "regimen_id": slot.regimen_id,
                            "scheduled_local": slot.scheduled_local,
                            "due_at": slot.due_at,
                            "closes_at": slot.due_at + window,
                            "status": "due",
                            "created_at": utcnow(),
                        }
                    )
            # The scheduler plans again every half minute: skip what exists (one read, by
            # the unique key's own columns, so it is served by that index) rather than
            # send every row to the database to be refused by the unique key.
            if rows:
                keys = [str(r["scheduled_local"]) for r in rows]
                existing = set(
                    session.execute(
                        select(Checkin.regimen_id, Checkin.scheduled_local).where(
                            Checkin.patient_id.in_([p[0] for p in patients]),
                            Checkin.scheduled_local.between(min(keys), max(keys)),
                        )
                    ).tuples()
                )
                rows = [r for r in rows if (r["regimen_id"], r["scheduled_local"]) not in existing]
            created += insert_new(session, Checkin, rows)
    return created


def insert_new(session: Session, model: Any, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose unique key is not taken yet; returns how many were new.

    On PostgreSQL through psycopg's own executemany (one prepared statement, pipelined):
    building multi-row VALUES statements took most of the time of planning 100 000
    patients (bench/checkins.py). The rows must all have the same keys."""
    if not rows:
        return 0
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in columns)}) ON CONFLICT DO NOTHING"
        )
        cursor = session.connection().connection.cursor()
        try:
            cursor.executemany(sql, rows)
            return max(0, int(cursor.rowcount))
        finally:
            cursor.close()
    result = session.execute(dialect_insert(session)(table).on_conflict_do_nothing(), rows)
    return max(0, int(result.rowcount))  # type: ignore[attr-defined]


def dispatch_due(rt: Runtime, now: datetime | None = None, *, stop: Stop | None = None) -> int:
    """Start every due check-in once, at most one per patient per run, when the patient
    may be texted now (see scheduling.gate). One whose answer window has passed, or whose
    patient opted out, is paused or is in crisis, is skipped. Returns how many started."""
    at = now or utcnow()
    with rt.sessions.begin() as session:
        # Not started (or started but never asked) by the time its window closed.
        session.execute(
            update(Checkin)
            .where(Checkin.status.in_(("due", "queued")), closed_by(at, since=Checkin.due_at))
            .values(status="skipped")
        )
        due = session.execute(
            select(Checkin.id, Checkin.patient_id)
            .where(Checkin.status == "due", Checkin.due_at <= at)
            .order_by(Checkin.due_at, Checkin.id)
        ).all()
        hold = conversation_quiet(rt.settings)
        seen = verdicts(session, {row.patient_id for row in due}, at, hold)
        blocked = [row.id for row in due if seen[row.patient_id] is Verdict.BLOCKED]
        if blocked:
            session.execute(
                update(Checkin)
                .where(Checkin.id.in_(blocked), Checkin.status == "due")
                .values(status="skipped")
            )
    return start_each(
        rt,
        [(row.id, row.patient_id) for row in due if seen[row.patient_id] is Verdict.GO],
        lambda session, checkin_id: claim(session, Checkin, checkin_id, at),
        lambda patient_id, checkin_id: enqueue_trigger(
            rt, patient_id, "EXTERNAL_dose_checkin", {"checkin_id": str(checkin_id)}
        ),
        stop,
    )


def claim(session: Session, model: Any, row_id: int, at: datetime) -> bool:
    """Compare-and-set due -> queued: only one scheduler starts each row."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.status == "due")
        .values(status="queued", queued_at=at)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def start_each(
    rt: Runtime,
    candidates: Sequence[tuple[int, int]],
    claim_row: Callable[[Session, int], bool],
    start: Callable[[int, int], None],
    stop: Stop | None,
) -> int:
    """Claim and start each (row id, patient id), one per patient, each claim committed
    before its job is queued. A crash between the two leaves the row queued and unsent:
    the heartbeat watchdog reports it (sending it again could text the patient twice)."""
    started = 0
    patients: set[int] = set()
    for row_id, patient_id in candidates:
        if patient_id in patients:
            continue  # one conversation at a time: the next goes when this one is quiet
        if stop is not None and stop():
            break
        with rt.sessions.begin() as session:
            if not claim_row(session, row_id):
                continue
        patients.add(patient_id)
        start(patient_id, row_id)
        started += 1
    return started


def follow_up(rt: Runtime, now: datetime | None = None) -> tuple[int, int]:
    """Remind once about an unanswered (or "later") check-in when its reminder is due,
    and mark a check-in unanswered when its window closes. Returns (reminded, closed).

    A reminder that would fall in the patient's quiet hours is dropped, not held: the dose
    time has passed by then."""
    at = now or utcnow()
    with rt.sessions.begin() as session:
        closing = session.execute(
            update(Checkin)
            .where(Checkin.status == "sent", closed_by(at))
            .values(status="unanswered", reminder_at=None)
            .returning(Checkin.patient_id)
        ).all()
        closed = len(closing)
        for patient_id in {row.patient_id for row in closing}:
            check_silence(session, session.get_one(Patient, patient_id))
        due = session.scalars(
            select(Checkin).where(Checkin.status.in_(("sent", "later")), Checkin.reminder_at <= at)
        ).all()
        reminders: list[int] = []
        for checkin in due:
            claimed = session.execute(
                update(Checkin)
                .where(Checkin.id == checkin.id, Checkin.reminder_at == checkin.reminder_at)
                .values(reminder_at=None)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            patient = session.get_one(Patient, checkin.patient_id)
            clinic = session.get(Clinic, patient.clinic_id)
            if patient.opted_out or not in_window(patient, clinic, at):
                continue
            words = dose_words(patient, checkin.regimen, checkin.scheduled_local[-5:])
            text = (
                f"Just checking in again: did you take {words}? "
                "Reply YES, NO, or LATER if you will take it soon."
            )
            queue_text(session, body=text, kind="checkin", patient_id=patient.id)
            reminders.append(patient.id)
    for patient_id in reminders:
        enqueue_flush(rt, patient_id)
    return len(reminders), int(closed or 0)
