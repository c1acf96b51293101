"""R19 on the stored record: who counts as high-risk when check-ins go unanswered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from care.adherence import check_silence
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Alert, Checkin, Patient, utcnow
from tests.conftest import make_patient


def silent(rt: Runtime, med: str, band: str, started_days_ago: int) -> Patient:
    """A patient who left the last three check-ins unanswered, with no alert before."""
    patient = make_patient(rt, age_band=band, meds=[MedSpec(med, "100mg", ("09:00",))])
    with rt.sessions.begin() as session:
        regimen = session.get_one(Patient, patient.id).regimen[0]
        regimen.started_at = utcnow() - timedelta(days=started_days_ago)
        for back in range(1, 4):
            due = utcnow() - timedelta(days=back)
            session.add(
                Checkin(
                    patient_id=patient.id,
                    regimen_id=regimen.id,
                    due_at=due,
                    scheduled_local=due.strftime("%Y-%m-%dT09:00"),
                    status="unanswered",
                    sent_at=due,
                )
            )
    return patient


CASES = [
    ("clozapine started 10 days ago", "clozapine", "25_64", 10, True),
    ("lithium started 30 days ago", "lithium", "65_plus", 30, True),
    ("young, sertraline started 20 days ago", "sertraline", "under_25", 20, True),
    ("adult, sertraline started 20 days ago", "sertraline", "25_64", 20, False),
    ("lithium for a year", "lithium", "25_64", 365, False),
]


@pytest.mark.parametrize(
    ("med", "band", "days", "raised"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_it_raises_r19_for_a_high_risk_patient_without_a_recent_alert(
    rt: Runtime, med: str, band: str, days: int, raised: bool
) -> None:
    patient = silent(rt, med, band, days)
    with rt.sessions.begin() as session:
        findings = check_silence(session, session.get_one(Patient, patient.id))
    with rt.sessions() as session:
        rules = [a.rules.split(",")[0] for a in session.scalars(select(Alert))]
    assert rules == (["R19"] if raised else [])
    assert [f.rule for f in findings] == (["R19"] if raised else [])
