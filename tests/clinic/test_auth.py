"""Sign-in, lockout, sessions, sign-out and roles of the clinic web app."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from clinic.secret import SecretKeyError, secret_key
from clinic.signin import MAX_FAILURES
from medfollow.runtime import Runtime
from medfollow.settings import Secret, Settings
from store.models import AuditEvent, Clinician, utcnow
from tests.clinic.conftest import PASSWORD, csrf_of, make_clinician, post, sign_in
from webhook.app import create_app


def audit_actions(rt: Runtime) -> list[str]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_it_stores_a_scrypt_hash_never_the_password(rt: Runtime, clinician: Clinician) -> None:
    with rt.sessions() as db:
        stored = db.get_one(Clinician, clinician.id).password_hash
    assert stored is not None and stored.startswith("scrypt:")
    assert PASSWORD not in stored


def test_it_signs_in_and_shows_the_alert_queue(
    client: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    resp = sign_in(client, "  CASEY@clinic.test ")
    assert resp.status_code == 302 and resp.headers["Location"] == "/clinic/"
    page = client.get("/clinic/alerts")
    assert page.status_code == 200
    assert "Casey" in page.get_data(as_text=True)
    assert "auth.sign_in" in audit_actions(rt)
    with rt.sessions() as db:
        assert db.get_one(Clinician, clinician.id).last_login_at is not None


def test_it_sets_a_secure_httponly_samesite_cookie(
    client: FlaskClient, clinician: Clinician
) -> None:
    resp = sign_in(client, clinician.email)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http:// base URL in tests; https turns it on


def test_it_marks_the_cookie_secure_behind_https(rt: Runtime) -> None:
    settings = replace(rt.settings, public_base_url="https://clinic.example.org")
    app = create_app(rt=Runtime(settings))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_it_keeps_one_generated_secret_key_under_var(rt: Runtime, app: Flask) -> None:
    key_file = rt.settings.var_dir / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert create_app(rt=rt).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_it_refuses_a_wrong_password_with_one_message(
    client: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    wrong = sign_in(client, clinician.email, "not the password")
    unknown = sign_in(client, "nobody@clinic.test", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data(as_text=True) == unknown.get_data(as_text=True).replace(
        "nobody@clinic.test", clinician.email
    )
    assert client.get("/clinic/alerts").status_code == 302
    actions = audit_actions(rt)
    assert "auth.sign_in_wrong_password" in actions and "auth.sign_in_unknown" in actions


def test_it_locks_the_account_after_repeated_failures(
    client: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    for _ in range(MAX_FAILURES):
        assert sign_in(client, clinician.email, "guess guess guess").status_code == 401
    assert sign_in(client, clinician.email).status_code == 401  # right password, locked
    with rt.sessions() as db:
        row = db.get_one(Clinician, clinician.id)
        assert row.locked_until is not None and row.locked_until > utcnow()
    assert "auth.sign_in_now_locked" in audit_actions(rt)
    assert "auth.sign_in_locked" in audit_actions(rt)


def test_it_lets_a_clinician_in_again_once_the_lockout_ends(
    client: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    with rt.sessions.begin() as db:
        db.get_one(Clinician, clinician.id).locked_until = utcnow() - timedelta(seconds=1)
    assert sign_in(client, clinician.email).status_code == 302


def test_it_resets_the_failure_count_on_success(
    client: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, clinician.email, "guess guess guess")
    assert sign_in(client, clinician.email).status_code == 302
    with rt.sessions() as db:
        assert db.get_one(Clinician, clinician.id).failed_logins == 0


def test_it_refuses_an_inactive_clinician(client: FlaskClient, rt: Runtime) -> None:
    make_clinician(rt, "gone@clinic.test", active=False)
    assert sign_in(client, "gone@clinic.test").status_code == 401


def test_it_ends_the_session_when_the_clinician_is_deactivated(
    signed_in: FlaskClient, clinician: Clinician, rt: Runtime
) -> None:
    assert signed_in.get("/clinic/alerts").status_code == 200
    with rt.sessions.begin() as db:
        db.get_one(Clinician, clinician.id).active = False
    assert signed_in.get("/clinic/alerts").status_code == 302


def test_it_signs_out_and_the_old_cookie_no_longer_works(
    app: Flask, signed_in: FlaskClient, rt: Runtime
) -> None:
    cookie = signed_in.get_cookie("medfollow_clinic")
    assert cookie is not None
    assert post(signed_in, "/clinic/logout").status_code == 302
    assert signed_in.get("/clinic/alerts").status_code == 302
    replay = app.test_client()
    replay.set_cookie("medfollow_clinic", cookie.value, path="/")
    assert replay.get("/clinic/alerts").status_code == 302
    assert "auth.sign_out" in audit_actions(rt)


def test_it_only_follows_next_inside_the_clinic_app(
    client: FlaskClient, clinician: Clinician
) -> None:
    for target, expected in [
        ("/clinic/alerts", "/clinic/alerts"),
        ("https://evil.example/", "/clinic/"),
        ("//evil.example/clinic/", "/clinic/"),
    ]:
        token = csrf_of(client)
        resp = client.post(
            "/clinic/login",
            data={
                "email": clinician.email,
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert resp.headers["Location"] == expected


def test_it_redirects_a_page_to_sign_in_with_next(client: FlaskClient) -> None:
    resp = client.get("/clinic/alerts")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/clinic/login?next=/clinic/alerts"


def test_it_answers_a_script_with_401_when_signed_out(client: FlaskClient) -> None:
    resp = client.get("/clinic/alerts/live", headers={"X-Requested-With": "fetch"})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "Unauthorized"


def test_it_uses_the_configured_secret_key_and_refuses_a_short_one(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k" * 40 + "\n")
    settings = Settings.from_env({"MEDFOLLOW_VAR": str(tmp_path), "SECRET_KEY_FILE": str(key)})
    assert secret_key(settings) == "k" * 40
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(SecretKeyError, match="at least 32"):
        secret_key(replace(settings, secret_key=Secret("short")))
