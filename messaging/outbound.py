"""Outbound SMS: store every text before sending it, then send it once and record the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from escalation.alerts import in_emergency
from escalation.policy import load_policy
from escalation.undelivered import contact_failing, may_matter, reply_not_delivered
from medfollow.runtime import Runtime
from messaging.pool import patient_number, reply_number
from messaging.ratelimit import Priority, SendRate
from messaging.segments import encode_info, split_reply
from messaging.status import UNCONFIRMED
from messaging.transports import OPTED_OUT_CODE, SendError
from store.models import Message, Patient, utcnow
from store.patients import set_opted_out

log = logging.getLogger(__name__)
# How long a worker keeps trying to store the outcome of a send that went out.
RECORD_SENT_SECONDS = 60.0

# Texts that go out even to a patient who has opted out: the single confirmation the
# FCC allows, and crisis resources (a safety message, never marketing).
ALWAYS_SENT = frozenset({"optout_confirmation", "crisis"})
# Texts the clinic starts (not answers): they pause during an emergency episode.
SCHEDULED = frozenset({"checkin", "scheduled", "education"})
# Texts sent from the urgent queue, and sent inline if the queue is down.
URGENT_KINDS = frozenset({"crisis", "optout_confirmation", "optin_confirmation", "help"})
# The send rate limit (messaging/ratelimit.py): these never queue behind other texts;
# texts the clinic starts queue behind answers to patients.
URGENT_SENDS = URGENT_KINDS | {"page"}
BULK_KINDS = SCHEDULED | {"plan_change"}
# Only texts the clinic starts may be held for the patient's quiet-hours window (status
# `held` until `send_after`; scheduling/holds.py releases them). Crisis replies and
# answers to the patient's own messages never are.
HOLDABLE = BULK_KINDS
# A send over the rate limit waits inside the job at most this long (keeping workers
# free for urgent work); a longer wait sends the job back to the queue for later.
INLINE_WAIT = 1.0
# A crisis reply or page is never held longer than this by our own limit (Twilio queues
# what goes over its rate rather than refusing it).
URGENT_MAX_WAIT = 10.0


class SendFailed(Exception):
    """A transient send failure; the job is retried."""


class RateLimited(SendFailed):
    """The sending number's budget is spent: send again in `wait` seconds (`ticketed`:
    the send holds a place in the number's line and goes at that slot)."""

    def __init__(self, wait: float, ticketed: bool) -> None:
        super().__init__(f"send rate limit: try again in {wait:.2f} s")
        self.wait = wait
        self.ticketed = ticketed


def priority_of(kind: str) -> Priority:
    if kind in URGENT_SENDS:
        return Priority.URGENT
    return Priority.BULK if kind in BULK_KINDS else Priority.REPLY


def pace(
    limiter: SendRate,
    number: str,
    cost: int,
    priority: Priority,
    ticketed: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return when a send of `cost` segments may go from `number`, or raise RateLimited.

    Urgent sends wait here until their slot (they hold the number meanwhile). Others wait
    here once, briefly; scheduled texts then take a place in the number's line, answers
    come back after the wait.
    """
    waited = 0.0
    while True:
        decision = limiter.acquire(number, cost, priority, ticketed)
        if decision.allowed:
            return
        if priority is Priority.URGENT:
            if waited + decision.wait > URGENT_MAX_WAIT:
                log.warning("urgent send held %.1f s by the rate limit; sending now", waited)
                return
            sleep(decision.wait)
            waited += decision.wait
            continue
        wait, ticketed_next = decision.wait, ticketed
        if priority is Priority.BULK and (not ticketed or waited):
            wait, ticketed_next = limiter.ticket(number, cost), True
        if waited or wait > INLINE_WAIT:
            raise RateLimited(wait, ticketed_next)
        sleep(wait)
        waited, ticketed = wait, ticketed_next


def queue_text(
    session: Session,
    *,
    body: str,
    kind: str,
    patient_id: int | None = None,
    external_phone: str | None = None,
    in_reply_to_id: int | None = None,
    send_after: datetime | None = None,
) -> list[Message]:
    """Store one outbound text (split to fit the reply length limit) as pending rows, or
    as held rows when `send_after` is given (a text the clinic starts, kept for the
    patient's window). ValueError for a held text of any other kind."""
    if send_after is not None and (kind not in HOLDABLE or in_reply_to_id is not None):
        raise ValueError(f"a {kind} text is never held")
    rows = []
    for part in split_reply(body):
        info = encode_info(part)
        row = Message(
            patient_id=patient_id,
            external_phone=external_phone,
            direction="outbound",
            body=part,
            kind=kind,
            status="pending" if send_after is None else "held",
            send_after=send_after,
            in_reply_to_id=in_reply_to_id,
            segments=info.segments,
            encoding=info.encoding,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def deliver(rt: Runtime, message_id: int, ticketed: bool = False) -> str:
    """Send one pending outbound message; return its status.

    1. Claim the row (compare-and-set pending -> claimed): two workers never both send.
    2. Suppress it if the patient opted out (unless it is always sent).
    3. Choose the number it goes from (the patient's own, messaging/pool.py) and store
       it on the row; take its segments from that number's rate budget (`pace`).
    4. Send through the transport and store the sid and status, or the error.
    Raises SendFailed on a transient error, leaving the row pending for a retry, and
    RateLimited (a SendFailed) when it must wait for the rate limit: then the row is
    pending again, touched at the time it will be tried, so the sweeper leaves it be.
    """
    with rt.sessions.begin() as session:
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == "pending")
            .values(status="claimed", attempts=Message.attempts + 1, updated_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "skipped"
        msg = session.get_one(Message, message_id)
        patient = session.get(Patient, msg.patient_id) if msg.patient_id else None
        if patient is not None and patient.opted_out and msg.kind not in ALWAYS_SENT:
            msg.status = "suppressed"
            msg.error_message = "patient has opted out"
            return msg.status
        if patient is not None and msg.kind in SCHEDULED and in_emergency(session, patient.id):
            msg.status = "suppressed"
            msg.error_message = "paused: open emergency episode"
            return msg.status
        to = patient.phone if patient is not None else msg.external_phone
        pool = rt.settings.sending_pool
        sender = (
            patient_number(session, patient, pool)
            if patient is not None
            else reply_number(session, msg, pool)
        )
        msg.our_number = sender
        body, patient_id, kind, cost = msg.body, msg.patient_id, msg.kind, msg.segments
    if not to:
        return _record(rt, message_id, "failed", error="no recipient number")
    try:
        _pace(rt, sender, kind, max(1, cost), ticketed)
    except SendFailed as exc:  # not sent: pending again, for its slot or a retry
        wait = exc.wait if isinstance(exc, RateLimited) else 0.0
        with rt.sessions.begin() as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "claimed")
                .values(
                    status="pending",
                    attempts=Message.attempts - 1,
                    updated_at=utcnow() + timedelta(seconds=wait),
                )
            )
        raise
    callback = f"{rt.settings.public_base_url}/twilio/status"
    try:
        result = rt.transport.send(to, body, callback, sender=sender)
    except SendError as exc:
        if exc.code == OPTED_OUT_CODE and patient_id is not None:
            with rt.sessions.begin() as session:
                set_opted_out(session, patient_id, True)
        if exc.permanent:
            status = _record(rt, message_id, "failed", error=str(exc), code=exc.code)
            with rt.sessions.begin() as session:
                delivery_failed(rt, session, session.get_one(Message, message_id))
            return status
        _record(rt, message_id, "pending", error=str(exc), code=exc.code)
        raise SendFailed(str(exc)) from None
    return _record_sent(rt, message_id, result.status, result.sid)


def _record_sent(rt: Runtime, message_id: int, status: str, sid: str | None) -> str:
    """Store what Twilio answered to a send that went out. The text has left: if the
    database is briefly unreachable (a restart, a failover), keep trying for up to
    RECORD_SENT_SECONDS rather than let the row look like a send of unknown outcome.
    A text that may matter gets its delivery deadline (R20: the sweeper checks it)."""
    deadline = time.monotonic() + RECORD_SENT_SECONDS
    wait = 0.25
    while True:
        try:
            return _record(rt, message_id, status, sid=sid, confirm=True)
        except OperationalError:
            if time.monotonic() + wait > deadline:
                raise
            log.warning("outbound message %s sent; database unreachable, retrying", message_id)
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def _pace(rt: Runtime, sender: str, kind: str, cost: int, ticketed: bool) -> None:
    """The rate limit of the number the text goes from. If Redis cannot be asked, urgent
    texts go anyway (they are sent inline when Redis is down); others wait for a retry."""
    priority = priority_of(kind)
    try:
        limiter = SendRate(rt.redis, rt.settings.send_rate_per_number)
        pace(limiter, sender, cost, priority, ticketed)
    except RedisError:
        if priority is not Priority.URGENT:
            raise SendFailed("send rate limit unavailable (Redis)") from None
        log.warning("send rate limit unavailable (Redis); urgent send goes anyway")


def _record(
    rt: Runtime,
    message_id: int,
    status: str,
    *,
    sid: str | None = None,
    error: str | None = None,
    code: int | None = None,
    confirm: bool = False,
) -> str:
    with rt.sessions.begin() as session:
        msg = session.get_one(Message, message_id)
        msg.status = status
        msg.provider_sid = sid or msg.provider_sid
        msg.error_message = error
        msg.error_code = str(code) if code is not None else None
        if confirm and status in UNCONFIRMED and may_matter(msg):
            wait = timedelta(seconds=rt.settings.delivery_confirm_seconds)
            msg.confirm_by = utcnow() + wait
    log.info("outbound message %s: %s", message_id, status)
    return status


def pending_for(session: Session, patient_id: int) -> list[int]:
    """Ids of a patient's outbound texts still waiting to be sent, oldest first."""
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.patient_id == patient_id,
                Message.direction == "outbound",
                Message.status == "pending",
            )
            .order_by(Message.id)
        )
    )


def delivery_failed(rt: Runtime, session: Session, msg: Message) -> None:
    """A text ended failed or undelivered (Twilio's report, a refused send, a lost send).

    - R20: a crisis reply, or any reply to an emergency or urgent signal, that did not
      reach the patient is itself an alert at that tier: a person has to phone them.
    - R28: the patient's third failed text in a row: staff re-verify their number.
    """
    policy = load_policy(rt.settings.escalation_policy)
    msg.confirm_by = None  # its outcome is known: nothing left to confirm
    reply_not_delivered(session, policy, msg)
    contact_failing(session, policy, msg)
