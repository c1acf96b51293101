"""Side effects: FIBSER ratings validated as they arrive, stored on submit, routed by burden;
a red-flag symptom goes straight to the care team as urgent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.actions import ActionRedFlag, ActionSubmitSideEffect, ValidateSideEffectForm
from bot.actions.side_effects import FIBSER_SLOTS, THANKS_PROMPT, THANKS_ROUTINE
from medfollow.runtime import Runtime
from store.models import Patient, SideEffectReport
from tests.bot.conftest import alerts_of, make_tracker, run_action, run_validator

REASK = "Please reply with one number from 0 to 6."


def reports(rt: Runtime, patient: Patient) -> list[SideEffectReport]:
    with rt.sessions() as session:
        query = select(SideEffectReport).where(SideEffectReport.patient_id == patient.id)
        return list(session.scalars(query.order_by(SideEffectReport.id)).all())


@pytest.mark.parametrize("slot", FIBSER_SLOTS)
@pytest.mark.parametrize(
    ("answer", "value"),
    [("4", "4"), ("five", "5"), ("i'd say 3", "3"), ("0", "0"), ("six", "6"), (" 2 ", "2")],
)
def test_it_accepts_a_rating_from_0_to_6(slot: str, answer: str, value: str) -> None:
    ran = run_validator(ValidateSideEffectForm(), slot, answer, make_tracker(sender="p"))
    assert ran.slots == {slot: value}
    assert ran.messages == []


@pytest.mark.parametrize("slot", FIBSER_SLOTS)
@pytest.mark.parametrize("answer", ["7", "banana", "", "-", "3.5", "10", "one or two"])
def test_it_rejects_anything_else_and_asks_again(slot: str, answer: str) -> None:
    ran = run_validator(ValidateSideEffectForm(), slot, answer, make_tracker(sender="p"))
    assert ran.slots == {slot: None}
    assert ran.texts == [REASK]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("headaches", "headaches"), ("  dry mouth ", "dry mouth"), ("", None), (None, None)],
)
def test_it_keeps_the_symptom_in_the_patients_words(
    value: str | None, expected: str | None
) -> None:
    ran = run_validator(ValidateSideEffectForm(), "symptom", value, make_tracker(sender="p"))
    assert ran.slots == {"symptom": expected}


def test_it_cuts_a_long_symptom_to_200_characters() -> None:
    ran = run_validator(ValidateSideEffectForm(), "symptom", "x" * 300, make_tracker(sender="p"))
    assert ran.slots == {"symptom": "x" * 200}


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize(
    ("burden", "alert", "reply"),
    [
        (6, [("prompt", "R14")], THANKS_PROMPT),
        (5, [("prompt", "R14")], THANKS_PROMPT),
        (4, [("prompt", "R15")], THANKS_PROMPT),
        (3, [("prompt", "R15")], THANKS_PROMPT),
        (2, [], THANKS_ROUTINE),
        (1, [], THANKS_ROUTINE),
        (0, [], THANKS_ROUTINE),
    ],
)
def test_it_stores_the_ratings_and_routes_by_burden(
    rt: Runtime,
    patient: Patient,
    burden: int,
    alert: list[tuple[str, str]],
    reply: str,
) -> None:
    slots = {
        "symptom": "headaches",
        "fibser_frequency": "4",
        "fibser_intensity": "2",
        "fibser_burden": str(burden),
    }
    ran = run_action(ActionSubmitSideEffect(), make_tracker(sender=patient.pseudonym, slots=slots))
    assert ran.texts == [reply]
    assert ran.slots == {"symptom": None, **dict.fromkeys(FIBSER_SLOTS)}
    [report] = reports(rt, patient)
    assert (report.symptom, report.red_flag) == ("headaches", False)
    assert (report.frequency, report.intensity, report.burden) == (4, 2, burden)
    assert alerts_of(rt, patient) == alert


@pytest.mark.usefixtures("db_env")
def test_it_stores_a_red_flag_and_raises_an_urgent_alert(rt: Runtime, patient: Patient) -> None:
    text = "my face is swelling and i have a rash with blisters"
    tracker = make_tracker(sender=patient.pseudonym, intent="red_flag_symptom", text=text)
    ran = run_action(ActionRedFlag(), tracker)
    assert len(ran.texts) == 1
    assert "911" in ran.texts[0]
    assert ran.texts[0].endswith("call you today, within 2 hours."), "the next step, by when"
    assert ran.events == []
    [report] = reports(rt, patient)
    assert (report.symptom, report.red_flag) == (text, True)
    assert (report.frequency, report.intensity, report.burden) == (None, None, None)
    assert alerts_of(rt, patient) == [("urgent", "R10")]


@pytest.mark.usefixtures("db_env")
def test_it_still_sends_the_red_flag_reply_to_an_unknown_sender(
    rt: Runtime, patient: Patient
) -> None:
    tracker = make_tracker(sender="not-a-patient", intent="red_flag_symptom", text="chest pain")
    ran = run_action(ActionRedFlag(), tracker)
    assert "911" in ran.texts[0]
    assert reports(rt, patient) == []


@pytest.mark.usefixtures("db_env")
def test_it_says_right_away_when_the_modifiers_make_a_red_flag_an_emergency(rt: Runtime) -> None:
    from store.enrolment import MedSpec
    from tests.conftest import make_patient

    young = make_patient(
        rt,
        phone="+15555550155",
        age_band="under_25",
        meds=[MedSpec("sertraline", "25mg", ("09:00",))],
    )
    tracker = make_tracker(
        sender=young.pseudonym, intent="red_flag_symptom", text="i cant sit still"
    )
    ran = run_action(ActionRedFlag(), tracker)
    assert ran.texts[0].endswith("contact you right away.")
    [(tier, rules)] = alerts_of(rt, young)
    assert (tier, rules) == ("emergency", "R10,modifier:young_antidepressant")
