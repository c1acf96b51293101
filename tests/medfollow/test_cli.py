"""medfollow.cli: enrol, show, seed and upgrade against the real databases; clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, inspect, select

from medfollow.cli import main
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.enrolment import DEMO_PATIENT_PHONE
from store.models import Base, Patient
from tests.conftest import signed_post, sms_params

PHONE = "+15555550177"
ADD = [
    "patients",
    "add",
    "--phone",
    "(555) 555-0177",
    "--name",
    "Jo Park",
    "--tz",
    "America/Chicago",
    "--med",
    "sertraline:50mg@08:00",
    "--med",
    "lithium:300mg@08:00,20:00",
    "--consent",
    "v2",
]
UNREACHABLE_DB = "postgresql://postgres@127.0.0.1:1/nope"


def cli_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment the `settings` fixture was built from, as the CLI would see it."""
    env = {
        "MEDFOLLOW_VAR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url.reveal(),
        "REDIS_URL": settings.redis_url,
        "RASA_URL": settings.rasa_url,
        "SMS_TRANSPORT": settings.sms_transport,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token.reveal(),
        "PUBLIC_BASE_URL": settings.public_base_url,
        "DEFAULT_REGION": settings.default_region,
    }
    env.update(overrides)
    return env


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def assert_ok(result: Result) -> None:
    assert result.exit_code == 0, result.output
    assert result.exception is None


def assert_one_line_error(result: Result, *mentions: str) -> None:
    """Non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.exit_code != 0
    # A ClickException exits through SystemExit; anything else would be a traceback.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for word in mentions:
        assert word.lower() in lines[0].lower(), lines[0]


def show(env: dict[str, str], phone: str = PHONE) -> dict[str, Any]:
    result = invoke(env, "patient", "show", "--phone", phone, "--json")
    assert_ok(result)
    assert len(result.stdout.strip().splitlines()) == 1, "one JSON object on one line"
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def patient_count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count(Patient.id))) or 0)


def test_it_enrols_a_patient_and_shows_the_record_as_json(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    added = invoke(env, *ADD)
    assert_ok(added)
    assert added.stdout.startswith("enrolled patient ")

    record = show(env, "+15555550177")
    assert set(record) == {
        "patient",
        "regimen",
        "messages",
        "dose_events",
        "alerts",
        "adherence",
        "schedule",
        "mood_checks",
    }
    assert record["schedule"]["quiet_hours"] == "09:00-20:00"
    p = record["patient"]
    assert p["phone"] == PHONE, "normalised to E.164"
    assert p["name"] == "Jo Park"
    assert p["timezone"] == "America/Chicago"
    assert p["consent_version"] == "v2"
    assert p["consent_at"] is not None
    assert p["opted_out"] is False
    regimen = {r["medication"]: (r["dose"], r["times"]) for r in record["regimen"]}
    assert regimen == {
        "sertraline": ("50mg", ["08:00"]),
        "lithium": ("300mg", ["08:00", "20:00"]),
    }
    assert record["messages"] == []
    assert record["dose_events"] == []
    assert record["alerts"] == []
    assert record["mood_checks"] == []


@pytest.mark.parametrize("phone", ["(555) 555-0177", "555-555-0177", "+1 555 555 0177"])
def test_it_finds_the_patient_by_any_spelling_of_the_phone(rt: Runtime, phone: str) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, *ADD))
    assert show(env, phone)["patient"]["phone"] == PHONE


def test_it_shows_messages_oldest_first_after_two_texts(rt: Runtime, client: FlaskClient) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, *ADD))
    for body in ("first text", "second text"):
        resp = signed_post(client, rt.settings, "/twilio/sms", sms_params(PHONE, body))
        assert resp.status_code == 200

    messages = show(env)["messages"]
    assert [m["body"] for m in messages] == ["first text", "second text"]
    for m in messages:
        assert m["direction"] == "inbound"
        assert m["status"] == "received"
        assert m["created_at"]
    assert messages[0]["created_at"] <= messages[1]["created_at"]


def test_it_shows_a_plain_text_view_without_json(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, *ADD))
    result = invoke(env, "patient", "show", "--phone", PHONE)
    assert_ok(result)
    assert "Jo Park (America/Chicago)" in result.stdout
    assert "lithium 300mg at 08:00, 20:00" in result.stdout


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (("--med", "sertraline50mg"), ("--med", "sertraline50mg")),
        (("--med", "sertraline:50mg@25:00"), ("HH:MM", "25:00")),
        (("--med", "sertraline:50mg@8am"), ("--med",)),
        (("--tz", "Mars/Base"), ("time zone", "Mars/Base")),
        (("--phone", "12"), ("phone",)),
        (("--phone", "not a number"), ("phone",)),
        (("--name", "   "), ("--name",)),
    ],
)
def test_it_rejects_a_bad_enrolment_with_one_clear_line(
    rt: Runtime, change: tuple[str, str], mentions: tuple[str, ...]
) -> None:
    args = list(ADD)
    option, value = change
    args[args.index(option) + 1] = value
    assert_one_line_error(invoke(cli_env(rt.settings), *args), *mentions)
    assert patient_count(rt) == 0, "nothing half-enrolled"


def test_it_rejects_a_duplicate_phone_with_one_clear_line(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, *ADD))
    again = [*ADD]
    again[again.index("--name") + 1] = "Someone Else"
    again[again.index("--phone") + 1] = "+1 555 555 0177"
    assert_one_line_error(invoke(env, *again), "already enrolled")
    assert patient_count(rt) == 1


def test_it_says_so_when_showing_an_unknown_phone(rt: Runtime) -> None:
    result = invoke(cli_env(rt.settings), "patient", "show", "--phone", "+15555550199", "--json")
    assert_one_line_error(result, "no patient")


@pytest.mark.parametrize(
    "args",
    [
        ADD,
        ["patient", "show", "--phone", PHONE, "--json"],
        ["demo", "seed"],
        ["db", "upgrade"],
    ],
)
def test_it_reports_an_unreachable_database_in_one_line(
    settings: Settings, args: list[str]
) -> None:
    result = invoke(cli_env(settings, DATABASE_URL=UNREACHABLE_DB), *args)
    assert_one_line_error(result, "database")
    assert "nope" not in result.output, "the URL (a secret) is not echoed"


def test_it_reports_a_bad_setting_in_one_line(settings: Settings) -> None:
    result = invoke(cli_env(settings, MEDFOLLOW_PORT="abc"), "demo", "seed")
    assert_one_line_error(result, "MEDFOLLOW_PORT")


def test_it_seeds_the_demo_patient_once_however_often_it_runs(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    for _ in range(2):
        result = invoke(env, "demo", "seed")
        assert_ok(result)
        assert DEMO_PATIENT_PHONE in result.stdout
    assert patient_count(rt) == 1
    record = show(env, DEMO_PATIENT_PHONE)
    assert [r["medication"] for r in record["regimen"]] == ["sertraline"]


def test_it_upgrades_a_fresh_sqlite_file_from_scratch(settings: Settings, tmp_path: Path) -> None:
    var = tmp_path / "fresh-var"
    db = var / "fresh.db"
    env = cli_env(settings, MEDFOLLOW_VAR=str(var), DATABASE_URL=f"sqlite:///{db}")
    result = invoke(env, "db", "upgrade")
    assert_ok(result)
    assert "latest schema" in result.stdout
    assert db.exists(), "the var directory is created on the way"
    engine = create_engine(f"sqlite:///{db}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert_ok(invoke(env, "db", "upgrade"))  # and again: nothing to do


@pytest.mark.parametrize(
    ("args", "env_change", "expected"),
    [
        (
            [*ADD[:9], "sertraline50mg"],
            {},
            "Error: --med must look like NAME:DOSE@HH:MM[,HH:MM], got 'sertraline50mg'",
        ),
        (
            ["demo", "seed"],
            {"MEDFOLLOW_PORT": "abc"},
            "Error: MEDFOLLOW_PORT must be a whole number, got 'abc'",
        ),
    ],
)
def test_it_keeps_the_quotes_of_the_bad_value_balanced(
    settings: Settings, args: list[str], env_change: dict[str, str], expected: str
) -> None:
    result = invoke(cli_env(settings, **env_change), *args)
    assert result.stderr.strip() == expected
