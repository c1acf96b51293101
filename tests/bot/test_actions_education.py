"""Medicine questions: answers come from the content library; interactions are routed.

The interaction action never says a pair is safe: a pair outside the table gets the
neutral "check first" reply.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.actions import ActionInteraction, ActionMedInfo, ActionMissedDoseInfo, provider
from bot.actions.education import CHECK_FIRST, NOT_IN_LIBRARY, NOT_LISTED, WHICH_MEDICINE
from education.interactions import find_interactions
from education.library import Library, Medication, TextKey, load_library
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Patient
from tests.bot.conftest import alerts_of, make_tracker, run_action, set_detail_level
from tests.conftest import make_patient

pytestmark = pytest.mark.usefixtures("db_env")

LIBRARY = load_library()
NOT_LISTED_SAFE = "can't tell you that two medicines are safe"


def med(name: str) -> Medication:
    found = LIBRARY.get(name)
    assert found is not None
    return found


def text_of(name: str, key: TextKey) -> str:
    return med(name).texts.get(key)


def on(rt: Runtime, *meds: str, phone: str = "+15555550150") -> Patient:
    return make_patient(rt, phone=phone, meds=[MedSpec(m, "1 tablet", ("09:00",)) for m in meds])


def ask(action: ActionMedInfo | ActionInteraction, patient: Patient, text: str) -> str:
    ran = run_action(action, make_tracker(sender=patient.pseudonym, text=text))
    assert ran.events == []
    assert len(ran.texts) == 1
    return ran.texts[0]


@pytest.fixture
def onset_names_the_medicine(monkeypatch: pytest.MonkeyPatch) -> str:
    """A library whose sertraline onset text names it (the shipped texts never do)."""
    sertraline = med("sertraline")
    onset = "It can take 4 to 6 weeks for Zoloft to work. Keep taking sertraline every day."
    changed = replace(sertraline, texts=replace(sertraline.texts, onset=onset))
    library = Library([changed if m.name == "sertraline" else m for m in LIBRARY])
    monkeypatch.setattr(provider, "library", lambda: library)
    return onset


# --- medicine information -------------------------------------------------------------


@pytest.mark.parametrize("regimen", [("sertraline",), ("lithium",), ("lithium", "bupropion")])
@pytest.mark.parametrize("text", ["what is zoloft for", "What is Zoloft for?", "whats zolft for"])
def test_it_answers_what_a_named_medicine_is_for(
    rt: Runtime, regimen: tuple[str, ...], text: str
) -> None:
    patient = on(rt, *regimen)
    assert ask(ActionMedInfo(), patient, text) == text_of("sertraline", "purpose")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("how long does it take to work", "onset"),
        ("when will it start working", "onset"),
        ("what are the side effects", "common_side_effects"),
        ("can i drink beer on it", "alcohol"),
        ("should i take it with food", "food_timing"),
    ],
)
def test_it_answers_about_the_one_medicine_the_patient_takes(
    rt: Runtime, text: str, topic: TextKey
) -> None:
    patient = on(rt, "lithium")
    assert ask(ActionMedInfo(), patient, text) == text_of("lithium", topic)


def test_it_leaves_the_medicine_unnamed_for_a_generic_patient(
    rt: Runtime, patient: Patient, onset_names_the_medicine: str
) -> None:
    reply = ask(ActionMedInfo(), patient, "how long does it take to work")
    assert reply == (
        "It can take 4 to 6 weeks for this medicine to work. Keep taking this medicine every day."
    )


def test_it_names_the_medicine_for_a_patient_who_chose_named_texts(
    rt: Runtime, patient: Patient, onset_names_the_medicine: str
) -> None:
    set_detail_level(rt, patient, "named")
    reply = ask(ActionMedInfo(), patient, "how long does it take to work")
    assert reply == onset_names_the_medicine


def test_it_keeps_the_name_the_patient_used(
    rt: Runtime, patient: Patient, onset_names_the_medicine: str
) -> None:
    reply = ask(ActionMedInfo(), patient, "how long does zoloft take to work")
    assert reply == onset_names_the_medicine


@pytest.mark.parametrize(
    "text", ["how long does it take to work", "what is it for", "i missed my dose"]
)
def test_it_asks_which_medicine_when_the_patient_takes_two(rt: Runtime, text: str) -> None:
    patient = on(rt, "lithium", "bupropion")
    assert ask(ActionMedInfo(), patient, text) == WHICH_MEDICINE
    assert ask(ActionMissedDoseInfo(), patient, text) == WHICH_MEDICINE
    assert WHICH_MEDICINE.startswith("Which medicine do you mean?")
    assert alerts_of(rt, patient) == []


@pytest.mark.parametrize("text", ["i forgot my pill", "what do i do", "i missed last night"])
def test_it_gives_the_missed_dose_text(rt: Runtime, patient: Patient, text: str) -> None:
    assert ask(ActionMissedDoseInfo(), patient, text) == text_of("sertraline", "missed_dose")


def test_it_gives_the_missed_dose_text_for_a_named_medicine(rt: Runtime, patient: Patient) -> None:
    reply = ask(ActionMissedDoseInfo(), patient, "i forgot my lithium")
    assert reply == text_of("lithium", "missed_dose")


def test_it_passes_on_a_question_it_has_no_approved_answer_for(rt: Runtime) -> None:
    patient = on(rt, "notinthelibrary")
    assert ask(ActionMedInfo(), patient, "how long does it take to work") == NOT_IN_LIBRARY
    assert alerts_of(rt, patient) == [("prompt", "R22")]


# --- interactions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "can i take advil with my lithium",
        "Can I take Advil with my lithium?",
        "can i take ibuprofen with my lithium",
        "can i take aleve with lithium",
    ],
)
def test_it_routes_a_listed_interaction_to_the_care_team(rt: Runtime, text: str) -> None:
    patient = on(rt, "lithium")
    row = find_interactions(["lithium"], "advil", LIBRARY)[0]
    reply = ask(ActionInteraction(), patient, text)
    assert reply.startswith("Please check with your pharmacist or care team before taking it.")
    assert reply == f"{CHECK_FIRST} {row.reason}"
    assert alerts_of(rt, patient) == [(row.tier, f"R11,{row.id}")]
    assert row.tier == "urgent"


@pytest.mark.parametrize(("level", "name"), [("generic", "your medicine"), ("named", "lithium")])
def test_it_names_the_patients_medicine_in_the_reason_only_with_consent(
    rt: Runtime, level: str, name: str
) -> None:
    patient = on(rt, "lithium")
    set_detail_level(rt, patient, level)
    reply = ask(ActionInteraction(), patient, "can i take advil?")
    assert (
        reply == f"{CHECK_FIRST} These pain pills can raise {name} in the blood to a harmful level."
    )
    assert [tier for tier, _ in alerts_of(rt, patient)] == ["urgent"]


# Phrasings missed in the first review (the old word-after-"with" extraction); fixed.
@pytest.mark.parametrize(
    "text",
    [
        "is advil ok with lithium?",
        "can i take some advil for my headache",
        "is it ok to use advil with my lithium?",
    ],
)
def test_it_finds_a_listed_interaction_however_it_is_asked(rt: Runtime, text: str) -> None:
    patient = on(rt, "lithium")
    reply = ask(ActionInteraction(), patient, text)
    assert reply.startswith(CHECK_FIRST)
    assert [(t, r.split(",")[0]) for t, r in alerts_of(rt, patient)] == [("urgent", "R11")]


@pytest.mark.parametrize(
    "text",
    ["can i take tylenol", "is it safe to take tylenol", "can i take tylenol with my lithium"],
)
def test_it_never_calls_a_pair_outside_the_table_safe(rt: Runtime, text: str) -> None:
    patient = on(rt, "lithium")
    assert ask(ActionInteraction(), patient, text) == NOT_LISTED


SAFETY_QUESTIONS = [
    "can i take advil with my lithium",
    "can i take tylenol",
    "is it safe to take tylenol with lithium",
    "is it safe to drink wine",
    "can i take zoloft with my lithium",
    "can i take benadryl",
    "can i take melatonin",
    "is it safe to take sudafed",
    "can i take nyquil",
    "is it safe",
    "",
]


@pytest.mark.parametrize("regimen", [("lithium",), ("sertraline",), ("clozapine", "lithium")])
@pytest.mark.parametrize("text", SAFETY_QUESTIONS)
def test_it_never_says_it_is_safe(rt: Runtime, regimen: tuple[str, ...], text: str) -> None:
    patient = on(rt, *regimen)
    reply = ask(ActionInteraction(), patient, text).lower()
    assert "it is safe" not in reply and "it's safe" not in reply
    assert re.search(r"\bsafe", reply.replace(NOT_LISTED_SAFE.lower(), "")) is None
    assert reply.startswith(CHECK_FIRST.lower()) or reply == NOT_LISTED.lower()
