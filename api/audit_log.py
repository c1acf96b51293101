"""The audit log, for clients with the audit scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api import convert
from api import schemas as s
from api.dispatch import Call
from api.pagination import page
from api.routing import operation
from store import models as m


@operation(
    "GET",
    "/audit-events",
    summary="Who saw or changed what, oldest first",
    tag="audit",
    scope="audit",
    query=s.AuditQuery,
    response=s.AuditPage,
)
def list_audit_events(call: Call) -> Any:
    q: s.AuditQuery = call.query
    stmt = select(m.AuditEvent)
    if q.patient_id:
        stmt = stmt.where(m.AuditEvent.patient_id == q.patient_id)
    if q.actor_kind:
        stmt = stmt.where(m.AuditEvent.actor_kind == q.actor_kind)
    rows, cursor = page(call.session, stmt, m.AuditEvent.id, q)
    call.audit("api.audit.view", target="audit-events")
    return s.AuditPage(data=[convert.audit_event(e) for e in rows], next_cursor=cursor)
