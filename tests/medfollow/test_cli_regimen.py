"""`medfollow regimen set`: the plan changes, the patient is told once, check-ins follow."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from medfollow.runtime import Runtime
from scheduling.dispatch import plan_checkins
from store.models import Checkin, Message, Patient, Regimen
from tests.conftest import run_jobs
from tests.medfollow.test_cli import assert_ok, assert_one_line_error, cli_env, invoke

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York


def test_it_changes_the_plan_and_tells_the_patient_once(rt: Runtime, patient: Patient) -> None:
    plan_checkins(rt, NOW)  # the old plan: sertraline at 09:00
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
    assert {c.status for c in old_checkins} == {"skipped"}
    plan_checkins(rt, NOW)
    with rt.sessions() as session:
        new = session.scalars(
            select(Checkin).where(Checkin.regimen_id == regimen[1].id).order_by(Checkin.due_at)
        ).all()
    assert [c.scheduled_local[-5:] for c in new] == ["10:00", "18:00"]


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
