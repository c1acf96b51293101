"""R28: three texts in a row to a patient that failed (Twilio's report or a refused
send) -> one routine `contact_check` alert: staff re-verify the phone number. Opt-out
refusals (21610) are not contact failures."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select, update

from medfollow.runtime import Runtime
from messaging.outbound import deliver, delivery_failed, queue_text
from messaging.status import LOST_SEND
from messaging.transports import SendError, SendResult
from store.models import Alert, Patient, utcnow
from tests.conftest import new_sid, signed_post


def sent(rt: Runtime, patient: Patient, kind: str = "checkin") -> tuple[int, str]:
    """A text Twilio accepted; its outcome comes by status callback."""
    sid = new_sid()
    with rt.sessions.begin() as session:
        [row] = queue_text(session, body="Did you take it?", kind=kind, patient_id=patient.id)
        row.status, row.provider_sid = "queued", sid
        return row.id, sid


def ends(client: FlaskClient, rt: Runtime, patient: Patient, status: str, code: str = "") -> int:
    """One more text to the patient, which Twilio then reports `status` (with ErrorCode)."""
    message_id, sid = sent(rt, patient)
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code:
        params["ErrorCode"] = code
    assert signed_post(client, rt.settings, "/twilio/status", params).status_code == 204
    return message_id


def contact_checks(rt: Runtime, patient: Patient) -> list[Alert]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Alert)
                .where(Alert.patient_id == patient.id, Alert.kind == "contact_check")
                .order_by(Alert.id)
            )
        )


def test_three_failed_texts_in_a_row_raise_one_routine_contact_check(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "undelivered", "30006")
    assert contact_checks(rt, patient) == [], "two are not enough"
    third = ends(client, rt, patient, "failed", "30003")
    [alert] = contact_checks(rt, patient)
    assert (alert.tier, alert.rules, alert.state) == ("routine", "R28", "open")
    assert alert.evidence_message_id == third
    assert "re-verify their phone number" in alert.summary
    ends(client, rt, patient, "undelivered", "30005")
    [joined] = contact_checks(rt, patient)
    assert (joined.id, joined.signals) == (alert.id, 2), "a fourth failure joins it"


def test_two_failed_texts_raise_nothing(client: FlaskClient, rt: Runtime, patient: Patient) -> None:
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    assert contact_checks(rt, patient) == []


def test_opt_out_refusals_are_not_contact_failures(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    for _ in range(3):
        ends(client, rt, patient, "failed", "21610")
    assert contact_checks(rt, patient) == []
    # ... and an opt-out between failures ends the run.
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    assert contact_checks(rt, patient) == []


def test_a_delivered_text_in_between_starts_the_count_again(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "delivered")
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    assert contact_checks(rt, patient) == []
    ends(client, rt, patient, "failed", "30003")
    assert len(contact_checks(rt, patient)) == 1


def test_texts_without_a_report_yet_neither_count_nor_break_the_run(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    ends(client, rt, patient, "failed", "30003")
    sent(rt, patient)  # accepted, no report (yet): says nothing about the number
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    assert len(contact_checks(rt, patient)) == 1


def test_a_lost_send_says_nothing_about_the_number(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    with rt.sessions.begin() as session:
        [lost] = queue_text(session, body="Hello", kind="reply", patient_id=patient.id)
        lost.status, lost.error_message = "failed", LOST_SEND
        delivery_failed(rt, session, lost)
    assert contact_checks(rt, patient) == []


def test_failures_before_a_resolved_check_do_not_count_again(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    for _ in range(3):
        ends(client, rt, patient, "failed", "30003")
    [first] = contact_checks(rt, patient)
    with rt.sessions.begin() as session:  # staff re-verified the number
        session.execute(
            update(Alert)
            .where(Alert.id == first.id)
            .values(state="resolved", resolved_at=utcnow(), note="number checked")
        )
    ends(client, rt, patient, "failed", "30003")
    ends(client, rt, patient, "failed", "30003")
    assert [a.id for a in contact_checks(rt, patient)] == [first.id]
    ends(client, rt, patient, "failed", "30003")
    assert [a.state for a in contact_checks(rt, patient)] == ["resolved", "open"]


class Refusing:
    """Twilio refusing every send outright with `code` (permanent)."""

    def __init__(self, code: int) -> None:
        self.code = code

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        raise SendError(f"refused ({self.code})", code=self.code, permanent=True)


def refused_texts(rt: Runtime, patient: Patient, code: int, count: int) -> list[str]:
    rt._transport = Refusing(code)
    with rt.sessions.begin() as session:
        ids = [
            queue_text(session, body="Hi", kind="education", patient_id=patient.id)[0].id
            for _ in range(count)
        ]
    return [deliver(rt, message_id) for message_id in ids]


def test_sends_refused_for_the_number_count(rt: Runtime, patient: Patient) -> None:
    assert refused_texts(rt, patient, 21211, 3) == ["failed"] * 3  # invalid number
    [alert] = contact_checks(rt, patient)
    assert (alert.tier, alert.rules) == ("routine", "R28")


def test_sends_refused_as_opted_out_do_not_count(rt: Runtime, patient: Patient) -> None:
    # The first refusal opts the patient out; the others are suppressed, never sent.
    assert refused_texts(rt, patient, 21610, 3) == ["failed", "suppressed", "suppressed"]
    assert contact_checks(rt, patient) == []
