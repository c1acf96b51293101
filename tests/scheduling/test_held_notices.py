"""A plan change's notice is a text the clinic starts: made outside the patient's
quiet-hours window it is held until the window opens, then sent once by the sweep.
Crisis replies and answers to the patient are never held. The clock is frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from care.plans import change_regimen, stop_regimen
from conversation.jobs import enqueue_flush
from conversation.sweeper import sweep
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from scheduling.gate import window_opens
from store.enrolment import MedSpec
from store.models import Message, Patient
from tests.conftest import run_jobs

THREE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 03:00 in New York
NINE = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 there: the window opens
TWO_PM = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 14:00 there
NEW_PLAN = MedSpec("sertraline", "100mg", ("10:00",))


def notices(rt: Runtime) -> list[Message]:
    with rt.sessions() as session:
        query = select(Message).where(Message.kind == "plan_change").order_by(Message.id)
        return list(session.scalars(query))


def change_at(rt: Runtime, patient: Patient, at: datetime) -> None:
    """`medfollow regimen set` and the clinic's plan page at a frozen instant: change,
    then queue the patient's flush (which must send nothing held)."""
    with rt.sessions.begin() as session:
        change_regimen(session, session.get_one(Patient, patient.id), NEW_PLAN, "daily", at)
    enqueue_flush(rt, patient.id)
    run_jobs(rt)


def sweep_and_send(rt: Runtime, at: datetime) -> int:
    released = sweep(rt, at).released
    run_jobs(rt)
    return released


def test_it_holds_a_notice_made_at_3am_until_9am_then_sends_it_once(
    rt: Runtime, patient: Patient
) -> None:
    change_at(rt, patient, THREE)
    [held] = notices(rt)
    assert (held.status, held.send_after, held.attempts) == ("held", NINE, 0)
    for at in (THREE + timedelta(minutes=1), NINE - timedelta(minutes=1)):
        assert sweep_and_send(rt, at) == 0
    assert [(m.status, m.attempts) for m in notices(rt)] == [("held", 0)], "nothing sent"
    assert sweep_and_send(rt, NINE) == 1
    [sent] = notices(rt)
    assert (sent.status, sent.attempts, sent.send_after) == ("delivered", 1, NINE)
    assert sent.provider_sid is not None
    for at in (NINE + timedelta(seconds=1), NINE + timedelta(hours=1)):
        assert sweep_and_send(rt, at) == 0
    assert [(m.status, m.attempts) for m in notices(rt)] == [("delivered", 1)], "exactly once"


def test_it_sends_a_notice_made_at_2pm_at_once(rt: Runtime, patient: Patient) -> None:
    change_at(rt, patient, TWO_PM)
    [sent] = notices(rt)
    assert (sent.status, sent.attempts, sent.send_after) == ("delivered", 1, None)


def test_it_holds_the_notice_of_a_stopped_medicine_too(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        found = session.get_one(Patient, patient.id)
        stop_regimen(session, found, found.regimen[0].id, THREE)
    [held] = notices(rt)
    assert (held.status, held.send_after) == ("held", NINE)


def test_it_holds_again_a_notice_whose_window_closed_before_the_sweep_saw_it(
    rt: Runtime, patient: Patient
) -> None:
    """The scheduler was down from 08:00 to 21:30: the notice waits for the next 09:00."""
    change_at(rt, patient, THREE)
    late = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)  # 21:30 in New York
    assert sweep_and_send(rt, late) == 0
    [held] = notices(rt)
    assert (held.status, held.send_after) == ("held", NINE + timedelta(days=1))
    assert sweep_and_send(rt, NINE + timedelta(days=1)) == 1
    assert [m.status for m in notices(rt)] == ["delivered"]


def test_it_lets_an_answer_to_the_patient_overtake_a_held_notice(
    rt: Runtime, patient: Patient
) -> None:
    change_at(rt, patient, THREE)
    with rt.sessions.begin() as session:
        queue_text(session, body="You are welcome.", kind="reply", patient_id=patient.id)
    enqueue_flush(rt, patient.id)
    run_jobs(rt)
    with rt.sessions() as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
        assert [(m.kind, m.status) for m in rows] == [
            ("plan_change", "held"),
            ("reply", "delivered"),
        ]


@pytest.mark.parametrize(
    ("kind", "in_reply_to"), [("crisis", False), ("reply", False), ("plan_change", True)]
)
def test_it_never_holds_a_crisis_reply_or_an_answer(
    rt: Runtime, patient: Patient, kind: str, in_reply_to: bool
) -> None:
    with rt.sessions.begin() as session:
        asked = Message(patient_id=patient.id, direction="inbound", body="hi", status="processed")
        session.add(asked)
        session.flush()
        with pytest.raises(ValueError, match="never held"):
            queue_text(
                session,
                body="Call or text 988.",
                kind=kind,
                patient_id=patient.id,
                in_reply_to_id=asked.id if in_reply_to else None,
                send_after=NINE,
            )


@pytest.mark.parametrize(
    ("local", "window", "opens"),
    [
        ("03:00", (None, None), "09:00"),
        ("08:59", (None, None), "09:00"),
        ("09:00", (None, None), None),
        ("14:00", (None, None), None),
        ("19:59", (None, None), None),
        ("20:00", (None, None), "09:00+1"),
        ("23:30", (None, None), "09:00+1"),
        ("09:30", ("10:00", "18:00"), "10:00"),
        ("18:00", ("10:00", "18:00"), "10:00+1"),
    ],
)
def test_it_finds_when_the_patients_window_opens(
    local: str, window: tuple[str | None, str | None], opens: str | None
) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    day = datetime(2026, 11, 23)
    hour, minute = (int(x) for x in local.split(":"))
    at = day.replace(hour=hour, minute=minute, tzinfo=zone)
    patient = Patient(timezone=zone.key, quiet_start=window[0], quiet_end=window[1])
    expected = None
    if opens is not None:
        hhmm, _, plus = opens.partition("+")
        h, m = (int(x) for x in hhmm.split(":"))
        when = (day + timedelta(days=int(plus or 0))).replace(hour=h, minute=m, tzinfo=zone)
        expected = when.astimezone(UTC)
    assert window_opens(patient, None, at) == expected
