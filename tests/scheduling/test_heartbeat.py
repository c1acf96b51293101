"""The heartbeat: staff get one alert (with no patient) when the scheduler stops, or when
started check-ins stop being sent, and it is paged like any other alert."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from escalation.oncall import add_clinician, set_on_call
from escalation.paging import page_alert
from medfollow.runtime import URGENT_QUEUE, Runtime
from scheduling.dispatch import dispatch_due, plan_checkins
from scheduling.heartbeat import SCHEDULER, SENDING, Watchdog, beat, watch
from scheduling.mood import dispatch_mood, plan_mood_checks
from scheduling.rounds import scheduling_round
from store.models import Alert, AlertDelivery, Message, utcnow
from tests.conftest import run_jobs
from tests.scheduling.conftest import enrol

T = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def alerts(rt: Runtime) -> list[Alert]:
    with rt.sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_it_alerts_once_when_the_scheduler_stops_beating(rt: Runtime) -> None:
    scheduling_round(rt, T)  # a scheduler round beats
    assert watch(rt.sessions, rt.settings, T + timedelta(seconds=119)) == []
    [raised] = watch(rt.sessions, rt.settings, T + timedelta(seconds=121))
    assert raised.name == SCHEDULER and raised.page
    assert watch(rt.sessions, rt.settings, T + timedelta(minutes=10)) == [], "once per outage"
    [alert] = alerts(rt)
    assert (alert.patient_id, alert.tier, alert.kind, alert.state) == (
        None,
        "urgent",
        "system:scheduler",
        "open",
    )
    assert "scheduler has stopped" in alert.summary


def test_it_alerts_again_after_a_recovery_and_a_new_outage(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        beat(session, SCHEDULER, T)
    assert len(watch(rt.sessions, rt.settings, T + timedelta(minutes=5))) == 1
    with rt.sessions.begin() as session:
        beat(session, SCHEDULER, T + timedelta(minutes=6))  # back
    assert watch(rt.sessions, rt.settings, T + timedelta(minutes=7)) == []
    assert len(watch(rt.sessions, rt.settings, T + timedelta(minutes=20))) == 1
    assert watch(rt.sessions, rt.settings, T + timedelta(minutes=30)) == []
    found = alerts(rt)  # the second outage is a second signal (a new alert, or joined)
    assert {a.kind for a in found} == {"system:scheduler"}
    assert sum(a.signals for a in found) == 2


def test_it_raises_nothing_before_a_scheduler_has_ever_run(rt: Runtime) -> None:
    assert watch(rt.sessions, rt.settings, T) == []
    assert alerts(rt) == []


def test_it_alerts_when_started_checkins_are_not_sent(rt: Runtime) -> None:
    enrol(rt, "+15555550760", "America/New_York", ("09:00",))
    plan_checkins(rt, T - timedelta(hours=2))
    assert dispatch_due(rt, T) == 1  # queued; no worker sends it
    with rt.sessions.begin() as session:
        beat(session, SCHEDULER, T + timedelta(minutes=11))  # the scheduler itself is fine
    assert watch(rt.sessions, rt.settings, T + timedelta(minutes=9)) == []
    [raised] = watch(rt.sessions, rt.settings, T + timedelta(minutes=11))
    assert raised.name == SENDING
    assert watch(rt.sessions, rt.settings, T + timedelta(minutes=12)) == []
    [alert] = alerts(rt)
    assert (alert.patient_id, alert.kind) == (None, "system:sending")


def test_it_alerts_when_a_started_mood_questionnaire_is_not_asked(rt: Runtime) -> None:
    enrol(rt, "+15555550761", "America/New_York", ("09:00",), created_at=T - timedelta(days=7))
    plan_mood_checks(rt, T + timedelta(hours=2))  # 11:00 in New York, the period's first day
    assert dispatch_mood(rt, T + timedelta(hours=2)) == 1  # queued; no worker asks it
    with rt.sessions.begin() as session:
        beat(session, SCHEDULER, T + timedelta(hours=2, minutes=11))
    assert watch(rt.sessions, rt.settings, T + timedelta(hours=2, minutes=9)) == []
    [raised] = watch(rt.sessions, rt.settings, T + timedelta(hours=2, minutes=11))
    assert raised.name == SENDING


def test_it_pages_a_system_alert_without_a_patient(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        add_clinician(session, "Dr On Call", "oncall@example.invalid", "+15555550790")
        set_on_call(session, "oncall@example.invalid", None)
        beat(session, SCHEDULER, T)
    [raised] = watch(rt.sessions, rt.settings, T + timedelta(minutes=5))
    assert page_alert(raised.alert_id) is True
    with rt.sessions() as session:
        deliveries = session.scalars(select(AlertDelivery)).all()
        [page] = session.scalars(select(Message).where(Message.kind == "page")).all()
    assert [(d.channel, d.status) for d in deliveries] == [("sms", "sent")]
    assert "scheduler" in page.body.lower()
    assert "Patient none (system alert)." in page.body
    assert alerts(rt)[0].state == "notified"


def test_it_runs_the_watchdog_thread_in_the_workers_and_queues_the_page(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        add_clinician(session, "Dr On Call", "oncall@example.invalid", "+15555550790")
        set_on_call(session, "oncall@example.invalid", None)
        beat(session, SCHEDULER, utcnow() - timedelta(minutes=10))
    dog = Watchdog(rt.settings, every=0.05)
    dog.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and rt.queue(URGENT_QUEUE).count == 0:
            time.sleep(0.05)  # bounded wait for the thread, not a timed assertion
    finally:
        dog.stop()
    assert [a.kind for a in alerts(rt)] == ["system:scheduler"]
    run_jobs(rt)  # the page job, as a worker runs it
    with rt.sessions() as session:
        assert [d.status for d in session.scalars(select(AlertDelivery))] == ["sent"]


def test_it_beats_from_the_scheduler_loop_while_it_leads(rt: Runtime) -> None:
    from conversation import sweeper
    from scheduling.heartbeat import last_beat

    before = utcnow()
    sweeper.run(rt, interval=0.05, stop_after=0.5)  # the real loop, briefly
    with rt.sessions() as session:
        beat_at = last_beat(session, SCHEDULER)
    assert beat_at is not None and beat_at >= before
    assert watch(rt.sessions, rt.settings) == []
