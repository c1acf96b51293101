"""Alerts: the queue, one alert, acknowledge and resolve (compare-and-set, as everywhere)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from api import convert
from api import schemas as s
from api.dispatch import Call
from api.errors import ApiError
from api.pagination import page
from api.routing import operation
from escalation import alerts as lifecycle
from escalation.oncall import RotaError, clinician_by_email
from store import models as m

CODE = re.compile(r"[A-Za-z0-9]{1,12}")


def find_alert(call: Call, code: str) -> m.Alert:
    found = None
    if CODE.fullmatch(code):  # anything else is no alert (and never reaches the database)
        found = call.session.scalars(select(m.Alert).where(m.Alert.code == code.upper())).first()
    if found is None:
        raise ApiError(404, "not_found", "no alert with that code")
    return found


def clinician(call: Call, email: str) -> m.Clinician:
    try:
        return clinician_by_email(call.session, email)
    except RotaError:
        raise ApiError(404, "clinician_not_found", "no clinician with that email") from None


@operation(
    "GET",
    "/alerts",
    summary="Alerts, oldest first (filter by state, tier, patient)",
    tag="alerts",
    scope="read",
    query=s.AlertQuery,
    response=s.AlertPage,
)
def list_alerts(call: Call) -> Any:
    q: s.AlertQuery = call.query
    stmt = select(m.Alert)
    if q.state:
        stmt = stmt.where(m.Alert.state == q.state)
    if q.tier:
        stmt = stmt.where(m.Alert.tier == q.tier)
    if q.patient_id:
        stmt = stmt.where(m.Alert.patient_id == q.patient_id)
    rows, cursor = page(call.session, stmt, m.Alert.id, q)
    patients = sorted({a.patient_id for a in rows if a.patient_id})
    call.audit(
        "api.alerts.list", target="alerts", detail="patients " + ",".join(map(str, patients))
    )
    return s.AlertPage(data=[convert.alert(call.session, a) for a in rows], next_cursor=cursor)


@operation(
    "GET",
    "/alerts/{code}",
    summary="One alert with its pages",
    tag="alerts",
    scope="read",
    response=s.Alert,
)
def get_alert(call: Call, code: str) -> s.Alert:
    found = find_alert(call, code)
    call.audit("api.alert.view", patient_id=found.patient_id, target=f"alert/{found.code}")
    return convert.alert(call.session, found)


@operation(
    "POST",
    "/alerts/{code}/acknowledge",
    summary="Acknowledge on behalf of a clinician (stops re-escalation); 409 if it is not open",
    tag="alerts",
    scope="write",
    body=s.Acknowledge,
    response=s.Alert,
    errors=(409,),
)
def acknowledge_alert(call: Call, code: str) -> s.Alert:
    found = find_alert(call, code)
    body: s.Acknowledge = call.body
    if not lifecycle.acknowledge(call.session, found.code, clinician(call, body.clinician_email)):
        raise ApiError(409, "alert_state", f"alert {found.code} is {found.state}, not open")
    call.session.refresh(found)
    call.audit("api.alert.acknowledge", patient_id=found.patient_id, target=f"alert/{found.code}")
    return convert.alert(call.session, found)


@operation(
    "POST",
    "/alerts/{code}/resolve",
    summary="Resolve with a note (ends an emergency episode); 409 if already resolved",
    tag="alerts",
    scope="write",
    body=s.Resolve,
    response=s.Alert,
    errors=(409,),
)
def resolve_alert(call: Call, code: str) -> s.Alert:
    found = find_alert(call, code)
    body: s.Resolve = call.body
    who = clinician(call, body.clinician_email)
    if not lifecycle.resolve(call.session, found.code, who, body.note):
        raise ApiError(409, "alert_state", f"alert {found.code} is already {found.state}")
    call.session.refresh(found)
    call.audit("api.alert.resolve", patient_id=found.patient_id, target=f"alert/{found.code}")
    return convert.alert(call.session, found)
