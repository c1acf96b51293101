"""Quiet hours within the federal limit, plan values in range, and the CLI that sets them."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from medfollow.runtime import Runtime
from medfollow.settings import Settings
from scheduling.preferences import check_plan, check_quiet, quiet_hours, waits
from store.models import AuditEvent, Clinic, Patient
from tests.medfollow.test_cli import assert_ok, assert_one_line_error, cli_env, invoke


@pytest.mark.parametrize(
    ("start", "end", "mentions"),
    [
        ("07:59", "20:00", "08:00-21:00"),
        ("09:00", "21:01", "08:00-21:00"),
        ("20:00", "09:00", "before it ends"),
        ("09:00", "09:00", "before it ends"),
        ("9am", "20:00", "HH:MM"),
        ("24:00", "20:00", "HH:MM"),
    ],
)
def test_it_refuses_a_window_outside_the_federal_limit_or_malformed(
    start: str, end: str, mentions: str
) -> None:
    with pytest.raises(ValueError, match=mentions):
        check_quiet(start, end)


def test_it_accepts_the_widest_window_the_federal_limit_allows() -> None:
    quiet = check_quiet("08:00", "21:00")
    assert (quiet.start, quiet.end) == (time(8, 0), time(21, 0))


def test_it_takes_the_patients_window_then_the_clinics() -> None:
    clinic = Clinic(
        name="c", phone="+15555550100", hours="h", quiet_start="10:00", quiet_end="18:00"
    )
    own = Patient(quiet_start="11:00", quiet_end=None)
    assert quiet_hours(own, clinic) == check_quiet("11:00", "18:00")
    assert quiet_hours(Patient(), clinic) == check_quiet("10:00", "18:00")
    assert quiet_hours(Patient(), None) == check_quiet("09:00", "20:00")


@pytest.mark.parametrize(
    ("mood", "answer", "reminder", "mentions"),
    [
        (-1, None, None, "mood"),
        (None, 5, None, "waits"),
        (None, None, 0, "reminder"),
        (None, 60, 60, "before the answer window"),
    ],
)
def test_it_refuses_plan_values_out_of_range(
    mood: int | None, answer: int | None, reminder: int | None, mentions: str
) -> None:
    with pytest.raises(ValueError, match=mentions):
        check_plan(mood, answer, reminder)


def test_it_takes_the_waits_from_the_plan_then_the_settings() -> None:
    settings = Settings(checkin_answer_minutes=240, checkin_reminder_minutes=45)
    assert waits(Patient(), settings).answer == timedelta(minutes=240)
    assert waits(Patient(), settings).reminder == timedelta(minutes=45)
    mine = waits(Patient(answer_window_minutes=90, reminder_after_minutes=20), settings)
    assert (mine.answer, mine.reminder) == (timedelta(minutes=90), timedelta(minutes=20))


def test_it_sets_a_patients_quiet_hours_from_the_cli(rt: Runtime, patient: Patient) -> None:
    env = cli_env(rt.settings)
    result = invoke(env, "patient", "quiet", "--phone", patient.phone, "--start", "10:00")
    assert_ok(result)
    assert "10:00-20:00" in result.output
    assert_ok(invoke(env, "clinic", "quiet", "--start", "08:30", "--end", "19:30"))
    with rt.sessions() as session:
        row = session.get_one(Patient, patient.id)
        clinic = session.get_one(Clinic, row.clinic_id)
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert (row.quiet_start, row.quiet_end) == ("10:00", None)
        assert (clinic.quiet_start, clinic.quiet_end) == ("08:30", "19:30")
        assert quiet_hours(row, clinic) == check_quiet("10:00", "19:30")
    assert actions == ["patient.quiet_hours", "clinic.quiet_hours"]
    assert_ok(invoke(env, "patient", "quiet", "--phone", patient.phone, "--clinic-default"))
    with rt.sessions() as session:
        assert session.get_one(Patient, patient.id).quiet_start is None


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("--start", "07:00"), "08:00-21:00"),
        (("--start", "21:30"), "before it ends"),
        (("--end", "22:00"), "08:00-21:00"),
        ((), "--clinic-default"),
        (("--start", "08:00"), "--patient-asked"),
    ],
)
def test_it_refuses_bad_quiet_hours_in_one_line_and_changes_nothing(
    rt: Runtime, patient: Patient, args: tuple[str, ...], mentions: str
) -> None:
    env = cli_env(rt.settings)
    assert_one_line_error(
        invoke(env, "patient", "quiet", "--phone", patient.phone, *args), mentions
    )
    with rt.sessions() as session:
        row = session.get_one(Patient, patient.id)
        assert (row.quiet_start, row.quiet_end) == (None, None)


def test_it_refuses_a_clinic_window_past_21_00(rt: Runtime, patient: Patient) -> None:
    env = cli_env(rt.settings)
    result = invoke(env, "clinic", "quiet", "--start", "09:00", "--end", "22:00")
    assert_one_line_error(result, "federal")
    with rt.sessions() as session:
        assert session.get_one(Clinic, patient.clinic_id).quiet_end == "20:00"


def test_it_sets_the_plans_cadence_and_waits_from_the_cli(rt: Runtime, patient: Patient) -> None:
    env = cli_env(rt.settings)
    result = invoke(
        env,
        "patient",
        "plan",
        "--phone",
        patient.phone,
        "--mood-every",
        "14",
        "--answer-minutes",
        "180",
        "--reminder-minutes",
        "30",
    )
    assert_ok(result)
    assert json.loads(result.output) == {
        "quiet_hours": "09:00-20:00",
        "quiet_hours_own": False,
        "mood_every_days": 14,
        "answer_window_minutes": 180,
        "reminder_after_minutes": 30,
    }
    bad = invoke(env, "patient", "plan", "--phone", patient.phone, "--reminder-minutes", "200")
    assert_one_line_error(bad, "before the answer window")
    with rt.sessions() as session:
        assert session.get_one(Patient, patient.id).reminder_after_minutes == 30


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"CHECKIN_REMINDER_MINUTES": "400"}, "before the answer window"),
        ({"MOOD_EVERY_DAYS": "-7"}, "mood"),
        ({"MOOD_CHECK_TIME": "11am"}, "MOOD_CHECK_TIME"),
        ({"CHECKIN_SEND_DEADLINE_SECONDS": "5"}, "CHECKIN_SEND_DEADLINE_SECONDS"),
    ],
)
def test_it_refuses_bad_scheduling_settings_when_the_scheduler_starts(
    env: dict[str, str], mentions: str
) -> None:
    from medfollow.settings import SettingsError
    from scheduling.preferences import check_defaults

    check_defaults(Settings.from_env({}))
    with pytest.raises(SettingsError, match=mentions):
        check_defaults(Settings.from_env(env))


def test_it_widens_a_patients_window_only_when_the_patient_asked(
    rt: Runtime, patient: Patient
) -> None:
    env = cli_env(rt.settings)
    args = ("patient", "quiet", "--phone", patient.phone, "--start", "08:00", "--end", "21:00")
    assert_ok(invoke(env, *args, "--patient-asked"))
    with rt.sessions() as session:
        row = session.get_one(Patient, patient.id)
        detail = session.scalars(select(AuditEvent.detail)).one()
    assert (row.quiet_start, row.quiet_end) == ("08:00", "21:00")
    assert detail == "08:00-21:00 (the patient asked)"
