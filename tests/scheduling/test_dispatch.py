"""Planning check-in rows and dispatching due ones, on real databases and Redis."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from medfollow.runtime import Runtime
from scheduling.dispatch import dispatch_due, plan_checkins
from store.enrolment import MedSpec
from store.models import Checkin, Patient
from tests.conftest import make_patient

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York


def two_doses(rt: Runtime, **overrides: object) -> Patient:
    meds = [MedSpec("sertraline", "50mg", ("09:00", "19:00"))]
    return make_patient(rt, meds=meds, **overrides)


def count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count(Checkin.id))) or 0)


def test_it_plans_each_dose_once_however_often_it_runs(rt: Runtime) -> None:
    two_doses(rt)
    assert plan_checkins(rt, NOW) == 2
    assert plan_checkins(rt, NOW) == 0
    assert plan_checkins(rt, NOW + timedelta(hours=1)) == 0
    with rt.sessions() as session:
        rows = session.scalars(select(Checkin).order_by(Checkin.due_at)).all()
    assert [r.scheduled_local for r in rows] == ["2026-11-23T09:00", "2026-11-23T19:00"]
    assert [r.due_at for r in rows] == [NOW + timedelta(hours=2), NOW + timedelta(hours=12)]


def test_it_plans_no_duplicates_when_two_schedulers_race(rt: Runtime) -> None:
    two_doses(rt)
    threads = [threading.Thread(target=plan_checkins, args=(rt, NOW)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(rt) == 2


def test_it_plans_nothing_for_an_opted_out_or_paused_patient(rt: Runtime) -> None:
    patient = two_doses(rt)
    with rt.sessions.begin() as session:
        session.get_one(Patient, patient.id).opted_out = True
    assert plan_checkins(rt, NOW) == 0


def test_it_starts_a_due_checkin_once(rt: Runtime) -> None:
    two_doses(rt)
    plan_checkins(rt, NOW)
    at_nine = NOW + timedelta(hours=2, minutes=1)
    assert dispatch_due(rt, at_nine) == 1
    assert dispatch_due(rt, at_nine) == 0
    assert rt.queue().count == 1
    with rt.sessions() as session:
        statuses = [r.status for r in session.scalars(select(Checkin).order_by(Checkin.due_at))]
    assert statuses == ["queued", "due"]


def test_it_skips_a_checkin_whose_window_has_passed(rt: Runtime) -> None:
    two_doses(rt)
    plan_checkins(rt, NOW)
    assert dispatch_due(rt, NOW + timedelta(days=1)) == 0
    with rt.sessions() as session:
        assert {r.status for r in session.scalars(select(Checkin))} == {"skipped"}


def sent_checkin(rt: Runtime, patient: Patient, sent_at: datetime) -> int:
    with rt.sessions.begin() as session:
        regimen = session.get_one(Patient, patient.id).regimen[0]
        row = Checkin(
            patient_id=patient.id,
            regimen_id=regimen.id,
            scheduled_local="2026-11-23T09:00",
            due_at=sent_at,
            status="sent",
            sent_at=sent_at,
            reminder_at=sent_at + timedelta(minutes=60),
        )
        session.add(row)
        session.flush()
        return row.id


def test_it_reminds_once_an_hour_after_an_unanswered_checkin(rt: Runtime) -> None:
    from scheduling.dispatch import follow_up
    from store.models import Message

    patient = two_doses(rt)
    sent = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York
    sent_checkin(rt, patient, sent)
    assert follow_up(rt, sent + timedelta(minutes=30)) == (0, 0)
    assert follow_up(rt, sent + timedelta(minutes=61)) == (1, 0)
    assert follow_up(rt, sent + timedelta(minutes=62)) == (0, 0), "once"
    with rt.sessions() as session:
        [reminder] = session.scalars(select(Message).where(Message.kind == "checkin")).all()
    assert reminder.body.startswith("Just checking in again: did you take your morning medicine")


def test_it_marks_a_checkin_unanswered_when_its_window_closes(rt: Runtime) -> None:
    from scheduling.dispatch import follow_up

    patient = two_doses(rt)
    sent = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    checkin_id = sent_checkin(rt, patient, sent)
    follow_up(rt, sent + timedelta(minutes=61))
    assert follow_up(rt, sent + timedelta(hours=7)) == (0, 1)
    with rt.sessions() as session:
        assert session.get_one(Checkin, checkin_id).status == "unanswered"


def test_it_drops_a_reminder_that_would_fall_in_quiet_hours(rt: Runtime) -> None:
    from scheduling.dispatch import follow_up

    patient = two_doses(rt)
    sent = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 19:30 in New York
    sent_checkin(rt, patient, sent)
    assert follow_up(rt, sent + timedelta(minutes=61)) == (0, 0)  # 20:31: quiet


def test_it_raises_r19_when_a_recently_alerted_patient_stops_answering(rt: Runtime) -> None:
    from escalation.alerts import raise_alert
    from escalation.policy import load_policy
    from scheduling.dispatch import follow_up
    from store.models import Alert

    patient = two_doses(rt)
    sent = datetime.now(UTC) - timedelta(hours=30)
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            load_policy(),
            patient_id=patient.id,
            tier="urgent",
            kind="red_flag",
            rules=["R10"],
            summary="test",
        )
        # A clinician made contact, so the silence is not combined into an emergency.
        session.get_one(Alert, raised.alert_id).acknowledged_at = sent
        regimen = session.get_one(Patient, patient.id).regimen[0]
        for n in range(3):
            at = sent + timedelta(hours=8 * n)
            session.add(
                Checkin(
                    patient_id=patient.id,
                    regimen_id=regimen.id,
                    scheduled_local=f"2026-11-2{n}T09:00",
                    due_at=at,
                    status="sent",
                    sent_at=at,
                )
            )
    assert follow_up(rt)[1] == 3
    with rt.sessions() as session:
        rules = {a.rules: a.tier for a in session.scalars(select(Alert))}
    assert rules.get("R19") == "urgent"


def test_it_plans_each_patient_with_their_own_window_and_wait_across_batches(
    rt: Runtime,
) -> None:
    """Planning reads patients in batches of id ranges; each keeps its own quiet hours
    (own, else the clinic's, else 09:00-20:00) and answer window, and a patient whose
    neighbours in the range are paused or opted out is still planned."""
    from tests.scheduling.conftest import enrol

    early = enrol(rt, "+12125550101", "America/New_York", ("08:00",), quiet_start="08:00")
    enrol(rt, "+12125550102", "America/New_York", ("08:00",), status="paused")
    late = enrol(rt, "+12125550103", "America/New_York", ("08:00",), answer_window_minutes=90)
    enrol(rt, "+12125550104", "America/New_York", ("08:00",), opted_out=True)
    assert plan_checkins(rt, NOW, batch=1) == 2
    assert plan_checkins(rt, NOW, batch=3) == 0
    with rt.sessions() as session:
        rows = {r.patient_id: r for r in session.scalars(select(Checkin)).all()}
    assert set(rows) == {early.id, late.id}
    # 08:00 New York is 13:00 UTC; the default window holds it to 09:00 (14:00 UTC).
    assert rows[early.id].due_at == NOW + timedelta(hours=1)
    assert rows[late.id].due_at == NOW + timedelta(hours=2)
    assert rows[late.id].closes_at == rows[late.id].due_at + timedelta(minutes=90)
    assert rows[early.id].closes_at == rows[early.id].due_at + timedelta(
        minutes=rt.settings.checkin_answer_minutes
    )
