"""A clinic's own escalation deadlines, applied over the policy file."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from escalation.alerts import raise_alert
from escalation.overrides import apply_overrides, check_overrides, clinic_policy
from escalation.policy import PolicyError, load_policy
from medfollow.runtime import Runtime
from store.models import Alert, Clinic, Patient

POLICY = load_policy()


def test_it_replaces_only_the_deadlines_given() -> None:
    policy = apply_overrides(POLICY, {"urgent": {"ack_within": 1200}})
    assert policy.tier("urgent").ack_within == timedelta(minutes=20)
    assert policy.tier("urgent").backup_after == POLICY.tier("urgent").backup_after
    assert policy.tier("urgent").channels == POLICY.tier("urgent").channels
    assert policy.tier("emergency") == POLICY.tier("emergency")
    assert policy.version == f"{POLICY.version}+clinic"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"severe": {"ack_within": 60}}, "unknown tier"),
        ({"urgent": {"page": 1}}, "not a deadline"),
        ({"urgent": {"ack_within": 0}}, "between 1 second and 30 days"),
        ({"urgent": {"ack_within": 1.5}}, "whole seconds"),
        ({"urgent": {"ack_within": True}}, "whole seconds"),
        (["urgent"], "mapping"),
    ],
)
def test_it_refuses_overrides_that_are_not_deadlines(doc: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        check_overrides(doc)


def test_it_refuses_a_backup_page_before_the_acknowledge_deadline() -> None:
    with pytest.raises(PolicyError, match="before the backup page"):
        apply_overrides(POLICY, {"emergency": {"backup_after": 60}})


def test_it_raises_alerts_with_the_clinic_deadlines(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as db:
        clinic = db.scalars(select(Clinic)).one()
        clinic.escalation_overrides = json.dumps(
            {"urgent": {"ack_within": 600, "backup_after": 900}}
        )
    with rt.sessions.begin() as db:
        raised = raise_alert(
            db,
            POLICY,
            patient_id=patient.id,
            tier="urgent",
            kind="red_flag",
            rules=["R-test"],
            summary="test",
        )
        alert = db.get_one(Alert, raised.alert_id)
        assert alert.due_at is not None and alert.backup_due_at is not None
        assert alert.due_at - alert.created_at == pytest.approx(
            timedelta(seconds=600), abs=timedelta(seconds=2)
        )
        assert alert.backup_due_at - alert.due_at == pytest.approx(
            timedelta(seconds=300), abs=timedelta(seconds=2)
        )
        assert clinic_policy(db, POLICY, patient.id).tier("urgent").backup_after == timedelta(
            seconds=900
        )


def test_it_ignores_a_stored_value_that_no_longer_checks_out(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as db:
        db.scalars(select(Clinic)).one().escalation_overrides = "{not json"
    with rt.sessions() as db:
        assert clinic_policy(db, POLICY, patient.id) is POLICY
        assert clinic_policy(db, POLICY, None) is POLICY
