"""A check-in waits while the patient is in a conversation, and for the patient's own
quiet hours; the plan sets how long it waits for its answer and when it reminds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from medfollow.runtime import Runtime
from scheduling.dispatch import dispatch_due, follow_up, plan_checkins
from store.models import Checkin, Clinic, Message, Patient
from tests.scheduling.conftest import enrol, jobs

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York
NINE = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York


def message(rt: Runtime, patient: Patient, at: datetime, direction: str = "inbound") -> None:
    with rt.sessions.begin() as session:
        session.add(
            Message(
                patient_id=patient.id,
                direction=direction,
                body="how long until it works",
                status="processed" if direction == "inbound" else "delivered",
                created_at=at,
            )
        )


def statuses(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return [c.status for c in session.scalars(select(Checkin).order_by(Checkin.due_at))]


def test_it_holds_a_checkin_due_during_a_conversation_then_sends_it(rt: Runtime) -> None:
    patient = enrol(rt, "+15555550740", "America/New_York", ("09:00",))
    plan_checkins(rt, NOW)
    message(rt, patient, NINE - timedelta(minutes=5))  # the patient texts at 08:55
    message(rt, patient, NINE - timedelta(minutes=4), "outbound")  # and gets an answer
    assert dispatch_due(rt, NINE) == 0
    assert dispatch_due(rt, NINE + timedelta(minutes=5)) == 0, "quiet for 9 minutes only"
    assert statuses(rt) == ["due"]
    assert jobs(rt) == []
    assert dispatch_due(rt, NINE + timedelta(minutes=7)) == 1, "quiet for 11 minutes"
    assert statuses(rt) == ["queued"]
    assert [args[1] for args in jobs(rt)] == ["EXTERNAL_dose_checkin"]


def test_it_skips_a_checkin_when_the_conversation_outlasts_its_window(rt: Runtime) -> None:
    patient = enrol(rt, "+15555550741", "America/New_York", ("09:00",), answer_window_minutes=60)
    plan_checkins(rt, NOW)
    at = NINE - timedelta(minutes=2)
    while at <= NINE + timedelta(minutes=61):
        message(rt, patient, at)  # a conversation that goes on for an hour
        assert dispatch_due(rt, at + timedelta(minutes=1)) == 0
        at += timedelta(minutes=4)
    assert statuses(rt) == ["due"]
    assert dispatch_due(rt, NINE + timedelta(minutes=62)) == 0  # its window closed at 10:00
    assert statuses(rt) == ["skipped"]
    assert jobs(rt) == []


def test_it_starts_one_checkin_per_patient_at_a_time(rt: Runtime) -> None:
    enrol(rt, "+15555550742", "America/New_York", ("07:00", "08:00"))  # both held to 09:00
    plan_checkins(rt, NOW)
    assert dispatch_due(rt, NINE) == 1
    assert dispatch_due(rt, NINE + timedelta(minutes=5)) == 0, "the first one's conversation"
    assert dispatch_due(rt, NINE + timedelta(minutes=11)) == 1
    assert statuses(rt) == ["queued", "queued"]


def test_it_follows_the_patients_own_quiet_hours_then_the_clinics(rt: Runtime) -> None:
    own = enrol(
        rt, "+15555550743", "America/New_York", ("09:00",), quiet_start="10:30", quiet_end="18:00"
    )
    clinic_default = enrol(rt, "+15555550744", "America/New_York", ("09:00",))
    with rt.sessions.begin() as session:
        clinic = session.get_one(Clinic, session.get_one(Patient, own.id).clinic_id)
        clinic.quiet_start = "09:30"
    plan_checkins(rt, NOW)
    with rt.sessions() as session:
        due = {c.patient_id: c.due_at for c in session.scalars(select(Checkin))}
    assert due == {
        own.id: datetime(2026, 11, 23, 15, 30, tzinfo=UTC),  # 10:30 New York
        clinic_default.id: datetime(2026, 11, 23, 14, 30, tzinfo=UTC),  # 09:30 New York
    }


def test_it_holds_a_planned_checkin_when_quiet_hours_change_after_planning(
    rt: Runtime,
) -> None:
    patient = enrol(rt, "+15555550745", "America/New_York", ("09:00",))
    plan_checkins(rt, NOW)
    with rt.sessions.begin() as session:
        session.get_one(Patient, patient.id).quiet_start = "11:00"
    assert dispatch_due(rt, NINE) == 0
    assert statuses(rt) == ["due"]
    assert dispatch_due(rt, NINE + timedelta(hours=2)) == 1  # 11:00 New York


def test_it_uses_the_plans_reminder_wait_and_answer_window(rt: Runtime) -> None:
    patient = enrol(
        rt,
        "+15555550746",
        "America/New_York",
        ("09:00",),
        answer_window_minutes=120,
        reminder_after_minutes=30,
    )
    plan_checkins(rt, NOW)
    with rt.sessions() as session:
        [row] = session.scalars(select(Checkin)).all()
    assert row.closes_at == NINE + timedelta(minutes=120)
    from bot.actions.checkin import ask_text

    with rt.sessions.begin() as session:
        assert ask_text(session, row.id) is not None  # the question goes out now
        asked = session.get_one(Checkin, row.id)
        sent = asked.sent_at
        assert sent is not None
        assert asked.reminder_at == sent + timedelta(minutes=30)
        assert asked.closes_at == sent + timedelta(minutes=120)
    assert follow_up(rt, sent + timedelta(minutes=119))[1] == 0, "still open"
    assert follow_up(rt, sent + timedelta(minutes=121))[1] == 1
    with rt.sessions() as session:
        assert session.get_one(Checkin, row.id).status == "unanswered"
    assert patient.id == row.patient_id
