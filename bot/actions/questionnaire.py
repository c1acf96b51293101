"""One questionnaire item per text: the shared validation of the PHQ and ASQ forms.

Each answer is read, stored at once (so a positive item escalates before the form
ends) and only counts for the question just asked. A form mixes in `ItemForm`, says
how to parse, store and show an answer, and gets `validate_<prefix>_<n>` methods from
`add_item_validators` (a mixin, so the action server does not register it as an action).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import provider


class ItemForm:
    prefix = ""
    reask = ""

    def parse(self, text: str) -> Any:
        """The answer, or None when it cannot be read."""
        raise NotImplementedError

    def store(self, pseudonym: str, score_id: Any, item: int, answer: Any, mid: int | None) -> int:
        """Store one answer (runs in a thread); return the score id."""
        raise NotImplementedError

    def shown(self, answer: Any) -> str:
        return str(answer)

    def after(self, item: int, answer: Any, dispatcher: CollectingDispatcher) -> None:
        """What to tell the patient once an answer is stored (nothing by default)."""

    async def _item(
        self, item: int, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        slot = f"{self.prefix}_{item}"
        if tracker.get_slot("requested_slot") != slot:
            # Only the question just asked is answered: a value that arrived with the
            # message that opened the form (a crisis text) is not an answer to it.
            return {slot: None}
        answer = self.parse(str(value or ""))
        if answer is None:
            dispatcher.utter_message(text=self.reask)
            return {slot: None}
        sid = await provider.in_thread(
            self.store,
            tracker.sender_id,
            tracker.get_slot("score_id"),
            item,
            answer,
            provider.message_id(tracker),
        )
        self.after(item, answer, dispatcher)
        return {slot: self.shown(answer), "score_id": str(sid)}


def _validator(item: int) -> Any:
    async def validate(
        self: ItemForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Any,
    ) -> dict[str, Any]:
        return await self._item(item, value, dispatcher, tracker)

    return validate


def add_item_validators(cls: type[ItemForm], items: range) -> None:
    for item in items:
        setattr(cls, f"validate_{cls.prefix}_{item}", _validator(item))
