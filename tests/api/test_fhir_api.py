"""FHIR over the API: export the record, import a regimen; clear 4xx for bad bundles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from medfollow.runtime import Runtime
from store.models import AuditEvent, Message, Patient
from tests.api.conftest import Api
from tests.conftest import make_patient
from tests.interop.test_fhir import medication_request


def post_bundle(api: Api, patient_id: int, bundle: Any) -> Any:
    return api.client.post(
        f"/api/v1/patients/{patient_id}/regimen/fhir",
        json=bundle,
        headers={**api.headers(), "Content-Type": "application/fhir+json"},
    )


def test_it_exports_the_record_as_fhir_json_and_audits_it(
    rt: Runtime, api: Api, patient: Patient
) -> None:
    response = api.get(f"/patients/{patient.id}/fhir")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = response.get_json(force=True)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["id"] == patient.pseudonym
    with rt.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions == ["api.patient.fhir_export"]


def test_it_imports_a_regimen_and_tells_the_patient(
    rt: Runtime, api: Api, patient: Patient
) -> None:
    response = post_bundle(api, patient.id, medication_request())
    assert response.status_code == 200 and response.json is not None
    imported = response.json["imported"]
    assert [(r["medication"], r["dose"], r["times"]) for r in imported] == [
        ("quetiapine", "25mg", ["22:00"])
    ]
    with rt.sessions() as session:
        kinds = list(session.scalars(select(Message.kind).where(Message.patient_id == patient.id)))
    assert kinds == ["plan_change"]


def test_it_answers_a_bad_bundle_with_400_and_its_reason(api: Api, patient: Patient) -> None:
    response = post_bundle(api, patient.id, medication_request(status="stopped"))
    assert response.status_code == 400 and response.json is not None
    assert response.json == {
        "code": "invalid_fhir",
        "message": "the bundle has no active MedicationRequest",
    }
    not_json = api.client.post(
        f"/api/v1/patients/{patient.id}/regimen/fhir",
        data="{nope",
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json is not None
    assert not_json.json["code"] == "invalid_json"


def test_it_answers_a_bundle_about_another_patient_with_409(
    rt: Runtime, api: Api, patient: Patient
) -> None:
    other = make_patient(rt, phone="+15555550143")
    bundle = api.get(f"/patients/{other.id}/fhir").get_json(force=True)
    response = post_bundle(api, patient.id, bundle)
    assert response.status_code == 409 and response.json is not None
    assert response.json["code"] == "patient_mismatch"


def test_it_refuses_a_lone_surrogate_as_invalid_json(api: Api, patient: Patient) -> None:
    response = api.client.post(
        f"/api/v1/patients/{patient.id}/regimen/fhir",
        data=b'{"resourceType": "Bundle", "type": "collection", "id": "\\ud800"}',
        headers={**api.headers(), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400 and response.json is not None
    assert response.json["code"] == "invalid_json"
