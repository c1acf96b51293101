"""What the alert pages read: the open queue, and one alert with its context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.alerts import ACTIVE, TIER_ORDER
from store.models import Alert, AlertDelivery, Clinician, Message, Patient

CONTEXT_MESSAGES = 10  # before and after the evidence


@dataclass(frozen=True)
class QueueRow:
    alert: Alert
    patient: Patient | None


@dataclass(frozen=True)
class DeliveryRow:
    delivery: AlertDelivery
    clinician: Clinician | None


@dataclass(frozen=True)
class AlertContext:
    alert: Alert
    patient: Patient | None
    evidence: Message | None
    conversation: list[Message]
    deliveries: list[DeliveryRow]
    acknowledged_by: Clinician | None
    resolved_by: Clinician | None


def queue_order(alert: Alert, now: datetime) -> tuple[int, int, float]:
    """Unacknowledged first, then by tier (emergency first), then the nearest deadline."""
    due = alert.due_at.timestamp() if alert.due_at else now.timestamp() + 10**9
    return (alert.state == "acknowledged", TIER_ORDER.index(alert.tier), due)


def open_queue(session: Session, now: datetime) -> list[QueueRow]:
    rows = session.execute(
        select(Alert, Patient)
        .outerjoin(Patient, Patient.id == Alert.patient_id)
        .where(Alert.state.in_(ACTIVE))
    ).all()
    ordered = sorted(rows, key=lambda r: queue_order(r[0], now))
    return [QueueRow(alert, patient) for alert, patient in ordered]


def by_code(session: Session, code: str) -> Alert | None:
    return session.scalars(select(Alert).where(Alert.code == code.strip().upper())).first()


def conversation(session: Session, alert: Alert, evidence: Message | None) -> list[Message]:
    """The messages around the evidence (or the alert's raising) with this sender."""
    if alert.patient_id is not None:
        who = Message.patient_id == alert.patient_id
    elif evidence is not None and evidence.external_phone:
        who = Message.external_phone == evidence.external_phone
    else:
        return []
    if evidence is not None:
        before = Message.id <= evidence.id
        after = Message.id > evidence.id
    else:
        before = Message.created_at <= alert.created_at
        after = Message.created_at > alert.created_at
    earlier = session.scalars(
        select(Message).where(who, before).order_by(Message.id.desc()).limit(CONTEXT_MESSAGES)
    ).all()
    later = session.scalars(
        select(Message).where(who, after).order_by(Message.id).limit(CONTEXT_MESSAGES)
    ).all()
    return [*reversed(earlier), *later]


def deliveries(session: Session, alert_id: int) -> list[DeliveryRow]:
    rows: Sequence[tuple[AlertDelivery, Clinician | None]] = (
        session.execute(
            select(AlertDelivery, Clinician)
            .outerjoin(Clinician, Clinician.id == AlertDelivery.clinician_id)
            .where(AlertDelivery.alert_id == alert_id)
            .order_by(AlertDelivery.id)
        )
        .tuples()
        .all()
    )
    return [DeliveryRow(d, c) for d, c in rows]


def alert_context(session: Session, alert: Alert) -> AlertContext:
    get = session.get
    evidence = get(Message, alert.evidence_message_id) if alert.evidence_message_id else None
    return AlertContext(
        alert=alert,
        patient=get(Patient, alert.patient_id) if alert.patient_id else None,
        evidence=evidence,
        conversation=conversation(session, alert, evidence),
        deliveries=deliveries(session, alert.id),
        acknowledged_by=get(Clinician, alert.acknowledged_by) if alert.acknowledged_by else None,
        resolved_by=get(Clinician, alert.resolved_by) if alert.resolved_by else None,
    )
