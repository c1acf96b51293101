"""The greeting: say hello to the patient by first name.

The conversation's sender id is the patient's pseudonym (never a phone number), so the
action looks the patient up by it in the app database. An unknown sender, or a database
that cannot be reached, gets the generic greeting: a hello never fails a conversation.
"""

from __future__ import annotations

import asyncio
import logging
import os
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.actions.names import ACTION_GREET_PATIENT
from medfollow.settings import Secret, Settings
from store.db import session_factory
from store.patients import by_pseudonym

log = logging.getLogger(__name__)

_INVITE = "Good to hear from you. You can reply any time with a question about your medicines."
GREETING_BY_NAME = "Hi {name}! " + _INVITE
GREETING_GENERIC = "Hi! " + _INVITE


@lru_cache(maxsize=4)
def _sessions(database_url: str | Secret) -> sessionmaker[Session]:
    """One sessionmaker per database URL, built on first use (never at import)."""
    return session_factory(database_url)


def first_name(display_name: str) -> str | None:
    """The first word of a display name, or None when there is none."""
    words = display_name.split()
    return words[0] if words else None


def lookup_first_name(database_url: str | Secret, pseudonym: str) -> str | None:
    """The first name of the patient with this pseudonym, or None if there is no such one."""
    with _sessions(database_url)() as session:
        patient = by_pseudonym(session, pseudonym)
        return None if patient is None else first_name(patient.display_name)


def greeting(name: str | None) -> str:
    """The greeting text: by name when the name is known, generic otherwise."""
    return GREETING_GENERIC if name is None else GREETING_BY_NAME.format(name=name)


class ActionGreetPatient(Action):  # type: ignore[misc]  # rasa_sdk ships no type hints
    """Greet the patient, by first name when the sender id is an enrolled patient."""

    def name(self) -> str:
        return ACTION_GREET_PATIENT

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        database_url = Settings.from_env(os.environ).database_url
        sender_id: str = tracker.sender_id
        try:
            # The lookup is blocking I/O: keep it off the action server's event loop.
            name = await asyncio.to_thread(lookup_first_name, database_url, sender_id)
        except SQLAlchemyError:
            # Logged without the sender id or any name: both identify the patient.
            log.exception("patient lookup failed; sending the generic greeting")
            name = None
        dispatcher.utter_message(text=greeting(name))
        return []
