"""API fixtures: tokens with chosen scopes, and a client that sends one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.tokens import create_token
from escalation.alerts import raise_alert
from escalation.oncall import add_clinician
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from store.models import Patient

MakeToken = Callable[..., str]


@pytest.fixture
def make_token(rt: Runtime) -> MakeToken:
    def make(*scopes: str, name: str = "test-client") -> str:
        with rt.sessions.begin() as session:
            _, plain = create_token(session, name, list(scopes or ("read",)), "tests")
        return plain

    return make


class Api:
    """The test client with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client, self.token = client, token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.client.get("/api/v1" + path, headers=self.headers(), **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> TestResponse:
        return self.client.post("/api/v1" + path, json=body, headers=self.headers(), **kw)


@pytest.fixture
def api(client: FlaskClient, make_token: MakeToken) -> Api:
    return Api(client, make_token("read", "write", "audit"))


def make_alert(
    rt: Runtime, patient: Patient, tier: str = "urgent", kind: str = "side_effect"
) -> str:
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            load_policy(),
            patient_id=patient.id,
            tier=tier,
            kind=kind,
            rules=["R10"],
            summary="New rash on lamotrigine",
        )
        return raised.code


def make_clinician(rt: Runtime, email: str = "dr.lee@clinic.example") -> str:
    with rt.sessions.begin() as session:
        add_clinician(session, "Dr Lee", email, None)
    return email
