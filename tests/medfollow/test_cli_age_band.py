"""The age band at enrolment (`patients add --age-band`, `demo seed`) and the alert list's
delivery fields."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from medfollow.runtime import Runtime
from store.enrolment import DEMO_PATIENT_PHONE
from store.models import Patient
from tests.conftest import run_jobs, signed_post, sms_params
from tests.medfollow.test_cli import (
    ADD,
    PHONE,
    assert_ok,
    assert_one_line_error,
    cli_env,
    invoke,
    patient_count,
    show,
)


def test_it_records_the_age_band_given_at_enrolment(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, *ADD, "--age-band", "65_PLUS"))
    assert show(env, PHONE)["patient"]["age_band"] == "65_plus"


def test_it_rejects_an_unknown_age_band_with_the_bands_it_takes(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    result = invoke(env, *ADD, "--age-band", "30")
    assert_one_line_error(result, "--age-band", "under_25, 25_64, 65_plus", "'30'")
    assert patient_count(rt) == 0


def test_it_says_what_an_unrecorded_age_band_means(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    result = invoke(env, *ADD)
    assert_ok(result)
    assert "age_bands.unknown (under_25 by default)" in result.stderr
    assert show(env, PHONE)["patient"]["age_band"] is None


def test_it_seeds_the_demo_patient_as_an_adult(rt: Runtime) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, "demo", "seed"))
    assert show(env, DEMO_PATIENT_PHONE)["patient"]["age_band"] == "25_64"


def test_it_lists_each_page_attempt_with_channel_to_status_error_and_time(
    rt: Runtime, client: FlaskClient, patient: Patient
) -> None:
    env = cli_env(rt.settings)
    assert_ok(invoke(env, "demo", "seed"))  # an on-call clinician and a backup
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "i want to die"))
    rt.queue().empty()  # type: ignore[no-untyped-call]  # the dialogue: Rasa is not running
    run_jobs(rt)
    listed = invoke(env, "alerts", "--json")
    assert_ok(listed)
    [alert] = json.loads(listed.output)
    assert alert["patient_phone"] == patient.phone
    assert alert["deadlines"]["acknowledge_by"] and alert["deadlines"]["backup_at"]
    assert alert["deliveries"], "the on-call clinician was paged"
    first = alert["deliveries"][0]
    assert set(first) >= {"channel", "to", "status", "error", "at"}
    assert (first["channel"], first["to"], first["status"]) == ("sms", "+15555550170", "sent")
    assert first["error"] is None and first["at"]
