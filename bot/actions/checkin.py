"""Dose check-ins: ask about the dose, then read taken / missed / later in that context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import provider
from bot.actions.names import ACTION_ANSWER_CHECKIN, ACTION_ASK_CHECKIN
from care.adherence import check_patterns
from care.checkins import dose_words, local_now, mark_asked, open_checkin, record_answer
from care.followups import next_step, raise_followup
from care.timing import parse_later
from scheduling.preferences import waits
from store.models import Checkin, Patient

# How a reply is read while a check-in is open.
OUTCOMES = {
    "affirm": "taken",
    "dose_taken": "taken",
    "deny": "missed",
    "dose_missed": "missed",
    "dose_later": "later",
}
TAKEN_REPLY = "Thanks for letting us know. Nice work keeping on track!"
NO_OPEN_REPLY = (
    "Thanks for letting us know. If you have a question about a dose, text it to us, "
    "or call your care team."
)


def first_name(patient: Patient) -> str:
    return (patient.display_name.split() or ["there"])[0]


def ask_text(session: Any, checkin_id: int) -> str | None:
    """Mark the check-in sent and return its question, or None if it is not due."""
    checkin = session.get(Checkin, checkin_id)
    if checkin is None or checkin.status not in ("due", "queued", "held", "sent", "later"):
        return None
    patient = session.get_one(Patient, checkin.patient_id)
    hhmm = checkin.scheduled_local[-5:]
    # The plan's answer window and one reminder (the scheduler sends it).
    mark_asked(checkin, waits(patient, provider.settings()))
    return (
        f"Hi {first_name(patient)}, did you take {dose_words(patient, checkin.regimen, hhmm)}? "
        "Reply YES, NO, or LATER if you will take it soon."
    )


class ActionAskCheckin(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_ASK_CHECKIN

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raw = tracker.get_slot("checkin_id")
        if raw is None or not str(raw).isdigit():
            return []
        text = await provider.in_thread(_ask, int(raw))
        if text is None:
            return [SlotSet("checkin_id", None)]
        dispatcher.utter_message(text=text)
        return [SlotSet("checkin_id", str(raw))]


def _ask(checkin_id: int) -> str | None:
    with provider.sessions().begin() as session:
        return ask_text(session, checkin_id)


@dataclass(frozen=True)
class Answer:
    reply: str
    recorded: bool


def answer(
    patient_pseudonym: str, intent: str, text: str, checkin_id: int | None, message_id: int | None
) -> Answer:
    """Record the patient's answer against the open check-in and choose the reply.

    Nothing is recorded without an open check-in: a dose is only ever logged as the
    answer to the one question asked ("mark all my doses as taken" changes nothing).
    """
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, patient_pseudonym)
        checkin = open_checkin(session, patient.id, checkin_id) if patient else None
        outcome = OUTCOMES.get(intent)
        if patient is None or checkin is None or outcome is None:
            return Answer(NO_OPEN_REPLY, recorded=False)
        if outcome == "taken":
            record_answer(session, checkin, "taken", message_id=message_id)
            return Answer(TAKEN_REPLY, recorded=True)
        if outcome == "later":
            when = parse_later(text, local_now(patient))
            record_answer(session, checkin, "later", message_id=message_id, later_at=when)
            clock = when.strftime("%I:%M %p").lstrip("0")
            return Answer(f"OK, no problem. Please take it when you can, around {clock}.", True)
        record_answer(session, checkin, "missed", message_id=message_id)
        med = provider.library().get(checkin.regimen.medication.name)
        guidance = med.texts.get("missed_dose") if med else _GENERAL_MISSED
        if med is not None and med.missed_dose_rule == "contact_team":
            urgent = med.name == "clozapine"  # any missed day needs a re-titration decision
            raised = raise_followup(
                session,
                patient_id=patient.id,
                tier="urgent" if urgent else "prompt",
                rules=["R12" if urgent else "missed-dose-plan"],
                # The same kind as the missed-streak rule, so the two join into one alert.
                kind="pattern:R12" if urgent else "missed-dose-plan",
                message_id=message_id,
                summary=f"Missed a dose of {med.name}; its plan says to contact the team.",
            )
            guidance += " " + next_step(raised.tier)
        check_patterns(session, patient, message_id)
        return Answer("Thanks for telling us. " + guidance, recorded=True)


_GENERAL_MISSED = (
    "Please do not take a double dose to make up for it. If you are not sure what to do, "
    "ask your pharmacist or call your care team."
)


class ActionAnswerCheckin(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_ANSWER_CHECKIN

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raw = tracker.get_slot("checkin_id")
        result = await provider.in_thread(
            answer,
            tracker.sender_id,
            tracker.latest_message.get("intent", {}).get("name", ""),
            tracker.latest_message.get("text") or "",
            int(raw) if raw and str(raw).isdigit() else None,
            provider.message_id(tracker),
        )
        dispatcher.utter_message(text=result.reply)
        return [SlotSet("checkin_id", None)] if result.recorded else []
