"""Side effects: which symptom, then FIBSER frequency, intensity and burden (0-6 each).
A red-flag symptom skips the questions and goes straight to the care team."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import provider
from bot.actions.names import (
    ACTION_RED_FLAG,
    ACTION_SUBMIT_SIDE_EFFECT,
    VALIDATE_SIDE_EFFECT_FORM,
)
from care.followups import next_step, raise_followup
from instruments.answers import parse_scale
from instruments.scoring import fibser_rule
from store.models import SideEffectReport

FIBSER_SLOTS = ("fibser_frequency", "fibser_intensity", "fibser_burden")
RED_FLAG_ADVICE = (
    "That can be serious. If you feel very unwell, call 911 or go to the nearest emergency "
    "room now."
)
RED_FLAG_REPLY = f"{RED_FLAG_ADVICE} {next_step('urgent')}"
THANKS_ROUTINE = (
    "Thank you. We have noted it for your care team. If it gets worse or you notice "
    "anything new, text us."
)
THANKS_PROMPT = (
    "Thank you. Since it is getting in the way of your day, we have asked your care team "
    "to contact you within 1 business day. Please do not change your dose on your own."
)


class ValidateSideEffectForm(FormValidationAction):  # type: ignore[misc]
    def name(self) -> str:
        return VALIDATE_SIDE_EFFECT_FORM

    def validate_symptom(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"symptom": text[:200] if text else None}

    def _scale(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        number = parse_scale(str(value or ""), 0, 6)
        if number is None:
            dispatcher.utter_message(text="Please reply with one number from 0 to 6.")
        return {slot: None if number is None else str(number)}

    def validate_fibser_frequency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        return self._scale("fibser_frequency", value, dispatcher)

    def validate_fibser_intensity(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        return self._scale("fibser_intensity", value, dispatcher)

    def validate_fibser_burden(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        return self._scale("fibser_burden", value, dispatcher)


def save_report(
    pseudonym: str, symptom: str, ratings: list[int | None], red_flag: bool, message_id: int | None
) -> str:
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return RED_FLAG_REPLY if red_flag else THANKS_ROUTINE
        frequency, intensity, burden = ratings
        session.add(
            SideEffectReport(
                patient_id=patient.id,
                symptom=symptom[:200],
                red_flag=red_flag,
                frequency=frequency,
                intensity=intensity,
                burden=burden,
            )
        )
        if red_flag:
            raised = raise_followup(
                session,
                patient_id=patient.id,
                tier="urgent",
                rules=["R10"],
                summary="Reported a red-flag symptom.",
                message_id=message_id,
            )
            return f"{RED_FLAG_ADVICE} {next_step(raised.tier)}"
        found = fibser_rule(burden or 0)
        if found is None:
            return THANKS_ROUTINE
        tier, rule = found
        raise_followup(
            session,
            patient_id=patient.id,
            tier=tier,
            rules=[rule],
            summary=f"Side effect with FIBSER burden {burden}.",
            message_id=message_id,
        )
        return THANKS_PROMPT


class ActionSubmitSideEffect(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_SUBMIT_SIDE_EFFECT

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ratings = [_int(tracker.get_slot(s)) for s in FIBSER_SLOTS]
        reply = await provider.in_thread(
            save_report,
            tracker.sender_id,
            str(tracker.get_slot("symptom") or ""),
            ratings,
            False,
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=reply)
        return [SlotSet(s, None) for s in ("symptom", *FIBSER_SLOTS)]


class ActionRedFlag(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_RED_FLAG

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = await provider.in_thread(
            save_report,
            tracker.sender_id,
            tracker.latest_message.get("text") or "",
            [None, None, None],
            True,
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=reply)
        return []


def _int(value: Any) -> int | None:
    return int(value) if value is not None and str(value).isdigit() else None
