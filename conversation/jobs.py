"""RQ jobs. They take ids, never objects, and find their connections in the runtime."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime

from rq import Retry
from sqlalchemy import select, update

from conversation.ordering import PatientLock
from conversation.rasa_client import converse, trigger
from escalation.alerts import in_emergency
from medfollow import runtime
from medfollow.runtime import URGENT_QUEUE, Runtime
from messaging.outbound import URGENT_KINDS, RateLimited, SendFailed, deliver, queue_text
from store.models import Message, Patient, utcnow

log = logging.getLogger(__name__)


def retry_policy(rt: Runtime) -> Retry:
    intervals = list(rt.settings.retry_intervals)
    return Retry(max=len(intervals), interval=intervals)


# Set while a patient's job waits in the queue, so the sweeper re-enqueues only work the
# queue really lost, not work that is merely waiting behind a backlog (re-enqueueing that
# would grow the backlog further: found by tests/chaos). Expires in case it outlives its job.
QUEUED_TTL = 300


def queued_key(patient_id: int) -> str:
    return f"medfollow:queued:patient:{patient_id}"


def enqueue_patient(rt: Runtime, patient_id: int) -> None:
    rt.redis.set(queued_key(patient_id), 1, ex=QUEUED_TTL)
    rt.queue().enqueue(process_patient, patient_id, retry=retry_policy(rt))


def is_queued(rt: Runtime, patient_id: int) -> bool:
    """A job for this patient is waiting in the queue (not yet started)."""
    return bool(rt.redis.exists(queued_key(patient_id)))


def enqueue_send(rt: Runtime, message_id: int, queue: str = URGENT_QUEUE) -> None:
    rt.queue(queue).enqueue(send_message, message_id, retry=retry_policy(rt))


def send_message(message_id: int, ticketed: bool = False) -> str:
    """Send one stored outbound message (retried on transient errors; over the send rate
    limit, enqueued again for when it may go).

    A patient's ordinary texts go in order: this sends the patient's waiting texts oldest
    first (this one among them), so a retried or swept send never overtakes an earlier
    text that is still waiting. Urgent texts (crisis, compliance) go on their own."""
    rt = runtime.current()
    try:
        patient_id = _in_line(rt, message_id)
        if patient_id is None:
            return deliver(rt, message_id, ticketed)
        _flush(rt, patient_id, ticketed, raise_failure=True)
        with rt.sessions() as session:
            return session.get_one(Message, message_id).status
    except RateLimited as exc:
        rt.queue().enqueue_at(
            _slot(exc.wait), send_message, message_id, exc.ticketed, retry=retry_policy(rt)
        )
        return "pending"


def _slot(wait: float) -> datetime:
    """When a job that must wait `wait` seconds runs again. RQ's scheduler keeps whole
    seconds and looks once a second: rounded down, the job arrives up to a second before
    its slot and waits the rest inside the job, instead of up to two seconds after it
    (a slot missed is a slot lost: the limit never lets a late send catch up)."""
    return datetime.fromtimestamp(math.floor(time.time() + wait), UTC)


def process_patient(patient_id: int) -> int:
    """Run a patient's waiting messages through the dialogue, oldest first; return how many.

    Never waits for the patient's lock: if another worker holds it, that worker will
    see the dirty mark and pick these messages up. A failure (Rasa, database) stops
    the drain so that later messages do not overtake the failed one; RQ retries.
    """
    rt = runtime.current()
    rt.redis.delete(queued_key(patient_id))
    lock = PatientLock(rt.redis, patient_id)
    if not lock.acquire():
        return 0
    handled = 0
    try:
        while lock.take_dirty():
            for message_id in _waiting(rt, patient_id):
                _turn(rt, message_id)
                handled += 1
                lock.extend()
            _flush(rt, patient_id)
    finally:
        lock.release()
    if lock.is_dirty():
        enqueue_patient(rt, patient_id)
    return handled


def _waiting(rt: Runtime, patient_id: int) -> list[int]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.patient_id == patient_id,
                    Message.direction == "inbound",
                    Message.status == "received",
                )
                .order_by(Message.id)
            )
        )


def _turn(rt: Runtime, message_id: int) -> None:
    """One dialogue turn: Rasa's replies are stored with the message marked processed."""
    with rt.sessions() as session:
        msg = session.get_one(Message, message_id)
        patient = session.get_one(Patient, msg.patient_id)
        sender, text, opted_out = patient.pseudonym, msg.body, patient.opted_out
        flagged = msg.safety_flag is not None
    metadata: dict[str, object] = {"message_id": message_id}
    if flagged:
        # The safety screen already sent the crisis reply: the dialogue goes on to the
        # screening questions, whatever the NLU would have made of the words.
        text, metadata["screened"] = "/self_harm", True
    replies = (
        [] if opted_out else converse(rt.rasa, sender, text, metadata, rt.settings.rasa_timeout)
    )
    with rt.sessions.begin() as session:
        done = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == "received")
            .values(
                status="processed",
                handled_by="opted_out" if opted_out else "rasa",
                processed_at=utcnow(),
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            return
        for reply in replies:
            queue_text(
                session,
                body=reply,
                kind="reply",
                patient_id=msg.patient_id,
                in_reply_to_id=message_id,
            )
    _flush(rt, msg.patient_id or 0)


def _in_line(rt: Runtime, message_id: int) -> int | None:
    """The patient whose ordered line of texts this one is in (None for urgent texts and
    texts to clinicians or unenrolled numbers, which do not wait for others)."""
    with rt.sessions() as session:
        msg = session.get(Message, message_id)
        if msg is None or msg.patient_id is None or msg.kind in URGENT_KINDS:
            return None
        return msg.patient_id


def _line(rt: Runtime, patient_id: int) -> list[tuple[int, str]]:
    """The patient's ordinary texts not yet sent (pending, or being sent), oldest first."""
    with rt.sessions() as session:
        rows = session.execute(
            select(Message.id, Message.status)
            .where(
                Message.patient_id == patient_id,
                Message.direction == "outbound",
                Message.status.in_(("pending", "claimed")),
                Message.kind.not_in(URGENT_KINDS),
            )
            .order_by(Message.id)
        ).all()
    return [(row.id, row.status) for row in rows]


def _flush(
    rt: Runtime, patient_id: int, ticketed: bool = False, *, raise_failure: bool = False
) -> None:
    """Send the patient's pending texts in order; a transient failure goes to a retried job
    (or, with raise_failure, is raised for the caller's job to retry), and a send over the
    rate limit to a flush job at the time it may go (in order still). The texts after the
    first that goes are part of the same turn: they keep its place.

    A text another worker is sending right now (claimed) stops the flush: that worker
    sends the rest after it, so a later text never reaches Twilio before an earlier one
    (found by tests/chaos with Twilio timing out). Urgent texts are not in the line."""
    for message_id in _pending_urgent(rt, patient_id):
        try:
            deliver(rt, message_id)
        except SendFailed:
            enqueue_send(rt, message_id)
    for message_id, status in _line(rt, patient_id):
        if status == "claimed":
            return
        try:
            if deliver(rt, message_id, ticketed) == "skipped":
                return  # claimed by another worker meanwhile: it goes on from there
            ticketed = True
        except RateLimited as exc:
            rt.queue().enqueue_at(
                _slot(exc.wait), flush_patient, patient_id, exc.ticketed, retry=retry_policy(rt)
            )
            return
        except SendFailed:
            if raise_failure:
                raise
            log.warning("send of message %s failed; retrying in a job", message_id)
            enqueue_send(rt, message_id)
            return


def _pending_urgent(rt: Runtime, patient_id: int) -> list[int]:
    """The patient's urgent texts still waiting (they go first, outside the line)."""
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.patient_id == patient_id,
                    Message.direction == "outbound",
                    Message.status == "pending",
                    Message.kind.in_(URGENT_KINDS),
                )
                .order_by(Message.id)
            )
        )


def enqueue_trigger(rt: Runtime, patient_id: int, intent: str, entities: dict[str, str]) -> None:
    rt.queue().enqueue(start_dialogue, patient_id, intent, entities, retry=retry_policy(rt))


def start_dialogue(patient_id: int, intent: str, entities: dict[str, str]) -> int:
    """Start a bot-initiated conversation (a check-in, a mood check) for one patient.

    Holds the patient's lock like a dialogue turn, so it never interleaves with one;
    if the lock is busy it tries again shortly. Returns the number of texts queued.
    """
    from datetime import timedelta

    from care import mood_checks
    from care.checkins import mark_skipped

    rt = runtime.current()
    lock = PatientLock(rt.redis, patient_id)
    if not lock.acquire():
        rt.queue().enqueue_in(timedelta(seconds=2), start_dialogue, patient_id, intent, entities)
        return 0
    # A scheduled questionnaire names its row: started only while the row is still
    # queued (a second start, e.g. from the sweeper, finds it asked and does nothing).
    raw_mood = entities.get(mood_checks.ENTITY, "")
    mood_id = int(raw_mood) if raw_mood.isdigit() else None
    to_rasa = {k: v for k, v in entities.items() if k != mood_checks.ENTITY}
    try:
        with rt.sessions() as session:
            patient = session.get_one(Patient, patient_id)
            # Nothing the clinic starts goes to a patient who opted out, is paused, or is
            # in an open emergency episode (until a clinician resolves it).
            blocked = (
                patient.opted_out or patient.status != "active" or in_emergency(session, patient_id)
            )
            sender = patient.pseudonym
            if mood_id is not None and not mood_checks.still_queued(session, mood_id):
                return 0
        if blocked:
            with rt.sessions.begin() as session:
                mark_skipped(session, entities.get("checkin_id"))
                if mood_id is not None:
                    mood_checks.mark_skipped(session, mood_id)
            return 0
        s = rt.settings
        texts = trigger(rt.rasa, s.rasa_token.reveal(), sender, intent, to_rasa, s.rasa_timeout)
        kind = "checkin" if intent == "EXTERNAL_dose_checkin" else "scheduled"
        with rt.sessions.begin() as session:
            for text in texts:
                queue_text(session, body=text, kind=kind, patient_id=patient_id)
        _flush(rt, patient_id)
        return len(texts)
    finally:
        lock.release()


def enqueue_flush(rt: Runtime, patient_id: int) -> None:
    rt.queue().enqueue(flush_patient, patient_id, retry=retry_policy(rt))


def flush_patient(patient_id: int, ticketed: bool = False) -> None:
    """Send a patient's pending texts in order (texts the scheduler queued, or texts that
    waited for the send rate limit)."""
    _flush(runtime.current(), patient_id, ticketed)
