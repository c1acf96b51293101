"""`medfollow clinicians add --password-file`, `clinicians password` and the demo
sign-ins, then signing in with them through the web app."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from clinic.demo import DEMO_ADMIN, DEMO_ADMIN_PASSWORD, DEMO_CLINICIAN_PASSWORD
from medfollow.cli import DEMO_ONCALL, main
from medfollow.runtime import Runtime
from store.models import AuditEvent, Clinician
from tests.clinic.conftest import sign_in
from tests.medfollow.test_cli import cli_env


def test_it_adds_a_clinician_with_a_password_from_a_file(
    rt: Runtime, client: FlaskClient, tmp_path: Path
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("a file password of mine\n")
    result = CliRunner().invoke(
        main,
        [
            "clinicians",
            "add",
            "--name",
            "Dr F",
            "--email",
            "f@clinic.test",
            "--role",
            "admin",
            "--password-file",
            str(secret),
        ],
        env=cli_env(rt.settings),
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "f@clinic.test", "a file password of mine").status_code == 302
    assert "Clinicians" in client.get("/clinic/alerts").get_data(as_text=True)  # admin nav


def test_it_sets_a_password_from_stdin_and_audits_it(rt: Runtime, client: FlaskClient) -> None:
    env = cli_env(rt.settings)
    CliRunner().invoke(
        main, ["clinicians", "add", "--name", "Dr S", "--email", "s@clinic.test"], env=env
    )
    with rt.sessions() as db:
        assert db.scalars(select(Clinician.password_hash)).one() is None
    result = CliRunner().invoke(
        main, ["clinicians", "password", "s@clinic.test"], input="from stdin please\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "s@clinic.test", "from stdin please").status_code == 302
    with rt.sessions() as db:
        actions = list(db.scalars(select(AuditEvent.action)))
    assert "clinician.password_reset" in actions


def test_it_refuses_a_short_password_in_one_line(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    CliRunner().invoke(
        main, ["clinicians", "add", "--name", "Dr S", "--email", "s@clinic.test"], env=env
    )
    result = CliRunner().invoke(
        main, ["clinicians", "password", "s@clinic.test"], input="short\n", env=env
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_it_seeds_demo_sign_ins_that_work(rt: Runtime, client: FlaskClient) -> None:
    env = cli_env(rt.settings)
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "seed"], env=env)
        assert result.exit_code == 0, result.output
    assert f"{DEMO_ADMIN[1]} / {DEMO_ADMIN_PASSWORD}" in result.output
    assert f"{DEMO_ONCALL[0][1]} / {DEMO_CLINICIAN_PASSWORD}" in result.output
    assert sign_in(client, DEMO_ONCALL[0][1], DEMO_CLINICIAN_PASSWORD).status_code == 302
    other = client.application.test_client()
    assert sign_in(other, DEMO_ADMIN[1], DEMO_ADMIN_PASSWORD).status_code == 302
    assert other.get("/clinic/admin/clinicians").status_code == 200
