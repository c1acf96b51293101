"""Patients and their records: profile, plan, messages, check-ins, scores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api import convert
from api import schemas as s
from api.dispatch import Call
from api.errors import ApiError, not_found
from api.pagination import page
from api.routing import operation
from messaging.phones import InvalidPhone, to_e164
from store import models as m
from store.enrolment import EnrolmentError, MedSpec, ensure_clinic
from store.patients import by_phone


def find_patient(call: Call, patient_id: int) -> m.Patient:
    found = call.session.get(m.Patient, patient_id)
    if found is None:
        raise not_found("patient")
    return found


def ids(rows: list[Any]) -> str:
    return ",".join(str(r) for r in rows)


@operation(
    "GET",
    "/patients",
    summary="List patients",
    tag="patients",
    scope="read",
    query=s.PatientQuery,
    response=s.PatientPage,
)
def list_patients(call: Call) -> Any:
    q: s.PatientQuery = call.query
    stmt = select(m.Patient)
    if q.status:
        stmt = stmt.where(m.Patient.status == q.status)
    rows, cursor = page(call.session, stmt, m.Patient.id, q)
    call.audit(
        "api.patients.list", target="patients", detail=f"patients {ids([p.id for p in rows])}"
    )
    return s.PatientPage(data=[convert.patient(p) for p in rows], next_cursor=cursor)


@operation(
    "POST",
    "/patients",
    summary="Enrol a patient with their plan and consent: the patient is invited (one "
    "welcome text) and gets no check-in before replying YES or START",
    tag="patients",
    scope="write",
    body=s.NewPatient,
    response=s.Patient,
    status=201,
    errors=(409,),
)
def create_patient(call: Call) -> s.Patient:
    from care.enrolment import enrol_with_consent
    from compliance.consent import Consent, ConsentError
    from conversation.jobs import enqueue_flush

    body: s.NewPatient = call.body
    settings = call.rt.settings
    try:
        phone = to_e164(body.phone, settings.default_region)
    except InvalidPhone as exc:
        raise ApiError(400, "invalid_phone", str(exc)) from None
    if by_phone(call.session, phone) is not None:
        raise ApiError(409, "patient_exists", "a patient with this phone number is enrolled")
    clinic = ensure_clinic(
        call.session, settings.clinic_name, settings.clinic_phone, settings.clinic_hours
    )
    meds = [
        MedSpec(x.medication.strip().lower(), x.dose.strip(), tuple(sorted(set(x.times))))
        for x in body.medicines
    ]
    c = body.consent
    consent = Consent(c.version, c.given_on, c.channel, f"api token {call.token.name}")
    try:
        created = enrol_with_consent(
            call.session,
            clinic,
            phone=phone,
            name=body.name,
            tz=body.timezone,
            meds=meds,
            consent=consent,
            language=body.language,
            pool=settings.sending_pool,
        )
    except (EnrolmentError, ConsentError) as exc:
        raise ApiError(400, "invalid_patient", str(exc)) from None
    call.session.refresh(created)
    call.audit("api.patient.create", patient_id=created.id, target=f"patient/{created.id}")
    patient_id = created.id
    call.after_commit.append(lambda: enqueue_flush(call.rt, patient_id))
    return convert.patient(created)


@operation(
    "GET",
    "/patients/{patient_id}",
    summary="One patient with the active plan",
    tag="patients",
    scope="read",
    response=s.Patient,
)
def get_patient(call: Call, patient_id: int) -> s.Patient:
    found = find_patient(call, patient_id)
    call.audit("api.patient.view", patient_id=found.id, target=f"patient/{found.id}")
    return convert.patient(found)


@operation(
    "GET",
    "/patients/{patient_id}/regimen",
    summary="The patient's plan",
    tag="regimens",
    scope="read",
    query=s.RegimenQuery,
    response=s.RegimenList,
)
def get_regimen(call: Call, patient_id: int) -> s.RegimenList:
    found = find_patient(call, patient_id)
    q: s.RegimenQuery = call.query
    entries = [r for r in found.regimen if r.active or q.include_past]
    call.audit("api.regimen.view", patient_id=found.id, target=f"patient/{found.id}/regimen")
    return s.RegimenList(data=[convert.regimen(r) for r in entries])


@operation(
    "POST",
    "/patients/{patient_id}/regimen",
    summary="Change the plan for one medicine "
    "(the old entry is retired; the patient gets one text about it)",
    tag="regimens",
    scope="write",
    body=s.PlanChange,
    response=s.Regimen,
    status=201,
)
def change_regimen(call: Call, patient_id: int) -> s.Regimen:
    from care.plans import change_regimen as change
    from conversation.jobs import enqueue_flush

    found = find_patient(call, patient_id)
    body: s.PlanChange = call.body
    spec = MedSpec(
        body.medication.strip().lower(), body.dose.strip(), tuple(sorted(set(body.times)))
    )
    entry = change(call.session, found, spec, body.days)
    call.audit("api.regimen.change", patient_id=found.id, target=f"regimen/{entry.id}")
    call.after_commit.append(lambda: enqueue_flush(call.rt, patient_id))
    return convert.regimen(entry)


@operation(
    "GET",
    "/patients/{patient_id}/messages",
    summary="Texts in both directions, oldest first",
    tag="records",
    scope="read",
    query=s.PageQuery,
    response=s.MessagePage,
)
def list_messages(call: Call, patient_id: int) -> Any:
    found = find_patient(call, patient_id)
    stmt = select(m.Message).where(m.Message.patient_id == found.id)
    rows, cursor = page(call.session, stmt, m.Message.id, call.query)
    call.audit("api.messages.view", patient_id=found.id, target=f"patient/{found.id}/messages")
    return s.MessagePage(data=[convert.message(x) for x in rows], next_cursor=cursor)


@operation(
    "GET",
    "/patients/{patient_id}/checkins",
    summary="Scheduled dose check-ins",
    tag="records",
    scope="read",
    query=s.PageQuery,
    response=s.CheckinPage,
)
def list_checkins(call: Call, patient_id: int) -> Any:
    found = find_patient(call, patient_id)
    stmt = select(m.Checkin).where(m.Checkin.patient_id == found.id)
    rows, cursor = page(call.session, stmt, m.Checkin.id, call.query)
    call.audit("api.checkins.view", patient_id=found.id, target=f"patient/{found.id}/checkins")
    return s.CheckinPage(data=[convert.checkin(c) for c in rows], next_cursor=cursor)


@operation(
    "GET",
    "/patients/{patient_id}/scores",
    summary="Questionnaire scores (PHQ-2, PHQ-9, ASQ)",
    tag="records",
    scope="read",
    query=s.PageQuery,
    response=s.ScorePage,
)
def list_scores(call: Call, patient_id: int) -> Any:
    found = find_patient(call, patient_id)
    stmt = select(m.Score).where(m.Score.patient_id == found.id)
    rows, cursor = page(call.session, stmt, m.Score.id, call.query)
    call.audit("api.scores.view", patient_id=found.id, target=f"patient/{found.id}/scores")
    return s.ScorePage(data=[convert.score(x) for x in rows], next_cursor=cursor)


@operation(
    "GET",
    "/patients/{patient_id}/side-effects",
    summary="Side effects the patient reported, with FIBSER ratings",
    tag="records",
    scope="read",
    query=s.PageQuery,
    response=s.SideEffectPage,
)
def list_side_effects(call: Call, patient_id: int) -> Any:
    found = find_patient(call, patient_id)
    stmt = select(m.SideEffectReport).where(m.SideEffectReport.patient_id == found.id)
    rows, cursor = page(call.session, stmt, m.SideEffectReport.id, call.query)
    call.audit(
        "api.side_effects.view", patient_id=found.id, target=f"patient/{found.id}/side-effects"
    )
    return s.SideEffectPage(data=[convert.side_effect(x) for x in rows], next_cursor=cursor)
