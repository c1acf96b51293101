"""Enrolment with consent: invited until the patient's YES, then active (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from care.enrolment import enrol_with_consent
from compliance.consent import Consent, ConsentError, record_consent
from compliance.replies import ClinicInfo, welcome_confirmation, welcome_text
from conversation.jobs import start_dialogue
from medfollow.cli import main
from medfollow.runtime import Runtime
from messaging.segments import encode_info
from scheduling.dispatch import plan_checkins
from store.enrolment import EnrolmentError, MedSpec, ensure_clinic
from store.models import ConsentEvent, Message, Patient, utcnow
from tests.conftest import run_jobs, signed_post, sms_params
from tests.medfollow.test_cli import cli_env

PHONE = "+15555550188"
CLINIC = ClinicInfo("Riverside Clinic", "+15555550100", "Mon-Fri 9-5")


def consent(**overrides: object) -> Consent:
    fields: dict[str, object] = {
        "version": "v3",
        "given_on": utcnow().date(),
        "channel": "in_person",
        "recorded_by": "Dr Rivera",
    }
    fields.update(overrides)
    return Consent(**fields)  # type: ignore[arg-type]


def enrol_invited(rt: Runtime, **overrides: object) -> int:
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        patient = enrol_with_consent(
            session,
            clinic,
            phone=PHONE,
            name="Robin Lee",
            tz="America/New_York",
            meds=[MedSpec("sertraline", "50mg", ("09:00",))],
            consent=consent(**overrides),
        )
        return patient.id


def outbound(rt: Runtime, patient_id: int) -> list[Message]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.patient_id == patient_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
        )


def history(rt: Runtime, patient_id: int) -> list[tuple[str, str, str, str]]:
    with rt.sessions() as session:
        rows = session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.patient_id == patient_id)
            .order_by(ConsentEvent.id)
        )
        return [(c.kind, c.version, c.channel, c.recorded_by) for c in rows]


def test_it_enrols_invited_with_the_consent_recorded_and_a_welcome_text(rt: Runtime) -> None:
    patient_id = enrol_invited(rt)
    with rt.sessions() as session:
        patient = session.get_one(Patient, patient_id)
        assert patient.status == "invited" and patient.consent_version == "v3"
    assert history(rt, patient_id) == [("granted", "v3", "in_person", "Dr Rivera")]
    [welcome] = outbound(rt, patient_id)
    assert welcome.kind == "welcome" and "Reply YES to start" in welcome.body


def test_it_starts_check_ins_only_after_the_patients_yes(rt: Runtime, client: FlaskClient) -> None:
    patient_id = enrol_invited(rt)
    # Nothing the clinic starts reaches an invited patient: no check-in is planned.
    assert plan_checkins(rt, horizon=timedelta(days=2)) == 0
    assert start_dialogue(patient_id, "EXTERNAL_dose_checkin", {}) == 0
    signed_post(client, rt.settings, "/twilio/sms", sms_params(PHONE, "Yes!"))
    run_jobs(rt)
    with rt.sessions() as session:
        assert session.get_one(Patient, patient_id).status == "active"
    assert plan_checkins(rt, horizon=timedelta(days=2)) >= 1
    replies = [m for m in outbound(rt, patient_id) if m.kind == "optin_confirmation"]
    assert [m.body for m in replies] == [welcome_confirmation(clinic_info(rt))]
    assert [k for k, *_ in history(rt, patient_id)] == ["granted", "opted_in"]
    assert history(rt, patient_id)[1][1:] == ("v3", "sms", "patient (text reply)")
    # A second YES is an answer again, not a second opt-in.
    signed_post(client, rt.settings, "/twilio/sms", sms_params(PHONE, "YES"))
    assert [k for k, *_ in history(rt, patient_id)] == ["granted", "opted_in"]


def clinic_info(rt: Runtime) -> ClinicInfo:
    s = rt.settings
    return ClinicInfo(s.clinic_name, s.clinic_phone, s.clinic_hours)


def test_it_records_a_stop_and_a_start_in_the_consent_history(
    rt: Runtime, client: FlaskClient
) -> None:
    patient_id = enrol_invited(rt)
    signed_post(client, rt.settings, "/twilio/sms", sms_params(PHONE, "STOP"))
    signed_post(client, rt.settings, "/twilio/sms", sms_params(PHONE, "START"))
    assert [k for k, *_ in history(rt, patient_id)] == ["granted", "withdrawn", "opted_in"]
    with rt.sessions() as session:
        patient = session.get_one(Patient, patient_id)
        assert patient.status == "active" and patient.opted_out is False


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"version": " "}, "version"),
        ({"channel": "carrier pigeon"}, "channel"),
        ({"given_on": date.today() + timedelta(days=2)}, "future"),
        ({"recorded_by": ""}, "recorded"),
    ],
)
def test_it_refuses_an_incomplete_consent_and_enrols_nobody(
    rt: Runtime, change: dict[str, object], mentions: str
) -> None:
    with pytest.raises(ConsentError, match=mentions):
        enrol_invited(rt, **change)
    with rt.sessions() as session:
        assert session.scalars(select(Patient)).all() == []


def test_it_refuses_an_unknown_language(rt: Runtime) -> None:
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        with pytest.raises(EnrolmentError, match="language"):
            enrol_with_consent(
                session,
                clinic,
                phone=PHONE,
                name="Robin Lee",
                tz="America/New_York",
                meds=[],
                consent=consent(),
                language="xx",
            )


def test_it_dates_a_past_consent_on_its_day(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        found = session.get_one(Patient, patient.id)
        event = record_consent(session, found, consent(given_on=date(2026, 1, 5)))
        session.flush()
        assert event.at == datetime(2026, 1, 5, tzinfo=UTC)
        assert found.consent_at == datetime(2026, 1, 5, tzinfo=UTC)


def test_it_keeps_the_welcome_texts_short_and_gsm7() -> None:
    for text in (welcome_text(CLINIC), welcome_confirmation(CLINIC)):
        assert encode_info(text).encoding == "GSM-7" and len(text) <= 320
        assert "STOP" in text and "HELP" in text


def cli(rt: Runtime, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=cli_env(rt.settings))
    return result.exit_code, result.output


ADD = ["patients", "add", "--phone", PHONE, "--name", "Robin Lee", "--tz", "America/New_York"]


def test_it_keeps_the_cli_enrolling_active_with_in_person_consent(rt: Runtime) -> None:
    code, out = cli(rt, *ADD, "--med", "sertraline:50mg@09:00", "--consent", "v2")
    assert code == 0, out
    with rt.sessions() as session:
        patient = session.scalars(select(Patient)).one()
        assert patient.status == "active"
    assert history(rt, patient.id) == [("granted", "v2", "in_person", "admin (medfollow CLI)")]
    assert outbound(rt, patient.id) == []


def test_it_invites_from_the_cli_only_with_a_consent_version(rt: Runtime) -> None:
    code, out = cli(rt, *ADD, "--invite")
    assert code == 1 and "--invite needs --consent" in out
    code, out = cli(rt, *ADD, "--consent", "v2", "--invite")
    assert code == 0 and "reply YES" in out
    with rt.sessions() as session:
        patient = session.scalars(select(Patient)).one()
        assert patient.status == "invited"
    assert [m.kind for m in outbound(rt, patient.id)] == ["welcome"]
