"""R20: a text that answered an emergency or urgent signal and did not reach the patient
is itself an alert at that tier."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.policy import load_policy
from escalation.undelivered import reply_not_delivered
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from store.models import Alert, Message, Patient
from tests.conftest import new_sid, signed_post, sms_params

POLICY = load_policy()


def inbound(rt: Runtime, client: FlaskClient, patient: Patient, body: str) -> int:
    """A patient's text as the webhook stores and triages it; returns its id."""
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, body))
    with rt.sessions() as session:
        found = session.scalars(
            select(Message.id).where(Message.direction == "inbound").order_by(Message.id.desc())
        ).first()
    assert found is not None
    return found


def reply_to(rt: Runtime, patient: Patient, message_id: int | None, kind: str) -> int:
    """An outbound text Twilio accepted (it may still fail to arrive)."""
    with rt.sessions.begin() as session:
        [row] = queue_text(
            session, body="x", kind=kind, patient_id=patient.id, in_reply_to_id=message_id
        )
        row.status, row.provider_sid = "sent", new_sid()
        return row.id


def failed(rt: Runtime, message_id: int) -> Alert | None:
    with rt.sessions.begin() as session:
        raised = reply_not_delivered(session, POLICY, session.get_one(Message, message_id))
        return session.get(Alert, raised.alert_id) if raised else None


CASES = [
    ("the crisis reply", "i want to die", "crisis", "emergency"),
    ("the urgent red-flag advice", "i have a rash", "red_flag", "urgent"),
    ("the dialogue's reply to a crisis", "kms", "reply", "emergency"),
]


@pytest.mark.parametrize(
    ("text", "kind", "tier"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_it_raises_an_alert_at_the_tier_the_failed_text_answered(
    rt: Runtime, client: FlaskClient, on_lamotrigine: Patient, text: str, kind: str, tier: str
) -> None:
    message_id = inbound(rt, client, on_lamotrigine, text)
    alert = failed(rt, reply_to(rt, on_lamotrigine, message_id, kind))
    assert alert is not None
    assert (alert.kind, alert.tier, alert.rules) == ("delivery_failed", tier, "R20")
    assert "phone the patient" in alert.summary


def test_it_ignores_a_failed_text_that_answered_nothing_urgent(
    rt: Runtime, client: FlaskClient, patient: Patient
) -> None:
    message_id = inbound(rt, client, patient, "what is sertraline for")
    assert failed(rt, reply_to(rt, patient, message_id, "reply")) is None
    assert failed(rt, reply_to(rt, patient, None, "checkin")) is None


def test_it_raises_the_alert_when_twilio_reports_the_advice_undelivered(
    rt: Runtime, client: FlaskClient, on_lamotrigine: Patient
) -> None:
    message_id = inbound(rt, client, on_lamotrigine, "i have a rash")
    reply_id = reply_to(rt, on_lamotrigine, message_id, "red_flag")
    with rt.sessions() as session:
        sid = session.get_one(Message, reply_id).provider_sid or ""
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert signed_post(client, rt.settings, "/twilio/status", params).status_code == 204
    with rt.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "delivery_failed")).one()
    assert (alert.tier, alert.evidence_message_id) == ("urgent", reply_id)
