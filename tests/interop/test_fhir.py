"""FHIR R4: the exported record validates; a regimen survives export then import; a bad
bundle is refused with a clear reason and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from escalation.alerts import raise_alert
from escalation.policy import load_policy
from interop.fhir_export import export_bundle
from interop.fhir_import import FhirError, PatientMismatch, import_regimen
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import DoseEvent, Message, Patient, Regimen, Score, SideEffectReport
from tests.conftest import make_patient

MEDS = [
    MedSpec("lithium", "300mg", ("08:00", "20:00")),
    MedSpec("sertraline", "50mg", ("09:00",)),
]


def full_record(rt: Runtime) -> Patient:
    patient = make_patient(rt, meds=MEDS)
    with rt.sessions.begin() as session:
        entry = session.scalars(select(Regimen).where(Regimen.patient_id == patient.id)).first()
        assert entry is not None
        entry.days = "weekdays"
        session.add_all(
            [
                DoseEvent(patient_id=patient.id, regimen_id=entry.id, outcome="taken"),
                DoseEvent(patient_id=patient.id, regimen_id=entry.id, outcome="missed"),
                Score(
                    patient_id=patient.id,
                    instrument="PHQ-9",
                    items="1=2,9=0",
                    total=2,
                    complete=True,
                ),
                SideEffectReport(patient_id=patient.id, symptom="dry mouth", burden=2),
                Message(patient_id=patient.id, direction="inbound", body="yes", status="processed"),
            ]
        )
        raise_alert(
            session,
            load_policy(),
            patient_id=patient.id,
            tier="prompt",
            kind="side_effect",
            rules=["R15"],
            summary="Burden 3",
        )
    return patient


def export(rt: Runtime, patient: Patient) -> dict[str, Any]:
    with rt.sessions() as session:
        found = session.get(Patient, patient.id)
        assert found is not None
        return export_bundle(session, found)


def plan(rt: Runtime, patient: Patient) -> list[tuple[str, str, str, str]]:
    with rt.sessions() as session:
        rows = session.scalars(
            select(Regimen).where(Regimen.patient_id == patient.id, Regimen.active)
        )
        return sorted((r.medication.name, r.dose, r.times, r.days) for r in rows)


def requests_only(bundle: dict[str, Any]) -> dict[str, Any]:
    entries = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    return {**bundle, "entry": entries}


def test_it_exports_every_kind_of_record_as_valid_fhir(rt: Runtime) -> None:
    bundle = export(rt, full_record(rt))
    Bundle.model_validate(bundle)  # raises if not valid R4(B)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("MedicationRequest") == 2
    assert kinds.count("MedicationStatement") == 2 and kinds.count("Observation") == 2
    assert kinds.count("Flag") == 1 and kinds.count("Communication") == 1
    by_id = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    phq9 = next(r for i, r in by_id.items() if i.startswith("score-"))
    assert phq9["code"]["coding"][0]["code"] == "44261-6" and phq9["valueInteger"] == 2
    statuses = sorted(
        r["status"] for r in by_id.values() if r["resourceType"] == "MedicationStatement"
    )
    assert statuses == ["completed", "not-taken"]
    lithium = next(
        r
        for r in by_id.values()
        if r.get("medicationCodeableConcept", {}).get("text") == "lithium"
        and r["resourceType"] == "MedicationRequest"
    )
    repeat = lithium["dosageInstruction"][0]["timing"]["repeat"]
    assert repeat["timeOfDay"] == ["08:00:00", "20:00:00"]
    assert repeat["dayOfWeek"] == ["mon", "tue", "wed", "thu", "fri"]


def test_it_round_trips_a_regimen_through_fhir(rt: Runtime) -> None:
    source = full_record(rt)
    target = make_patient(rt, phone="+15555550143", meds=[MedSpec("lithium", "150mg", ("21:00",))])
    with rt.sessions.begin() as session:
        found = session.get(Patient, target.id)
        assert found is not None
        outcome = import_regimen(session, found, requests_only(export(rt, source)))
    assert len(outcome.imported) == 2 and outcome.skipped == []
    assert plan(rt, target) == plan(rt, source)
    with rt.sessions() as session:
        texts = session.scalars(select(Message.kind).where(Message.patient_id == target.id))
        assert list(texts) == ["plan_change", "plan_change"]


def test_it_skips_what_is_already_the_plan_and_reports_the_rest(rt: Runtime) -> None:
    patient = full_record(rt)
    with rt.sessions.begin() as session:
        found = session.get(Patient, patient.id)
        assert found is not None
        outcome = import_regimen(session, found, export(rt, patient))
    assert outcome.imported == []
    reasons = [why for _, why in outcome.skipped]
    assert reasons.count("the plan already has this medicine, dose and times") == 2
    assert "Patient is not a MedicationRequest" in reasons


def medication_request(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "medicationCodeableConcept": {"text": "Quetiapine"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"timeOfDay": ["22:00:00"]}},
                "doseAndRate": [{"doseQuantity": {"value": 25, "unit": "mg"}}],
            }
        ],
    }
    resource.update(changes)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]}


REFERENCE = {"medicationCodeableConcept": None, "medicationReference": {"reference": "M/1"}}
TWICE = {"resourceType": "Bundle", "type": "collection", "entry": medication_request()["entry"] * 2}
BAD = [
    ({"resourceType": "Patient"}, "expected a FHIR Bundle"),
    ({**medication_request(), "type": 5}, "not a valid FHIR R4 Bundle"),
    (medication_request(color="red"), "not a valid FHIR R4 Bundle: entry.0.resource"),
    (medication_request(dosageInstruction=[{"text": "25mg"}]), "timing.repeat.timeOfDay"),
    (medication_request(**REFERENCE), "medicationCodeableConcept"),
    (medication_request(status="stopped"), "no active MedicationRequest"),
    (TWICE, "same medicine"),
]


@pytest.mark.parametrize(("bundle", "reason"), BAD)
def test_it_refuses_a_bad_bundle_and_changes_nothing(
    rt: Runtime, bundle: dict[str, Any], reason: str
) -> None:
    patient = make_patient(rt)
    before = plan(rt, patient)
    with pytest.raises(FhirError, match=reason), rt.sessions.begin() as session:
        found = session.get(Patient, patient.id)
        assert found is not None
        import_regimen(session, found, bundle)
    assert plan(rt, patient) == before


def test_it_imports_a_bundle_from_another_system(rt: Runtime) -> None:
    patient = make_patient(rt)
    with rt.sessions.begin() as session:
        found = session.get(Patient, patient.id)
        assert found is not None
        import_regimen(session, found, medication_request())
    assert plan(rt, patient) == [
        ("quetiapine", "25mg", "22:00", "daily"),
        ("sertraline", "50mg", "09:00", "daily"),
    ]


def test_it_refuses_a_bundle_about_another_patient(rt: Runtime) -> None:
    source = full_record(rt)
    other = make_patient(rt, phone="+15555550143")
    with pytest.raises(PatientMismatch), rt.sessions.begin() as session:
        found = session.get(Patient, other.id)
        assert found is not None
        import_regimen(session, found, export(rt, source))
