"""The pool of sending numbers: who is pinned to which number, and every text going from it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from medfollow.runtime import Runtime
from messaging.outbound import RateLimited, deliver, queue_text
from messaging.pool import least_used, moves_to, patient_number
from messaging.ratelimit import SendRate
from messaging.transports import SendResult
from store.models import Message, Patient
from tests.conftest import make_patient, run_jobs, signed_post, sms_params

A, B, C, D = "+15005550006", "+15005550007", "+15005550008", "+15005550009"
OUTSIDE = "+15005550099"


@dataclass
class Recorder:
    """Stands in for Twilio: what it was asked to send, from which number."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (sender, to, body)

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        self.sent.append((sender, to, body))
        return SendResult(sid="SM" + uuid.uuid4().hex, status="queued")

    @property
    def senders(self) -> list[str]:
        return [sender for sender, _, _ in self.sent]


@pytest.fixture
def recorder(rt: Runtime) -> Iterator[Recorder]:
    """The runtime with a pool of three numbers, sending to a recorder."""
    rt.settings = replace(rt.settings, twilio_from_numbers=(A, B, C))
    recorder = Recorder()
    rt._transport = recorder
    yield recorder


def enrol(rt: Runtime, n: int, **overrides: object) -> Patient:
    return make_patient(rt, phone=f"+1555555{n:04d}", **overrides)


def number_of(rt: Runtime, patient_id: int) -> str | None:
    with rt.sessions() as session:
        return session.get_one(Patient, patient_id).sending_number


def send(
    rt: Runtime, patient_id: int | None, kind: str, external_phone: str | None = None
) -> Message:
    """Queue one text and deliver it; return the stored row."""
    with rt.sessions.begin() as session:
        [row] = queue_text(
            session,
            body=f"a {kind} text",
            kind=kind,
            patient_id=patient_id,
            external_phone=external_phone,
        )
    deliver(rt, row.id)
    with rt.sessions() as session:
        return session.get_one(Message, row.id)


# --- the rules, pure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, A),
        ({A: 1}, B),
        ({A: 1, B: 1, C: 1}, A),
        ({A: 2, B: 1, C: 1}, B),
        ({A: 5, B: 5, C: 4, "+15005550077": 0}, C),  # numbers outside the pool do not count
    ],
)
def test_it_picks_the_least_used_number_ties_to_the_first(
    counts: dict[str, int], expected: str
) -> None:
    assert least_used((A, B, C), counts) == expected


@pytest.mark.parametrize(
    ("current", "texted", "expected"),
    [(A, B, B), (A, A, None), (A, OUTSIDE, None), (A, None, None), (None, B, B)],
)
def test_it_moves_a_patient_only_to_another_number_of_the_pool(
    current: str | None, texted: str | None, expected: str | None
) -> None:
    assert moves_to(current, texted, (A, B, C)) == expected


# --- assignment ------------------------------------------------------------------------------


def test_it_spreads_new_patients_over_the_pool_and_fills_an_added_number_first(
    rt: Runtime, recorder: Recorder
) -> None:
    patients = [enrol(rt, n) for n in range(5)]
    assert [number_of(rt, p.id) for p in patients] == [A, B, C, A, B]
    rt.settings = replace(rt.settings, twilio_from_numbers=(A, B, C, D))
    later = [enrol(rt, n) for n in range(5, 8)]
    # D is empty: it takes the next patient; then C and D tie at 1 (C is first), ...
    assert [number_of(rt, p.id) for p in later] == [D, C, D]


def test_it_sends_every_kind_of_text_to_a_patient_from_their_number(
    rt: Runtime, recorder: Recorder
) -> None:
    enrol(rt, 1)
    patient = enrol(rt, 2)
    assert number_of(rt, patient.id) == B
    kinds = [
        "checkin",
        "scheduled",
        "education",
        "reply",
        "plan_change",
        "crisis",
        "red_flag",
        "help",
        "optin_confirmation",
        "optout_confirmation",
    ]
    rows = [send(rt, patient.id, kind) for kind in kinds]
    assert [(r.status, r.our_number) for r in rows] == [("queued", B)] * len(kinds)
    assert recorder.sent == [(B, patient.phone, f"a {kind} text") for kind in kinds]
    assert number_of(rt, patient.id) == B  # stable across sends


def test_it_assigns_a_number_on_the_first_send_to_a_patient_enrolled_before_the_pool(
    rt: Runtime, recorder: Recorder
) -> None:
    enrol(rt, 1)
    enrol(rt, 2)
    legacy = enrol(rt, 3, pool=())
    assert number_of(rt, legacy.id) is None
    first = send(rt, legacy.id, "checkin")
    assert first.our_number == C and number_of(rt, legacy.id) == C
    assert send(rt, legacy.id, "reply").our_number == C
    assert recorder.senders == [C, C]


def test_it_moves_the_patients_of_a_number_taken_out_of_the_pool_on_their_next_send(
    rt: Runtime, recorder: Recorder
) -> None:
    on_a, on_b, on_c = (enrol(rt, n) for n in range(3))
    assert number_of(rt, on_b.id) == B
    rt.settings = replace(rt.settings, twilio_from_numbers=(A, C, D))
    assert send(rt, on_b.id, "checkin").our_number == D  # the least used of the new pool
    assert number_of(rt, on_b.id) == D
    assert send(rt, on_b.id, "reply").our_number == D
    assert send(rt, on_a.id, "reply").our_number == A  # the others keep theirs
    assert recorder.senders == [D, D, A]


def test_it_sends_pages_from_the_first_number_of_the_pool(rt: Runtime, recorder: Recorder) -> None:
    page = send(rt, None, "page", external_phone="+15555550777")
    assert page.our_number == A
    assert recorder.sent == [(A, "+15555550777", "a page text")]


# --- inbound ---------------------------------------------------------------------------------


def test_it_moves_a_patient_who_texts_another_pool_number_and_answers_from_it(
    client: FlaskClient, rt: Runtime, recorder: Recorder
) -> None:
    patient = enrol(rt, 1)
    assert number_of(rt, patient.id) == A
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "HELP", To=B))
    run_jobs(rt)
    assert number_of(rt, patient.id) == B
    with rt.sessions() as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
    assert [(m.direction, m.our_number) for m in rows] == [("inbound", B), ("outbound", B)]
    assert recorder.senders == [B]


def test_it_keeps_and_handles_a_text_to_a_number_outside_the_pool(
    client: FlaskClient, rt: Runtime, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    patient = enrol(rt, 1)
    with caplog.at_level(logging.WARNING, logger="webhook.inbound"):
        for to in (OUTSIDE, ""):
            params = sms_params(patient.phone, "HELP", To=to)
            assert signed_post(client, rt.settings, "/twilio/sms", params).status_code == 200
    run_jobs(rt)
    with rt.sessions() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == "inbound").order_by(Message.id)
        ).all()
    assert [(m.status, m.handled_by, m.our_number) for m in inbound] == [
        ("processed", "compliance", OUTSIDE),
        ("processed", "compliance", None),
    ]
    assert number_of(rt, patient.id) == A  # not moved
    assert recorder.senders == [A, A]  # both answered, from the patient's number
    assert caplog.text.count("outside the sending pool") == 2
    assert "5005550099" not in caplog.text and patient.phone[2:] not in caplog.text


def test_it_answers_an_unenrolled_sender_from_the_number_they_texted(
    client: FlaskClient, rt: Runtime, recorder: Recorder
) -> None:
    signed_post(client, rt.settings, "/twilio/sms", sms_params("+15555550999", "hello", To=C))
    run_jobs(rt)
    assert recorder.senders == [C]


# --- the rate limit is per number ------------------------------------------------------------


def test_it_does_not_slow_a_patient_on_one_number_for_a_line_on_another(
    rt: Runtime, recorder: Recorder
) -> None:
    rt.settings = replace(rt.settings, twilio_from_numbers=(A, B), send_rate_per_number=1.0)
    on_a, on_b = enrol(rt, 1), enrol(rt, 2)
    limiter = SendRate(rt.redis, 1.0)
    assert limiter.acquire(A).allowed
    for _ in range(10):  # a morning's line of check-ins on A: its slots reach ~10 s ahead
        limiter.ticket(A)
    with rt.sessions.begin() as session:
        [to_a] = queue_text(session, body="check-in A", kind="checkin", patient_id=on_a.id)
        [to_b] = queue_text(session, body="check-in B", kind="checkin", patient_id=on_b.id)
    with pytest.raises(RateLimited) as caught:
        deliver(rt, to_a.id)
    assert caught.value.ticketed and caught.value.wait > 5  # behind A's line
    # B's budget is its own: its check-in goes at once (a shared budget would hold it
    # behind A's line too, raising RateLimited here).
    assert deliver(rt, to_b.id) == "queued"
    assert recorder.sent == [(B, on_b.phone, "check-in B")]


def test_it_takes_the_number_another_worker_assigned_first(rt: Runtime) -> None:
    legacy = enrol(rt, 1, pool=())
    with rt.sessions.begin() as session:
        stale = session.get_one(Patient, legacy.id)
        assert stale.sending_number is None
        with rt.sessions.begin() as other:  # another worker's send assigns B meanwhile
            other.execute(update(Patient).where(Patient.id == legacy.id).values(sending_number=B))
        # Our compare-and-set finds the number changed: we take B rather than A.
        assert patient_number(session, stale, (A, B, C)) == B
    assert number_of(rt, legacy.id) == B


def test_it_has_the_simulated_phone_text_the_patients_own_number(
    client: FlaskClient, rt: Runtime, recorder: Recorder
) -> None:
    enrol(rt, 1)
    patient = enrol(rt, 2)

    def page(phone: str) -> str:
        return client.get("/simulator", query_string={"phone": phone}).get_data(as_text=True)

    assert f"to {B}" in page(patient.phone) and f"to {A}" not in page(patient.phone)
    assert f"to {A}" in page("+15555550999")  # not a patient: the pool's first
