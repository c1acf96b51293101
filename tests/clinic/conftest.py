"""Fixtures of the clinic web app: clinicians with passwords, a signed-in client."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from clinic.signin import set_password
from medfollow.runtime import Runtime
from store.models import Clinician, utcnow

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_clinician(
    rt: Runtime, email: str, role: str = "clinician", password: str = PASSWORD, **extra: object
) -> Clinician:
    with rt.sessions.begin() as db:
        clinician = Clinician(name=email.split("@")[0].title(), email=email, role=role, **extra)
        set_password(clinician, password, utcnow())
        clinician.sessions_valid_after = None
        db.add(clinician)
    return clinician


def csrf_of(client: FlaskClient, path: str = "/clinic/login") -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    token = csrf_of(client)
    return client.post(
        "/clinic/login", data={"email": email, "password": password, "csrf_token": token}
    )


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> TestResponse:
    """POST a form the way the page does, with this session's CSRF token."""
    token = csrf_of(client, "/clinic/alerts")
    return client.post(path, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def clinician(rt: Runtime) -> Clinician:
    return make_clinician(rt, "casey@clinic.test")


@pytest.fixture
def admin(rt: Runtime) -> Clinician:
    return make_clinician(rt, "ada@clinic.test", role="admin")


@pytest.fixture
def signed_in(client: FlaskClient, clinician: Clinician) -> FlaskClient:
    assert sign_in(client, clinician.email).status_code == 302
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin: Clinician) -> FlaskClient:
    assert sign_in(client, admin.email).status_code == 302
    return client
