"""Mood: PHQ-2, then PHQ-9 when positive; each item is scored and stored as it arrives.
Item 9 above 0 escalates at once, before the questionnaire ends."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import provider
from bot.actions.names import (
    ACTION_START_MOOD_CHECK,
    ACTION_SUBMIT_PHQ2,
    ACTION_SUBMIT_PHQ9,
    VALIDATE_PHQ2_FORM,
    VALIDATE_PHQ9_FORM,
)
from bot.actions.questionnaire import ItemForm, add_item_validators
from care.followups import next_step, raise_followup
from care.scores import finish, items_of, previous_total, save_item
from escalation.patterns import score_rules
from escalation.safety import crisis_reply
from instruments.answers import parse_phq
from instruments.scoring import item9_escalates, phq2_positive, phq9_band, thresholds

PHQ_SLOTS = tuple(f"phq_{i}" for i in range(1, 10))
REASK = "Please reply with 0, 1, 2 or 3 (0 = not at all, 3 = nearly every day)."
ITEM9_REPLY = "Thank you for telling us. We have asked your care team to contact you today. "
STILL_HERE = "If things get worse, call or text 988, or call 911."


def store_item(pseudonym: str, score_id: Any, item: int, value: int, mid: int | None) -> int:
    """Store one PHQ answer; escalate item 9 at once. Returns the score id."""
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return 0
        instrument = "PHQ-2" if item <= 2 else "PHQ-9"
        sid = int(score_id) if score_id and str(score_id).isdigit() else None
        score = save_item(session, patient.id, sid, instrument, item, value)
        if item == 9 and item9_escalates(value):
            raise_followup(
                session,
                patient_id=patient.id,
                tier="urgent",
                rules=["R5" if value >= 2 else "R6"],
                kind="suicidality",
                summary=f"PHQ-9 item 9 answered {value} (thoughts of death or self-harm).",
                message_id=mid,
            )
        return score.id


class _PhqItems(ItemForm):
    prefix, reask = "phq", REASK

    def parse(self, text: str) -> int | None:
        return parse_phq(text)

    def store(self, pseudonym: str, score_id: Any, item: int, answer: Any, mid: int | None) -> int:
        return store_item(pseudonym, score_id, item, int(answer), mid)

    def after(self, item: int, answer: Any, dispatcher: CollectingDispatcher) -> None:
        if item == 9 and item9_escalates(int(answer)):
            dispatcher.utter_message(text=ITEM9_REPLY + crisis_reply())


class ValidatePhq2Form(_PhqItems, FormValidationAction):  # type: ignore[misc]
    def name(self) -> str:
        return VALIDATE_PHQ2_FORM


class ValidatePhq9Form(_PhqItems, FormValidationAction):  # type: ignore[misc]
    def name(self) -> str:
        return VALIDATE_PHQ9_FORM


add_item_validators(ValidatePhq2Form, range(1, 3))
add_item_validators(ValidatePhq9Form, range(3, 10))


def report_mood_check(pseudonym: str, answered: bool) -> int:
    """Tell the patient's scheduled questionnaire (care/mood_checks.py) that the PHQ-2 was
    asked, or that it is complete. Returns how many rows moved (0 when none was waiting)."""
    from care.mood_checks import mark_answered, mark_asked
    from store.models import utcnow
    from store.patients import by_pseudonym

    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        if patient is None:
            return 0
        mark = mark_answered if answered else mark_asked
        return mark(session, patient.id, utcnow())


class ActionStartMoodCheck(Action):  # type: ignore[misc]
    """Start the mood questions with a clean slate (scheduled or offered after a mood
    report); a scheduled questionnaire waiting to be asked is marked sent."""

    def name(self) -> str:
        return ACTION_START_MOOD_CHECK

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await provider.in_thread(report_mood_check, tracker.sender_id, False)
        dispatcher.utter_message(response="utter_mood_intro")
        return [SlotSet(s, None) for s in (*PHQ_SLOTS, "score_id", "phq2_positive")]


def finish_score(pseudonym: str, score_id: Any, instrument: str, mid: int | None) -> str | None:
    """Complete the questionnaire; the tier of the care-team alert its total raised, if any."""
    from store.patients import by_pseudonym

    if not score_id or not str(score_id).isdigit():
        return None
    raised: str | None = None
    with provider.sessions().begin() as session:
        patient = by_pseudonym(session, pseudonym)
        score = finish(session, int(score_id), instrument)
        if score is None or patient is None:
            return None
        answers = items_of(score)
        # R16/R17 are for item 9 = 0; a positive item 9 escalated on its own already.
        if instrument == "PHQ-9" and answers.get(9, 0) == 0:
            previous = previous_total(session, patient.id, score.id)
            for finding in score_rules("phq9", sum(answers.values()), None, previous, thresholds()):
                raised = raise_followup(
                    session,
                    patient_id=patient.id,
                    tier=finding.tier,
                    rules=[finding.rule],
                    kind="phq9",
                    message_id=mid,
                    summary=f"PHQ-9 total {sum(answers.values())} "
                    f"({phq9_band(sum(answers.values()))}).",
                ).tier
        return raised


class ActionSubmitPhq2(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_SUBMIT_PHQ2

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        one, two = (int(tracker.get_slot(f"phq_{i}") or 0) for i in (1, 2))
        # The PHQ-2 is complete either way (the PHQ-9 that may follow is another score).
        await provider.in_thread(report_mood_check, tracker.sender_id, True)
        if phq2_positive(one, two):
            # The rules go on to the PHQ-9 when this slot is true.
            dispatcher.utter_message(response="utter_phq9_intro")
            return [SlotSet("phq2_positive", True)]
        await provider.in_thread(
            finish_score,
            tracker.sender_id,
            tracker.get_slot("score_id"),
            "PHQ-2",
            provider.message_id(tracker),
        )
        dispatcher.utter_message(response="utter_mood_thanks")
        return [SlotSet("score_id", None), SlotSet("phq2_positive", False)]


class ActionSubmitPhq9(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_SUBMIT_PHQ9

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        tier = await provider.in_thread(
            finish_score,
            tracker.sender_id,
            tracker.get_slot("score_id"),
            "PHQ-9",
            provider.message_id(tracker),
        )
        if tier is None:
            dispatcher.utter_message(response="utter_mood_thanks")
        else:  # the total needs the care team: say what happens next and by when
            reply = f"Thank you for answering. {next_step(tier)} {STILL_HERE}"
            dispatcher.utter_message(text=reply)
        return [SlotSet("score_id", None)]
