"""action_greet_patient greets enrolled patients by first name, anyone else generically.

Runs the real action with rasa_sdk's own dispatcher and tracker against a real SQLite
database (`rasa test core` does not run custom actions).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import ActionGreetPatient
from bot.actions.greet import GREETING_BY_NAME, GREETING_GENERIC, first_name
from store.db import make_engine, session_factory
from store.models import Base, Clinic, Patient

MAX_SMS_CHARS = 320


def tracker_for(sender_id: str) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": {},
            "latest_message": {"intent": {"name": "greet"}, "text": "heyy"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def greet(sender_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the action; return (events, messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionGreetPatient().run(dispatcher, tracker_for(sender_id), {}))
    return events, dispatcher.messages


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database with one enrolled patient, pseudonym 'p-dana'."""
    url = f"sqlite:///{tmp_path / 'greet.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    with session_factory(url)() as session:
        clinic = Clinic(name="Test Clinic", phone="+15005550100", hours="Mon-Fri 9-5")
        session.add(clinic)
        session.flush()
        session.add(
            Patient(
                clinic_id=clinic.id,
                pseudonym="p-dana",
                phone="+15005550123",
                display_name="Dana Q. Smith",
                timezone="America/New_York",
            )
        )
        session.commit()
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_it_greets_an_enrolled_patient_by_first_name(database: str) -> None:
    events, messages = greet("p-dana")
    assert events == []
    assert [m["text"] for m in messages] == [GREETING_BY_NAME.format(name="Dana")]
    assert messages[0]["text"].startswith("Hi Dana! ")
    assert "medicines" in messages[0]["text"]


def test_it_greets_an_unknown_sender_generically(database: str) -> None:
    _, messages = greet("not-a-patient")
    assert [m["text"] for m in messages] == [GREETING_GENERIC]


def test_it_greets_generically_when_the_database_cannot_be_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    _, messages = greet("p-dana")
    assert [m["text"] for m in messages] == [GREETING_GENERIC]


def test_it_uses_the_first_word_of_the_display_name() -> None:
    assert first_name("  Ana   Lucia Ortiz ") == "Ana"
    assert first_name("   ") is None


def test_it_keeps_the_greetings_short_and_plain() -> None:
    long_name = GREETING_BY_NAME.format(name="X" * 40)
    for text in (GREETING_GENERIC, long_name):
        assert len(text) <= MAX_SMS_CHARS
        assert text.isascii() and "\u2019" not in text
