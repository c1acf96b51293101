"""The audit log: one row per thing a person or a client saw or changed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import AuditEvent


def record(
    session: Session,
    *,
    actor_kind: str,
    actor_id: int | None,
    actor_name: str,
    action: str,
    patient_id: int | None = None,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (committed with the change it
    describes, so a change is never without its audit row)."""
    event = AuditEvent(
        actor_kind=actor_kind,
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        patient_id=patient_id,
        target=target,
        detail=detail,
        ip=ip,
    )
    session.add(event)
    return event
