"""One patient's inbound rows commit in the order of their ids (conversation/intake.py).

Workers answer a patient's texts in id order, taking what is committed: a second text
whose row commits before an earlier-numbered one would be answered first. The race
needs two overlapping transactions, so it runs on PostgreSQL (SQLite lets one writer
at a time: ids there follow commits already).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from conversation.intake import store_inbound
from store.db import session_factory
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.models import Message
from tests.conftest import TABLES

WAIT = 20.0  # seconds: a bound on waiting for the other thread, never a timing assert
PHONE = "+15555550142"


@pytest.fixture
def pg(pg_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = session_factory(pg_url)
    with sessions.begin() as session:
        clinic = ensure_clinic(session, "Clinic", "+15555550100", "9-5")
        enrol(
            session,
            clinic,
            phone=PHONE,
            name="Sam Order",
            tz="America/New_York",
            meds=[MedSpec("sertraline", "50mg", ("09:00",))],
            consent="v1",
        )
    yield sessions
    with sessions.begin() as session:
        for table in TABLES:
            session.execute(text(f"DELETE FROM {table}"))


def test_it_makes_a_second_text_of_the_patient_wait_for_the_first_to_commit(
    pg: sessionmaker[Session],
) -> None:
    first = pg()
    first.begin()
    stored = store_inbound(first, "SM-first", PHONE, "first")
    assert stored is not None
    second_id: list[int] = []
    started, done = threading.Event(), threading.Event()

    def second() -> None:
        with pg.begin() as session:
            started.set()
            msg = store_inbound(session, "SM-second", PHONE, "second")
            assert msg is not None
            second_id.append(msg.id)
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert started.wait(WAIT)
    assert not done.wait(1.0), "the second text waited for the first's transaction"
    with pg() as session:
        assert session.scalars(select(Message.id)).all() == [], "nothing committed yet"
    first.commit()
    first.close()
    assert done.wait(WAIT)
    thread.join(WAIT)
    assert second_id and second_id[0] > stored.id, "ids follow the commits"


def test_it_does_not_hold_back_another_patients_text(pg: sessionmaker[Session]) -> None:
    with pg.begin() as session:
        clinic = ensure_clinic(session, "Clinic", "+15555550100", "9-5")
        enrol(
            session,
            clinic,
            phone="+15555550143",
            name="Alex Other",
            tz="America/New_York",
            meds=[MedSpec("sertraline", "50mg", ("09:00",))],
            consent="v1",
        )
    first = pg()
    first.begin()
    assert store_inbound(first, "SM-a", PHONE, "mine") is not None
    try:
        done = threading.Event()

        def other() -> None:
            with pg.begin() as session:
                assert store_inbound(session, "SM-b", "+15555550143", "theirs") is not None
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(WAIT), "another patient's text is stored while the first is open"
        thread.join(WAIT)
    finally:
        first.rollback()
        first.close()
