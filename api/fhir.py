"""FHIR R4 over the API: a patient's record out, a regimen in."""

from __future__ import annotations

from typing import Any

from api import convert
from api import schemas as s
from api.dispatch import Call
from api.errors import ApiError
from api.patients import find_patient
from api.routing import operation
from interop.fhir_export import export_bundle
from interop.fhir_import import FhirError, PatientMismatch, import_regimen

FHIR_JSON = "application/fhir+json"
BUNDLE_OUT = {
    "type": "object",
    "description": "A FHIR R4 Bundle (type collection): Patient, MedicationRequest, "
    "MedicationStatement, Observation, Flag and Communication resources.",
    "required": ["resourceType", "type"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"const": "collection"},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}
BUNDLE_IN = {
    "type": "object",
    "description": "A FHIR R4 Bundle whose active MedicationRequest entries are the plan "
    "(medicationCodeableConcept, dosageInstruction with timing.repeat.timeOfDay and "
    "doseAndRate.doseQuantity). Validated with the fhir.resources models.",
    "required": ["resourceType"],
    "properties": {"resourceType": {"const": "Bundle"}},
}


@operation(
    "GET",
    "/patients/{patient_id}/fhir",
    summary="The patient's record as a FHIR R4 Bundle",
    tag="fhir",
    scope="read",
    response_schema=BUNDLE_OUT,
    response_media=FHIR_JSON,
)
def export_fhir(call: Call, patient_id: int) -> dict[str, Any]:
    found = find_patient(call, patient_id)
    bundle = export_bundle(call.session, found)
    call.audit("api.patient.fhir_export", patient_id=found.id, target=f"patient/{found.id}/fhir")
    return bundle


@operation(
    "POST",
    "/patients/{patient_id}/regimen/fhir",
    summary="Set the plan from a FHIR Bundle "
    "of MedicationRequests (all or nothing; the patient is told of each change)",
    tag="fhir",
    scope="write",
    body_schema=BUNDLE_IN,
    body_media=FHIR_JSON,
    response=s.RegimenImport,
    errors=(409,),
)
def import_fhir(call: Call, patient_id: int) -> s.RegimenImport:
    from conversation.jobs import enqueue_flush

    found = find_patient(call, patient_id)
    try:
        outcome = import_regimen(call.session, found, call.body)
    except PatientMismatch as exc:
        raise ApiError(409, "patient_mismatch", str(exc)) from None
    except FhirError as exc:
        raise ApiError(400, "invalid_fhir", str(exc)) from None
    call.audit(
        "api.regimen.fhir_import",
        patient_id=found.id,
        target=f"patient/{found.id}/regimen",
        detail=f"imported {len(outcome.imported)}, skipped {len(outcome.skipped)}",
    )
    if outcome.imported:
        call.after_commit.append(lambda: enqueue_flush(call.rt, patient_id))
    return s.RegimenImport(
        imported=[convert.regimen(r) for r in outcome.imported],
        skipped=[s.Skipped(entry=n, reason=why) for n, why in outcome.skipped],
    )
