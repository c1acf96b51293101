"""Mood questionnaires on the plan's cadence: the PHQ-2 once per period (weekly by default).

Periods count from the patient's enrolment date in their own zone: with a 7-day cadence,
enrolled on a Monday, the periods start every Monday. The first questionnaire goes in the
period after enrolment (the clinic takes the baseline at enrolment). Each period's
questionnaire is one `mood_check` row, unique on (patient, period), so it starts exactly
once however often the scheduler plans, races or restarts. It is due on the period's
first day at MOOD_CHECK_TIME (held to the quiet-hours window); when the scheduler was
down then, it goes as soon as it can within the period, and is skipped if the period
ends first. It waits, like a check-in, while the patient is in a conversation. The
dialogue reports back (care/mood_checks.py): sent when the PHQ-2 is asked, answered when
it is complete; a period that closes first leaves it unanswered.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from care.mood_checks import ENTITY, close_periods
from conversation.jobs import enqueue_trigger
from medfollow.runtime import Runtime
from scheduling.dispatch import BATCH, Stop, claim, insert_new, planned_patients, start_each
from scheduling.gate import Verdict, verdicts
from scheduling.planner import QuietHours, resolve, send_instant
from scheduling.preferences import conversation_quiet, parse_hhmm
from store.models import MoodCheck, utcnow

INSTRUMENT = "PHQ-2"
MOOD_INTENT = "EXTERNAL_mood_check"


def period_start(enrolled: date, today: date, every: int) -> date | None:
    """The first day of the period `today` is in; None during the enrolment period."""
    if every <= 0:
        return None
    k = (today - enrolled).days // every
    return enrolled + timedelta(days=k * every) if k >= 1 else None


def mood_times(
    start: date, every: int, tz: str, quiet: QuietHours, at: time
) -> tuple[datetime, datetime]:
    """(due_at, closes_at) in UTC of the questionnaire of the period starting `start`."""
    zone = ZoneInfo(tz)
    when = at if quiet.start <= at < quiet.end else quiet.start
    due = send_instant(datetime.combine(start, when), zone, quiet)
    closes = resolve(datetime.combine(start + timedelta(days=every), time(0, 0)), zone)
    return due, closes


def plan_mood_checks(rt: Runtime, now: datetime | None = None, *, stop: Stop | None = None) -> int:
    """Create this period's mood_check row for every active patient whose plan has a
    cadence (none when one exists already). Returns how many were created."""
    at = now or utcnow()
    mood_at = parse_hhmm(rt.settings.mood_check_time, "MOOD_CHECK_TIME")
    created = 0
    for patients in planned_patients(rt, BATCH):
        if stop is not None and stop():
            break
        rows = []
        made = utcnow()
        for patient in patients:
            zone = ZoneInfo(patient.timezone)
            enrolled = patient.created_at.astimezone(zone).date()
            start = period_start(enrolled, at.astimezone(zone).date(), patient.mood_every)
            if start is None:
                continue
            due, closes = mood_times(
                start, patient.mood_every, patient.timezone, patient.quiet, mood_at
            )
            if due >= closes:
                continue
            rows.append(
                {
                    "patient_id": patient.id,
                    "period": start.isoformat(),
                    "instrument": INSTRUMENT,
                    "due_at": due,
                    "closes_at": closes,
                    "status": "due",
                    "created_at": made,
                }
            )
        if not rows:
            continue
        with rt.sessions.begin() as session:
            # Planned every half minute: skip the periods that have their row already (one
            # read by the unique key's columns) instead of sending every row to be refused.
            periods = [str(row["period"]) for row in rows]
            existing = set(
                session.execute(
                    select(MoodCheck.patient_id, MoodCheck.period).where(
                        MoodCheck.patient_id.between(patients[0].id, patients[-1].id),
                        MoodCheck.period.between(min(periods), max(periods)),
                    )
                ).tuples()
            )
            fresh = [row for row in rows if (row["patient_id"], row["period"]) not in existing]
            created += insert_new(session, MoodCheck, fresh)
    return created


def entities(mood_check_id: int) -> dict[str, str]:
    """The start job's entities: the row, so the job starts it only while it is queued
    (conversation/jobs.py takes it out before Rasa sees them)."""
    return {ENTITY: str(mood_check_id)}


def dispatch_mood(rt: Runtime, now: datetime | None = None, *, stop: Stop | None = None) -> int:
    """Start each due questionnaire once (as `medfollow mood send` does), when the patient
    may be texted now; skip it when the patient opted out, is paused or is in crisis.
    Close the periods that ended first: a questionnaire asked and not answered by then is
    unanswered, one never asked is skipped. Returns how many started."""
    at = now or utcnow()
    with rt.sessions.begin() as session:
        close_periods(session, at)
        due = session.execute(
            select(MoodCheck.id, MoodCheck.patient_id)
            .where(MoodCheck.status == "due", MoodCheck.due_at <= at)
            .order_by(MoodCheck.due_at, MoodCheck.id)
        ).all()
        seen = verdicts(session, {r.patient_id for r in due}, at, conversation_quiet(rt.settings))
        blocked = [r.id for r in due if seen[r.patient_id] is Verdict.BLOCKED]
        if blocked:
            session.execute(
                update(MoodCheck)
                .where(MoodCheck.id.in_(blocked), MoodCheck.status == "due")
                .values(status="skipped")
            )
    return start_each(
        rt,
        [(r.id, r.patient_id) for r in due if seen[r.patient_id] is Verdict.GO],
        lambda session, row_id: claim(session, MoodCheck, row_id, at),
        lambda patient_id, row: enqueue_trigger(rt, patient_id, MOOD_INTENT, entities(row)),
        stop,
    )
