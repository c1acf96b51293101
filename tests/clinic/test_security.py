"""Every clinic page: sign-in required, CSRF on every change, admin pages for admins only,
and an audit row for every page that shows a patient. Pages are found in the URL map, so
a page added later is covered without editing these tests."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from medfollow.runtime import Runtime
from store.models import AuditEvent, Patient
from tests.clinic.conftest import csrf_of

PUBLIC = {"clinic.login", "clinic.static"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def clinic_rules(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/clinic")]
    assert len(rules) >= 10, "the clinic blueprint is registered"
    return [r for r in rules if r.endpoint not in PUBLIC]


def url_of(app: Flask, rule: Rule, patient_id: int = 1) -> str:
    values = {a: (patient_id if a == "patient_id" else 1) for a in rule.arguments}
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values)


def methods(rule: Rule) -> set[str]:
    return (rule.methods or set()) - {"HEAD", "OPTIONS"}


def test_it_redirects_every_page_to_sign_in_when_signed_out(
    app: Flask, client: FlaskClient
) -> None:
    for rule in clinic_rules(app):
        if "GET" not in methods(rule):
            continue
        resp = client.get(url_of(app, rule))
        assert resp.status_code == 302, rule.rule
        assert resp.headers["Location"].startswith("/clinic/login?next="), rule.rule


def test_it_answers_401_to_every_change_when_signed_out(app: Flask, client: FlaskClient) -> None:
    token = csrf_of(client)  # a real token of a signed-out session: only sign-in is missing
    for rule in clinic_rules(app):
        for method in methods(rule) & UNSAFE:
            resp = client.open(url_of(app, rule), method=method, data={"csrf_token": token})
            assert resp.status_code == 401, f"{method} {rule.rule}"


def test_it_rejects_every_change_without_a_csrf_token(
    app: Flask, admin_client: FlaskClient, rt: Runtime
) -> None:
    before = audit_count(rt)
    for rule in clinic_rules(app) + [
        r for r in app.url_map.iter_rules() if r.endpoint == "clinic.login"
    ]:
        for method in methods(rule) & UNSAFE:
            resp = admin_client.open(url_of(app, rule), method=method, data={"note": "x"})
            assert resp.status_code == 400, f"{method} {rule.rule}"
    assert audit_count(rt) == before  # nothing was done


def test_it_rejects_a_wrong_csrf_token(admin_client: FlaskClient) -> None:
    resp = admin_client.post("/clinic/logout", data={"csrf_token": "forged"})
    assert resp.status_code == 403
    assert admin_client.get("/clinic/alerts").status_code == 200  # still signed in


def test_it_rejects_a_token_from_another_session(app: Flask, admin_client: FlaskClient) -> None:
    other = app.test_client()
    token = csrf_of(other)
    assert admin_client.post("/clinic/logout", data={"csrf_token": token}).status_code == 403


def test_it_keeps_admin_pages_from_clinicians(app: Flask, signed_in: FlaskClient) -> None:
    admin_rules = [r for r in clinic_rules(app) if r.endpoint.startswith("clinic.admin")]
    assert len(admin_rules) >= 8
    token = csrf_of(signed_in, "/clinic/alerts")
    for rule in admin_rules:
        for method in methods(rule):
            data = {"csrf_token": token} if method in UNSAFE else None
            resp = signed_in.open(url_of(app, rule), method=method, data=data)
            assert resp.status_code == 403, f"{method} {rule.rule}"
    nav = signed_in.get("/clinic/alerts").get_data(as_text=True)
    assert "/clinic/admin/" not in nav


def test_it_shows_admins_the_admin_pages(app: Flask, admin_client: FlaskClient) -> None:
    for rule in clinic_rules(app):
        if rule.endpoint.startswith("clinic.admin") and "GET" in methods(rule):
            assert admin_client.get(url_of(app, rule)).status_code == 200, rule.rule


def audit_count(rt: Runtime, patient_id: int | None = None) -> int:
    with rt.sessions() as db:
        query = select(func.count(AuditEvent.id))
        if patient_id is not None:
            query = query.where(AuditEvent.patient_id == patient_id)
        return db.scalar(query) or 0


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_it_audits_every_page_that_shows_a_patient(
    app: Flask, client: FlaskClient, rt: Runtime, patient: Patient, role: str
) -> None:
    from tests.clinic.conftest import make_clinician, sign_in

    who = make_clinician(rt, f"{role}@clinic.test", role=role)
    assert sign_in(client, who.email).status_code == 302
    pages = [r for r in clinic_rules(app) if "patient_id" in r.arguments and "GET" in methods(r)]
    for rule in pages:
        before = audit_count(rt, patient.id)
        resp = client.get(url_of(app, rule, patient.id))
        assert resp.status_code == 200, rule.rule
        assert audit_count(rt, patient.id) > before, f"{rule.rule} wrote no audit row"
    with rt.sessions() as db:
        actors = set(
            db.scalars(select(AuditEvent.actor_id).where(AuditEvent.patient_id == patient.id))
        )
    assert actors <= {who.id}


def test_it_sends_pages_that_no_cache_keeps(signed_in: FlaskClient) -> None:
    resp = signed_in.get("/clinic/alerts")
    assert resp.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert re.search(r"<script src=\"/clinic/static/", resp.get_data(as_text=True))
