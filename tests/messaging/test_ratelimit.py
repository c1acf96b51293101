"""The send rate limit per sending number, on a real Redis (and real databases for deliver)."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest
from redis import Redis
from sqlalchemy import select

from conversation.jobs import flush_patient
from conversation.sweeper import sweep
from medfollow.runtime import Runtime
from medfollow.settings import Settings, SettingsError
from messaging.outbound import RateLimited, SendFailed, deliver, pace, priority_of, queue_text
from messaging.ratelimit import Priority, SendRate
from messaging.transports import SendResult
from store.models import Message
from tests.conftest import make_patient

NUMBER = "+15005550006"


class Clock:
    """An injected clock (seconds) that a fake sleep moves forward."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(redis: Redis, clock: Clock) -> SendRate:
    return SendRate(redis, rate=2, clock=clock)


@dataclass
class Recorder:
    """Stands in for Twilio: records what was sent, when, and to whom."""

    sent: list[tuple[float, str, str]] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, body: str, status_callback: str | None, *, sender: str) -> SendResult:
        with self.lock:
            self.sent.append((time.monotonic(), to, body))
            self.senders.append(sender)
        return SendResult(sid="SM" + uuid.uuid4().hex, status="queued")


@pytest.fixture
def paced(rt: Runtime) -> Iterator[tuple[Runtime, Recorder]]:
    """The runtime at 5 segments per second per number, sending to a recorder."""
    recorder = Recorder()
    rt.settings = replace(rt.settings, send_rate_per_number=5.0)
    rt._transport = recorder
    yield rt, recorder


def queued(rt: Runtime, kind: str, count: int, phone: str) -> list[int]:
    patient = make_patient(rt, phone=phone)
    with rt.sessions.begin() as session:
        return [
            queue_text(session, body=f"{kind} {n}", kind=kind, patient_id=patient.id)[0].id
            for n in range(count)
        ]


def statuses(rt: Runtime, ids: list[int]) -> list[str]:
    with rt.sessions() as session:
        rows = session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id))
        return [row.status for row in rows]


# --- the limiter itself, on an injected clock ---------------------------------------------


def test_it_allows_rate_segments_per_second_then_says_how_long_to_wait(
    limiter: SendRate, clock: Clock
) -> None:
    assert limiter.acquire(NUMBER).allowed
    refused = limiter.acquire(NUMBER)
    assert not refused.allowed and refused.wait == pytest.approx(0.5)
    clock.sleep(0.5)
    assert limiter.acquire(NUMBER).allowed


def test_it_counts_a_long_text_by_its_segments(limiter: SendRate, clock: Clock) -> None:
    assert limiter.acquire(NUMBER, cost=3).allowed
    assert limiter.acquire(NUMBER).wait == pytest.approx(1.5)


def test_it_keeps_each_sending_number_to_its_own_budget(limiter: SendRate) -> None:
    assert limiter.acquire(NUMBER).allowed
    assert limiter.acquire("+15005550007").allowed
    assert not limiter.acquire(NUMBER).allowed


def test_it_gives_scheduled_texts_slots_one_interval_apart(limiter: SendRate, clock: Clock) -> None:
    assert limiter.acquire(NUMBER).allowed
    slots = [limiter.ticket(NUMBER) for _ in range(3)]
    assert slots == pytest.approx([0.5, 1.0, 1.5])
    clock.sleep(0.5)
    # A scheduled text without a ticket waits behind the line ...
    assert limiter.acquire(NUMBER).wait == pytest.approx(1.5)
    # ... while the ticket holder goes at its slot.
    assert limiter.acquire(NUMBER, ticketed=True).allowed


def test_it_lets_answers_to_patients_skip_the_line_of_scheduled_texts(
    limiter: SendRate, clock: Clock
) -> None:
    limiter.acquire(NUMBER)
    for _ in range(100):
        limiter.ticket(NUMBER)
    clock.sleep(0.5)
    assert limiter.acquire(NUMBER, priority=Priority.REPLY).allowed


def test_it_holds_routine_texts_while_an_urgent_one_waits_for_its_slot(
    limiter: SendRate, clock: Clock
) -> None:
    assert limiter.acquire(NUMBER).allowed
    urgent = limiter.acquire(NUMBER, priority=Priority.URGENT)
    assert not urgent.allowed and urgent.wait == pytest.approx(0.5)
    clock.sleep(0.5)
    # The slot is free now, but the urgent text is still on its way: nobody else takes it.
    assert not limiter.acquire(NUMBER, priority=Priority.REPLY).allowed
    assert not limiter.acquire(NUMBER, ticketed=True).allowed
    assert limiter.acquire(NUMBER, priority=Priority.URGENT).allowed


def test_it_classes_texts_by_kind() -> None:
    assert [priority_of(k) for k in ("crisis", "page", "optout_confirmation", "help")] == [
        Priority.URGENT
    ] * 4
    assert [priority_of(k) for k in ("checkin", "scheduled", "plan_change")] == [Priority.BULK] * 3
    assert priority_of("reply") is Priority.REPLY


def test_it_queues_a_scheduled_text_at_its_slot_and_waits_briefly_otherwise(
    limiter: SendRate, clock: Clock
) -> None:
    limiter.acquire(NUMBER)
    for _ in range(4):
        limiter.ticket(NUMBER)  # the line reaches 2.5 s ahead
    with pytest.raises(RateLimited) as caught:
        pace(limiter, NUMBER, 1, Priority.BULK, sleep=clock.sleep)
    assert caught.value.ticketed and caught.value.wait == pytest.approx(2.5)
    # An answer waits inside the job for the next free slot and goes.
    before = clock.now
    pace(limiter, NUMBER, 1, Priority.REPLY, sleep=clock.sleep)
    assert clock.now - before == pytest.approx(0.5)


def test_it_reads_the_rate_from_the_environment() -> None:
    assert Settings.from_env({}).send_rate_per_number == 1.0
    assert Settings.from_env({"SEND_RATE_PER_NUMBER": "30"}).send_rate_per_number == 30.0
    for bad in ("0", "-1", "fast"):
        with pytest.raises(SettingsError, match="SEND_RATE_PER_NUMBER"):
            Settings.from_env({"SEND_RATE_PER_NUMBER": bad})


# --- many threads on Redis's own clock -----------------------------------------------------


def test_it_never_allows_more_than_the_rate_per_second_to_threads_hammering_it(
    redis: Redis,
) -> None:
    rate, numbers = 10, ["+15005550006", "+15005550007"]
    limiter = SendRate(redis, rate)
    granted: dict[str, list[float]] = {n: [] for n in numbers}
    lock = threading.Lock()

    def hammer(number: str, count: int) -> None:
        got = 0
        while got < count:
            decision = limiter.acquire(number, priority=Priority.REPLY)
            if decision.allowed:
                got += 1
                with lock:
                    granted[number].append(decision.at)
            else:
                time.sleep(decision.wait)

    # 12 threads, 6 per number, 5 grants each.
    threads = [threading.Thread(target=hammer, args=(numbers[i % 2], 5)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for number in numbers:
        times = sorted(granted[number])
        assert len(times) == 30  # nothing lost
        # At most `rate` grants in any one-second window: any rate + 1 of them span >= 1 s.
        assert min(b - a for a, b in zip(times, times[rate:], strict=False)) >= 1.0


def test_it_sends_every_text_once_through_deliver_at_the_rate_from_many_threads(
    paced: tuple[Runtime, Recorder],
) -> None:
    rt, recorder = paced
    ids = queued(rt, "checkin", 8, "+15555550142") + queued(rt, "reply", 7, "+15555550143")
    work: queue.Queue[tuple[int, bool]] = queue.Queue()
    for message_id in ids:
        work.put((message_id, False))

    def worker() -> None:  # what an RQ worker does with the job and its requeue
        while True:
            try:
                message_id, ticketed = work.get(timeout=3)
            except queue.Empty:
                return
            try:
                deliver(rt, message_id, ticketed)
            except RateLimited as exc:
                time.sleep(exc.wait)
                work.put((message_id, exc.ticketed))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses(rt, ids) == ["queued"] * len(ids)
    bodies = sorted(body for _, _, body in recorder.sent)
    assert len(bodies) == len(set(bodies)) == len(ids)  # each sent once, none lost
    times = sorted(at for at, _, _ in recorder.sent)
    # 15 sends at 5 per second from one number take at least 14 intervals.
    assert times[-1] - times[0] >= (len(ids) - 1) / 5 - 0.05


# --- urgent first, and nothing lost while waiting -------------------------------------------


def test_it_sends_a_crisis_reply_before_a_line_of_checkins(
    paced: tuple[Runtime, Recorder],
) -> None:
    rt, recorder = paced
    rt.settings = replace(rt.settings, send_rate_per_number=0.5)  # a slot every 2 s
    checkins = queued(rt, "checkin", 10, "+15555550142")
    held = []
    for message_id in checkins:
        try:
            deliver(rt, message_id)
        except RateLimited as exc:
            held.append(exc)
    assert len(held) == 9 and all(exc.ticketed for exc in held)
    # The line reaches 18 s ahead of the first (less the time this loop took).
    assert max(exc.wait for exc in held) >= 10
    [crisis] = queued(rt, "crisis", 1, "+15555550143")
    assert deliver(rt, crisis) == "queued"
    assert recorder.sent[-1][2] == "crisis 0"
    assert statuses(rt, checkins).count("pending") == len(held)


def test_it_keeps_a_held_text_pending_for_a_flush_at_its_slot(
    paced: tuple[Runtime, Recorder],
) -> None:
    rt, recorder = paced
    rt.settings = replace(rt.settings, send_rate_per_number=0.2, sweep_after_seconds=1)
    ids = queued(rt, "checkin", 3, "+15555550142")
    with rt.sessions() as session:
        patient_id = session.get_one(Message, ids[0]).patient_id
    assert patient_id is not None
    flush_patient(patient_id)
    assert statuses(rt, ids) == ["queued", "pending", "pending"]
    registry = rt.queue().scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = rt.queue().fetch_job(job_id)
    assert job is not None and job.args == (patient_id, True)
    assert sweep(rt).sends == 0  # held, not lost: the sweeper leaves it to its slot
    assert len(recorder.sent) == 1


def test_it_sends_a_crisis_reply_when_redis_cannot_be_asked_and_holds_the_rest(
    paced: tuple[Runtime, Recorder],
) -> None:
    rt, recorder = paced
    [crisis] = queued(rt, "crisis", 1, "+15555550142")
    [checkin] = queued(rt, "checkin", 1, "+15555550143")
    offline = Runtime(replace(rt.settings, redis_url="redis://127.0.0.1:9/0"), recorder)
    assert deliver(offline, crisis) == "queued"
    with pytest.raises(SendFailed, match="rate limit unavailable"):
        deliver(offline, checkin)
    assert statuses(rt, [crisis, checkin]) == ["queued", "pending"]
    assert [body for _, _, body in recorder.sent] == ["crisis 0"]
