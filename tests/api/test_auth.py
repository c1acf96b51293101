"""Tokens, scopes, rate limits and the JSON errors of /api/v1."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from api.tokens import hash_token, revoke
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.models import ApiToken, Patient
from tests.api.conftest import Api, MakeToken
from webhook.app import create_app


def test_it_refuses_a_request_without_a_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.json == {
        "code": "unauthorized",
        "message": "send the API token as 'Authorization: Bearer <token>'",
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_an_unknown_token(client: FlaskClient) -> None:
    response = client.get("/api/v1/patients", headers={"Authorization": "Bearer mft_nope"})
    assert response.status_code == 401
    assert response.json is not None and response.json["code"] == "invalid_token"


def test_it_refuses_a_revoked_token(
    rt: Runtime, client: FlaskClient, make_token: MakeToken
) -> None:
    api = Api(client, make_token("read"))
    assert api.get("/patients").status_code == 200
    with rt.sessions.begin() as session:
        row = session.scalars(select(ApiToken)).one()
        assert revoke(session, row.id)
        assert not revoke(session, row.id)
    response = api.get("/patients")
    assert response.status_code == 401
    assert response.json is not None and response.json["code"] == "invalid_token"


def test_it_stores_only_the_hash_of_a_token(rt: Runtime, make_token: MakeToken) -> None:
    plain = make_token("read")
    with rt.sessions() as session:
        row = session.scalars(select(ApiToken)).one()
    assert plain.startswith("mft_") and len(plain) > 40
    assert row.token_hash == hash_token(plain) and plain not in row.token_hash
    assert row.scopes == "read"


def test_it_refuses_an_operation_outside_the_token_scopes(
    client: FlaskClient, make_token: MakeToken, patient: Patient
) -> None:
    reader = Api(client, make_token("read"))
    response = reader.post(f"/patients/{patient.id}/regimen", {"medication": "x"})
    assert response.status_code == 403
    assert response.json is not None and response.json["code"] == "insufficient_scope"
    assert reader.get("/audit-events").status_code == 403
    assert reader.get(f"/patients/{patient.id}").status_code == 200


def test_it_rate_limits_each_token_on_its_own(
    rt: Runtime, settings: Settings, make_token: MakeToken
) -> None:
    from dataclasses import replace

    app = create_app(rt=Runtime(replace(settings, api_rate_limit=3)))
    busy = Api(app.test_client(), make_token("read", name="busy"))
    other = Api(app.test_client(), make_token("read", name="other"))
    statuses = [busy.get("/patients").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = busy.get("/patients")
    assert limited.json is not None and limited.json["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert other.get("/patients").status_code == 200


def test_it_answers_unknown_paths_and_wrong_methods_with_json_errors(api: Api) -> None:
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and missing.json is not None
    assert missing.json["code"] == "not_found"
    wrong = api.client.delete("/api/v1/patients", headers=api.headers())
    assert wrong.status_code == 405 and wrong.json is not None
    assert wrong.json["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"] and "POST" in wrong.headers["Allow"]


def test_it_answers_a_body_that_is_not_json_with_415(api: Api, patient: Patient) -> None:
    response = api.client.post(
        f"/api/v1/patients/{patient.id}/regimen", data="medication=x", headers=api.headers()
    )
    assert response.status_code == 415
    assert response.json is not None and response.json["code"] == "unsupported_media_type"


def test_it_answers_a_database_failure_with_a_json_500(settings: Settings) -> None:
    from dataclasses import replace

    from medfollow.settings import Secret

    broken = replace(settings, database_url=Secret("sqlite:////nonexistent-dir/medfollow.db"))
    client = create_app(rt=Runtime(broken)).test_client()
    response = client.get("/api/v1/patients", headers={"Authorization": "Bearer mft_x"})
    assert response.status_code == 500
    assert response.json == {
        "code": "internal_error",
        "message": "something went wrong on our side",
    }


def test_it_answers_a_body_over_64_kb_with_413(api: Api, patient: Patient) -> None:
    response = api.post(f"/patients/{patient.id}/regimen", {"medication": "x" * 70_000})
    assert response.status_code == 413
    assert response.json is not None and response.json["code"] == "payload_too_large"


def test_it_answers_401_to_every_operation_without_a_token(client: FlaskClient) -> None:
    from api.routing import REGISTRY

    checked = 0
    for op in REGISTRY.operations:
        if op.scope is None:
            continue
        path = "/api/v1" + op.path.replace("{patient_id}", "1").replace("{code}", "ABC234")
        response = client.open(path, method=op.method, json={})
        assert response.status_code == 401, (op.method, op.path)
        checked += 1
    assert checked == len(REGISTRY.operations) - 1
