"""Audit from a clinic page: the signed-in clinician and their address filled in."""

from __future__ import annotations

from flask import g, request
from sqlalchemy.orm import Session

from store import audit
from store.models import AuditEvent, Clinician


def record(
    session: Session,
    action: str,
    *,
    patient_id: int | None = None,
    target: str | None = None,
    detail: str | None = None,
    clinician: Clinician | None = None,
) -> AuditEvent:
    """Add an audit row to the session's transaction (views commit it with the change,
    or on its own for a page that only shows patient data)."""
    who: Clinician | None = clinician or g.get("clinician")
    return audit.record(
        session,
        actor_kind="clinician",
        actor_id=who.id if who else None,
        actor_name=who.email if who else "",
        action=action,
        patient_id=patient_id,
        target=target,
        detail=detail,
        ip=request.remote_addr,
    )
