"""The assistant's dialogues end to end through the webhook, on the whole stack."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from care.checkins import create_due_now
from conversation.jobs import enqueue_trigger
from education.library import load_library
from medfollow.runtime import Runtime
from medfollow.stack import Stack
from store.models import (
    Alert,
    Checkin,
    DoseEvent,
    Message,
    MoodCheck,
    Patient,
    Score,
    SideEffectReport,
    utcnow,
)
from tests.e2e.helpers import enrol_patient, post_sms, thread, wait_for

Stacked = tuple[Stack, Runtime]


def outbound_after(rt: Runtime, patient_id: int, after_id: int) -> list[Message]:
    return [
        m
        for m in thread(rt, patient_id)
        if m.direction == "outbound" and m.id > after_id and m.status not in ("pending", "claimed")
    ]


def last_id(rt: Runtime, patient_id: int) -> int:
    return max((m.id for m in thread(rt, patient_id)), default=0)


def say(rt: Runtime, patient: Patient, text: str, expect: str, timeout: float = 30) -> str:
    """Text the bot, wait until the turn is answered and sent; return the new replies.

    The replies must contain `expect` (case-insensitive).
    """
    mark = last_id(rt, patient.id)
    assert post_sms(rt, patient.phone, text).status_code == 200

    def answered() -> str | None:
        msgs = [m for m in thread(rt, patient.id) if m.id > mark]
        inbound = [m for m in msgs if m.direction == "inbound"]
        out = [m for m in msgs if m.direction == "outbound"]
        if not inbound or inbound[0].status != "processed" or not out:
            return None
        if any(m.status in ("pending", "claimed") for m in out):
            return None
        return " | ".join(m.body for m in out)

    replies = wait_for(answered, timeout, f"the reply to {text!r}")
    assert expect.lower() in replies.lower(), f"{expect!r} not in {replies!r}"
    return replies


def last_reply(replies: str) -> str:
    return replies.split(" | ")[-1].lower()


def start_checkin(rt: Runtime, patient: Patient) -> int:
    with rt.sessions.begin() as session:
        fresh = session.get_one(Patient, patient.id)
        checkin = create_due_now(session, fresh, fresh.regimen[0])
        checkin_id = checkin.id
    mark = last_id(rt, patient.id)
    enqueue_trigger(rt, patient.id, "EXTERNAL_dose_checkin", {"checkin_id": str(checkin_id)})
    wait_for(
        lambda: [m for m in outbound_after(rt, patient.id, mark) if "did you take" in m.body],
        30,
        "the check-in question",
    )
    return checkin_id


def checkin_row(rt: Runtime, checkin_id: int) -> Checkin:
    with rt.sessions() as session:
        return session.get_one(Checkin, checkin_id)


def test_it_records_a_checkin_answered_yes(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550401", "Avery Example")
    checkin_id = start_checkin(rt, patient)
    question = [m for m in thread(rt, patient.id) if m.kind == "checkin"][-1].body
    assert "sertraline" not in question.lower(), "no medicine name without consent"
    say(rt, patient, "yep took it ✅", "thanks for letting us know")
    row = checkin_row(rt, checkin_id)
    assert (row.status, row.outcome) == ("answered", "taken")
    with rt.sessions() as session:
        events = session.scalars(select(DoseEvent).where(DoseEvent.patient_id == patient.id))
        assert [e.outcome for e in events] == ["taken"]


def test_it_gives_missed_dose_guidance_when_answered_no(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550402", "Blake Example")
    checkin_id = start_checkin(rt, patient)
    replies = say(rt, patient, "no i forgot", "thanks for telling us")
    guidance = load_library().get("sertraline")
    assert guidance is not None
    assert guidance.texts.get("missed_dose")[:40] in replies
    assert "double" not in replies.lower() or "not" in replies.lower()
    assert checkin_row(rt, checkin_id).outcome == "missed"


def test_it_accepts_later_and_notes_when(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550403", "Cam Example")
    checkin_id = start_checkin(rt, patient)
    say(rt, patient, "ill take it in an hour", "around")
    row = checkin_row(rt, checkin_id)
    assert (row.status, row.outcome) == ("later", "later")
    assert row.reminder_at is not None


def test_it_sizes_a_side_effect_with_fibser(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550404", "Dee Example")
    answers = {
        "which side effect": "headaches",
        "how often": "4",
        "how bad": "three",
        "get in the way": "5",
    }
    replies = say(rt, patient, "my new meds keep giving me headaches", "")
    for _ in range(6):
        if "thank you" in last_reply(replies):
            break
        key = next(k for k in answers if k in last_reply(replies))
        replies = say(rt, patient, answers.pop(key), "")
    assert "1 business day" in replies
    with rt.sessions() as session:
        report = session.scalars(
            select(SideEffectReport).where(SideEffectReport.patient_id == patient.id)
        ).one()
        alerts = session.scalars(select(Alert).where(Alert.patient_id == patient.id)).all()
    assert (report.frequency, report.intensity, report.burden) == (4, 3, 5)
    assert [(a.tier, a.rules) for a in alerts] == [("prompt", "R14")]


def queued_mood_check(rt: Runtime, patient: Patient) -> int:
    now = utcnow()
    with rt.sessions.begin() as session:
        row = MoodCheck(
            patient_id=patient.id,
            period=now.date().isoformat(),
            due_at=now,
            closes_at=now + timedelta(days=7),
            status="queued",
            queued_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def mood_status(rt: Runtime, row_id: int) -> str:
    with rt.sessions() as session:
        return session.get_one(MoodCheck, row_id).status


def test_it_goes_from_a_positive_phq2_to_the_phq9(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550405", "Eli Example")
    mark = last_id(rt, patient.id)
    row_id = queued_mood_check(rt, patient)  # as the scheduler starts it, naming its row
    enqueue_trigger(rt, patient.id, "EXTERNAL_mood_check", {"mood_check_id": str(row_id)})
    wait_for(
        lambda: [m for m in outbound_after(rt, patient.id, mark) if "interest" in m.body],
        30,
        "PHQ item 1",
    )
    assert mood_status(rt, row_id) == "sent"
    say(rt, patient, "2", "down, depressed")
    replies = say(rt, patient, "more than half the days", "few more")
    assert "sleep" in replies.lower()
    assert mood_status(rt, row_id) == "answered", "the PHQ-2 is complete"
    for answer, next_words in (
        ("1", "tired"),
        ("0", "appetite"),
        ("1", "bad about yourself"),
        ("2", "concentrating"),
        ("0", "slowly"),
        ("1", "better off dead"),
    ):
        say(rt, patient, answer, next_words)
    say(rt, patient, "0", "thank you for answering")
    with rt.sessions() as session:
        score = session.scalars(select(Score).where(Score.patient_id == patient.id)).one()
    assert (score.instrument, score.complete, score.total) == ("PHQ-9", True, 9)
    assert score.items.startswith("1=2,2=2,3=1")


def test_it_answers_an_education_question_from_the_library(stack: Stacked) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550406", "Fran Example")
    med = load_library().get("sertraline")
    assert med is not None
    replies = say(rt, patient, "what is zoloft for?", med.texts.get("purpose")[:30])
    assert med.texts.get("purpose") in replies
    time.sleep(0.5)
