"""The SMS pipeline end to end on real parts: webhook, RQ, Rasa, actions, Twilio's contract."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from medfollow.runtime import Runtime
from medfollow.stack import Stack
from tests.e2e.helpers import enrol_patient, post_sms, thread, wait_for


def replies_to(rt: Runtime, patient_id: int, count: int, timeout: float) -> list[int]:
    """Wait until `count` inbound messages are processed and answered; return reply sources."""

    def check() -> list[int] | None:
        msgs = thread(rt, patient_id)
        inbound = [m for m in msgs if m.direction == "inbound"]
        replies = [m for m in msgs if m.direction == "outbound" and m.kind == "reply"]
        done = len(inbound) == count and all(m.status == "processed" for m in inbound)
        answered = {m.in_reply_to_id for m in replies} >= {m.id for m in inbound} and all(
            m.status not in ("pending", "claimed") for m in replies
        )
        return [m.in_reply_to_id or 0 for m in replies] if done and answered else None

    return wait_for(check, timeout, f"{count} answered messages")


def test_it_answers_through_rasa_and_an_action_reading_the_database(
    stack: tuple[Stack, Runtime],
) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550201", "Robin Example")
    started = time.monotonic()
    resp = post_sms(rt, patient.phone, "hi")
    assert resp.status_code == 200
    replies_to(rt, patient.id, 1, timeout=30)
    [inbound, reply] = thread(rt, patient.id)
    assert inbound.handled_by == "rasa"
    assert reply.body.startswith("Hi Robin!"), reply.body
    assert reply.provider_sid and reply.status in ("queued", "accepted", "scheduled")
    assert time.monotonic() - started < 30


def test_it_answers_50_concurrent_messages_from_one_patient_in_order(
    stack: tuple[Stack, Runtime],
) -> None:
    _, rt = stack
    patient = enrol_patient(rt, "+15555550202", "Casey Example")
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda n: post_sms(rt, patient.phone, "hi").status_code, range(50)))
    assert codes == [200] * 50
    sources = replies_to(rt, patient.id, 50, timeout=180)
    inbound = [m for m in thread(rt, patient.id) if m.direction == "inbound"]
    assert len(sources) == 50, "exactly one reply per message"
    assert sources == sorted(sources), "replies went out in the order the messages arrived"
    processed = [m.processed_at.timestamp() for m in inbound if m.processed_at]
    assert len(processed) == 50
    assert processed == sorted(processed), "messages were processed in the order received"


def test_it_answers_every_message_once_after_rasa_comes_back(
    stack: tuple[Stack, Runtime],
) -> None:
    started_stack, rt = stack
    patient = enrol_patient(rt, "+15555550203", "Drew Example")
    started_stack.stop_one("rasa")
    try:
        for _ in range(10):
            assert post_sms(rt, patient.phone, "hello").status_code == 200
        time.sleep(3)
        assert not [m for m in thread(rt, patient.id) if m.direction == "outbound"]
    finally:
        started_stack.start_one("rasa")
    sources = replies_to(rt, patient.id, 10, timeout=240)
    assert sorted(sources) == sources and len(set(sources)) == 10, "each answered exactly once"
