"""A patient's record as a FHIR R4 Bundle (type collection), validated before it leaves.

Validation uses the `fhir.resources` R4B models: for every resource exported here
(Patient, MedicationRequest, MedicationStatement, Observation, Flag, Communication)
R4B has the R4 (4.0.1) structure unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from care.scores import items_of
from escalation.alerts import ACTIVE
from interop import codes
from store import models as m

Resource = dict[str, Any]


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def patient_resource(p: m.Patient) -> Resource:
    return {
        "resourceType": "Patient",
        "id": p.pseudonym,
        "identifier": [{"system": codes.PATIENT_SYSTEM, "value": p.pseudonym}],
        "active": p.status == "active",
        "name": [{"text": p.display_name}],
        "telecom": [{"system": "sms", "value": p.phone, "use": "mobile"}],
        "communication": [{"language": {"coding": [{"code": p.language}]}, "preferred": True}],
    }


def medication_request(p: m.Patient, r: m.Regimen) -> Resource:
    times = r.times.split(",")
    repeat: dict[str, Any] = {
        "frequency": len(times),
        "period": 1,
        "periodUnit": "d",
        "timeOfDay": [f"{t}:00" for t in times],
    }
    if r.days != "daily":
        repeat["dayOfWeek"] = codes.days_list(r.days)
    dosage: dict[str, Any] = {
        "text": f"{r.dose} at {', '.join(times)}, {r.days}",
        "timing": {"repeat": repeat},
    }
    quantity = codes.dose_quantity(r.dose)
    if quantity:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": quantity[0], "unit": quantity[1]}}]
    return {
        "resourceType": "MedicationRequest",
        "id": f"regimen-{r.id}",
        "status": "active" if r.active else "stopped",
        "intent": "order",
        "medicationCodeableConcept": {"text": r.medication.name},
        "subject": {"reference": f"Patient/{p.pseudonym}"},
        "authoredOn": when(r.started_at),
        "dosageInstruction": [dosage],
    }


def medication_statement(p: m.Patient, d: m.DoseEvent, names: dict[int, str]) -> Resource:
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": f"dose-{d.id}",
        "status": codes.DOSE_STATUS.get(d.outcome, "unknown"),
        "medicationCodeableConcept": {"text": names.get(d.regimen_id or 0, "medicine")},
        "subject": {"reference": f"Patient/{p.pseudonym}"},
        "effectiveDateTime": when(d.recorded_at),
        "dateAsserted": when(d.recorded_at),
        "informationSource": {"reference": f"Patient/{p.pseudonym}"},
    }
    if d.regimen_id:
        resource["basedOn"] = [{"reference": f"MedicationRequest/regimen-{d.regimen_id}"}]
    return resource


def score_observation(p: m.Patient, s: m.Score) -> Resource:
    code: dict[str, Any] = {"text": f"{s.instrument} total score"}
    if s.instrument in codes.SCORE_CODES:
        loinc, display = codes.SCORE_CODES[s.instrument]
        code["coding"] = [{"system": codes.LOINC, "code": loinc, "display": display}]
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"score-{s.id}",
        "status": "final" if s.complete else "preliminary",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": code,
        "subject": {"reference": f"Patient/{p.pseudonym}"},
        "effectiveDateTime": when(s.created_at),
        "component": [
            {"code": {"text": f"{s.instrument} item {k}"}, "valueInteger": v}
            for k, v in items_of(s).items()
        ],
    }
    if s.total is not None:
        resource["valueInteger"] = s.total
    if not resource["component"]:
        del resource["component"]
    return resource


def side_effect_observation(p: m.Patient, x: m.SideEffectReport) -> Resource:
    ratings = {"frequency": x.frequency, "intensity": x.intensity, "burden": x.burden}
    resource: Resource = {
        "resourceType": "Observation",
        "id": f"side-effect-{x.id}",
        "status": "final" if x.burden is not None else "preliminary",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"text": "Side effect reported by the patient (FIBSER ratings)"},
        "subject": {"reference": f"Patient/{p.pseudonym}"},
        "effectiveDateTime": when(x.created_at),
        "valueString": x.symptom,
        "component": [
            {"code": {"text": f"FIBSER {name}"}, "valueInteger": value}
            for name, value in ratings.items()
            if value is not None
        ],
    }
    if not resource["component"]:
        del resource["component"]
    return resource


def flag(p: m.Patient, a: m.Alert) -> Resource:
    period = {"start": when(a.created_at)}
    if a.resolved_at:
        period["end"] = when(a.resolved_at)
    return {
        "resourceType": "Flag",
        "id": f"alert-{a.code}",
        "identifier": [{"system": codes.ALERT_SYSTEM, "value": a.code}],
        "status": "active" if a.state in ACTIVE else "inactive",
        "category": [{"text": a.tier}],
        "code": {"text": a.summary or a.kind},
        "subject": {"reference": f"Patient/{p.pseudonym}"},
        "period": period,
    }


def communication(p: m.Patient, x: m.Message) -> Resource:
    patient_ref = {"reference": f"Patient/{p.pseudonym}"}
    resource: Resource = {
        "resourceType": "Communication",
        "id": f"message-{x.id}",
        "status": codes.MESSAGE_STATUS.get(x.status, "unknown"),
        "category": [{"text": x.kind}],
        "subject": patient_ref,
        "sent": when(x.created_at),
        "payload": [{"contentString": x.body}],
    }
    if x.direction == "inbound":
        resource["sender"] = patient_ref
        resource["received"] = when(x.created_at)
    else:
        resource["recipient"] = [patient_ref]
    if not x.body:
        del resource["payload"]
    return resource


def resources(session: Session, p: m.Patient) -> list[Resource]:
    def rows(model: Any) -> list[Any]:
        return list(
            session.scalars(select(model).where(model.patient_id == p.id).order_by(model.id))
        )

    names = {r.id: r.medication.name for r in p.regimen}
    return [
        patient_resource(p),
        *(medication_request(p, r) for r in p.regimen),
        *(medication_statement(p, d, names) for d in rows(m.DoseEvent)),
        *(score_observation(p, s) for s in rows(m.Score)),
        *(side_effect_observation(p, x) for x in rows(m.SideEffectReport)),
        *(flag(p, a) for a in rows(m.Alert)),
        *(communication(p, x) for x in rows(m.Message)),
    ]


def prune(value: Any) -> Any:
    """FHIR JSON has no nulls: drop keys whose value is None, at every depth."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def export_bundle(session: Session, patient: m.Patient) -> dict[str, Any]:
    """The patient's record as a validated FHIR Bundle, as JSON-ready data.

    The data is validated with the models and returned as built: serialising the
    validated models again would cost more than building and validating together.
    """
    data: dict[str, Any] = prune(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources(session, patient)],
        }
    )
    Bundle.model_validate(data)
    return data
