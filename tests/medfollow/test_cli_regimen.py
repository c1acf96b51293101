"""`medfollow regimen set`: the plan changes, the patient is told once, check-ins follow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from medfollow.runtime import Runtime
from scheduling.dispatch import plan_checkins
from store.models import Checkin, Message, Patient, Regimen
from tests.conftest import run_jobs
from tests.medfollow.test_cli import assert_ok, assert_one_line_error, cli_env, invoke

# The change is made at a frozen instant (it used to be the wall clock, which made the
# test depend on the date it ran: the old check-in had to lie in the future).
CHANGED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York, in the window
NIGHT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 03:00 there


def change_clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """The instant the CLI's plan change happens at (care/plans.py's one clock)."""
    monkeypatch.setattr("care.plans.utcnow", lambda: at)


def test_it_changes_the_plan_and_tells_the_patient_once(
    rt: Runtime, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_checkins(rt, CHANGED)  # the old plan: sertraline at 09:00 (tomorrow's)
    change_clock(monkeypatch, CHANGED)
    env = cli_env(rt.settings)
    assert_ok(
        invoke(
            env, "regimen", "set", "--phone", patient.phone, "--med", "sertraline:100mg@10:00,18:00"
        )
    )
    run_jobs(rt)
    with rt.sessions() as session:
        regimen = session.scalars(select(Regimen).order_by(Regimen.id)).all()
        [text] = session.scalars(select(Message).where(Message.kind == "plan_change")).all()
        old_checkins = session.scalars(
            select(Checkin).where(Checkin.regimen_id == regimen[0].id)
        ).all()
    assert [(r.dose, r.times, r.active) for r in regimen] == [
        ("50mg", "09:00", False),
        ("100mg", "10:00,18:00", True),
    ]
    assert text.status == "delivered"
    assert "10:00 and 18:00" in text.body and "sertraline" not in text.body
    assert old_checkins and {c.status for c in old_checkins} == {"skipped"}
    plan_checkins(rt, CHANGED)
    with rt.sessions() as session:
        new = session.scalars(
            select(Checkin).where(Checkin.regimen_id == regimen[1].id).order_by(Checkin.due_at)
        ).all()
    assert [c.scheduled_local[-5:] for c in new] == ["10:00", "18:00"]


def test_it_holds_the_notice_of_a_change_made_at_night_for_the_patients_window(
    rt: Runtime, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_clock(monkeypatch, NIGHT)
    env = cli_env(rt.settings)
    result = invoke(
        env, "regimen", "set", "--phone", patient.phone, "--med", "sertraline:100mg@10:00"
    )
    assert_ok(result)
    assert result.stdout.strip().endswith("the patient is told at 09:00, their time")
    run_jobs(rt)
    with rt.sessions() as session:
        [text] = session.scalars(select(Message).where(Message.kind == "plan_change")).all()
    assert (text.status, text.attempts) == ("held", 0)
    assert text.send_after == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_it_rejects_bad_days_in_one_line_and_changes_nothing(rt: Runtime, patient: Patient) -> None:
    env = cli_env(rt.settings)
    result = invoke(
        env,
        "regimen",
        "set",
        "--phone",
        patient.phone,
        "--med",
        "sertraline:100mg@10:00",
        "--days",
        "someday",
    )
    assert_one_line_error(result, "unknown days")
    with rt.sessions() as session:
        assert len(session.scalars(select(Regimen)).all()) == 1
