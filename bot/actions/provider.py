"""What the actions reach: the app database and the education library, built on first use.

Actions stay thin: read slots, call a service, return events. The action server's event
loop must not block, so database work runs in a thread (`in_thread`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from rasa_sdk import Tracker
from sqlalchemy.orm import Session, sessionmaker

from education.library import Library, load_library
from medfollow.settings import Settings
from store.db import session_factory
from store.models import Patient
from store.patients import by_pseudonym

T = TypeVar("T")


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    return session_factory(Settings.from_env().database_url)


def settings() -> Settings:
    """The settings the actions need besides the database (read from the environment)."""
    return Settings.from_env()


@lru_cache(maxsize=1)
def library() -> Library:
    return load_library()


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(func, *args)


def message_id(tracker: Tracker) -> int | None:
    """The app's id of the inbound message this turn answers (from the REST metadata)."""
    metadata = tracker.latest_message.get("metadata") or {}
    value = metadata.get("message_id") if isinstance(metadata, dict) else None
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def screened(tracker: Tracker) -> bool:
    """True when the safety screen already sent the crisis reply for this message."""
    metadata = tracker.latest_message.get("metadata") or {}
    return isinstance(metadata, dict) and bool(metadata.get("screened"))


def patient_of(session: Session, tracker: Tracker) -> Patient | None:
    sender: str = tracker.sender_id
    return by_pseudonym(session, sender)
