"""Two first signals for the same patient and kind at the same moment make one alert.

The race needs two real transactions that overlap, so it runs on PostgreSQL (SQLite
lets one writer at a time, so it cannot overlap there); the index itself is checked on
both databases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalation.alerts import Raised, raise_alert
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from store.db import session_factory
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.models import Alert, Message, Patient
from tests.conftest import TABLES

POLICY = load_policy()
WAIT = 20.0  # seconds: a bound on waiting for the other thread, never a timing assert


@pytest.fixture
def pg(pg_url: str) -> Iterator[sessionmaker[Session]]:
    sessions = session_factory(pg_url)
    yield sessions
    with sessions.begin() as session:
        for table in TABLES:
            session.execute(text(f"DELETE FROM {table}"))


def new_patient(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        clinic = ensure_clinic(session, "Clinic", "+15555550100", "9-5")
        patient = enrol(
            session,
            clinic,
            phone="+15555550142",
            name="Sam Race",
            tz="America/New_York",
            meds=[MedSpec("sertraline", "50mg", ("09:00",))],
            consent="v1",
            age_band="25_64",
        )
        return patient.id


def crisis_text(session: Session, patient_id: int, sid: str) -> Raised:
    """What the webhook does in one transaction: store the text, then raise the alert."""
    msg = Message(
        direction="inbound", provider_sid=sid, patient_id=patient_id, body="x", status="received"
    )
    session.add(msg)
    session.flush()
    return raise_alert(
        session,
        POLICY,
        patient_id=patient_id,
        tier="emergency",
        kind="suicidality",
        rules=["R1"],
        summary="t",
        message_id=msg.id,
    )


def waiting_on_a_lock(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_it_joins_two_simultaneous_first_signals_into_one_alert(
    pg: sessionmaker[Session],
) -> None:
    patient_id = new_patient(pg)
    first_inserted, commit_first = threading.Event(), threading.Event()
    results: dict[str, Raised] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with pg.begin() as session:
                results["first"] = crisis_text(session, patient_id, "SM-first")
                first_inserted.set()
                assert commit_first.wait(WAIT)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_inserted.set()

    def second() -> None:
        try:
            with pg.begin() as session:
                results["second"] = crisis_text(session, patient_id, "SM-second")
        except BaseException as exc:
            errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert first_inserted.wait(WAIT)
    b = threading.Thread(target=second)
    b.start()
    # The second insert waits on the first transaction's uncommitted alert row.
    deadline = time.monotonic() + WAIT
    while not waiting_on_a_lock(pg) and time.monotonic() < deadline and b.is_alive():
        time.sleep(0.02)
    assert waiting_on_a_lock(pg), "the second signal should be waiting for the first"
    commit_first.set()
    a.join(WAIT)
    b.join(WAIT)
    assert not errors, errors
    assert (results["first"].new, results["first"].page) == (True, True)
    assert (results["second"].new, results["second"].page) == (False, False)
    assert results["second"].alert_id == results["first"].alert_id
    with pg() as session:
        alert = session.scalars(select(Alert)).one()
        stored = session.scalars(select(Message.provider_sid).order_by(Message.id)).all()
    assert alert.signals == 2
    assert stored == ["SM-first", "SM-second"], "neither inbound message was rolled back"


def test_it_allows_one_live_alert_per_patient_and_kind(rt: Runtime, patient: Patient) -> None:
    def insert(code: str, state: str) -> None:
        with rt.sessions.begin() as session:
            session.add(
                Alert(
                    code=code,
                    patient_id=patient.id,
                    tier="urgent",
                    kind="red_flag",
                    rules="R10",
                    state=state,
                )
            )

    insert("AAAAA1", "resolved")
    insert("AAAAA2", "open")
    for code, state in [("AAAAA3", "open"), ("AAAAA4", "notified"), ("AAAAA5", "acknowledged")]:
        with pytest.raises(IntegrityError):
            insert(code, state)
    insert("AAAAA6", "resolved")
