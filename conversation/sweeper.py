"""The scheduler loop: plans and starts due check-ins, pages due alerts, sends the daily
digest, and finds work the queue lost (Redis down, retries exhausted).

Runs in the scheduler process, one leader at a time (a Redis key with a TTL), every second.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import Select, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from conversation.jobs import enqueue_patient, enqueue_send, enqueue_trigger, is_queued
from escalation.digest import digest_due, send_digest
from escalation.notifiers.base import NotifyError
from escalation.paging import escalate_due
from escalation.policy import load_policy
from escalation.undelivered import reply_unconfirmed
from medfollow.runtime import Runtime
from messaging.outbound import delivery_failed
from messaging.status import LOST_SEND, UNCONFIRMED
from scheduling.heartbeat import WATCH_EVERY, safe_watch
from scheduling.holds import release_held
from scheduling.mood import MOOD_INTENT
from scheduling.mood import entities as mood_entities
from scheduling.preferences import check_defaults
from scheduling.rounds import Round, scheduling_round
from store.models import IN_FLIGHT, Checkin, Message, MoodCheck, utcnow

log = logging.getLogger(__name__)
LEADER_KEY = "medfollow:scheduler:leader"
HEARTBEAT_KEY = "medfollow:scheduler:heartbeat"
LEADER_TTL = 30
# Check-ins are planned a day ahead, again every PLAN_EVERY seconds (new patients, plans).
PLAN_EVERY = 30.0
# The leader writes the database heartbeat (scheduling/heartbeat.py) this often.
BEAT_EVERY = 10.0


# Texts past their delivery deadline handled per sweep (the rest wait for the next one).
CONFIRM_BATCH = 200


@dataclass(frozen=True)
class Sweep:
    patients: int
    sends: int
    stale: int
    unconfirmed: int = 0  # texts that mattered found unconfirmed past their deadline
    released: int = 0  # held texts released as the patient's window opened


def sweep(rt: Runtime, now: datetime | None = None) -> Sweep:
    """Re-enqueue inbound messages and sends that have waited too long, start again
    check-ins and mood questionnaires whose start was lost, and release texts held for
    the patient's quiet-hours window once it opens."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=rt.settings.sweep_after_seconds)
    stale_before = now - timedelta(seconds=rt.settings.stale_claim_seconds)
    with rt.sessions.begin() as session:
        patients: set[int | None] = set(session.scalars(unanswered_since(cutoff)))
        sends = list(session.scalars(unsent_since(cutoff)))
        lost = session.scalars(
            update(Message)
            # A send claimed this long ago with no outcome: the worker died mid-send.
            # Twilio sends are not idempotent, so it is marked failed (visible), not resent.
            .where(Message.status == "claimed", Message.updated_at < stale_before)
            .values(status="failed", error_message=LOST_SEND)
            .returning(Message.id)
        ).all()
        # A crisis reply (or a reply to an urgent signal) whose outcome is unknown is an
        # alert like any undelivered one: a person phones the patient.
        for message_id in lost:
            delivery_failed(rt, session, session.get_one(Message, message_id))
        stale = len(lost)
        unconfirmed = _unconfirmed(rt, session, now)
        # A check-in started this long ago and still not asked: its start job died with
        # its worker before Rasa asked (asking marks it sent), so starting it again
        # cannot text the patient twice.
        unasked = session.execute(
            select(Checkin.id, Checkin.patient_id).where(
                Checkin.status == "queued", Checkin.queued_at < stale_before
            )
        ).all()
        # The same for a mood questionnaire (asking marks it sent), while its period is
        # open; the start job finds the row still queued before it asks.
        unasked_mood = session.execute(
            select(MoodCheck.id, MoodCheck.patient_id).where(
                MoodCheck.status == "queued",
                MoodCheck.queued_at < stale_before,
                MoodCheck.closes_at > now,
            )
        ).all()
    # At most one sweeper enqueue per item per window, so a long outage does not pile up jobs.
    window = max(rt.settings.sweep_after_seconds, 1)
    for checkin_id, patient_id in unasked:
        if _first(rt, f"checkin:{checkin_id}", max(rt.settings.stale_claim_seconds, 1)):
            log.warning("check-in %s was started but never asked; starting it again", checkin_id)
            entities = {"checkin_id": str(checkin_id)}
            enqueue_trigger(rt, patient_id, "EXTERNAL_dose_checkin", entities)
    for mood_check_id, patient_id in unasked_mood:
        if _first(rt, f"mood:{mood_check_id}", max(rt.settings.stale_claim_seconds, 1)):
            log.warning("mood check %s started but never asked; starting it again", mood_check_id)
            enqueue_trigger(rt, patient_id, MOOD_INTENT, mood_entities(mood_check_id))
    due = [
        p
        for p in patients
        if p is not None and not is_queued(rt, p) and _first(rt, f"patient:{p}", window)
    ]
    sends = [m for m in sends if _first(rt, f"send:{m}", window)]
    for patient_id in due:
        enqueue_patient(rt, patient_id)
    for message_id in sends:
        enqueue_send(rt, message_id)
    released = release_held(rt, now)
    return Sweep(len(due), len(sends), int(stale), unconfirmed, released)


def unanswered_since(cutoff: datetime) -> Select[tuple[int | None]]:
    """Patients with an inbound text stored before `cutoff` and not answered yet (served
    by the partial index of texts in flight, ix_message_in_flight)."""
    return select(Message.patient_id).where(
        text(IN_FLIGHT),  # as the index's predicate reads: SQLite then uses the index too
        Message.status == "received",
        Message.direction == "inbound",
        Message.patient_id.is_not(None),
        Message.created_at < cutoff,
    )


def unsent_since(cutoff: datetime) -> Select[tuple[int]]:
    """Outbound texts pending since before `cutoff` (ix_message_in_flight)."""
    return select(Message.id).where(
        text(IN_FLIGHT),
        Message.status == "pending",
        Message.direction == "outbound",
        Message.updated_at < cutoff,
    )


def past_confirm_by(now: datetime) -> Select[tuple[int]]:
    """Texts past their delivery deadline, oldest deadline first (partial index)."""
    return (
        select(Message.id)
        .where(Message.confirm_by < now)
        .order_by(Message.confirm_by)
        .limit(CONFIRM_BATCH)
    )


def _unconfirmed(rt: Runtime, session: Session, now: datetime) -> int:
    """R20 for texts that may matter, that Twilio accepted and that it has not reported
    delivered by their deadline (``confirm_by``, set when Twilio accepted the text).

    Each text is taken once: its deadline is cleared by a compare-and-set in this
    transaction, so a second sweep (or a status callback at the same moment) cannot take
    it again. Only texts still waiting for a report are in the partial index it reads."""
    due = session.scalars(past_confirm_by(now)).all()
    if not due:
        return 0
    taken = session.execute(
        update(Message)
        .where(Message.id.in_(due), Message.confirm_by.is_not(None))
        .values(confirm_by=None)
        .returning(Message.id, Message.status)
    ).all()
    policy = load_policy(rt.settings.escalation_policy)
    seconds = rt.settings.delivery_confirm_seconds
    found = 0
    for message_id, status in taken:
        if status not in UNCONFIRMED:
            continue  # its report came (or it failed) as the deadline passed
        raised = reply_unconfirmed(session, policy, session.get_one(Message, message_id), seconds)
        if raised is not None:
            log.warning("message %s: delivery unconfirmed, alert %s", message_id, raised.alert_id)
            found += 1
    return found


def _first(rt: Runtime, what: str, window: int) -> bool:
    return bool(rt.redis.set(f"medfollow:swept:{what}", 1, nx=True, ex=window))


def _digest(rt: Runtime) -> None:
    try:
        log.info("daily digest: %s item(s) sent", send_digest(rt))
    except NotifyError as exc:
        log.warning("daily digest not sent (permanent=%s)", exc.permanent)


def run(rt: Runtime, interval: float = 1.0, stop_after: float | None = None) -> None:
    """Loop forever (or for stop_after seconds): lead if no one else does, then sweep."""
    check_defaults(rt.settings)
    me = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    planned_at = beat_at = watched_at = 0.0

    lead_checked, lead_lost = 0.0, False

    def lost_lead() -> bool:
        """Whether another scheduler leads now (asked of Redis at most once a second)."""
        nonlocal lead_checked, lead_lost
        if time.monotonic() - lead_checked >= 1.0:
            lead_lost = rt.redis.get(LEADER_KEY) != me.encode()
            lead_checked = time.monotonic()
        return lead_lost

    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            rt.redis.set(HEARTBEAT_KEY, int(time.time()), ex=120)
            leader = rt.redis.set(LEADER_KEY, me, nx=True, ex=LEADER_TTL) or (
                rt.redis.get(LEADER_KEY) == me.encode() and rt.redis.expire(LEADER_KEY, LEADER_TTL)
            )
            if leader:
                planning = time.monotonic() - planned_at >= PLAN_EVERY
                beating = time.monotonic() - beat_at >= BEAT_EVERY
                done = scheduling_round(rt, plan=planning, heartbeat=beating, stop=lost_lead)
                planned_at = time.monotonic() if planning else planned_at
                beat_at = time.monotonic() if beating else beat_at
                if done != Round():
                    log.info("scheduling: %s", done)
                if time.monotonic() - watched_at >= WATCH_EVERY:
                    safe_watch(rt.sessions, rt.settings)
                    watched_at = time.monotonic()
                pages = escalate_due(rt)
                if pages:
                    log.info("escalation: %s page(s) sent", pages)
                if digest_due(rt):
                    _digest(rt)
                found = sweep(rt)
                if (
                    found.patients
                    or found.sends
                    or found.stale
                    or found.unconfirmed
                    or found.released
                ):
                    log.info("sweep: %s", found)
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("sweep skipped: %s unavailable", type(exc).__name__)
        time.sleep(interval)
