"""care.scores: questionnaire answers stored one item at a time (PostgreSQL and SQLite)."""

from __future__ import annotations

from sqlalchemy import func, select

from care.scores import finish, items_of, save_item
from medfollow.runtime import Runtime
from store.models import Patient, Score
from tests.conftest import make_patient


def count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Score)) or 0)


def test_it_creates_the_score_on_the_first_item_then_updates_it(
    rt: Runtime, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        score = save_item(session, patient.id, None, "PHQ-2", 1, 2)
        first_id = score.id
        assert (score.instrument, score.items, score.total, score.complete) == (
            "PHQ-2",
            "1=2",
            2,
            False,
        )
    with rt.sessions.begin() as session:
        score = save_item(session, patient.id, first_id, "PHQ-2", 2, 1)
        assert score.id == first_id
        # An item answered again replaces its value.
        score = save_item(session, patient.id, first_id, "PHQ-9", 1, 3)
        assert score.id == first_id
    with rt.sessions() as session:
        stored = session.get_one(Score, first_id)
        assert (stored.instrument, stored.items, stored.total) == ("PHQ-9", "1=3,2=1", 4)
        assert items_of(stored) == {1: 3, 2: 1}
    assert count(rt) == 1


def test_it_keeps_items_in_order_whatever_order_they_arrive(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        score = save_item(session, patient.id, None, "PHQ-9", 9, 0)
        for item in (3, 1, 2):
            score = save_item(session, patient.id, score.id, "PHQ-9", item, item)
        assert score.items == "1=1,2=2,3=3,9=0"
        assert score.total == 6


def test_it_does_not_reuse_a_completed_score(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        old = save_item(session, patient.id, None, "PHQ-2", 1, 1)
        assert finish(session, old.id, "PHQ-2") is old
        assert old.complete is True
        new = save_item(session, patient.id, old.id, "PHQ-2", 1, 3)
        assert new.id != old.id
        assert (new.items, new.complete) == ("1=3", False)
        assert (old.items, old.total) == ("1=1", 1)
    assert count(rt) == 2


def test_it_does_not_add_to_another_patients_score(rt: Runtime, patient: Patient) -> None:
    other = make_patient(rt, phone="+15555550170", name="Other Person")
    with rt.sessions.begin() as session:
        theirs = save_item(session, other.id, None, "ASQ", 1, 1)
        mine = save_item(session, patient.id, theirs.id, "ASQ", 1, 0)
        assert mine.id != theirs.id
        assert (mine.patient_id, theirs.items) == (patient.id, "1=1")


def test_it_starts_a_new_score_when_the_id_does_not_exist(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        score = save_item(session, patient.id, 987654, "ASQ", 2, 1)
        assert score.id != 987654
        assert score.items == "2=1"


def test_it_finishes_a_score_under_its_final_instrument(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        score = save_item(session, patient.id, None, "PHQ-2", 1, 2)
        finished = finish(session, score.id, "PHQ-9")
        assert finished is not None
        assert (finished.complete, finished.instrument) == (True, "PHQ-9")
        assert finish(session, 987654, "PHQ-9") is None


def test_it_reads_no_items_from_an_empty_score() -> None:
    assert items_of(Score(patient_id=1, instrument="ASQ", items="")) == {}
