"""Helpers for running the custom actions against a real database (PostgreSQL and SQLite).

The actions reach the database through ``bot.actions.provider.sessions()``, which reads
DATABASE_URL once (lru_cache): ``db_env`` points it at the test database and clears the
cache before and after each test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import provider
from medfollow.runtime import Runtime
from store.models import Alert, Patient


@pytest.fixture
def db_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The actions' provider uses the test database for this test only."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    provider.sessions.cache_clear()
    yield db_url
    provider.sessions.cache_clear()


def make_tracker(
    *,
    sender: str,
    intent: str = "",
    text: str = "",
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A rasa_sdk tracker as the action server builds it for one turn."""
    latest_message: dict[str, Any] = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": [],
        "text": text,
        "metadata": metadata or {},
    }
    return Tracker(
        sender,
        dict(slots or {}),
        latest_message,
        list(events or []),
        False,
        None,
        {},
        "action_listen",
    )


@dataclass(frozen=True)
class Ran:
    """What one action run returned (events) and sent (messages)."""

    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if m.get("text")]

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}


def run_action(action: Any, tracker: Tracker) -> Ran:
    """Run an action's async ``run`` as the action server would."""
    dispatcher = CollectingDispatcher()
    events: list[dict[str, Any]] = asyncio.run(action.run(dispatcher, tracker, {}))
    return Ran(events, dispatcher.messages)


def run_validator(form: Any, slot: str, value: Any, tracker: Tracker) -> Ran:
    """Run one ``validate_<slot>`` method of a form validation action (sync or async), as
    Rasa does after asking for that slot (unless the tracker says another was asked)."""
    tracker.slots.setdefault("requested_slot", slot)
    if tracker.slots["requested_slot"] is None:
        tracker.slots["requested_slot"] = slot
    dispatcher = CollectingDispatcher()
    result = getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    events = [{"event": "slot", "name": k, "value": v} for k, v in result.items()]
    return Ran(events, dispatcher.messages)


def alerts_of(rt: Runtime, patient: Patient) -> list[tuple[str, str]]:
    """The patient's alerts as (tier, rules), oldest first."""
    with rt.sessions() as session:
        rows = session.scalars(
            select(Alert).where(Alert.patient_id == patient.id).order_by(Alert.id)
        ).all()
        return [(a.tier, a.rules) for a in rows]


def set_detail_level(rt: Runtime, patient: Patient, level: str) -> None:
    with rt.sessions.begin() as session:
        session.get_one(Patient, patient.id).sms_detail_level = level
