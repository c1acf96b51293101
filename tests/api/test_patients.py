"""Patients, plans and records over the API: pagination, validation, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from medfollow.runtime import Runtime
from store.models import (
    AuditEvent,
    ConsentEvent,
    Message,
    Patient,
    Regimen,
    SideEffectReport,
)
from tests.api.conftest import Api
from tests.conftest import make_patient

CONSENT = {"version": "v2", "given_on": "2026-11-01", "channel": "in_person"}
NEW: dict[str, Any] = {
    "phone": "+15555550188",
    "name": "Jo Park",
    "timezone": "America/Chicago",
    "consent": CONSENT,
    "medicines": [{"medication": "Lithium", "dose": "300mg", "times": ["20:00", "08:00"]}],
}


def audit_rows(rt: Runtime) -> list[AuditEvent]:
    with rt.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_it_pages_through_patients_with_a_cursor(rt: Runtime, api: Api) -> None:
    for n in range(3):
        make_patient(rt, phone=f"+1555555016{n}", name=f"Patient {n}")
    first = api.get("/patients?limit=2").json
    assert first is not None and len(first["data"]) == 2 and first["next_cursor"]
    second = api.get(f"/patients?limit=2&cursor={first['next_cursor']}").json
    assert second is not None and second["next_cursor"] is None
    names = [p["name"] for p in first["data"] + second["data"]]
    assert names == ["Patient 0", "Patient 1", "Patient 2"]


def test_it_refuses_a_bad_page_size_with_400(api: Api) -> None:
    for query in ("limit=0", "limit=201", "limit=ten", "cursor=abc"):
        response = api.get(f"/patients?{query}")
        assert response.status_code == 400, query
        assert response.json is not None and response.json["code"] == "invalid_query"


def test_it_shows_a_patient_and_audits_the_view(rt: Runtime, api: Api, patient: Patient) -> None:
    body = api.get(f"/patients/{patient.id}").json
    assert body is not None and body["name"] == "Sam Tester"
    assert [r["medication"] for r in body["regimen"]] == ["sertraline"]
    event = audit_rows(rt)[-1]
    assert (event.actor_kind, event.action, event.patient_id) == (
        "token",
        "api.patient.view",
        patient.id,
    )
    assert event.actor_name == "test-client" and event.actor_id is not None


def test_it_answers_404_for_an_unknown_or_impossible_patient(api: Api) -> None:
    for pid in ("999999", "99999999999", "0", "-1", "abc"):
        response = api.get(f"/patients/{pid}")
        assert response.status_code == 404, pid
        assert response.json is not None and response.json["code"] == "not_found"


def test_it_enrols_an_invited_patient_once_with_their_consent(rt: Runtime, api: Api) -> None:
    created = api.post("/patients", NEW)
    assert created.status_code == 201 and created.json is not None
    assert created.json["phone"] == "+15555550188"
    assert (created.json["status"], created.json["consent_version"]) == ("invited", "v2")
    assert created.json["regimen"][0]["times"] == ["08:00", "20:00"]
    assert created.json["regimen"][0]["medication"] == "lithium"
    again = api.post("/patients", NEW)
    assert again.status_code == 409
    assert again.json is not None and again.json["code"] == "patient_exists"
    assert audit_rows(rt)[-1].action == "api.patient.create"
    with rt.sessions() as session:
        consent = session.scalars(select(ConsentEvent)).one()
        welcome = session.scalars(select(Message.kind)).all()
    assert (consent.channel, consent.recorded_by) == ("in_person", "api token test-client")
    assert list(welcome) == ["welcome"]


def test_it_refuses_an_invalid_patient_with_400_and_stores_nothing(rt: Runtime, api: Api) -> None:
    cases = [
        {**NEW, "extra": 1},
        {**NEW, "name": 5},
        {**NEW, "timezone": "Mars/Olympus"},
        {**NEW, "medicines": [{"medication": "x", "dose": "1mg", "times": ["25:00"]}]},
        {**NEW, "name": "nul\u0000byte"},
        {**NEW, "consent": {**CONSENT, "given_on": "2999-01-01"}},
        {**NEW, "consent": {**CONSENT, "channel": "carrier pigeon"}},
    ]
    for body in cases:
        response = api.post("/patients", body)
        assert response.status_code == 400, body
        assert response.json is not None and response.json["code"] in (
            "invalid_body",
            "invalid_patient",
        )
    with rt.sessions() as session:
        assert session.scalars(select(Patient)).all() == []


def test_it_changes_a_plan_and_tells_the_patient(rt: Runtime, api: Api, patient: Patient) -> None:
    change = {"medication": "sertraline", "dose": "100mg", "times": ["08:00"], "days": "weekdays"}
    response = api.post(f"/patients/{patient.id}/regimen", change)
    assert response.status_code == 201 and response.json is not None
    assert (response.json["dose"], response.json["days"]) == ("100mg", "weekdays")
    current = api.get(f"/patients/{patient.id}/regimen").json
    everything = api.get(f"/patients/{patient.id}/regimen?include_past=true").json
    assert current is not None and everything is not None
    assert [r["dose"] for r in current["data"]] == ["100mg"]
    assert [(r["dose"], r["active"]) for r in everything["data"]] == [
        ("50mg", False),
        ("100mg", True),
    ]
    with rt.sessions() as session:
        kinds = session.scalars(select(Message.kind).where(Message.patient_id == patient.id))
        assert list(kinds) == ["plan_change"]
        assert len(session.scalars(select(Regimen)).all()) == 2


def test_it_lists_messages_checkins_and_scores(rt: Runtime, api: Api, patient: Patient) -> None:
    from care.scores import save_item
    from messaging.outbound import queue_text

    with rt.sessions.begin() as session:
        queue_text(session, body="Hello", kind="welcome", patient_id=patient.id)
        save_item(session, patient.id, None, "PHQ-2", 1, 2)
        session.add(SideEffectReport(patient_id=patient.id, symptom="dry mouth", burden=2))
    messages = api.get(f"/patients/{patient.id}/messages").json
    scores = api.get(f"/patients/{patient.id}/scores").json
    checkins = api.get(f"/patients/{patient.id}/checkins").json
    effects = api.get(f"/patients/{patient.id}/side-effects").json
    assert effects is not None and effects["data"][0]["burden"] == 2
    assert messages is not None and [m["body"] for m in messages["data"]] == ["Hello"]
    assert scores is not None and scores["data"][0]["items"] == {"1": 2}
    assert checkins == {"data": [], "next_cursor": None}
    actions = [e.action for e in audit_rows(rt)]
    assert actions == [
        "api.messages.view",
        "api.scores.view",
        "api.checkins.view",
        "api.side_effects.view",
    ]
