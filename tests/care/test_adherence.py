"""The pattern rules on the stored check-in record (real databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from care.adherence import check_patterns, dose_records
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Alert, Checkin, Patient, utcnow
from tests.conftest import make_patient


def missed_days(rt: Runtime, med: str, days: int) -> Patient:
    patient = make_patient(rt, meds=[MedSpec(med, "300mg", ("09:00",))])
    with rt.sessions.begin() as session:
        fresh = session.get_one(Patient, patient.id)
        regimen = fresh.regimen[0]
        regimen.started_at = utcnow() - timedelta(days=90)
        for back in range(1, days + 1):
            due = utcnow() - timedelta(days=back)
            session.add(
                Checkin(
                    patient_id=fresh.id,
                    regimen_id=regimen.id,
                    due_at=due,
                    scheduled_local=due.strftime("%Y-%m-%dT09:00"),
                    status="answered",
                    outcome="missed",
                    sent_at=due,
                    answered_at=due,
                )
            )
    return patient


def alerts(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [(a.tier, a.rules) for a in session.scalars(select(Alert))]


def test_it_raises_an_urgent_alert_after_two_missed_days_of_lithium(rt: Runtime) -> None:
    patient = missed_days(rt, "lithium", 2)
    with rt.sessions.begin() as session:
        findings = check_patterns(session, session.get_one(Patient, patient.id))
    assert [f.rule for f in findings if f.tier == "urgent"] == ["R13"]
    assert ("urgent", "R13") in alerts(rt)


def test_it_does_not_raise_after_one_missed_day_of_lithium(rt: Runtime) -> None:
    patient = missed_days(rt, "lithium", 1)
    with rt.sessions.begin() as session:
        findings = check_patterns(session, session.get_one(Patient, patient.id))
    assert not [f for f in findings if f.rule == "R13"]


def test_it_reads_dose_records_from_checkins(rt: Runtime) -> None:
    patient = missed_days(rt, "sertraline", 3)
    with rt.sessions() as session:
        records = dose_records(session, patient.id, utcnow() - timedelta(days=30))
    assert [r.outcome for r in records] == ["missed"] * 3
    assert {r.medication for r in records} == {"sertraline"}


def test_it_summarises_adherence_for_patient_show(rt: Runtime) -> None:
    from care.adherence import summary
    from store.records import patient_record

    patient = missed_days(rt, "lithium", 2)
    with rt.sessions.begin() as session:
        fresh = session.get_one(Patient, patient.id)
        lithium = summary(session, fresh)["lithium"]
        record = patient_record(session, fresh)
    assert lithium["missed_day_streak"] == 2 and lithium["taken_streak"] == 0
    assert lithium["scheduled_30d"] == 2 and lithium["rate_7d"] is None  # under 3 doses
    assert record["adherence"] == {"lithium": lithium}
