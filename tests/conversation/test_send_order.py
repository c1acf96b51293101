"""A patient's ordinary texts reach the provider in the order they were stored, even when
an earlier one is still being sent by another worker or waits for a retry."""

from __future__ import annotations

from sqlalchemy import select, update

from conversation.jobs import flush_patient, send_message
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from store.models import Message, Patient


def replies(rt: Runtime, patient: Patient, count: int) -> list[int]:
    with rt.sessions.begin() as session:
        return [
            queue_text(session, body=f"Reply {n}", kind="reply", patient_id=patient.id)[0].id
            for n in range(count)
        ]


def status(rt: Runtime, message_id: int) -> str:
    with rt.sessions() as session:
        return session.scalars(select(Message.status).where(Message.id == message_id)).one()


def set_status(rt: Runtime, message_id: int, value: str) -> None:
    with rt.sessions.begin() as session:
        session.execute(update(Message).where(Message.id == message_id).values(status=value))


def test_it_holds_a_later_text_while_an_earlier_one_is_being_sent(
    rt: Runtime, patient: Patient
) -> None:
    first, second = replies(rt, patient, 2)
    set_status(rt, first, "claimed")  # another worker is sending it right now
    assert send_message(second) == "pending"
    flush_patient(patient.id)
    assert status(rt, second) == "pending", "the later text waited"
    set_status(rt, first, "queued")  # that send went
    assert send_message(second) == "delivered"


def test_it_sends_the_earlier_waiting_text_first_when_a_later_one_is_retried(
    rt: Runtime, patient: Patient
) -> None:
    first, second = replies(rt, patient, 2)
    assert send_message(second) == "delivered"
    with rt.sessions() as session:
        sent = session.scalars(
            select(Message.id).where(Message.status == "delivered").order_by(Message.updated_at)
        ).all()
    assert list(sent) == [first, second]


def test_it_sends_an_urgent_text_even_while_an_ordinary_one_is_being_sent(
    rt: Runtime, patient: Patient
) -> None:
    [first] = replies(rt, patient, 1)
    set_status(rt, first, "claimed")
    with rt.sessions.begin() as session:
        [crisis] = queue_text(session, body="Call 988", kind="crisis", patient_id=patient.id)
    assert send_message(crisis.id) == "delivered"
