"""The heartbeat: staff are alerted when due check-ins stop going out.

Two things can stop them, and each is watched from outside itself:

* **The scheduler is down** (crashed, stuck, no leader, its database or Redis calls
  failing): the leading scheduler writes the `heartbeat` row "scheduler" after every
  successful round. A watchdog thread in every RQ worker process (`medfollow worker`)
  looks every WATCH_EVERY seconds; a beat older than SCHEDULER_STALE_SECONDS raises a
  system alert.
* **The workers are down, or Rasa is** (the scheduler started check-ins but nobody
  sends them): a check-in or mood questionnaire started (`queued`) more than
  CHECKIN_SEND_DEADLINE_SECONDS ago and still not asked. The scheduler looks every
  WATCH_EVERY seconds (and so do the workers' watchdogs).

Either raises one urgent alert with no patient (kind `system:scheduler` or
`system:sending`) per outage: the row's `alerted_at` is set by compare-and-set, so several
watchdogs alert once, and a new outage after a recovery alerts again. The alert is paged
like any other (the scheduler's sweep, or a page job the worker's watchdog queues when the
scheduler is the one that is down).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from escalation.alerts import raise_alert
from escalation.policy import load_policy
from medfollow.settings import Settings
from scheduling.dispatch import dialect_insert
from store.models import Checkin, Heartbeat, MoodCheck, utcnow

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"
SENDING = "sending"
WATCH_EVERY = 30.0
SUMMARIES = {
    SCHEDULER: (
        "The scheduler has stopped: no scheduled check-in or questionnaire is going out. "
        "Restart it (medfollow scheduler) and check its log."
    ),
    SENDING: (
        "Check-ins were started but not sent: the workers or Rasa are down. "
        "Check the worker and rasa logs and /healthz."
    ),
}


def beat(session: Session, name: str, at: datetime | None = None) -> None:
    """Record that `name` was seen working at `at` (insert or update)."""
    when = at or utcnow()
    insert = dialect_insert(session)
    session.execute(
        insert(Heartbeat)
        .values(name=name, beat_at=when)
        .on_conflict_do_update(index_elements=["name"], set_={"beat_at": when})
    )


def last_beat(session: Session, name: str) -> datetime | None:
    return session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == name))


def oldest_unsent(session: Session) -> datetime | None:
    """When the oldest check-in or mood questionnaire still waiting to be asked was
    started (asking marks either one sent)."""
    found = [
        session.scalar(select(func.min(model.queued_at)).where(model.status == "queued"))
        for model in (Checkin, MoodCheck)
    ]
    return min((at for at in found if at is not None), default=None)


def _claim_alert(session: Session, name: str, at: datetime) -> bool:
    """Once per outage: only the first watchdog after the last good beat alerts."""
    result = session.execute(
        update(Heartbeat)
        .where(Heartbeat.name == name)
        .where(or_(Heartbeat.alerted_at.is_(None), Heartbeat.alerted_at < Heartbeat.beat_at))
        .values(alerted_at=at)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Raised:
    name: str
    alert_id: int
    page: bool


def _alert(session: Session, settings: Settings, name: str, at: datetime) -> Raised | None:
    if not _claim_alert(session, name, at):
        return None
    raised = raise_alert(
        session,
        load_policy(settings.escalation_policy),
        patient_id=None,
        tier="urgent",
        kind=f"system:{name}",
        rules=["heartbeat"],
        summary=SUMMARIES[name],
    )
    log.error("heartbeat: %s stopped; alert %s raised", name, raised.code)
    return Raised(name, raised.alert_id, raised.page)


def watch(
    sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None
) -> list[Raised]:
    """Check both heartbeats; raise (once per outage) an alert for each that stopped."""
    at = now or utcnow()
    raised: list[Raised] = []
    with sessions.begin() as session:
        scheduled = last_beat(session, SCHEDULER)
        stale = timedelta(seconds=settings.scheduler_stale_seconds)
        # No row yet: the scheduler has never run against this database; nothing stopped.
        if scheduled is not None and scheduled < at - stale:
            found = _alert(session, settings, SCHEDULER, at)
            raised += [found] if found else []
        oldest = oldest_unsent(session)
        deadline = timedelta(seconds=settings.checkin_send_deadline_seconds)
        if oldest is None or oldest >= at - deadline:
            beat(session, SENDING, at)
        else:
            if last_beat(session, SENDING) is None:
                beat(session, SENDING, oldest)
            found = _alert(session, settings, SENDING, at)
            raised += [found] if found else []
    return raised


class Watchdog:
    """A daemon thread that runs `watch` every WATCH_EVERY seconds (in the workers).

    It uses an engine of its own, never the process's shared one, so a worker whose jobs
    hold every pooled connection (or wait on them) still watches.
    Pages for what it raised go to the urgent queue as jobs (the scheduler's sweep would
    page them too, but the scheduler may be what is down).
    """

    def __init__(self, settings: Settings, every: float = WATCH_EVERY) -> None:
        self.settings, self.every = settings, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat-watchdog", daemon=True)
        self._engine: Engine | None = None

    def start(self) -> None:
        # Import and connect here, in the caller's thread: RQ forks a work horse per job,
        # and a child forked while this thread holds a module's import lock (psycopg on
        # the first connect) deadlocks on that import (found by tests/chaos).
        from escalation.paging import page_alert  # noqa: F401
        from store.db import make_engine

        self._engine = make_engine(self.settings.database_url)
        try:
            with self._engine.connect():
                pass
        except SQLAlchemyError:
            log.warning("heartbeat watchdog: database not reachable yet")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def _run(self) -> None:
        from escalation.paging import page_alert
        from medfollow.runtime import URGENT_QUEUE, Runtime

        engine = self._engine
        assert engine is not None, "start() builds the engine"
        sessions = sessionmaker(engine, expire_on_commit=False)
        queue = Runtime(self.settings).queue(URGENT_QUEUE)
        try:
            while not self._stop.wait(self.every):
                try:
                    for found in watch(sessions, self.settings):
                        if found.page:
                            queue.enqueue(page_alert, found.alert_id)
                except Exception:  # noqa: BLE001 - a watchdog logs and keeps watching
                    log.exception("heartbeat watchdog: check failed")
        finally:
            engine.dispose()


def safe_watch(sessions: sessionmaker[Session], settings: Settings) -> list[Raised]:
    """`watch` for the scheduler loop: a database error is logged, not raised."""
    try:
        return watch(sessions, settings)
    except SQLAlchemyError as exc:
        log.warning("heartbeat check skipped: %s", type(exc).__name__)
        return []
