"""Escalation fixtures shared by more than one test module."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Patient, utcnow
from tests.conftest import make_patient


@pytest.fixture
def on_lamotrigine(rt: Runtime) -> Patient:
    """An adult on lamotrigine for a year: a new rash is urgent (R10), not more."""
    patient = make_patient(rt, meds=[MedSpec("lamotrigine", "25mg", ("08:00",))])
    with rt.sessions.begin() as session:
        for entry in session.get_one(Patient, patient.id).regimen:
            entry.started_at = utcnow() - timedelta(days=365)
    return patient
