"""A patient's timeline and the chart series, read from a real record (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from care.plans import change_regimen
from clinic.series import burden_points, dose_cells, med_changes, score_points
from clinic.timeline import timeline
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import (
    Alert,
    Checkin,
    ConsentEvent,
    DoseEvent,
    Message,
    Patient,
    Score,
    SideEffectReport,
)

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fill_record(session: Session, patient: Patient) -> None:
    """One row of every kind, a minute apart, in a known order."""
    entry = patient.regimen[0]
    entry.started_at = at(-60)
    session.add_all(
        [
            ConsentEvent(
                patient_id=patient.id,
                kind="granted",
                version="v1",
                channel="in_person",
                recorded_by="Dr Who",
                at=at(-50),
            ),
            Checkin(
                patient_id=patient.id,
                regimen_id=entry.id,
                scheduled_local="2026-11-20T09:00",
                due_at=at(0),
                status="answered",
                outcome="taken",
            ),
            Message(
                patient_id=patient.id,
                direction="outbound",
                body="Did you take your morning medicine?",
                kind="checkin",
                status="delivered",
                created_at=at(1),
            ),
            Message(
                patient_id=patient.id,
                direction="inbound",
                body="yes",
                status="processed",
                created_at=at(2),
            ),
            DoseEvent(
                patient_id=patient.id, regimen_id=entry.id, outcome="taken", recorded_at=at(3)
            ),
            SideEffectReport(
                patient_id=patient.id,
                symptom="nausea",
                frequency=3,
                intensity=2,
                burden=4,
                created_at=at(4),
            ),
            Score(
                patient_id=patient.id,
                instrument="PHQ-9",
                items="1=2,2=2,3=2,4=2,5=1,6=1,7=1,8=1,9=0",
                total=12,
                complete=True,
                created_at=at(5),
            ),
            Alert(
                code="A1B2C3",
                patient_id=patient.id,
                tier="prompt",
                kind="fibser",
                rules="R15",
                summary="Side-effect burden 4.",
                created_at=at(6),
            ),
            Message(
                patient_id=patient.id,
                direction="outbound",
                body="failed one",
                kind="reply",
                status="undelivered",
                error_code="30003",
                created_at=at(7),
            ),
        ]
    )
    session.flush()


def test_it_merges_every_kind_of_record_newest_first(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        fill_record(session, session.get_one(Patient, patient.id))
    with rt.sessions() as session:
        rows = timeline(session, patient.id)
    assert [r.kind for r in rows] == [
        "message_out",
        "alert",
        "score",
        "side_effect",
        "dose",
        "message_in",
        "message_out",
        "checkin",
        "consent",
        "plan",
    ]
    by_kind = {r.kind: r for r in rows}  # the oldest of each kind
    assert rows[0].status == "undelivered 30003"
    assert by_kind["message_out"].status == "delivered"
    assert by_kind["message_in"].detail == "yes"
    assert by_kind["side_effect"].detail == "frequency 3/6, intensity 2/6, burden 4/6"
    assert by_kind["score"].title == "PHQ-9 total 12 (moderate)"
    assert by_kind["alert"].title == "Alert A1B2C3: prompt (R15)"
    assert by_kind["checkin"].title == "Check-in: sertraline at 09:00"
    assert by_kind["checkin"].detail == "answered taken"
    assert by_kind["dose"].detail == "sertraline"
    assert by_kind["plan"].title == "Plan: sertraline 50mg at 09:00"
    assert by_kind["consent"].detail == "by Dr Who, in person"
    assert len({r.ref for r in rows}) == len(rows)


def test_it_limits_the_timeline_to_a_window(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        fill_record(session, session.get_one(Patient, patient.id))
    with rt.sessions() as session:
        rows = timeline(session, patient.id, since=at(5))
        assert [r.kind for r in rows] == ["message_out", "alert", "score"]
        newest = timeline(session, patient.id, limit=3)
        assert [r.kind for r in newest] == ["message_out", "alert", "score"]


def test_it_shows_a_plan_change_and_the_text_that_told_the_patient(
    rt: Runtime, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        found = session.get_one(Patient, patient.id)
        change_regimen(session, found, MedSpec("sertraline", "100mg", ("08:00",)), "daily")
    with rt.sessions() as session:
        rows = timeline(session, patient.id)
        changes = med_changes(session, session.get_one(Patient, patient.id))
    plans = [(r.title, r.status) for r in rows if r.kind == "plan"]
    assert plans == [
        ("Plan: sertraline 100mg at 08:00", "current"),
        ("Plan: sertraline 50mg at 09:00", "replaced"),
    ]
    [told] = [r for r in rows if r.kind == "message_out"]
    assert told.title == "Sent (plan_change)" and "updated your plan" in told.detail
    assert [c.label for c in changes] == [
        "started sertraline 50mg at 09:00",
        "changed sertraline 100mg at 08:00",
    ]


def test_it_gives_each_planned_dose_its_outcome(rt: Runtime, patient: Patient) -> None:
    statuses = [
        ("2026-11-18T09:00", "answered", "taken"),
        ("2026-11-19T09:00", "answered", "missed"),
        ("2026-11-20T09:00", "unanswered", None),
        ("2026-11-21T09:00", "later", "later"),
        ("2026-11-22T09:00", "sent", None),
        ("2026-09-01T09:00", "answered", "taken"),  # outside the window
    ]
    with rt.sessions.begin() as session:
        entry_id = session.get_one(Patient, patient.id).regimen[0].id
        for local, status, outcome in statuses:
            session.add(
                Checkin(
                    patient_id=patient.id,
                    regimen_id=entry_id,
                    scheduled_local=local,
                    due_at=datetime.fromisoformat(local + "+00:00") + timedelta(hours=5),
                    status=status,
                    outcome=outcome,
                )
            )
    with rt.sessions() as session:
        found = session.get_one(Patient, patient.id)
        cells = dose_cells(session, found, date(2026, 9, 28), date(2026, 11, 22))
    assert sorted((c.day.isoformat(), c.slot, c.outcome) for c in cells) == [
        ("2026-11-18", "sertraline 09:00", "taken"),
        ("2026-11-19", "sertraline 09:00", "missed"),
        ("2026-11-20", "sertraline 09:00", "unanswered"),
        ("2026-11-21", "sertraline 09:00", "later"),
        ("2026-11-22", "sertraline 09:00", "pending"),
    ]


def test_it_charts_only_completed_scores_and_reported_burdens(
    rt: Runtime, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        session.add_all(
            [
                Score(patient_id=patient.id, instrument="PHQ-9", total=14, complete=True),
                Score(patient_id=patient.id, instrument="PHQ-9", total=3, complete=False),
                Score(patient_id=patient.id, instrument="GAD-7", total=9, complete=True),
                SideEffectReport(patient_id=patient.id, symptom="tremor", burden=5),
                SideEffectReport(patient_id=patient.id, symptom="dizzy", burden=None),
            ]
        )
    with rt.sessions() as session:
        assert [p.value for p in score_points(session, patient.id, "PHQ-9")] == [14]
        assert [p.value for p in score_points(session, patient.id, "GAD-7")] == [9]
        assert [(p.value, p.label) for p in burden_points(session, patient.id)] == [(5, "tremor")]
