"""Requests that need a person: stopping a medicine, access problems, asking for a clinician."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import provider
from bot.actions.education import regimen_meds
from bot.actions.names import (
    ACTION_ACCESS_BARRIER,
    ACTION_REQUEST_CLINICIAN,
    ACTION_STOP_MEDICATION,
)
from care.followups import raise_followup
from education.answers import mentioned
from escalation.rules import RAN_OUT

STOP_NEVER_SUDDENLY = (
    "Thank you for telling us. Stopping this medicine suddenly can make you unwell, so "
    "please talk with your care team before you stop. We have asked them to call you "
    "today, within 2 hours during clinic hours."
)
STOP_OTHER = (
    "Thank you for telling us. Please talk with your care team before you stop any "
    "medicine. We have passed this on, and they will contact you within 1 business day."
)
ACCESS = (
    "Thanks for letting us know. We have asked the care team to help with this, and they "
    "will contact you within 1 business day. If you have run out, tell your pharmacist too."
)
ACCESS_URGENT = (
    "Thanks for letting us know. Running out of this medicine can make you unwell, so we "
    "have asked your care team to call you today, within 2 hours during clinic hours."
)
CLINICIAN = (
    "OK. We have asked your care team to contact you, within 1 business day. If it is "
    "urgent, call the clinic. In a crisis call or text 988, or call 911 in an emergency."
)


def _request(pseudonym: str, kind: str, text: str, message_id: int | None) -> str:
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return CLINICIAN
        meds = mentioned(text, provider.library()) or regimen_meds(patient)
        risky = any(m.never_stop_suddenly for m in meds)
        if kind == "stop":
            tier, rule, reply = (
                ("urgent", "R13", STOP_NEVER_SUDDENLY) if risky else ("prompt", "R23", STOP_OTHER)
            )
            summary = "Says they want to stop a medicine."
        elif kind == "access":
            ran_out = any(p in text.lower() for p in RAN_OUT)
            benzo = any(m.drug_class == "benzodiazepine" for m in meds)
            urgent = ran_out and (benzo or risky)
            tier, rule, reply = (
                ("urgent", "R10", ACCESS_URGENT) if urgent else ("prompt", "R18", ACCESS)
            )
            summary = "Reports a problem getting or paying for medicine."
        else:
            tier, rule, reply = "prompt", "R23", CLINICIAN
            summary = "Asked to talk to a person."
        raise_followup(
            session,
            patient_id=patient.id,
            tier=tier,
            rules=[rule],
            summary=summary,
            message_id=message_id,
        )
        return reply


class _Request:
    """Shared run (a mixin, so the action server does not register it)."""

    kind = ""
    action_name = ""

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = await provider.in_thread(
            _request,
            tracker.sender_id,
            self.kind,
            tracker.latest_message.get("text") or "",
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=reply)
        return []


class ActionStopMedication(_Request, Action):  # type: ignore[misc]
    kind, action_name = "stop", ACTION_STOP_MEDICATION


class ActionAccessBarrier(_Request, Action):  # type: ignore[misc]
    kind, action_name = "access", ACTION_ACCESS_BARRIER


class ActionRequestClinician(_Request, Action):  # type: ignore[misc]
    kind, action_name = "clinician", ACTION_REQUEST_CLINICIAN
