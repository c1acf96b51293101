from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from unittest import mock

import pytest
from twilio.http.http_client import TwilioHttpClient

from medfollow.runtime import Runtime
from messaging.outbound import deliver, queue_text
from messaging.transports import INITIAL, SendError, TwilioTransport
from store.models import Message, Patient
from tests.conftest import make_patient
from tests.support import Prism


@pytest.fixture
def twilio_rt(rt: Runtime, prism: Prism) -> Runtime:
    rt.settings = replace(rt.settings, sms_transport="twilio", twilio_api_base=prism.url)
    return rt


def test_it_sends_through_the_official_client_and_prism_accepts_it(
    twilio_rt: Runtime, patient: Patient
) -> None:
    with twilio_rt.sessions.begin() as session:
        [row] = queue_text(
            session, body="Hello from the clinic", kind="reply", patient_id=patient.id
        )
    assert deliver(twilio_rt, row.id) in INITIAL
    with twilio_rt.sessions() as session:
        stored = session.get_one(Message, row.id)
    assert re.fullmatch(r"(SM|MM)[0-9a-fA-F]{32}", stored.provider_sid or "")
    assert stored.attempts == 1 and stored.error_message is None


def test_it_stores_a_rejected_send_as_failed_and_visible(
    twilio_rt: Runtime, patient: Patient
) -> None:
    # A malformed request (a StatusCallback that is not a URL) is rejected by the contract.
    twilio_rt.settings = replace(twilio_rt.settings, public_base_url="not a url")
    with twilio_rt.sessions.begin() as session:
        [row] = queue_text(session, body="Hello", kind="reply", patient_id=patient.id)
    assert deliver(twilio_rt, row.id) == "failed"
    with twilio_rt.sessions() as session:
        stored = session.get_one(Message, row.id)
    assert stored.status == "failed"
    assert "HTTP 422" in (stored.error_message or "")


def test_it_sends_a_message_only_once_even_if_asked_twice(
    twilio_rt: Runtime, patient: Patient
) -> None:
    with twilio_rt.sessions.begin() as session:
        [row] = queue_text(session, body="Once", kind="reply", patient_id=patient.id)
    assert deliver(twilio_rt, row.id) in INITIAL
    assert deliver(twilio_rt, row.id) == "skipped"


def test_it_reports_an_unreachable_api_as_transient(twilio_rt: Runtime) -> None:
    transport = TwilioTransport(replace(twilio_rt.settings, twilio_api_base="http://127.0.0.1:9"))
    with pytest.raises(SendError) as caught:
        transport.send("+15555550142", "hi", None, sender="+15005550006")
    assert caught.value.permanent is False


def test_it_asks_twilio_to_send_from_the_patients_own_number_of_the_pool(
    twilio_rt: Runtime,
) -> None:
    pool = ("+15005550006", "+15005550007")
    twilio_rt.settings = replace(twilio_rt.settings, twilio_from_numbers=pool)
    make_patient(twilio_rt, phone="+15555550141")
    patient = make_patient(twilio_rt, phone="+15555550142")
    assert patient.sending_number == pool[1]
    with twilio_rt.sessions.begin() as session:
        [row] = queue_text(session, body="Hello", kind="checkin", patient_id=patient.id)
    real = TwilioHttpClient.request

    def through(self: TwilioHttpClient, *args: Any, **kwargs: Any) -> Any:
        return real(self, *args, **kwargs)

    with mock.patch.object(TwilioHttpClient, "request", autospec=True, side_effect=through) as spy:
        assert deliver(twilio_rt, row.id) in INITIAL  # Prism accepted it
    [call] = spy.call_args_list
    assert call.kwargs["data"]["From"] == pool[1]
    assert call.kwargs["data"]["To"] == patient.phone
    with twilio_rt.sessions() as session:
        assert session.get_one(Message, row.id).our_number == pool[1]
