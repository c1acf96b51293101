"""Questions about medicines: answers come from the content library, never from the model."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.actions import provider
from bot.actions.names import ACTION_INTERACTION, ACTION_MED_INFO, ACTION_MISSED_DOSE_INFO
from care.followups import raise_followup
from education.answers import asked_about, choose_topic, mentioned, unnamed
from education.interactions import find_interactions
from education.library import Medication, TextKey
from store.models import Patient

WHICH_MEDICINE = (
    "Which medicine do you mean? Text its name and your question, and I will send what "
    "our clinic shares about it."
)
NOT_IN_LIBRARY = (
    "I do not have approved information about that medicine. I have passed your question "
    "to your care team, and they will reply within 1 business day."
)
CHECK_FIRST = "Please check with your pharmacist or care team before taking it."
NOT_LISTED = (
    "I can't tell you that two medicines are safe together. Please check with your "
    "pharmacist or care team before taking it, and tell them every medicine you take."
)


def regimen_meds(patient: Patient) -> list[Medication]:
    lib = provider.library()
    meds = [lib.get(r.medication.name) for r in patient.regimen if r.active]
    return [m for m in meds if m is not None]


def pick_medicine(session: Session, patient: Patient, text: str) -> tuple[Medication | None, bool]:
    """The medicine asked about, and whether the patient named it themselves."""
    named = mentioned(text, provider.library())
    if named:
        return named[0], True
    mine = regimen_meds(patient)
    return (mine[0], False) if len(mine) == 1 else (None, False)


def info_reply(pseudonym: str, text: str, topic: TextKey | None, message_id: int | None) -> str:
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return WHICH_MEDICINE
        med, named = pick_medicine(session, patient, text)
        if med is None:
            if mentioned(text, provider.library()) or len(regimen_meds(patient)) > 1:
                return WHICH_MEDICINE
            raise_followup(
                session,
                patient_id=patient.id,
                tier="prompt",
                rules=["R22"],
                message_id=message_id,
                summary="A medicine question with no approved answer.",
            )
            return NOT_IN_LIBRARY
        answer = med.texts.get(topic or choose_topic(text))
        # Name the medicine only if the patient did, or agreed to named texts.
        if not named and patient.sms_detail_level != "named":
            answer = unnamed(answer, med)
        return answer


def interaction_reply(pseudonym: str, text: str, message_id: int | None) -> str:
    from store.patients import by_pseudonym

    lib = provider.library()
    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        current = [m.name for m in regimen_meds(patient)] if patient else []
        others = asked_about(text, current, lib)
        rows = [row for other in others for row in find_interactions(current, other, lib)]
        if patient is not None and rows:
            top = rows[0]
            raise_followup(
                session,
                patient_id=patient.id,
                tier=top.tier,
                rules=["R11", top.id],
                message_id=message_id,
                summary=f"Asked about taking {', '.join(others)} with current medicines.",
            )
            reason = top.reason
            if patient.sms_detail_level != "named":
                # Name the patient's own medicine only if they did, or agreed to names.
                said = {m.name for m in mentioned(text, lib)}
                for med in regimen_meds(patient):
                    if med.name not in said:
                        reason = unnamed(reason, med, "your medicine")
            return f"{CHECK_FIRST} {reason}"
        return NOT_LISTED


class ActionMedInfo(Action):  # type: ignore[misc]
    topic: TextKey | None = None

    def name(self) -> str:
        return ACTION_MED_INFO

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = await provider.in_thread(
            info_reply,
            tracker.sender_id,
            tracker.latest_message.get("text") or "",
            self.topic,
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=reply)
        return []


class ActionMissedDoseInfo(ActionMedInfo):
    topic: TextKey | None = "missed_dose"

    def name(self) -> str:
        return ACTION_MISSED_DOSE_INFO


class ActionInteraction(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_INTERACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = await provider.in_thread(
            interaction_reply,
            tracker.sender_id,
            tracker.latest_message.get("text") or "",
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=reply)
        return []
