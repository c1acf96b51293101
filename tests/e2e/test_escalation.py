"""Escalation end to end: crisis reply and page, backup at the deadline, ACK by SMS, dedup."""

from __future__ import annotations

import time

from sqlalchemy import select

from escalation.oncall import add_clinician, current, set_on_call
from medfollow.runtime import Runtime
from medfollow.stack import Stack
from store.models import Alert, Message
from tests.e2e.helpers import enrol_patient, post_sms, thread, wait_for

PRIMARY = ("Dr Primary Test", "primary@test.invalid", "+15555550180")
BACKUP = ("Dr Backup Test", "backup@test.invalid", "+15555550181")


def rota(rt: Runtime) -> None:
    with rt.sessions.begin() as session:
        if current(session) is None:
            for name, email, phone in (PRIMARY, BACKUP):
                add_clinician(session, name, email, phone)
            set_on_call(session, PRIMARY[1], BACKUP[1])


def pages_to(rt: Runtime, phone: str, code: str) -> list[Message]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message).where(
                    Message.external_phone == phone,
                    Message.kind == "page",
                    Message.body.contains(code),
                )
            )
        )


def alerts_of(rt: Runtime, patient_id: int) -> list[Alert]:
    with rt.sessions() as session:
        return list(session.scalars(select(Alert).where(Alert.patient_id == patient_id)))


def crisis(rt: Runtime, phone: str, name: str) -> tuple[int, str, float]:
    patient = enrol_patient(rt, phone, name)
    started = time.monotonic()
    assert post_sms(rt, patient.phone, "i want to die").status_code == 200
    alert = wait_for(lambda: alerts_of(rt, patient.id), 5, "the alert")[0]
    wait_for(lambda: pages_to(rt, PRIMARY[2], alert.code), 5, "the page to the on-call")
    wait_for(
        lambda: [
            m
            for m in thread(rt, patient.id)
            if m.kind == "crisis" and m.status not in ("pending", "claimed")
        ],
        5,
        "the crisis reply to be sent",
    )
    return patient.id, alert.code, time.monotonic() - started


def test_it_replies_and_pages_within_5_seconds_then_pages_the_backup(
    stack: tuple[Stack, Runtime],
) -> None:
    _, rt = stack
    rota(rt)
    patient_id, code, elapsed = crisis(rt, "+15555550501", "Gale Example")
    assert elapsed < 5, f"reply and page took {elapsed:.1f}s"
    reply = next(m for m in thread(rt, patient_id) if m.kind == "crisis")
    assert reply.status not in ("pending", "claimed", "failed")
    assert "988" in reply.body and "care team know" in reply.body
    page = pages_to(rt, PRIMARY[2], code)[0]
    assert "Crisis" not in page.body or "i want to die" not in page.body  # no message text
    assert not pages_to(rt, BACKUP[2], code)
    wait_for(lambda: pages_to(rt, BACKUP[2], code), 15, "the backup page at the deadline")


def test_it_stops_re_escalation_when_the_clinician_replies_ack(
    stack: tuple[Stack, Runtime],
) -> None:
    _, rt = stack
    rota(rt)
    patient_id, code, _ = crisis(rt, "+15555550502", "Hal Example")
    assert post_sms(rt, PRIMARY[2], f"ACK {code}").status_code == 200
    wait_for(
        lambda: [a for a in alerts_of(rt, patient_id) if a.state == "acknowledged"],
        5,
        "the acknowledgement",
    )
    time.sleep(10)  # past the backup deadline (8 s)
    assert not pages_to(rt, BACKUP[2], code)


def test_it_raises_one_alert_and_one_page_for_the_same_crisis_twice(
    stack: tuple[Stack, Runtime],
) -> None:
    _, rt = stack
    rota(rt)
    patient_id, code, _ = crisis(rt, "+15555550503", "Ira Example")
    assert post_sms(rt, "+15555550503", "i really want to die").status_code == 200
    time.sleep(3)
    [alert] = alerts_of(rt, patient_id)
    assert alert.signals == 2
    assert len(pages_to(rt, PRIMARY[2], code)) == 1


def test_it_asks_whether_they_are_safe_and_escalates_a_no(stack: tuple[Stack, Runtime]) -> None:
    from bot.actions.crisis import NOT_SAFE_REPLY

    _, rt = stack
    rota(rt)
    patient_id, _, _ = crisis(rt, "+15555550504", "Jo Example")
    wait_for(
        lambda: [m for m in thread(rt, patient_id) if "are you safe right now?" in m.body],
        30,
        "the dialogue to ask whether they are safe",
    )
    assert post_sms(rt, "+15555550504", "no").status_code == 200
    wait_for(
        lambda: [m for m in thread(rt, patient_id) if m.body == NOT_SAFE_REPLY],
        30,
        "the reply to 'not safe'",
    )
    [alert] = alerts_of(rt, patient_id)
    assert (alert.tier, alert.kind, alert.signals) == ("emergency", "suicidality", 2)
    asked = [m.body for m in thread(rt, patient_id) if m.direction == "outbound"]
    assert not any("wished you were dead" in body for body in asked), "no ASQ once not safe"
