"""Messages the assistant cannot place: a polite redirect, then HELP after two in a row."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.names import ACTION_UNCLEAR

UNCLEAR = {"out_of_scope", "nlu_fallback"}


def unclear_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were out of scope or unclear."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent not in UNCLEAR:
            break
        count += 1
    return count


class ActionUnclear(Action):  # type: ignore[misc]
    def name(self) -> str:
        return ACTION_UNCLEAR

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if unclear_in_a_row(tracker) >= 2:
            dispatcher.utter_message(response="utter_fallback_help")
        else:
            dispatcher.utter_message(response="utter_out_of_scope")
        return []
