"""R20, the other half: a text that answered an emergency or urgent signal, that Twilio
accepted but has not reported delivered within DELIVERY_CONFIRM_SECONDS, is an alert at
that tier (the sweeper checks, once per text)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from conversation.sweeper import sweep
from medfollow.runtime import Runtime
from messaging.outbound import deliver, queue_text
from messaging.transports import SendResult
from store.models import Alert, Message, Patient, utcnow
from tests.conftest import signed_post
from tests.escalation.test_undelivered import inbound


class Accepting:
    """Twilio as it answers a send: accepted ("queued"), its outcome reported later."""

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        return SendResult(sid="SM" + uuid.uuid4().hex, status="queued")


@pytest.fixture
def twilio(rt: Runtime) -> Runtime:
    rt._transport = Accepting()
    return rt


def replies(rt: Runtime, message_id: int, kind: str) -> list[int]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message.id)
                .where(Message.in_reply_to_id == message_id, Message.kind == kind)
                .order_by(Message.id)
            )
        )


def sent_reply(rt: Runtime, client: FlaskClient, patient: Patient, text: str, kind: str) -> int:
    """The patient texts; the webhook's reply of `kind` is sent and Twilio accepts it."""
    [reply_id, *_] = replies(rt, inbound(rt, client, patient, text), kind)
    assert deliver(rt, reply_id) == "queued"
    return reply_id


def message(rt: Runtime, message_id: int) -> Message:
    with rt.sessions() as session:
        return session.get_one(Message, message_id)


def past_deadline(rt: Runtime, message_id: int) -> None:
    """DELIVERY_CONFIRM_SECONDS go by without a delivery report."""
    with rt.sessions.begin() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id, Message.confirm_by.is_not(None))
            .values(confirm_by=utcnow() - timedelta(seconds=1))
        )


def r20_alerts(rt: Runtime, patient: Patient) -> list[Alert]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Alert).where(Alert.patient_id == patient.id, Alert.kind == "delivery_failed")
            )
        )


def status_callback(client: FlaskClient, rt: Runtime, message_id: int, status: str) -> None:
    sid = message(rt, message_id).provider_sid or ""
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    assert signed_post(client, rt.settings, "/twilio/status", params).status_code == 204


CASES = [
    ("the crisis reply", "i want to die", "crisis", "emergency", "The crisis reply"),
    ("the urgent red-flag advice", "i have a rash", "red_flag", "urgent", "An urgent reply"),
]


@pytest.mark.parametrize(
    ("text", "kind", "tier", "what"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_it_raises_one_alert_at_the_tier_answered_when_delivery_stays_unconfirmed(
    twilio: Runtime,
    client: FlaskClient,
    on_lamotrigine: Patient,
    text: str,
    kind: str,
    tier: str,
    what: str,
) -> None:
    rt = twilio
    reply_id = sent_reply(rt, client, on_lamotrigine, text, kind)
    deadline = message(rt, reply_id).confirm_by
    assert deadline is not None
    expected = utcnow() + timedelta(seconds=rt.settings.delivery_confirm_seconds)
    assert abs((deadline - expected).total_seconds()) < 30
    assert sweep(rt).unconfirmed == 0, "not before its deadline"
    assert r20_alerts(rt, on_lamotrigine) == []

    past_deadline(rt, reply_id)
    assert sweep(rt).unconfirmed == 1
    assert sweep(rt).unconfirmed == 0, "a second sweep finds nothing more"
    [alert] = r20_alerts(rt, on_lamotrigine)
    assert (alert.tier, alert.rules, alert.signals) == (tier, "R20", 1)
    assert alert.evidence_message_id == reply_id
    assert alert.summary == (
        f"{what} was sent but its delivery is unconfirmed after 2 minutes "
        "(no delivery report): phone the patient."
    )
    row = message(rt, reply_id)
    assert row.confirm_by is None and row.delivery_alerted_at is not None


def test_it_raises_nothing_for_a_reply_reported_delivered_in_time(
    twilio: Runtime, client: FlaskClient, patient: Patient
) -> None:
    rt = twilio
    reply_id = sent_reply(rt, client, patient, "i want to die", "crisis")
    status_callback(client, rt, reply_id, "sent")
    assert message(rt, reply_id).confirm_by is not None, "sent is not delivered"
    status_callback(client, rt, reply_id, "delivered")
    assert message(rt, reply_id).confirm_by is None
    past_deadline(rt, reply_id)
    assert sweep(rt).unconfirmed == 0
    assert r20_alerts(rt, patient) == []


def test_a_delivered_report_after_the_alert_leaves_the_alert_and_a_failure_adds_none(
    twilio: Runtime, client: FlaskClient, patient: Patient
) -> None:
    rt = twilio
    [first, second] = [sent_reply(rt, client, patient, "i want to die", "crisis") for _ in range(2)]
    for reply_id in (first, second):
        past_deadline(rt, reply_id)
    assert sweep(rt).unconfirmed == 2
    [alert] = r20_alerts(rt, patient)
    assert alert.signals == 2, "the second text joined the live alert"

    status_callback(client, rt, first, "delivered")
    [still] = r20_alerts(rt, patient)
    assert (still.state, still.signals) == ("open", 2)
    assert message(rt, first).status == "delivered"

    # Once resolved, a failure reported later for a text already alerted about raises
    # nothing new (one R20 per text).
    with rt.sessions.begin() as session:
        session.execute(update(Alert).where(Alert.id == alert.id).values(state="resolved"))
    status_callback(client, rt, second, "undelivered")
    assert [a.id for a in r20_alerts(rt, patient)] == [alert.id]
    assert message(rt, second).status == "undelivered"


def test_it_checks_a_reply_that_answered_nothing_urgent_once_and_raises_nothing(
    twilio: Runtime, client: FlaskClient, patient: Patient
) -> None:
    rt = twilio
    with rt.sessions.begin() as session:
        [reply] = queue_text(
            session,
            body="Sertraline treats depression.",
            kind="reply",
            patient_id=patient.id,
            in_reply_to_id=inbound(rt, client, patient, "what is sertraline for"),
        )
    assert deliver(rt, reply.id) == "queued"
    assert message(rt, reply.id).confirm_by is not None, "it might have answered an alert"
    past_deadline(rt, reply.id)
    assert sweep(rt).unconfirmed == 0
    assert r20_alerts(rt, patient) == []
    assert message(rt, reply.id).confirm_by is None, "checked once, not every second"


def test_it_gives_a_text_that_answers_nothing_no_deadline(
    twilio: Runtime, patient: Patient
) -> None:
    with twilio.sessions.begin() as session:
        [checkin] = queue_text(
            session, body="Did you take it?", kind="checkin", patient_id=patient.id
        )
    assert deliver(twilio, checkin.id) == "queued"
    assert message(twilio, checkin.id).confirm_by is None
    assert sweep(twilio).unconfirmed == 0
    assert r20_alerts(twilio, patient) == []


def test_it_gives_a_text_the_simulator_delivered_no_deadline(
    rt: Runtime, client: FlaskClient, patient: Patient
) -> None:
    [reply_id, *_] = replies(rt, inbound(rt, client, patient, "i want to die"), "crisis")
    assert deliver(rt, reply_id) == "delivered"  # the phone simulator's phone has it
    assert message(rt, reply_id).confirm_by is None


def test_the_deadline_follows_delivery_confirm_seconds(
    twilio: Runtime, client: FlaskClient, patient: Patient
) -> None:
    rt = twilio
    rt.settings = replace(rt.settings, delivery_confirm_seconds=600)
    reply_id = sent_reply(rt, client, patient, "i want to die", "crisis")
    deadline = message(rt, reply_id).confirm_by
    assert deadline is not None
    assert abs((deadline - utcnow()).total_seconds() - 600) < 30
