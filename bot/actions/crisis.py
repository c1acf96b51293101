"""Crisis: resources first (unless the safety screen already sent them), then the ASQ.

The ASQ (NIMH, free to use) follows the crisis resources, never replaces them. Each
answer is stored as it arrives; item 5 (thoughts of suicide right now) escalates at once.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.actions import provider
from bot.actions.names import (
    ACTION_CRISIS_RESPONSE,
    ACTION_SUBMIT_ASQ,
    VALIDATE_ASQ_FORM,
)
from bot.actions.questionnaire import ItemForm, add_item_validators
from care.followups import raise_followup
from care.scores import finish, save_item
from escalation.safety import crisis_reply
from instruments.answers import parse_yes_no
from instruments.scoring import asq_result

ASQ_SLOTS = tuple(f"asq_{i}" for i in range(1, 6))
# Asked first, before the ASQ: "are you safe right now?" (not an ASQ item, not scored).
SAFE_SLOT = "asq_safe"
REASK = "Please reply YES or NO."
NOT_SAFE_REPLY = (
    "Thank you for telling me. Please call 911 now, or call or text 988. Stay with someone "
    "you trust if you can. We have asked your care team to contact you right away."
)
ACUTE_REPLY = (
    "Thank you for telling me. Please call or text 988 now, or call 911 if you are in "
    "danger. Stay with someone you trust if you can. We have asked your care team to "
    "contact you right away."
)
POSITIVE_REPLY = (
    "Thank you for answering. We have asked your care team to contact you today. If things "
    "get worse, call or text 988, or call 911."
)
NEGATIVE_REPLY = (
    "Thank you for answering. If you ever feel unsafe, call or text 988 any time, or 911 in "
    "an emergency. You can also text us here."
)


def suicidality_alert(pseudonym: str, rule: str, summary: str, mid: int | None) -> None:
    """An emergency suicidality alert for the patient behind this pseudonym (none when no
    patient has it)."""
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is not None:
            raise_suicidality(session, patient.id, "emergency", rule, summary, mid)


def raise_suicidality(
    session: Session, patient_id: int, tier: str, rule: str, summary: str, mid: int | None
) -> None:
    raise_followup(
        session,
        patient_id=patient_id,
        tier=tier,
        rules=[rule],
        kind="suicidality",
        summary=summary,
        message_id=mid,
    )


def crisis_alert(pseudonym: str, mid: int | None) -> None:
    suicidality_alert(pseudonym, "R1", "Crisis language in a message.", mid)


class ActionCrisisResponse(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_CRISIS_RESPONSE

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not provider.screened(tracker):
            # The screen missed it but the NLU heard it: resources now, and the care team.
            dispatcher.utter_message(text=crisis_reply())
            await provider.in_thread(crisis_alert, tracker.sender_id, provider.message_id(tracker))
        dispatcher.utter_message(response="utter_asq_intro")
        # Any questionnaire in progress stops here; the rules go on to the ASQ.
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *(SlotSet(s, None) for s in (SAFE_SLOT, *ASQ_SLOTS, "score_id")),
        ]


def store_answer(pseudonym: str, score_id: Any, item: int, yes: bool, mid: int | None) -> int:
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return 0
        sid = int(score_id) if score_id and str(score_id).isdigit() else None
        score = save_item(session, patient.id, sid, "ASQ", item, int(yes))
        if yes and item == 5:
            summary = "ASQ: thoughts of suicide right now."
            raise_suicidality(session, patient.id, "emergency", "R4", summary, mid)
        return score.id


def not_safe(pseudonym: str, mid: int | None) -> None:
    suicidality_alert(pseudonym, "R1", "Said they are not safe right now.", mid)


class ValidateAsqForm(ItemForm, FormValidationAction):  # type: ignore[misc]
    prefix, reask = "asq", REASK

    async def validate_asq_safe(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Are you safe right now? "No" escalates at once and ends the questions."""
        if tracker.get_slot("requested_slot") != SAFE_SLOT:
            return {SAFE_SLOT: None}
        safe = parse_yes_no(str(value or ""))
        if safe is None:
            dispatcher.utter_message(text=REASK)
            return {SAFE_SLOT: None}
        if not safe:
            await provider.in_thread(not_safe, tracker.sender_id, provider.message_id(tracker))
        return {SAFE_SLOT: "yes" if safe else "no"}

    def parse(self, text: str) -> bool | None:
        return parse_yes_no(text)

    def store(self, pseudonym: str, score_id: Any, item: int, answer: Any, mid: int | None) -> int:
        return store_answer(pseudonym, score_id, item, bool(answer), mid)

    def shown(self, answer: Any) -> str:
        return "yes" if answer else "no"

    def name(self) -> str:
        return VALIDATE_ASQ_FORM

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Any,
    ) -> list[str]:
        if tracker.get_slot(SAFE_SLOT) == "no":  # not safe: no more questions
            return [s for s in domain_slots if s == SAFE_SLOT]
        answered = {i: tracker.get_slot(f"asq_{i}") == "yes" for i in range(1, 5)}
        done = all(tracker.get_slot(f"asq_{i}") is not None for i in range(1, 5))
        if done and asq_result(answered) == "negative":
            return [s for s in domain_slots if s != "asq_5"]
        return domain_slots


add_item_validators(ValidateAsqForm, range(1, 6))


def finish_asq(pseudonym: str, score_id: Any, answers: dict[int, bool], mid: int | None) -> str:
    from store.patients import by_pseudonym

    result = asq_result(answers)
    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if score_id and str(score_id).isdigit():
            finish(session, int(score_id), "ASQ")
        if patient is not None and result == "positive":
            raise_suicidality(session, patient.id, "urgent", "R6", "ASQ positive (not acute).", mid)
    return result


class ActionSubmitAsq(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_SUBMIT_ASQ

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(SAFE_SLOT) == "no":  # escalated when they said so
            dispatcher.utter_message(text=NOT_SAFE_REPLY)
            return [SlotSet("score_id", None)]
        answers = {i: tracker.get_slot(f"asq_{i}") == "yes" for i in range(1, 6)}
        result = await provider.in_thread(
            finish_asq,
            tracker.sender_id,
            tracker.get_slot("score_id"),
            answers,
            provider.message_id(tracker),
        )
        reply = {"acute": ACUTE_REPLY, "positive": POSITIVE_REPLY}.get(result, NEGATIVE_REPLY)
        dispatcher.utter_message(text=reply)
        return [SlotSet("score_id", None)]
