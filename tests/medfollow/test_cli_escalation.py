"""`medfollow clinicians add`, `oncall set`, `alerts --json`, `alerts ack`."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from medfollow.runtime import Runtime
from store.models import Patient
from tests.conftest import signed_post, sms_params
from tests.medfollow.test_cli import assert_ok, assert_one_line_error, cli_env, invoke


def test_it_manages_the_rota_and_acknowledges_an_alert(
    rt: Runtime, client: FlaskClient, patient: Patient
) -> None:
    env = cli_env(rt.settings)
    assert_ok(
        invoke(
            env,
            "clinicians",
            "add",
            "--name",
            "Dr One",
            "--email",
            "one@x.invalid",
            "--phone",
            "(555) 555-0190",
        )
    )
    assert_ok(invoke(env, "clinicians", "add", "--name", "Dr Two", "--email", "two@x.invalid"))
    assert_ok(
        invoke(env, "oncall", "set", "--primary", "one@x.invalid", "--backup", "two@x.invalid")
    )
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "i want to die"))
    listed = invoke(env, "alerts", "--json")
    assert_ok(listed)
    [alert] = json.loads(listed.output)
    assert alert["patient_phone"] == patient.phone
    assert (alert["tier"], alert["state"]) == ("emergency", "open")
    assert set(alert) >= {"code", "tier", "state", "rules", "deadlines", "deliveries"}
    assert_ok(invoke(env, "alerts", "ack", alert["code"], "--clinician", "one@x.invalid"))
    [acked] = json.loads(invoke(env, "alerts", "--json").output)
    assert acked["state"] == "acknowledged"
    assert_one_line_error(
        invoke(env, "alerts", "ack", alert["code"], "--clinician", "one@x.invalid"),
        "no open alert",
    )


def test_it_rejects_an_unknown_clinician_in_the_rota(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    assert_one_line_error(
        invoke(env, "oncall", "set", "--primary", "nobody@x.invalid"), "no clinician"
    )


def test_it_rejects_a_duplicate_clinician(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    args = ("clinicians", "add", "--name", "Dr One", "--email", "one@x.invalid")
    assert_ok(invoke(env, *args))
    assert_one_line_error(invoke(env, *args), "already exists")


def test_it_acknowledges_by_sms_from_the_clinicians_phone(
    rt: Runtime, client: FlaskClient, patient: Patient
) -> None:
    env = cli_env(rt.settings)
    invoke(
        env,
        "clinicians",
        "add",
        "--name",
        "Dr One",
        "--email",
        "one@x.invalid",
        "--phone",
        "+15555550190",
    )
    invoke(env, "oncall", "set", "--primary", "one@x.invalid")
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "kms"))
    [alert] = json.loads(invoke(env, "alerts", "--json").output)
    signed_post(
        client, rt.settings, "/twilio/sms", sms_params("+15555550190", f"ack {alert['code']}")
    )
    [acked] = json.loads(invoke(env, "alerts", "--json").output)
    assert acked["state"] == "acknowledged"
    assert rt.queue().count == 1, "the patient's message goes to the dialogue; the ACK does not"
