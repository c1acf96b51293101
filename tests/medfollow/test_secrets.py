"""Secrets (TWILIO_AUTH_TOKEN, SECRET_KEY, SMTP_PASSWORD, PAGER_WEBHOOK_SECRET, RASA_TOKEN,
the database password) come from the environment or <NAME>_FILE and are never echoed:
not by `medfollow` commands (output, errors, logs), not by /healthz, not by error pages.
The end-to-end stacks check every process's logs for them too (tests/e2e/logscan.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from medfollow.cli import main
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.db import dispose_all
from tests.conftest import REDIS_BASE, signed_post, sms_params
from webhook.app import create_app

SECRETS = {
    "TWILIO_AUTH_TOKEN": "twilio-token-must-not-leak-1f9c",
    "SECRET_KEY": "secret-key-must-not-leak-7b2e-0123456789abcdef",
    "SMTP_PASSWORD": "smtp-password-must-not-leak-4a7d",
    "PAGER_WEBHOOK_SECRET": "pager-secret-must-not-leak-0c5b",
    "RASA_TOKEN": "rasa-token-must-not-leak-93e1",
}
DB_PASSWORD = "db-password-must-not-leak-6d3f"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for value in [*SECRETS.values(), DB_PASSWORD]:
            assert value not in text, f"a secret was echoed: {text[:300]!r}"


def secret_env(tmp_path: Path, db_url: str, as_files: bool) -> dict[str, str]:
    """The secrets as variables, or as <NAME>_FILE files; the database URL gets a password."""
    env = {
        "MEDFOLLOW_VAR": str(tmp_path),
        "DATABASE_URL": db_url,
        "REDIS_URL": f"{REDIS_BASE}/9",
        "RASA_URL": "http://127.0.0.1:9",
        "RASA_TIMEOUT": "1",
    }
    for name, value in SECRETS.items():
        if as_files:
            path = tmp_path / name.lower()
            path.write_text(value + "\n")
            env[f"{name}_FILE"] = str(path)
        else:
            env[name] = value
    return env


def with_password(db_url: str) -> str:
    """The same PostgreSQL database, with a password in the URL (trust auth ignores it)."""
    return db_url.replace("postgresql://postgres@", f"postgresql://postgres:{DB_PASSWORD}@")


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


def run(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    assert_no_secret(result.output, result.stderr, repr(result.exception or ""))
    return result


@pytest.mark.parametrize("as_files", [False, True])
def test_it_never_prints_a_secret_from_any_command(
    pg_url: str, tmp_path: Path, logged: pytest.LogCaptureFixture, as_files: bool
) -> None:
    env = secret_env(tmp_path, with_password(pg_url), as_files)
    for path in commands(main):
        assert run(env, *path, "--help").exit_code == 0
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "demo", "seed").exit_code == 0
    assert run(env, "patient", "show", "--phone", "+15555550123", "--json").exit_code == 0
    assert run(env, "alerts", "--json").exit_code == 0
    assert run(env, "rasa-endpoints", str(tmp_path / "endpoints.yml")).exit_code == 0
    assert run(env, "triage").exit_code != 0  # Rasa is not running: one clear line
    assert_no_secret(logged.text)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@127.0.0.1:1/nope"}, "not reachable"),
        ({"DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@127.0.0.1:notaport/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": f"nonsense{DB_PASSWORD}"}, "DATABASE_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "Redis is not reachable"),
        ({"SMTP_PORT": "twenty-five"}, "SMTP_PORT"),
    ],
)
def test_it_never_prints_a_secret_in_an_error(
    pg_url: str,
    tmp_path: Path,
    logged: pytest.LogCaptureFixture,
    override: dict[str, str],
    expected: str,
) -> None:
    env = {**secret_env(tmp_path, with_password(pg_url), as_files=True), **override}
    result = run(env, "checkin", "send", "--phone", "+15555550123")
    dispose_all()
    assert result.exit_code == 1
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert_no_secret(logged.text)


@pytest.fixture
def secret_client(pg_url: str, tmp_path: Path) -> Iterator[tuple[FlaskClient, Settings]]:
    settings = Settings.from_env(secret_env(tmp_path, with_password(pg_url), as_files=True))
    yield create_app(rt=Runtime(settings)).test_client(), settings
    dispose_all()


def test_it_never_shows_a_secret_in_healthz_or_error_pages(
    secret_client: tuple[FlaskClient, Settings], logged: pytest.LogCaptureFixture
) -> None:
    client, settings = secret_client
    pages = [
        client.get("/healthz"),
        client.get("/no-such-page"),
        client.get("/twilio/sms"),
        client.post("/twilio/sms", data=sms_params("+15555550123", "hi")),
        client.post(
            "/twilio/sms", data=sms_params("+15555550123", "x"), headers={"X-Twilio-Signature": "x"}
        ),
        signed_post(client, settings, "/twilio/sms", {"MessageSid": "nope"}),
        signed_post(client, settings, "/twilio/sms", sms_params("+15555550123", "x" * 70_000)),
    ]
    assert [p.status_code for p in pages] == [503, 404, 405, 403, 403, 400, 413]
    assert_no_secret(*(p.get_data(as_text=True) for p in pages), logged.text)


def test_it_never_shows_a_secret_when_the_database_is_down(
    tmp_path: Path, logged: pytest.LogCaptureFixture
) -> None:
    down = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:1/medfollow"
    settings = Settings.from_env(secret_env(tmp_path, down, as_files=False))
    client = create_app(rt=Runtime(settings)).test_client()
    health = client.get("/healthz")
    failed = signed_post(client, settings, "/twilio/sms", sms_params("+15555550123", "hi"))
    dispose_all()
    assert health.status_code == 503
    assert health.get_json()["components"]["database"].startswith("down")
    assert failed.status_code == 500
    assert_no_secret(health.get_data(as_text=True), failed.get_data(as_text=True), logged.text)


def test_it_keeps_private_values_out_of_logged_database_errors(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLAlchemy hides bound values; the log filter masks numbers the database echoes."""
    from sqlalchemy.exc import IntegrityError

    from medfollow.logs import RedactPhones
    from store.db import session_factory
    from store.models import Patient
    from tests.conftest import make_patient

    settings = Settings.from_env({"DATABASE_URL": db_url, "REDIS_URL": f"{REDIS_BASE}/9"})
    make_patient(Runtime(settings), phone="+15555550188", name="Private Name")
    handler = logging.StreamHandler()
    handler.addFilter(RedactPhones())
    log = logging.getLogger("tests.privacy")
    log.addHandler(handler)
    try:
        with pytest.raises(IntegrityError) as caught, session_factory(db_url).begin() as session:
            session.add(Patient(**duplicate_of(session, "+15555550188")))
        log.error("storing failed", exc_info=caught.value)
    finally:
        log.removeHandler(handler)
    logged = capsys.readouterr().err
    assert "storing failed" in logged and "IntegrityError" in logged
    assert "Private Name" not in str(caught.value)
    assert "5555550188" not in logged


def duplicate_of(session: object, phone: str) -> dict[str, object]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.models import Patient

    assert isinstance(session, Session)
    original = session.scalars(select(Patient).where(Patient.phone == phone)).one()
    columns = Patient.__table__.columns
    return {c.key: getattr(original, c.key) for c in columns if c.key not in ("id", "pseudonym")}
