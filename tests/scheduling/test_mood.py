"""Mood questionnaires on the plan's cadence: one PHQ-2 per period, started once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from care.mood_checks import mark_answered, mark_asked
from medfollow.runtime import Runtime
from scheduling.mood import dispatch_mood, period_start, plan_mood_checks
from store.models import MoodCheck, Patient
from store.records import patient_record
from tests.scheduling.conftest import enrol, jobs, ticks

ENROLLED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


def rows(rt: Runtime) -> list[MoodCheck]:
    with rt.sessions() as session:
        return list(session.scalars(select(MoodCheck).order_by(MoodCheck.period)))


def run(rt: Runtime, start: datetime, end: datetime, step: timedelta) -> None:
    for at in ticks(start, end, step):
        plan_mood_checks(rt, at)
        dispatch_mood(rt, at)


def test_it_counts_periods_from_enrolment_and_skips_the_first() -> None:
    monday = date(2026, 11, 2)
    assert period_start(monday, monday + timedelta(days=6), 7) is None
    assert period_start(monday, monday + timedelta(days=7), 7) == date(2026, 11, 9)
    assert period_start(monday, monday + timedelta(days=20), 7) == date(2026, 11, 16)
    assert period_start(monday, monday + timedelta(days=20), 0) is None


def test_it_starts_one_phq2_a_week_however_often_it_plans(rt: Runtime) -> None:
    patient = enrol(rt, "+15555550750", "America/New_York", ("09:00",), created_at=ENROLLED)
    start = ENROLLED + timedelta(hours=1)  # the clock ticks at 16:00, 22:00, 04:00, 10:00 UTC
    run(rt, start, start + timedelta(days=22), timedelta(hours=6))
    for at in ticks(ENROLLED, ENROLLED + timedelta(days=22), timedelta(hours=11)):
        assert plan_mood_checks(rt, at) == 0, "a restarted scheduler plans nothing new"
    found = rows(rt)
    # No worker ran the start jobs here: a period that closed with its questionnaire
    # never asked leaves it skipped (the dialogue marks it sent when it asks).
    assert [(r.period, r.status) for r in found] == [
        ("2026-11-09", "skipped"),
        ("2026-11-16", "skipped"),
        ("2026-11-23", "queued"),
    ]
    # 11:00 New York (EST, -5) on each period's first day, started at that tick.
    assert [r.due_at for r in found] == [
        datetime(2026, 11, d, 16, 0, tzinfo=UTC) for d in (9, 16, 23)
    ]
    assert [r.queued_at for r in found] == [r.due_at for r in found]
    assert jobs(rt) == [
        (patient.id, "EXTERNAL_mood_check", {"mood_check_id": str(r.id)}) for r in found
    ]


def test_it_follows_the_plans_cadence_and_sends_none_when_it_is_zero(rt: Runtime) -> None:
    fortnightly = enrol(
        rt,
        "+15555550751",
        "Asia/Kolkata",
        ("09:00",),
        created_at=ENROLLED,
        mood_every_days=14,
    )
    enrol(rt, "+15555550752", "Asia/Kolkata", ("09:00",), created_at=ENROLLED, mood_every_days=0)
    run(rt, ENROLLED, ENROLLED + timedelta(days=22), timedelta(hours=6))
    found = rows(rt)
    assert [(r.patient_id, r.period) for r in found] == [(fortnightly.id, "2026-11-16")]
    # 11:00 in Kolkata (+05:30).
    assert found[0].due_at == datetime(2026, 11, 16, 5, 30, tzinfo=UTC)


def test_it_sends_a_late_questionnaire_in_the_window_when_the_scheduler_was_down(
    rt: Runtime,
) -> None:
    enrol(rt, "+15555550753", "America/New_York", ("09:00",), created_at=ENROLLED)
    # The scheduler comes back on Tuesday 10 November at 22:00 New York, after quiet hours.
    back = datetime(2026, 11, 11, 3, 0, tzinfo=UTC)
    run(rt, back, back + timedelta(hours=12), timedelta(minutes=30))
    [row] = rows(rt)
    assert row.period == "2026-11-09" and row.status == "queued"
    assert row.queued_at == datetime(2026, 11, 11, 14, 0, tzinfo=UTC)  # 09:00, window opens


def test_it_skips_a_questionnaire_whose_period_ended(rt: Runtime) -> None:
    enrol(rt, "+15555550754", "America/New_York", ("09:00",), created_at=ENROLLED)
    plan_mood_checks(rt, datetime(2026, 11, 9, 12, 0, tzinfo=UTC))  # 07:00: not due yet
    assert dispatch_mood(rt, datetime(2026, 11, 16, 5, 1, tzinfo=UTC)) == 0  # next period
    assert [r.status for r in rows(rt)] == ["skipped"]


def test_it_waits_for_a_quiet_conversation_before_the_questionnaire(rt: Runtime) -> None:
    from scheduling.dispatch import dispatch_due, plan_checkins

    enrol(rt, "+15555550755", "America/New_York", ("11:00",), created_at=ENROLLED)
    eleven = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)
    plan_checkins(rt, eleven - timedelta(hours=1))
    plan_mood_checks(rt, eleven)
    assert dispatch_due(rt, eleven) == 1  # the dose check-in goes first
    assert dispatch_mood(rt, eleven) == 0
    assert dispatch_mood(rt, eleven + timedelta(minutes=11)) == 1
    assert [args[1] for args in jobs(rt)] == ["EXTERNAL_dose_checkin", "EXTERNAL_mood_check"]


def test_it_ends_a_questionnaire_asked_and_not_answered_when_its_period_closes(
    rt: Runtime,
) -> None:
    enrol(rt, "+15555550756", "America/New_York", ("09:00",), created_at=ENROLLED)
    eleven = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)  # Monday 9 November, 11:00
    plan_mood_checks(rt, eleven)
    assert dispatch_mood(rt, eleven) == 1
    [row] = rows(rt)
    with rt.sessions.begin() as session:  # the dialogue asked it (bot/actions/mood.py)
        assert mark_asked(session, row.patient_id, eleven + timedelta(minutes=1)) == 1
    closes = datetime(2026, 11, 16, 5, 0, tzinfo=UTC)  # Monday 16 November, 00:00
    dispatch_mood(rt, closes - timedelta(minutes=1))
    assert [r.status for r in rows(rt)] == ["sent"], "still open a minute before"
    dispatch_mood(rt, closes)
    [closed] = rows(rt)
    assert (closed.status, closed.answered_at) == ("unanswered", None)
    with rt.sessions.begin() as session:  # an answer after the period changes nothing
        assert mark_answered(session, row.patient_id, closes + timedelta(hours=1)) == 0
    assert [r.status for r in rows(rt)] == ["unanswered"]
    with rt.sessions() as session:  # `medfollow patient show --json` shows it
        shown = patient_record(session, session.get_one(Patient, row.patient_id))
    [mood] = shown["mood_checks"]
    assert (mood["period"], mood["status"], mood["answered_at"]) == (
        "2026-11-09",
        "unanswered",
        None,
    )
    assert mood["sent_at"] == (eleven + timedelta(minutes=1)).isoformat()


def test_it_leaves_an_answered_questionnaire_answered_when_its_period_closes(
    rt: Runtime,
) -> None:
    enrol(rt, "+15555550757", "America/New_York", ("09:00",), created_at=ENROLLED)
    eleven = datetime(2026, 11, 9, 16, 0, tzinfo=UTC)
    plan_mood_checks(rt, eleven)
    dispatch_mood(rt, eleven)
    [row] = rows(rt)
    with rt.sessions.begin() as session:
        mark_asked(session, row.patient_id, eleven)
        assert mark_answered(session, row.patient_id, eleven + timedelta(minutes=3)) == 1
    dispatch_mood(rt, datetime(2026, 11, 16, 6, 0, tzinfo=UTC))
    [done] = rows(rt)
    assert (done.status, done.answered_at) == ("answered", eleven + timedelta(minutes=3))
