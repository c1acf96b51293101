"""Mood: PHQ-2 then PHQ-9, each item stored as it arrives; item 9 above 0 escalates at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.actions import (
    ActionStartMoodCheck,
    ActionSubmitPhq2,
    ActionSubmitPhq9,
    ValidatePhq2Form,
    ValidatePhq9Form,
)
from bot.actions.mood import PHQ_SLOTS, REASK, report_mood_check
from escalation.safety import crisis_reply
from medfollow.runtime import Runtime
from scheduling.dispatch import claim
from store.models import MoodCheck, Patient, Score, utcnow
from tests.bot.conftest import alerts_of, make_tracker, run_action, run_validator

pytestmark = pytest.mark.usefixtures("db_env")


def scores(rt: Runtime, patient: Patient) -> list[Score]:
    with rt.sessions() as session:
        query = select(Score).where(Score.patient_id == patient.id).order_by(Score.id)
        return list(session.scalars(query).all())


def form_for(item: int) -> Any:
    return ValidatePhq2Form() if item <= 2 else ValidatePhq9Form()


def answer_items(patient: Patient, answers: list[str]) -> dict[str, Any]:
    """Answer PHQ items 1.. in turn, carrying the slots as Rasa would; returns the slots."""
    slots: dict[str, Any] = {}
    for item, answer in enumerate(answers, start=1):
        tracker = make_tracker(sender=patient.pseudonym, text=answer, slots=slots)
        slots.update(run_validator(form_for(item), f"phq_{item}", answer, tracker).slots)
    return slots


def test_it_stores_the_first_item_as_soon_as_it_arrives(rt: Runtime, patient: Patient) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text="2")
    ran = run_validator(ValidatePhq2Form(), "phq_1", "2", tracker)
    [score] = scores(rt, patient)
    assert ran.slots == {"phq_1": "2", "score_id": str(score.id)}
    assert ran.messages == []
    assert (score.instrument, score.items, score.total, score.complete) == (
        "PHQ-2",
        "1=2",
        2,
        False,
    )


def test_it_adds_each_item_to_the_same_score(rt: Runtime, patient: Patient) -> None:
    slots = answer_items(patient, ["2", "several days", "nearly every day"])
    [score] = scores(rt, patient)
    assert slots["score_id"] == str(score.id)
    assert (slots["phq_1"], slots["phq_2"], slots["phq_3"]) == ("2", "1", "3")
    assert (score.items, score.total, score.instrument) == ("1=2,2=1,3=3", 6, "PHQ-9")


@pytest.mark.parametrize("item", [1, 2, 3, 9])
@pytest.mark.parametrize("answer", ["banana", "7", "", "4"])
def test_it_asks_again_for_an_answer_it_cannot_read(
    rt: Runtime, patient: Patient, item: int, answer: str
) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text=answer)
    ran = run_validator(form_for(item), f"phq_{item}", answer, tracker)
    assert ran.slots == {f"phq_{item}": None}
    assert ran.texts == [REASK]
    assert scores(rt, patient) == []
    assert alerts_of(rt, patient) == []


@pytest.mark.parametrize(
    ("answer", "rule"),
    [("1", "R6"), ("several days", "R6"), ("2", "R5"), ("nearly every day", "R5")],
)
def test_it_escalates_item_9_at_once_with_the_crisis_resources(
    rt: Runtime, patient: Patient, answer: str, rule: str
) -> None:
    slots = answer_items(patient, ["1", "1", "0", "0", "0", "0", "0", "0"])
    assert alerts_of(rt, patient) == []
    tracker = make_tracker(sender=patient.pseudonym, text=answer, slots=slots)
    ran = run_validator(ValidatePhq9Form(), "phq_9", answer, tracker)
    # Before the questionnaire is submitted: the alert exists and the resources went out.
    assert alerts_of(rt, patient) == [("urgent", rule)]
    assert len(ran.texts) == 1
    assert ran.texts[0].endswith(crisis_reply())
    assert "988" in ran.texts[0]
    [score] = scores(rt, patient)
    assert score.complete is False


@pytest.mark.parametrize("answer", ["0", "not at all", "never"])
def test_it_does_not_escalate_item_9_answered_0(rt: Runtime, patient: Patient, answer: str) -> None:
    slots = answer_items(patient, ["1", "1", "0", "0", "0", "0", "0", "0"])
    tracker = make_tracker(sender=patient.pseudonym, text=answer, slots=slots)
    ran = run_validator(ValidatePhq9Form(), "phq_9", answer, tracker)
    assert ran.slots["phq_9"] == "0"
    assert ran.messages == []
    assert alerts_of(rt, patient) == []


def test_it_starts_the_mood_check_with_a_clean_slate(patient: Patient) -> None:
    slots = {s: "2" for s in PHQ_SLOTS} | {"score_id": "5", "phq2_positive": True}
    ran = run_action(ActionStartMoodCheck(), make_tracker(sender=patient.pseudonym, slots=slots))
    assert ran.responses == ["utter_mood_intro"]
    assert ran.slots == {**dict.fromkeys(PHQ_SLOTS), "score_id": None, "phq2_positive": None}


@pytest.mark.parametrize(("one", "two"), [("1", "1"), ("2", "0"), ("3", "3")])
def test_it_goes_on_to_the_phq9_when_the_phq2_is_positive(
    rt: Runtime, patient: Patient, one: str, two: str
) -> None:
    slots = answer_items(patient, [one, two])
    ran = run_action(ActionSubmitPhq2(), make_tracker(sender=patient.pseudonym, slots=slots))
    assert ran.slots == {"phq2_positive": True}  # score_id kept for the PHQ-9 items
    assert ran.responses == ["utter_phq9_intro"]
    [score] = scores(rt, patient)
    assert score.complete is False


@pytest.mark.parametrize(("one", "two"), [("0", "1"), ("1", "0"), ("0", "0")])
def test_it_completes_a_negative_phq2(rt: Runtime, patient: Patient, one: str, two: str) -> None:
    slots = answer_items(patient, [one, two])
    ran = run_action(ActionSubmitPhq2(), make_tracker(sender=patient.pseudonym, slots=slots))
    assert ran.slots == {"score_id": None, "phq2_positive": False}
    assert ran.responses == ["utter_mood_thanks"]
    [score] = scores(rt, patient)
    assert (score.instrument, score.complete, score.total) == ("PHQ-2", True, int(one) + int(two))
    assert alerts_of(rt, patient) == []


@pytest.mark.parametrize(
    ("answers", "total", "alerts"),
    [
        (["2", "2", "2", "2", "1", "1", "1", "1", "0"], 12, [("prompt", "R17")]),
        (["1", "1", "1", "1", "1", "1", "1", "2", "0"], 9, []),
        (["2", "2", "1", "1", "1", "1", "1", "1", "0"], 10, [("prompt", "R17")]),
        (["3", "3", "3", "2", "2", "2", "2", "2", "0"], 19, [("prompt", "R17")]),
        (["3", "3", "3", "3", "2", "2", "2", "2", "0"], 20, [("prompt", "R16")]),
        # Item 9 already escalated as urgent: no second, lower alert for the total.
        (["2", "2", "2", "2", "1", "1", "1", "0", "1"], 12, [("urgent", "R6")]),
    ],
)
def test_it_completes_the_phq9_with_the_right_total(
    rt: Runtime,
    patient: Patient,
    answers: list[str],
    total: int,
    alerts: list[tuple[str, str]],
) -> None:
    slots = answer_items(patient, answers)
    tracker = make_tracker(sender=patient.pseudonym, slots=slots)
    assert run_action(ActionSubmitPhq2(), tracker).slots == {"phq2_positive": True}
    ran = run_action(ActionSubmitPhq9(), tracker)
    assert ran.slots == {"score_id": None}
    if alerts and alerts[0][0] == "prompt":  # the total raised it: what happens next, by when
        assert ran.texts == [
            "Thank you for answering. We have asked your care team to contact you within 1 "
            "business day. If things get worse, call or text 988, or call 911."
        ]
    else:  # nothing to do, or item 9 escalated (and said so) as it arrived
        assert ran.responses == ["utter_mood_thanks"]
    [score] = scores(rt, patient)
    assert (score.instrument, score.complete, score.total) == ("PHQ-9", True, total)
    assert score.items == ",".join(f"{i}={a}" for i, a in enumerate(answers, start=1))
    assert alerts_of(rt, patient) == alerts


def test_it_ignores_a_submit_without_a_score(rt: Runtime, patient: Patient) -> None:
    ran = run_action(ActionSubmitPhq9(), make_tracker(sender=patient.pseudonym, slots={}))
    assert ran.slots == {"score_id": None}
    assert scores(rt, patient) == []


def test_it_raises_a_review_when_the_phq9_rises_by_5(rt: Runtime, patient: Patient) -> None:
    from care.scores import finish, save_item
    from store.models import Alert

    with rt.sessions.begin() as session:
        first = save_item(session, patient.id, None, "PHQ-9", 1, 2)
        finish(session, first.id, "PHQ-9")
        second = save_item(session, patient.id, None, "PHQ-9", 1, 3)
        for item in range(2, 10):
            save_item(session, patient.id, second.id, "PHQ-9", item, 1 if item < 6 else 0)
        second_id = second.id
    from bot.actions.mood import finish_score

    finish_score(patient.pseudonym, str(second_id), "PHQ-9", None)
    with rt.sessions() as session:
        rules = [a.rules for a in session.scalars(select(Alert))]
    assert rules == ["R16"], "total 7 (mild) but up 5 from 2: the rise rule"


def scheduled_row(rt: Runtime, patient: Patient, status: str = "due") -> int:
    """This period's questionnaire, due a minute ago, its period open for a week."""
    now = utcnow()
    with rt.sessions.begin() as session:
        row = MoodCheck(
            patient_id=patient.id,
            period=now.date().isoformat(),
            due_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=7),
            status=status,
        )
        session.add(row)
        session.flush()
        return row.id


def mood_row(rt: Runtime, row_id: int) -> MoodCheck:
    with rt.sessions() as session:
        return session.get_one(MoodCheck, row_id)


@pytest.mark.parametrize(("one", "two"), [("0", "1"), ("2", "2")])
def test_it_moves_a_scheduled_questionnaire_from_due_to_sent_to_answered(
    rt: Runtime, patient: Patient, one: str, two: str
) -> None:
    row_id = scheduled_row(rt, patient)
    with rt.sessions.begin() as session:
        assert claim(session, MoodCheck, row_id, utcnow())  # the scheduler starts it
    assert mood_row(rt, row_id).status == "queued"
    before = utcnow()
    run_action(ActionStartMoodCheck(), make_tracker(sender=patient.pseudonym))
    asked = mood_row(rt, row_id)
    assert asked.status == "sent" and asked.sent_at is not None and asked.sent_at >= before
    slots = answer_items(patient, [one, two])
    assert mood_row(rt, row_id).status == "sent", "answered once the form is complete"
    run_action(ActionSubmitPhq2(), make_tracker(sender=patient.pseudonym, slots=slots))
    done = mood_row(rt, row_id)
    assert done.status == "answered"
    assert done.answered_at is not None and done.answered_at >= asked.sent_at


def test_it_leaves_a_questionnaire_not_yet_started_and_marks_an_answer_once(
    rt: Runtime, patient: Patient
) -> None:
    """A patient's own mood report starts the PHQ-2 too: a row still due is the
    scheduler's to start; a second report of the same answer changes nothing."""
    row_id = scheduled_row(rt, patient)
    run_action(ActionStartMoodCheck(), make_tracker(sender=patient.pseudonym))
    assert mood_row(rt, row_id).status == "due"
    with rt.sessions.begin() as session:
        session.get_one(MoodCheck, row_id).status = "sent"
    assert report_mood_check(patient.pseudonym, answered=True) == 1
    first = mood_row(rt, row_id).answered_at
    assert report_mood_check(patient.pseudonym, answered=True) == 0
    assert mood_row(rt, row_id).answered_at == first
