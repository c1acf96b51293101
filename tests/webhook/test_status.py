from __future__ import annotations

from flask.testing import FlaskClient

from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from store.models import Message, Patient
from tests.conftest import new_sid, signed_post


def sent_message(rt: Runtime, patient: Patient) -> tuple[int, str]:
    sid = new_sid()
    with rt.sessions.begin() as session:
        [row] = queue_text(session, body="hello", kind="reply", patient_id=patient.id)
        row.status, row.provider_sid = "queued", sid
        return row.id, sid


def status_of(rt: Runtime, message_id: int) -> Message:
    with rt.sessions() as session:
        return session.get_one(Message, message_id)


def callback(client: FlaskClient, rt: Runtime, sid: str, status: str, **extra: str) -> int:
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}
    return signed_post(client, rt.settings, "/twilio/status", params).status_code


def test_it_keeps_the_furthest_status_when_callbacks_arrive_out_of_order(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    message_id, sid = sent_message(rt, patient)
    for status in ("sent", "delivered", "sending", "sent", "delivered"):
        assert callback(client, rt, sid, status) == 204
    assert status_of(rt, message_id).status == "delivered"


def test_it_records_a_failure_and_opts_out_on_21610(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    message_id, sid = sent_message(rt, patient)
    callback(client, rt, sid, "failed", ErrorCode="21610")
    row = status_of(rt, message_id)
    assert row.status == "failed" and row.error_code == "21610"
    with rt.sessions() as session:
        assert session.get_one(Patient, patient.id).opted_out is True


def test_it_rejects_an_unsigned_status_callback(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    message_id, sid = sent_message(rt, patient)
    resp = client.post("/twilio/status", data={"MessageSid": sid, "MessageStatus": "failed"})
    assert resp.status_code == 403
    assert status_of(rt, message_id).status == "queued"


def test_it_ignores_a_callback_for_an_unknown_message(client: FlaskClient, rt: Runtime) -> None:
    assert callback(client, rt, new_sid(), "delivered") == 204
