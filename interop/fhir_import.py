"""Import a regimen from a FHIR Bundle of MedicationRequest resources.

All or nothing: the bundle is validated with the `fhir.resources` models, every active
MedicationRequest must map to a plan entry (medicine, dose, times of day), or nothing
changes and the error says which entry and why. Entries that are not active
MedicationRequests are reported as skipped, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from care.plans import change_regimen
from interop import codes
from store.enrolment import MedSpec
from store.models import Patient, Regimen

_NAME = re.compile(r"^[a-z][a-z0-9 \-]*$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(:00(\.0+)?)?$")
_DOSE = re.compile(r"^[^\s@\x00-\x1f\x7f][^@\x00-\x1f\x7f]{0,49}$")


class FhirError(ValueError):
    """The bundle cannot be imported; the message says which entry and why."""


class PatientMismatch(FhirError):
    """The bundle is about another patient."""


@dataclass(frozen=True)
class Planned:
    entry: int
    spec: MedSpec
    days: str


@dataclass(frozen=True)
class Outcome:
    imported: list[Regimen]
    skipped: list[tuple[int, str]]


def parse_bundle(data: Any) -> Bundle:
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirError('expected a FHIR Bundle (resourceType "Bundle")')
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FhirError(f"not a valid FHIR R4 Bundle: {where}: {first['msg']}") from None


def medicine_name(req: MedicationRequest, n: int) -> str:
    concept = req.medicationCodeableConcept
    if concept is None:
        raise FhirError(f"entry {n}: use medicationCodeableConcept (a reference is not supported)")
    name = concept.text or next((c.display for c in concept.coding or [] if c.display), None)
    key = (name or "").strip().lower()
    if not _NAME.match(key) or len(key) > 100:
        raise FhirError(f"entry {n}: the medicine needs a plain name (text or coding.display)")
    return key


def dose_of(dosage: Any, n: int) -> str:
    for rate in dosage.doseAndRate or []:
        q = rate.doseQuantity
        if q is not None and q.value is not None and (q.unit or q.code):
            return codes.dose_text(float(q.value), str(q.unit or q.code))
    text = (dosage.text or "").strip()
    if _DOSE.match(text):
        return text
    raise FhirError(f"entry {n}: the dose needs doseAndRate.doseQuantity (value and unit)")


def times_of(repeat: Any, n: int) -> tuple[str, ...]:
    raw = [str(t) for t in (repeat.timeOfDay if repeat else None) or []]
    matches = [_TIME.match(t) for t in raw]
    if not raw or not all(matches):
        raise FhirError(f"entry {n}: the dose times need timing.repeat.timeOfDay (HH:MM:SS)")
    return tuple(sorted({f"{mt[1]}:{mt[2]}" for mt in matches if mt}))


def plan_entry(req: MedicationRequest, n: int) -> Planned:
    if not req.dosageInstruction:
        raise FhirError(f"entry {n}: a dosageInstruction is required")
    dosage = req.dosageInstruction[0]
    repeat = dosage.timing.repeat if dosage.timing else None
    days = codes.days_spec([str(d) for d in (repeat.dayOfWeek if repeat else None) or []])
    spec = MedSpec(medicine_name(req, n), dose_of(dosage, n), times_of(repeat, n))
    return Planned(n, spec, days)


def check_patient(bundle: Bundle, patient: Patient) -> None:
    for entry in bundle.entry or []:
        res = entry.resource
        if not isinstance(res, FhirPatient):
            continue
        ours = [i.value for i in res.identifier or [] if i.system == codes.PATIENT_SYSTEM]
        if ours and patient.pseudonym not in ours:
            raise PatientMismatch("the bundle's Patient is not this patient")


def read_plan(bundle: Bundle) -> tuple[list[Planned], list[tuple[int, str]]]:
    planned: list[Planned] = []
    skipped: list[tuple[int, str]] = []
    for n, entry in enumerate(bundle.entry or []):
        res = entry.resource
        kind = res.get_resource_type() if res is not None else "nothing"
        if not isinstance(res, MedicationRequest):
            skipped.append((n, f"{kind} is not a MedicationRequest"))
        elif res.status != "active":
            skipped.append((n, f"status is {res.status}, not active"))
        else:
            planned.append(plan_entry(res, n))
    names = [p.spec.name for p in planned]
    if not planned:
        raise FhirError("the bundle has no active MedicationRequest")
    if len(set(names)) != len(names):
        raise FhirError("the bundle has two active MedicationRequests for the same medicine")
    return planned, skipped


def unchanged(patient: Patient, p: Planned) -> bool:
    return any(
        r.active
        and r.medication.name == p.spec.name
        and r.dose == p.spec.dose
        and r.times == ",".join(p.spec.times)
        and r.days == p.days
        for r in patient.regimen
    )


def import_regimen(session: Session, patient: Patient, data: Any) -> Outcome:
    """Apply the bundle's active MedicationRequests to the patient's plan (each changed
    medicine retires its old entry, and the patient is told once per change)."""
    bundle = parse_bundle(data)
    check_patient(bundle, patient)
    planned, skipped = read_plan(bundle)
    imported: list[Regimen] = []
    for p in planned:
        if unchanged(patient, p):
            skipped.append((p.entry, "the plan already has this medicine, dose and times"))
            continue
        imported.append(change_regimen(session, patient, p.spec, p.days))
        session.flush()
        session.expire(patient, ["regimen"])
    return Outcome(imported, sorted(skipped))
