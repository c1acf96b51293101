"""Ten simulated days with a frozen clock: the scheduler's planning and dispatch produce
exactly the expected check-in rows, at the expected UTC instants, never in quiet hours,
once each, whether it restarts mid-run or two schedulers race."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from escalation.alerts import raise_alert
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from scheduling.dispatch import dispatch_due, plan_checkins
from scheduling.mood import dispatch_mood, plan_mood_checks
from store.models import Checkin, MoodCheck, Patient
from tests.scheduling.conftest import enrol, jobs, ticks

DOSES = ("08:30", "19:00")  # 08:30 is before the 09:00 window: it goes at 09:00
SENT_AT = (time(9, 0), time(19, 0))
STEP = timedelta(minutes=30)
PLAN_EVERY = 4  # ticks: plan every two hours, a day ahead


def offset(zone: str, day: date) -> timedelta:
    """UTC offsets written out by hand (the oracle does not use zoneinfo), for the local
    times 09:00 and 19:00 in March-April 2026."""
    if zone == "America/New_York":  # EST -5 until 2026-03-08 02:00, then EDT -4
        return timedelta(hours=-4 if day >= date(2026, 3, 8) else -5)
    if zone == "Asia/Kolkata":  # IST, no daylight saving
        return timedelta(hours=5, minutes=30)
    if zone == "Australia/Lord_Howe":  # +11 until 2026-04-05 02:00, then +10:30
        return timedelta(hours=10, minutes=30) if day >= date(2026, 4, 5) else timedelta(hours=11)
    raise AssertionError(zone)


ZONES = ("America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")


def expected(zone: str, start: datetime, end: datetime) -> set[tuple[str, datetime]]:
    """(scheduled local time, due instant) of every dose sent in [start, end)."""
    out = set()
    day = start.date() - timedelta(days=2)
    while day <= end.date() + timedelta(days=2):
        for dose, sent in zip(DOSES, SENT_AT, strict=True):
            due = datetime.combine(day, sent, tzinfo=UTC) - offset(zone, day)
            if start <= due < end:
                out.add((f"{day.isoformat()}T{dose}", due))
        day += timedelta(days=1)
    return out


def simulate(rt: Runtime, start: datetime, end: datetime) -> None:
    for n, at in enumerate(ticks(start, end, STEP)):
        if n % PLAN_EVERY == 0:
            plan_checkins(rt, at)
        dispatch_due(rt, at)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 3, 12, 0, tzinfo=UTC),  # New York springs forward on 03-08
        datetime(2026, 3, 31, 12, 0, tzinfo=UTC),  # Lord Howe falls back half an hour on 04-05
    ],
    ids=["new-york-dst", "lord-howe-dst"],
)
def test_it_creates_exactly_the_expected_checkins_over_ten_days(
    rt: Runtime, start: datetime
) -> None:
    end = start + timedelta(days=10)
    patients = {zone: enrol(rt, f"+1555555070{n}", zone, DOSES).id for n, zone in enumerate(ZONES)}
    simulate(rt, start, end)
    with rt.sessions() as session:
        rows = session.scalars(select(Checkin).where(Checkin.due_at < end)).all()
        later = session.scalars(select(Checkin).where(Checkin.due_at >= end)).all()
    for zone, patient_id in patients.items():
        mine = {(r.scheduled_local, r.due_at) for r in rows if r.patient_id == patient_id}
        assert mine == expected(zone, start, end), zone
        assert len(mine) == 20, zone  # two doses a day for ten days, none twice
    assert len(rows) == 60
    # Every due check-in was started (nobody answers here, so each closes after its window).
    assert all(r.queued_at is not None for r in rows)
    assert {r.status for r in later} <= {"due"}, "nothing started before it was due"
    for row in rows:
        assert row.queued_at is not None and row.due_at <= row.queued_at < row.due_at + STEP
        local = ZoneInfo(next(z for z, p in patients.items() if p == row.patient_id))
        for instant in (row.due_at, row.queued_at):
            assert time(9, 0) <= instant.astimezone(local).time() < time(20, 0), "quiet hours"
    started = [args for args in jobs(rt) if args[1] == "EXTERNAL_dose_checkin"]
    assert sorted(int(args[2]["checkin_id"]) for args in started) == sorted(r.id for r in rows)


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York


def test_it_plans_each_checkin_once_when_a_run_is_interrupted_and_run_again(
    rt: Runtime,
) -> None:
    for n in range(5):
        enrol(rt, f"+1555555071{n}", "America/New_York", ("09:00", "19:00"))
    answers = iter([False])  # stop after the first batch, as a scheduler shutting down does
    assert plan_checkins(rt, NOW, batch=2, stop=lambda: next(answers, True)) == 4
    assert plan_checkins(rt, NOW, batch=2) == 6
    assert plan_checkins(rt, NOW, batch=2) == 0
    at_nine = NOW + timedelta(hours=2)
    answers = iter([False, False])
    assert dispatch_due(rt, at_nine, stop=lambda: next(answers, True)) == 2
    assert dispatch_due(rt, at_nine) == 3
    assert dispatch_due(rt, at_nine) == 0
    with rt.sessions() as session:
        rows = session.scalars(select(Checkin)).all()
    assert len(rows) == 10
    assert len({(r.patient_id, r.regimen_id, r.scheduled_local) for r in rows}) == 10
    started = [int(args[2]["checkin_id"]) for args in jobs(rt)]
    assert sorted(started) == sorted(r.id for r in rows if r.status == "queued")
    assert len(started) == 5


def test_it_starts_each_checkin_once_when_two_schedulers_race(pg_rt: Runtime) -> None:
    rt = pg_rt
    for n in range(6):
        enrol(rt, f"+1555555072{n}", ZONES[n % 3], DOSES)
    start = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    instants = list(ticks(start, start + timedelta(days=2), STEP))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            for n, at in enumerate(instants):
                barrier.wait(timeout=30)
                if n % PLAN_EVERY == 0:
                    plan_checkins(rt, at)
                dispatch_due(rt, at)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    with rt.sessions() as session:
        rows = session.scalars(select(Checkin)).all()
    keys = [(r.patient_id, r.regimen_id, r.scheduled_local) for r in rows]
    assert len(keys) == len(set(keys))
    queued = sorted(r.id for r in rows if r.queued_at is not None)
    assert len(queued) == 24  # 6 patients, 2 doses, 2 days
    started = sorted(int(args[2]["checkin_id"]) for args in jobs(rt))
    assert started == queued, "each check-in started by exactly one of the two"


def test_it_sends_nothing_to_opted_out_paused_or_in_crisis_patients(rt: Runtime) -> None:
    start = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    enrolled = start - timedelta(days=10)  # a weekly questionnaire is due in this period too
    fine = enrol(rt, "+15555550730", "America/New_York", DOSES, created_at=enrolled)
    out = enrol(rt, "+15555550731", "America/New_York", DOSES, created_at=enrolled)
    paused = enrol(rt, "+15555550732", "America/New_York", DOSES, created_at=enrolled)
    crisis = enrol(rt, "+15555550733", "America/New_York", DOSES, created_at=enrolled)
    plan_checkins(rt, start)
    plan_mood_checks(rt, start)
    with rt.sessions.begin() as session:
        # After planning: the rows exist, and must still not go out.
        session.get_one(Patient, out.id).opted_out = True
        session.get_one(Patient, paused.id).status = "paused"
        raise_alert(
            session,
            load_policy(),
            patient_id=crisis.id,
            tier="emergency",
            kind="crisis",
            rules=["R1"],
            summary="test",
        )
    for n, at in enumerate(ticks(start, start + timedelta(days=2), STEP)):
        if n % PLAN_EVERY == 0:
            plan_checkins(rt, at)
            plan_mood_checks(rt, at)
        dispatch_due(rt, at)
        dispatch_mood(rt, at)
    started = {args[0] for args in jobs(rt)}
    assert started == {fine.id}
    with rt.sessions() as session:
        checkins = session.scalars(select(Checkin)).all()
        moods = session.scalars(select(MoodCheck)).all()
    for blocked in (out.id, paused.id, crisis.id):
        assert {c.status for c in checkins if c.patient_id == blocked} <= {"skipped", "due"}
        assert {m.status for m in moods if m.patient_id == blocked} <= {"skipped"}
    assert sum(c.queued_at is not None for c in checkins if c.patient_id == fine.id) == 4
    assert [m.status for m in moods if m.patient_id == fine.id] == ["queued"]
