"""Stored rows to API bodies (the models in api/schemas.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas as s
from care.scores import items_of
from store import models as m


def regimen(r: m.Regimen) -> s.Regimen:
    return s.Regimen(
        id=r.id,
        medication=r.medication.name,
        dose=r.dose,
        times=r.times.split(","),
        days=r.days,
        active=r.active,
        started_at=r.started_at,
    )


def patient(p: m.Patient) -> s.Patient:
    return s.Patient(
        id=p.id,
        pseudonym=p.pseudonym,
        name=p.display_name,
        phone=p.phone,
        timezone=p.timezone,
        language=p.language,
        sms_detail_level=p.sms_detail_level,
        consent_version=p.consent_version,
        consent_at=p.consent_at,
        opted_out=p.opted_out,
        status=p.status,
        created_at=p.created_at,
        regimen=[regimen(r) for r in p.regimen if r.active],
    )


def message(x: m.Message) -> s.Message:
    return s.Message(
        id=x.id,
        direction="inbound" if x.direction == "inbound" else "outbound",
        body=x.body,
        kind=x.kind,
        status=x.status,
        segments=x.segments,
        in_reply_to_id=x.in_reply_to_id,
        error_code=x.error_code,
        created_at=x.created_at,
    )


def checkin(c: m.Checkin) -> s.Checkin:
    return s.Checkin(
        id=c.id,
        regimen_id=c.regimen_id,
        medication=c.regimen.medication.name,
        scheduled_local=c.scheduled_local,
        due_at=c.due_at,
        status=c.status,
        outcome=c.outcome,
        sent_at=c.sent_at,
        answered_at=c.answered_at,
    )


def score(x: m.Score) -> s.Score:
    return s.Score(
        id=x.id,
        instrument=x.instrument,
        items={str(k): v for k, v in items_of(x).items()},
        total=x.total,
        complete=x.complete,
        created_at=x.created_at,
    )


def side_effect(x: m.SideEffectReport) -> s.SideEffect:
    return s.SideEffect(
        id=x.id,
        symptom=x.symptom,
        red_flag=x.red_flag,
        frequency=x.frequency,
        intensity=x.intensity,
        burden=x.burden,
        created_at=x.created_at,
    )


def alert(session: Session, a: m.Alert) -> s.Alert:
    deliveries = session.scalars(
        select(m.AlertDelivery).where(m.AlertDelivery.alert_id == a.id).order_by(m.AlertDelivery.id)
    )
    return s.Alert(
        code=a.code,
        patient_id=a.patient_id,
        tier=a.tier,
        kind=a.kind,
        state=a.state,
        level=a.level,
        rules=[r for r in a.rules.split(",") if r],
        summary=a.summary,
        signals=a.signals,
        created_at=a.created_at,
        acknowledge_by=a.due_at,
        acknowledged_at=a.acknowledged_at,
        acknowledged_by=a.acknowledged_by,
        resolved_at=a.resolved_at,
        resolved_by=a.resolved_by,
        note=a.note,
        deliveries=[
            s.Delivery(
                channel=d.channel,
                level=d.level,
                clinician_id=d.clinician_id,
                status=d.status,
                error=d.error,
                at=d.attempted_at,
            )
            for d in deliveries
        ],
    )


def audit_event(e: m.AuditEvent) -> s.AuditEvent:
    return s.AuditEvent(
        id=e.id,
        at=e.at,
        actor_kind=e.actor_kind,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        action=e.action,
        patient_id=e.patient_id,
        target=e.target,
        detail=e.detail,
        ip=e.ip,
    )
