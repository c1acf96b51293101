"""The alert lifecycle: raise (or join), page, acknowledge, resolve. Compare-and-set only.

open -> notified (someone was paged) -> acknowledged -> resolved. Every state change is
an UPDATE ... WHERE state = <expected>, and the caller checks that one row changed, so
two workers never page twice and two clinicians never both acknowledge.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.overrides import clinic_policy
from escalation.patterns import combine
from escalation.policy import Policy
from escalation.thresholds import load_thresholds
from store.models import Alert, AlertDelivery, Clinician, Patient, utcnow

ACTIVE = ("open", "notified", "acknowledged")
TIER_ORDER = ("emergency", "urgent", "prompt", "routine")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Raised:
    alert_id: int
    code: str
    new: bool
    page: bool  # True when this signal needs a page (a new alert, or a higher tier)


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def higher(a: str, b: str) -> str:
    return min((a, b), key=TIER_ORDER.index)


def raise_alert(
    session: Session,
    policy: Policy,
    *,
    patient_id: int | None,
    tier: str,
    kind: str,
    rules: list[str],
    summary: str,
    message_id: int | None = None,
) -> Raised:
    """Create an alert, or join the patient's active alert of the same kind.

    A joined signal adds its rules and counts; it pages again only if it raises the
    tier (and the alert has not been acknowledged).
    """
    now = utcnow()
    policy = clinic_policy(session, policy, patient_id)  # the clinic's own deadlines
    tier_policy = policy.tier(tier)
    existing = session.scalars(
        select(Alert)
        .where(Alert.patient_id == patient_id, Alert.kind == kind, Alert.state.in_(ACTIVE))
        .order_by(Alert.id.desc())
        .with_for_update()
    ).first()
    if existing is not None:
        existing.signals += 1
        existing.rules = ",".join(dict.fromkeys([*existing.rules.split(","), *rules]))
        raised_tier = higher(existing.tier, tier) != existing.tier
        if raised_tier:
            existing.tier, existing.due_at = tier, now + tier_policy.ack_within
            if existing.state != "acknowledged":
                existing.state, existing.level = "open", 0
        session.flush()
        page = raised_tier and existing.state == "open" and tier_policy.page
        return Raised(existing.id, existing.code, new=False, page=page)
    tier, rules = _combined(session, patient_id, tier, rules)
    tier_policy = policy.tier(tier)
    alert = Alert(
        code=new_code(),
        patient_id=patient_id,
        tier=tier,
        kind=kind,
        rules=",".join(rules),
        summary=summary,
        evidence_message_id=message_id,
        due_at=now + tier_policy.ack_within,
        backup_due_at=now + tier_policy.backup_after if tier_policy.backup_after else None,
    )
    session.add(alert)
    session.flush()
    return Raised(alert.id, alert.code, new=True, page=tier_policy.page)


def _combined(
    session: Session, patient_id: int | None, tier: str, rules: list[str]
) -> tuple[str, list[str]]:
    """Several urgent signals in 24 hours with no clinician contact yet are treated as an
    emergency (the thresholds' combine rule): the new alert is raised at that tier."""
    if patient_id is None:
        return tier, rules
    t = load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", ""))
    now = utcnow()
    since = now - timedelta(hours=t.combine.within_hours)
    rows = session.execute(
        select(Alert.created_at, Alert.tier, Alert.acknowledged_at).where(
            Alert.patient_id == patient_id, Alert.created_at >= since
        )
    ).all()
    contacted = any(r.acknowledged_at is not None for r in rows)
    recent = [(r.created_at, r.tier) for r in rows] + [(now, tier)]
    found = combine(recent, contacted, now, t)
    if found and higher(found[0].tier, tier) != tier:
        return found[0].tier, [*rules, found[0].rule]
    return tier, rules


def acknowledge(session: Session, code: str, clinician: Clinician) -> bool:
    """Acknowledge an open or notified alert; False if it was not (already done, unknown)."""
    result = session.execute(
        update(Alert)
        .where(Alert.code == code.strip().upper(), Alert.state.in_(("open", "notified")))
        .values(state="acknowledged", acknowledged_at=utcnow(), acknowledged_by=clinician.id)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def resolve(session: Session, code: str, clinician: Clinician, note: str) -> bool:
    result = session.execute(
        update(Alert)
        .where(Alert.code == code.strip().upper(), Alert.state.in_(ACTIVE))
        .values(state="resolved", resolved_at=utcnow(), resolved_by=clinician.id, note=note)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def in_emergency(session: Session, patient_id: int) -> bool:
    """An open emergency episode: scheduled texts pause until a clinician resolves it."""
    return (
        session.scalars(
            select(Alert.id).where(
                Alert.patient_id == patient_id,
                Alert.tier == "emergency",
                Alert.state.in_(ACTIVE),
            )
        ).first()
        is not None
    )


def patient_ref(patient: Patient | None) -> str:
    """Initials and record number: enough to find the record, little to a stranger."""
    if patient is None:
        return "(not enrolled)"
    initials = ".".join(w[0].upper() for w in patient.display_name.split()[:2] if w)
    return f"{initials}. #{patient.id}" if initials else f"#{patient.id}"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def alert_record(session: Session, alert: Alert) -> dict[str, Any]:
    patient = session.get(Patient, alert.patient_id) if alert.patient_id else None
    deliveries = session.scalars(
        select(AlertDelivery).where(AlertDelivery.alert_id == alert.id).order_by(AlertDelivery.id)
    ).all()
    return {
        "code": alert.code,
        "patient_phone": patient.phone if patient else None,
        "patient_ref": patient_ref(patient),
        "tier": alert.tier,
        "kind": alert.kind,
        "state": alert.state,
        "level": alert.level,
        "rules": [r for r in alert.rules.split(",") if r],
        "summary": alert.summary,
        "signals": alert.signals,
        "created_at": iso(alert.created_at),
        "deadlines": {"acknowledge_by": iso(alert.due_at), "backup_at": iso(alert.backup_due_at)},
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_at": iso(alert.resolved_at),
        "deliveries": [
            {
                "channel": d.channel,
                "to": d.to,
                "level": d.level,
                "status": d.status,
                "error": d.error,
                "at": iso(d.attempted_at),
            }
            for d in deliveries
        ],
    }
