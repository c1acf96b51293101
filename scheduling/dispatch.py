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
from dataclasses import dataclass
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
from scheduling.planner import QuietHours, RegimenPlan, parse_days, parse_times, plan
from scheduling.preferences import conversation_quiet, mood_every_of, waits_of, window_of
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


@dataclass(frozen=True)
class Planned:
    """What planning reads of an active, opted-in patient: columns, not entities (the
    scheduler reads every patient every half minute)."""

    id: int
    timezone: str
    created_at: datetime
    quiet: QuietHours
    answer: timedelta  # how long a check-in waits for its answer
    mood_every: int  # days between mood questionnaires; 0: none


def planned_patients(rt: Runtime, batch: int) -> Iterator[list[Planned]]:
    """Active, opted-in patients in batches, in id order (read fresh for each batch)."""
    settings = rt.settings
    last = 0
    while True:
        with rt.sessions() as session:
            rows = session.execute(
                select(
                    Patient.id,
                    Patient.timezone,
                    Patient.created_at,
                    Patient.quiet_start,
                    Patient.quiet_end,
                    Clinic.quiet_start,
                    Clinic.quiet_end,
                    Patient.answer_window_minutes,
                    Patient.mood_every_days,
                )
                .outerjoin(Clinic, Clinic.id == Patient.clinic_id)
                .where(Patient.status == "active", Patient.opted_out.is_(False))
                .where(Patient.id > last)
                .order_by(Patient.id)
                .limit(batch)
            ).tuples()
            out = [
                Planned(
                    pid,
                    tz,
                    created,
                    window_of(start, end, clinic_start, clinic_end),
                    waits_of(answer, None, settings).answer,
                    mood_every_of(mood, settings),
                )
                for pid, tz, created, start, end, clinic_start, clinic_end, answer, mood in rows
            ]
        if not out:
            return
        yield out
        last = out[-1].id


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
        # The batch is a range of patient ids: every read below selects by that range
        # (served by the indexes on patient_id), not by a list of ids.
        first, last = patients[0].id, patients[-1].id
        with rt.sessions.begin() as session:
            regimens: dict[int, list[RegimenPlan]] = defaultdict(list)
            for regimen_id, patient_id, times, days in session.execute(
                select(Regimen.id, Regimen.patient_id, Regimen.times, Regimen.days).where(
                    Regimen.patient_id.between(first, last), Regimen.active
                )
            ).tuples():
                regimens[patient_id].append(
                    RegimenPlan(regimen_id, parse_times(times), parse_days(days))
                )
            slots = [
                (patient, slot)
                for patient in patients
                if patient.id in regimens
                for slot in plan(regimens[patient.id], patient.timezone, start, end, patient.quiet)
            ]
            if not slots:
                continue
            # The scheduler plans again every half minute: skip what exists (one read, by
            # the unique key's own columns, so it is served by that index) rather than
            # send every row to the database to be refused by the unique key.
            keys = [slot.scheduled_local for _, slot in slots]
            existing = set(
                session.execute(
                    select(Checkin.regimen_id, Checkin.scheduled_local).where(
                        Checkin.patient_id.between(first, last),
                        Checkin.scheduled_local.between(min(keys), max(keys)),
                    )
                ).tuples()
            )
            made = utcnow()
            rows = [
                {
                    "patient_id": patient.id,
                    "regimen_id": slot.regimen_id,
                    "scheduled_local": key,
                    "due_at": slot.due_at,
                    "closes_at": slot.due_at + patient.answer,
                    "status": "due",
                    "created_at": made,
                }
                for (patient, slot), key in zip(slots, keys, strict=True)
                if (slot.regimen_id, key) not in existing
            ]
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
