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

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from escalation.context import modified_tier
from escalation.overrides import clinic_policy
from escalation.patterns import combine
from escalation.policy import Policy
from escalation.thresholds import Thresholds, load_thresholds
from store.models import LIVE_ALERT, Alert, AlertDelivery, Clinician, Message, Patient, utcnow

# The live states: a new signal joins an alert in one of these (store.models.LIVE_ALERT
# is the same list as the index predicate that allows one such alert per patient and kind).
ACTIVE = ("open", "notified", "acknowledged")
RULES_MAX = 200  # Alert.rules
TIER_ORDER = ("emergency", "urgent", "prompt", "routine")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Raised:
    alert_id: int
    code: str
    new: bool
    page: bool  # True when this signal needs a page (a new alert, or a higher tier)
    tier: str  # the alert's tier now: the signal's after the modifiers, or higher


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
    modify: bool = True,
) -> Raised:
    """Create an alert, or join the live alert of the same patient and kind.

    1. The tier is the signal's tier raised by the §7.2 modifiers for this patient
       (:func:`escalation.context.modified_tier`); the modifiers that applied are added
       to the rules as ``modifier:<id>``. ``modify=False`` keeps the tier as given,
       with neither the modifiers nor the combine rule: for R20 alerts, which take the
       tier of what they are about and are part of its episode, not a new signal.
    2. A live alert of the same kind (for an unenrolled sender: from the same number):
       the signal joins it, adding its rules and a count. It pages again only if it
       raises the tier and nobody has acknowledged the alert yet.
    3. Otherwise a new alert (after the combine rule), inserted with ON CONFLICT DO
       NOTHING on the one-live-alert index: when another transaction raised the same
       alert a moment earlier, this signal joins that one instead. Nothing raises, so the
       caller's transaction (the stored inbound message) is never rolled back.
    """
    now = utcnow()
    policy = clinic_policy(session, policy, patient_id)  # the clinic's own deadlines
    t = _thresholds()
    for _ in range(3):
        existing = _live(session, patient_id, kind, message_id)
        signal_tier, signal_rules = tier, rules
        if patient_id is not None and modify:
            # The alert this signal joins is not a "recent alert" of its own.
            skip = existing.id if existing is not None else None
            signal_tier, applied = modified_tier(session, patient_id, tier, now, t, skip)
            signal_rules = [*rules, *(f"modifier:{m}" for m in applied)]
        if existing is not None:
            return _join(session, existing, policy, signal_tier, signal_rules, now)
        if modify:
            signal_tier, signal_rules = _combined(
                session, patient_id, signal_tier, signal_rules, now, t
            )
        inserted = _insert(
            session, policy, patient_id, signal_tier, kind, signal_rules, summary, message_id
        )
        if inserted is not None:
            return inserted
    # Each pass either joins or inserts unless the conflicting alert was resolved in
    # between, so three passes in a row without either cannot happen in practice.
    raise RuntimeError(f"could not raise or join a {kind} alert")


def _thresholds() -> Thresholds:
    return load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", ""))


def _rules_text(rules: list[str]) -> str:
    """Rule ids, each once, in order; the newest are left out past the column's size."""
    out = ""
    for rule in dict.fromkeys(r for r in rules if r):
        joined = f"{out},{rule}" if out else rule
        if len(joined) > RULES_MAX:
            break
        out = joined
    return out


def _live(
    session: Session, patient_id: int | None, kind: str, message_id: int | None
) -> Alert | None:
    """The live alert a new signal joins, locked (PostgreSQL) and read afresh."""
    query = (
        select(Alert)
        .where(Alert.kind == kind, Alert.state.in_(ACTIVE))
        .order_by(Alert.id.desc())
        .with_for_update(of=Alert)
        .execution_options(populate_existing=True)
    )
    if patient_id is not None:
        return session.scalars(query.where(Alert.patient_id == patient_id)).first()
    # Unenrolled senders have no patient row: join alerts raised from the same number.
    phone = session.scalar(select(Message.external_phone).where(Message.id == message_id))
    if phone is None:
        return None
    query = query.join(Message, Message.id == Alert.evidence_message_id).where(
        Alert.patient_id.is_(None), Message.external_phone == phone
    )
    return session.scalars(query).first()


def _join(
    session: Session, alert: Alert, policy: Policy, tier: str, rules: list[str], now: datetime
) -> Raised:
    alert.signals += 1
    alert.rules = _rules_text([*alert.rules.split(","), *rules])
    raised_tier = higher(alert.tier, tier) != alert.tier
    tier_policy = policy.tier(tier)
    if raised_tier:
        alert.tier, alert.due_at = tier, now + tier_policy.ack_within
        alert.backup_due_at = (
            alert.created_at + tier_policy.backup_after if tier_policy.backup_after else None
        )
        if alert.state != "acknowledged":
            alert.state, alert.level = "open", 0
    session.flush()
    page = raised_tier and alert.state == "open" and tier_policy.page
    return Raised(alert.id, alert.code, new=False, page=page, tier=alert.tier)


def _insert(
    session: Session,
    policy: Policy,
    patient_id: int | None,
    tier: str,
    kind: str,
    rules: list[str],
    summary: str,
    message_id: int | None,
) -> Raised | None:
    """Insert a new alert; None when the one-live-alert index says one exists already."""
    now = utcnow()
    tier_policy = policy.tier(tier)
    code = new_code()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Alert)
        .values(
            code=code,
            patient_id=patient_id,
            tier=tier,
            kind=kind,
            rules=_rules_text(rules),
            summary=summary,
            evidence_message_id=message_id,
            due_at=now + tier_policy.ack_within,
            backup_due_at=now + tier_policy.backup_after if tier_policy.backup_after else None,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["patient_id", "kind"], index_where=text(LIVE_ALERT))
        .returning(Alert.id)
    )
    alert_id = session.scalar(statement)
    if alert_id is None:
        return None
    return Raised(alert_id, code, new=True, page=tier_policy.page, tier=tier)


def _combined(
    session: Session,
    patient_id: int | None,
    tier: str,
    rules: list[str],
    now: datetime,
    t: Thresholds,
) -> tuple[str, list[str]]:
    """Several urgent signals in 24 hours with no clinician contact yet are treated as an
    emergency (the thresholds' combine rule): the new alert is raised at that tier."""
    if patient_id is None:
        return tier, rules
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
