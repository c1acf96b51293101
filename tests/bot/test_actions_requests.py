"""Requests that need a person (stopping a medicine, access problems, asking for someone),
and messages the assistant cannot place (a redirect, then HELP after two in a row)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.actions import (
    ActionAccessBarrier,
    ActionRequestClinician,
    ActionStopMedication,
    ActionUnclear,
)
from bot.actions.requests import (
    ACCESS,
    ACCESS_URGENT,
    CLINICIAN,
    STOP_NEVER_SUDDENLY,
    STOP_OTHER,
)
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Patient
from tests.bot.conftest import alerts_of, make_tracker, run_action
from tests.conftest import make_patient

Request = ActionStopMedication | ActionAccessBarrier | ActionRequestClinician


def on(rt: Runtime, *meds: str) -> Patient:
    return make_patient(
        rt, phone="+15555550160", meds=[MedSpec(m, "1 tablet", ("09:00",)) for m in meds]
    )


def request(action: Request, patient: Patient, text: str) -> str:
    ran = run_action(action, make_tracker(sender=patient.pseudonym, text=text))
    assert ran.events == []
    assert len(ran.texts) == 1
    return ran.texts[0]


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize(
    ("regimen", "text", "alert", "reply"),
    [
        (("lithium",), "i want to stop my lithium", ("urgent", "R13"), STOP_NEVER_SUDDENLY),
        (("lithium",), "i want to stop taking my meds", ("urgent", "R13"), STOP_NEVER_SUDDENLY),
        (("sertraline",), "im going to quit zoloft", ("urgent", "R13"), STOP_NEVER_SUDDENLY),
        (("bupropion",), "i want to stop my wellbutrin", ("prompt", "R23"), STOP_OTHER),
        (("bupropion",), "i want to stop taking it", ("prompt", "R23"), STOP_OTHER),
        # A never-stop medicine anywhere in the plan makes "my meds" urgent.
        (
            ("bupropion", "lithium"),
            "i want to stop my meds",
            ("urgent", "R13"),
            STOP_NEVER_SUDDENLY,
        ),
        # The medicine named wins over the rest of the plan.
        (("bupropion", "lithium"), "can i stop wellbutrin", ("prompt", "R23"), STOP_OTHER),
    ],
)
def test_it_routes_a_wish_to_stop_by_the_medicine(
    rt: Runtime,
    regimen: tuple[str, ...],
    text: str,
    alert: tuple[str, str],
    reply: str,
) -> None:
    patient = on(rt, *regimen)
    assert request(ActionStopMedication(), patient, text) == reply
    assert "talk with your care team before you stop" in reply
    assert alerts_of(rt, patient) == [alert]


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize(
    ("regimen", "text", "alert", "reply"),
    [
        (("alprazolam",), "i ran out of my xanax", ("urgent", "R10"), ACCESS_URGENT),
        (("alprazolam",), "i have no more pills", ("urgent", "R10"), ACCESS_URGENT),
        (("lithium",), "i ran out", ("urgent", "R10"), ACCESS_URGENT),
        (("alprazolam",), "cant afford it", ("prompt", "R18"), ACCESS),
        (
            ("alprazolam",),
            "the pharmacy says my insurance wont cover it",
            ("prompt", "R18"),
            ACCESS,
        ),
        (("bupropion",), "i ran out of my wellbutrin", ("prompt", "R18"), ACCESS),
    ],
)
def test_it_routes_an_access_barrier_by_risk(
    rt: Runtime,
    regimen: tuple[str, ...],
    text: str,
    alert: tuple[str, str],
    reply: str,
) -> None:
    patient = on(rt, *regimen)
    assert request(ActionAccessBarrier(), patient, text) == reply
    assert alerts_of(rt, patient) == [alert]


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize("text", ["can i talk to a real person", "i need my doctor to call me"])
def test_it_passes_a_request_for_a_person_to_the_care_team(
    rt: Runtime, patient: Patient, text: str
) -> None:
    reply = request(ActionRequestClinician(), patient, text)
    assert reply == CLINICIAN
    assert "988" in reply and "911" in reply
    assert alerts_of(rt, patient) == [("prompt", "R23")]


@pytest.mark.usefixtures("db_env")
@pytest.mark.parametrize(
    "action", [ActionStopMedication(), ActionAccessBarrier(), ActionRequestClinician()]
)
def test_it_answers_an_unknown_sender_without_raising_anything(
    rt: Runtime, patient: Patient, action: Request
) -> None:
    ran = run_action(action, make_tracker(sender="not-a-patient", text="i ran out of lithium"))
    assert ran.texts == [CLINICIAN]
    assert alerts_of(rt, patient) == []


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


BOT: dict[str, Any] = {"event": "bot", "text": "Sorry, I can't help with that here."}
ACTION: dict[str, Any] = {"event": "action", "name": "action_unclear"}


@pytest.mark.parametrize(
    ("events", "response"),
    [
        ([user("out_of_scope")], "utter_out_of_scope"),
        ([user("nlu_fallback")], "utter_out_of_scope"),
        ([user("greet"), ACTION, BOT, user("out_of_scope")], "utter_out_of_scope"),
        ([user("out_of_scope"), user("greet"), user("out_of_scope")], "utter_out_of_scope"),
        ([user("out_of_scope"), ACTION, BOT, user("out_of_scope")], "utter_fallback_help"),
        ([user("out_of_scope"), user("out_of_scope")], "utter_fallback_help"),
        ([user("nlu_fallback"), user("out_of_scope")], "utter_fallback_help"),
        ([user("out_of_scope")] * 3, "utter_fallback_help"),
        ([], "utter_out_of_scope"),
    ],
)
def test_it_redirects_once_then_offers_help_after_two_in_a_row(
    events: list[dict[str, Any]], response: str
) -> None:
    tracker = make_tracker(sender="p", intent="out_of_scope", text="...", events=events)
    ran = run_action(ActionUnclear(), tracker)
    assert ran.responses == [response]
    assert ran.events == []
