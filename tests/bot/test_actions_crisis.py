"""Crisis: the resources first (unless the safety screen sent them), then the ASQ.

Item 5 (thoughts of suicide right now) escalates as it arrives; a positive, non-acute
ASQ raises an urgent alert on submit.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import ActionCrisisResponse, ActionSubmitAsq, ValidateAsqForm
from bot.actions.crisis import (
    ACUTE_REPLY,
    ASQ_SLOTS,
    NEGATIVE_REPLY,
    NOT_SAFE_REPLY,
    POSITIVE_REPLY,
    REASK,
    SAFE_SLOT,
)
from escalation.safety import crisis_reply
from medfollow.runtime import Runtime
from store.models import Patient, Score
from tests.bot.conftest import alerts_of, make_tracker, run_action, run_validator

pytestmark = pytest.mark.usefixtures("db_env")

RESET = {SAFE_SLOT: None, **dict.fromkeys(ASQ_SLOTS), "score_id": None, "requested_slot": None}
NO, YES = "no", "yes"


def asq_scores(rt: Runtime, patient: Patient) -> list[Score]:
    with rt.sessions() as session:
        query = select(Score).where(Score.patient_id == patient.id).order_by(Score.id)
        return list(session.scalars(query).all())


def answer_asq(patient: Patient, answers: list[str]) -> dict[str, Any]:
    """Answer ASQ items 1.. in turn, carrying the slots as Rasa would; returns the slots."""
    slots: dict[str, Any] = {}
    for item, answer in enumerate(answers, start=1):
        tracker = make_tracker(sender=patient.pseudonym, text=answer, slots=slots)
        slots.update(run_validator(ValidateAsqForm(), f"asq_{item}", answer, tracker).slots)
    return slots


def required(slots: dict[str, Any]) -> list[str]:
    tracker = make_tracker(sender="p", slots=slots)
    result: list[str] = asyncio.run(
        ValidateAsqForm().required_slots(list(ASQ_SLOTS), CollectingDispatcher(), tracker, {})
    )
    return result


@pytest.mark.parametrize("metadata", [None, {}, {"screened": False}])
def test_it_sends_the_crisis_reply_and_pages_when_the_screen_missed_it(
    rt: Runtime, patient: Patient, metadata: dict[str, Any] | None
) -> None:
    tracker = make_tracker(
        sender=patient.pseudonym,
        intent="self_harm",
        text="i feel like giving up on everything",
        metadata=metadata,
        slots={"asq_1": "yes", "score_id": "12"},
    )
    ran = run_action(ActionCrisisResponse(), tracker)
    assert ran.texts == [crisis_reply()]
    assert "988" in ran.texts[0]
    assert ran.responses == ["utter_asq_intro"]
    assert ran.messages[0]["text"] == crisis_reply()  # resources first
    assert alerts_of(rt, patient) == [("emergency", "R1")]
    assert ran.slots == RESET
    assert {"event": "active_loop", "name": None, "timestamp": None} in ran.events


def test_it_does_not_repeat_what_the_safety_screen_already_sent(
    rt: Runtime, patient: Patient
) -> None:
    tracker = make_tracker(
        sender=patient.pseudonym,
        intent="self_harm",
        text="i want to die",
        metadata={"screened": True},
    )
    ran = run_action(ActionCrisisResponse(), tracker)
    assert ran.texts == []
    assert ran.responses == ["utter_asq_intro"]
    assert alerts_of(rt, patient) == []
    assert ran.slots == RESET
    assert {"event": "active_loop", "name": None, "timestamp": None} in ran.events


@pytest.mark.parametrize(
    ("slots", "asks_item_5"),
    [
        ({"asq_1": NO, "asq_2": NO, "asq_3": NO, "asq_4": NO}, False),
        ({"asq_1": YES, "asq_2": NO, "asq_3": NO, "asq_4": NO}, True),
        ({"asq_1": NO, "asq_2": NO, "asq_3": NO, "asq_4": YES}, True),
        ({"asq_1": YES, "asq_2": YES, "asq_3": YES, "asq_4": YES}, True),
        # Not all answered yet: item 5 stays until items 1-4 are known.
        ({"asq_1": NO, "asq_2": NO}, True),
        ({}, True),
    ],
)
def test_it_asks_item_5_only_after_a_yes_to_items_1_to_4(
    slots: dict[str, str], asks_item_5: bool
) -> None:
    expected = list(ASQ_SLOTS) if asks_item_5 else [s for s in ASQ_SLOTS if s != "asq_5"]
    assert required(slots) == expected


@pytest.mark.parametrize(
    ("answer", "value"),
    [("yes", YES), ("Yeah", YES), ("👍", YES), ("no", NO), ("nope", NO), ("❌", NO)],
)
def test_it_stores_each_answer_as_it_arrives(
    rt: Runtime, patient: Patient, answer: str, value: str
) -> None:
    ran = run_validator(
        ValidateAsqForm(), "asq_1", answer, make_tracker(sender=patient.pseudonym, text=answer)
    )
    [score] = asq_scores(rt, patient)
    assert ran.slots == {"asq_1": value, "score_id": str(score.id)}
    assert (score.instrument, score.items, score.complete) == (
        "ASQ",
        f"1={int(value == YES)}",
        False,
    )


@pytest.mark.parametrize("answer", ["maybe", "banana", ""])
def test_it_asks_again_for_an_unclear_answer(rt: Runtime, patient: Patient, answer: str) -> None:
    ran = run_validator(
        ValidateAsqForm(), "asq_2", answer, make_tracker(sender=patient.pseudonym, text=answer)
    )
    assert ran.slots == {"asq_2": None}
    assert ran.texts == [REASK]
    assert asq_scores(rt, patient) == []


def test_it_raises_an_emergency_as_soon_as_item_5_is_yes(rt: Runtime, patient: Patient) -> None:
    slots = answer_asq(patient, [YES, NO, NO, NO])
    assert alerts_of(rt, patient) == []
    tracker = make_tracker(sender=patient.pseudonym, text="yes", slots=slots)
    ran = run_validator(ValidateAsqForm(), "asq_5", "yes", tracker)
    assert ran.slots["asq_5"] == YES
    assert alerts_of(rt, patient) == [("emergency", "R4")]


def test_it_raises_nothing_for_item_5_no(rt: Runtime, patient: Patient) -> None:
    answer_asq(patient, [YES, NO, NO, NO, NO])
    assert alerts_of(rt, patient) == []


@pytest.mark.parametrize(
    ("answers", "reply", "alerts"),
    [
        ([YES, NO, NO, NO, NO], POSITIVE_REPLY, [("urgent", "R6")]),
        ([NO, NO, YES, YES, NO], POSITIVE_REPLY, [("urgent", "R6")]),
        ([NO, NO, NO, NO], NEGATIVE_REPLY, []),
        ([YES, NO, NO, NO, YES], ACUTE_REPLY, [("emergency", "R4")]),
    ],
)
def test_it_submits_the_asq_and_routes_by_result(
    rt: Runtime,
    patient: Patient,
    answers: list[str],
    reply: str,
    alerts: list[tuple[str, str]],
) -> None:
    slots = answer_asq(patient, answers)
    ran = run_action(ActionSubmitAsq(), make_tracker(sender=patient.pseudonym, slots=slots))
    assert ran.texts == [reply]
    assert ran.slots == {"score_id": None}
    assert alerts_of(rt, patient) == alerts
    [score] = asq_scores(rt, patient)
    assert (score.instrument, score.complete) == ("ASQ", True)
    assert score.items == ",".join(f"{i}={int(a == YES)}" for i, a in enumerate(answers, 1))


@pytest.mark.parametrize("slot", [f"asq_{i}" for i in range(1, 6)])
def test_it_takes_no_answer_from_the_message_that_opened_the_form(
    rt: Runtime, patient: Patient, slot: str
) -> None:
    # The crisis text that starts the ASQ is not an answer to any of its questions.
    tracker = make_tracker(
        sender=patient.pseudonym,
        intent="self_harm",
        text="/self_harm",
        slots={"requested_slot": None},
    )
    tracker.slots["requested_slot"] = "asq_1" if slot != "asq_1" else "asq_2"
    ran = run_validator(ValidateAsqForm(), slot, "/self_harm", tracker)
    assert ran.events == [{"event": "slot", "name": slot, "value": None}]
    assert ran.messages == [], "no 'please reply YES or NO' for a question not asked"


# --- "are you safe right now?", asked first -----------------------------------------


def test_it_asks_whether_they_are_safe_before_the_asq() -> None:
    slots = [SAFE_SLOT, *ASQ_SLOTS]
    tracker = make_tracker(sender="p", slots={})
    assert (
        asyncio.run(ValidateAsqForm().required_slots(slots, CollectingDispatcher(), tracker, {}))
        == slots
    )


@pytest.mark.parametrize("answer", ["yes", "Yeah", "👍"])
def test_it_goes_on_to_the_asq_when_they_are_safe(
    rt: Runtime, patient: Patient, answer: str
) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text=answer)
    ran = run_validator(ValidateAsqForm(), SAFE_SLOT, answer, tracker)
    assert ran.slots == {SAFE_SLOT: YES}
    assert alerts_of(rt, patient) == []
    slots = [SAFE_SLOT, *ASQ_SLOTS]
    after = make_tracker(sender="p", slots={SAFE_SLOT: YES})
    assert (
        asyncio.run(ValidateAsqForm().required_slots(slots, CollectingDispatcher(), after, {}))
        == slots
    )


@pytest.mark.parametrize("answer", ["no", "nope", "❌"])
def test_it_escalates_and_stops_asking_when_they_are_not_safe(
    rt: Runtime, patient: Patient, answer: str
) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text=answer)
    ran = run_validator(ValidateAsqForm(), SAFE_SLOT, answer, tracker)
    assert ran.slots == {SAFE_SLOT: NO}
    assert alerts_of(rt, patient) == [("emergency", "R1")]
    slots = [SAFE_SLOT, *ASQ_SLOTS]
    after = make_tracker(sender=patient.pseudonym, slots={SAFE_SLOT: NO})
    assert asyncio.run(
        ValidateAsqForm().required_slots(slots, CollectingDispatcher(), after, {})
    ) == [SAFE_SLOT], "no screening questions for someone who is not safe"
    submitted = run_action(ActionSubmitAsq(), after)
    assert submitted.texts == [NOT_SAFE_REPLY]
    assert NOT_SAFE_REPLY.index("911") < NOT_SAFE_REPLY.index("988")
    assert asq_scores(rt, patient) == []


def test_it_asks_again_when_the_safety_answer_is_unclear(rt: Runtime, patient: Patient) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text="hmm")
    ran = run_validator(ValidateAsqForm(), SAFE_SLOT, "hmm", tracker)
    assert ran.slots == {SAFE_SLOT: None}
    assert ran.texts == [REASK]
    assert alerts_of(rt, patient) == []


def test_it_takes_no_safety_answer_from_the_message_that_opened_the_form(
    rt: Runtime, patient: Patient
) -> None:
    tracker = make_tracker(sender=patient.pseudonym, text="no", slots={"requested_slot": "asq_1"})
    ran = run_validator(ValidateAsqForm(), SAFE_SLOT, "no", tracker)
    assert ran.slots == {SAFE_SLOT: None}
    assert alerts_of(rt, patient) == []
