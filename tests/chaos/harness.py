"""The chaos harness: its own PostgreSQL, Redis (persistent) and Twilio mock behind a fault
proxy, the whole stack in twilio mode, 500 enrolled patients, and a load driver that
posts signed webhooks while a fault is injected.

Counts come from the environment (CHAOS_PATIENTS, CHAOS_SENDERS, CHAOS_MESSAGES,
CHAOS_CHECKINS, CHAOS_CRISES, CHAOS_WEB, CHAOS_WORKERS, CHAOS_RASA) so the same tests
run small on a laptop or large on a bigger machine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from escalation.oncall import add_clinician, set_on_call
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from medfollow.stack import Stack
from scheduling.planner import WEEKDAYS
from store.db import dispose_all
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.migrate import upgrade
from store.models import Alert, AlertDelivery, Checkin, Message, Regimen, utcnow
from tests.chaos.checks import PAGING_TIERS, AlertRow, Due, Msg, Report, evaluate
from tests.chaos.services import FaultProxy, PrivatePostgres, PrivateRedis
from tests.support import Prism, free_ports

GREETINGS = ("hi", "thanks", "hello")
CRISIS_TEXT = "i want to die"


def env_count(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass(frozen=True)
class Counts:
    patients: int = field(default_factory=lambda: env_count("CHAOS_PATIENTS", 500))
    # Per fault: this many patients each send `messages` texts, one after the other.
    senders: int = field(default_factory=lambda: env_count("CHAOS_SENDERS", 40))
    messages: int = field(default_factory=lambda: env_count("CHAOS_MESSAGES", 3))
    checkins: int = field(default_factory=lambda: env_count("CHAOS_CHECKINS", 20))
    crises: int = field(default_factory=lambda: env_count("CHAOS_CRISES", 2))
    web: int = field(default_factory=lambda: env_count("CHAOS_WEB", 2))
    workers: int = field(default_factory=lambda: env_count("CHAOS_WORKERS", 3))
    rasa: int = field(default_factory=lambda: env_count("CHAOS_RASA", 2))


@dataclass
class Enrolled:
    id: int
    phone: str
    regimen_id: int


def local_noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about midday now (outside quiet hours)."""
    offset = 12 - now.hour  # local = utc + offset
    offset = (offset + 12) % 24 - 12 if offset > 14 else offset
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


class Chaos:
    """Everything the chaos tests start, and what they do to it."""

    def __init__(self, tmp: Path, counts: Counts, rasa_venv: Path, model: Path) -> None:
        self.tmp, self.counts = tmp, counts
        pg_port, redis_port, prism_port, proxy_port, web, actions, *rasa = free_ports(
            6 + counts.rasa
        )
        self.pg = PrivatePostgres(pg_port)
        self.redis = PrivateRedis(redis_port)
        self.prism = Prism(prism_port)
        self.proxy = FaultProxy(proxy_port, prism_port)
        self.rasa_ports = rasa
        self.env = {
            "MEDFOLLOW_VAR": str(tmp),
            "REDIS_URL": self.redis.url,
            "MEDFOLLOW_PORT": str(web),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{web}",
            "RASA_URL": f"http://127.0.0.1:{rasa[0]}",
            "RASA_URLS": ",".join(f"http://127.0.0.1:{p}" for p in rasa),
            "RASA_TIMEOUT": "10",
            "ACTION_SERVER_PORT": str(actions),
            "SMS_TRANSPORT": "twilio",
            "TWILIO_API_BASE": self.proxy.url,
            "RETRY_INTERVALS": "1,2,3,5,8",
            "SWEEP_AFTER_SECONDS": "5",
            "STALE_CLAIM_SECONDS": "30",
            # Prism (behind the fault proxy) never posts delivery reports: at the default
            # 120 s every crisis reply would become an R20 alert two minutes later, paged
            # or not when a phase's checks run. The chaos checks are about loss under
            # faults; tests/escalation/test_unconfirmed.py covers the rule.
            "DELIVERY_CONFIRM_SECONDS": "86400",
            # A short code's throughput: the chaos tests measure loss, not the 1/s pacing
            # of a long code (which would make each phase take minutes).
            "SEND_RATE_PER_NUMBER": "100",
            "LOG_LEVEL": "INFO",
        }
        self.rasa_venv, self.model = rasa_venv, model
        self.stack: Stack | None = None
        self.rt: Runtime | None = None
        self.patients: list[Enrolled] = []
        self.zone = local_noon_zone(datetime.now(UTC))
        self._supervise = threading.Event()
        self._supervisor: threading.Thread | None = None
        self.restarted: list[str] = []

    # -- start and stop -------------------------------------------------------------

    def start(self) -> None:
        self.pg.init()
        self.pg.start()
        db_url = self.pg.create_database("medfollow")
        self.pg.create_database("medfollow_rasa")  # Rasa's tracker store, made once here
        self.env["DATABASE_URL"] = db_url
        upgrade(db_url)
        self.redis.start()
        self.prism.start()
        self.proxy.start()
        settings = Settings.from_env(self.env)
        self.rt = Runtime(settings)
        self.stack = Stack(
            settings,
            self.env,
            self.rasa_venv,
            self.model,
            workers=self.counts.workers,
            web_workers=self.counts.web,
        )
        self.stack.start()
        self._supervise.set()
        self._supervisor = threading.Thread(target=self._supervise_loop, daemon=True)
        self._supervisor.start()
        self.wait_ready(300)

    def wait_ready(self, timeout: float) -> None:
        """Bounded wait for /healthz to say ready, while the supervisor restarts anything
        that exits (a slow start on a busy machine can fail once: Sanic's 30 s ack)."""
        assert self.stack is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stack.health().get("status") == "ready":
                return
            time.sleep(1)
        raise AssertionError(
            f"stack not ready after {timeout:.0f} s: {self.stack.health()} "
            f"(restarted: {self.restarted}; logs in {self.tmp}/logs)"
        )

    def _supervise_loop(self) -> None:
        """What `medfollow run` does: a process that exits is started again."""
        while self._supervise.is_set():
            assert self.stack is not None
            self.restarted += self.stack.restart_dead()
            time.sleep(0.5)

    def stop(self) -> None:
        self._supervise.clear()
        if self._supervisor is not None:
            self._supervisor.join(5)
        steps = [self.proxy.stop, self.prism.stop, dispose_all, self.redis.destroy]
        if self.stack is not None:
            steps.insert(0, self.stack.stop)
        for step in [*steps, self.pg.destroy]:
            try:  # every step runs, so no private server outlives the tests
                step()
            except Exception as exc:  # noqa: BLE001 - reported, then the next step
                print(f"chaos teardown: {getattr(step, '__qualname__', step)}: {exc!r}")

    @property
    def runtime(self) -> Runtime:
        assert self.rt is not None, "the harness is not started"
        return self.rt

    # -- patients -------------------------------------------------------------------

    def enrol_all(self) -> None:
        """Enrol every patient in one transaction. Their doses fall three days out (so no
        check-in is due) until a phase makes some of them due now."""
        rt = self.runtime
        s = rt.settings
        off_day = WEEKDAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
        with rt.sessions.begin() as session:
            clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
            for n in range(self.counts.patients):
                patient = enrol(
                    session,
                    clinic,
                    phone=f"+1555{7000000 + n:07d}",
                    name=f"Chaos Patient{n}",
                    tz=self.zone,
                    meds=[MedSpec("sertraline", "50mg", ("09:00",))],
                    consent="v1",
                )
                patient.regimen[0].days = off_day
                session.flush()
                self.patients.append(Enrolled(patient.id, patient.phone, patient.regimen[0].id))
            for n, role in enumerate(("primary", "backup")):
                add_clinician(session, f"On Call {role}", f"{role}@chaos.test", f"+1555800000{n}")
            set_on_call(session, "primary@chaos.test", "backup@chaos.test")

    def make_due(self, patients: list[Enrolled]) -> None:
        """Give these patients a dose a minute ago, daily: the scheduler plans and sends
        their check-ins within its planning interval."""
        rt = self.runtime
        with rt.sessions.begin() as session:
            for patient in patients:
                local = datetime.now(UTC).astimezone(ZoneInfo(self.zone)) - timedelta(minutes=1)
                session.execute(
                    update(Regimen)
                    .where(Regimen.id == patient.regimen_id)
                    .values(times=local.strftime("%H:%M"), days="daily")
                )

    def due_checkins(self, patient_ids: list[int]) -> int:
        with self.runtime.sessions() as session:
            return len(
                session.scalars(select(Checkin.id).where(Checkin.patient_id.in_(patient_ids))).all()
            )

    # -- the webhook ------------------------------------------------------------------

    def post(self, phone: str, body: str, deadline: float) -> None:
        """Post one inbound text as Twilio would; resend (same MessageSid) until a 200,
        as Twilio's retries and fallback would, until the deadline."""
        s = self.runtime.settings
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": s.twilio_account_sid,
            "From": phone,
            "To": s.twilio_from_number,
            "Body": body,
            "NumMedia": "0",
        }
        url = f"{s.public_base_url}/twilio/sms"
        signature = RequestValidator(s.twilio_auth_token.reveal()).compute_signature(url, params)
        last = "no attempt"
        while time.monotonic() < deadline:
            try:
                resp = requests.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
                )
                if resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.5)
        raise AssertionError(f"the webhook did not accept a text before the deadline ({last})")

    # -- faults -----------------------------------------------------------------------

    def procs(self, prefix: str) -> list[str]:
        assert self.stack is not None
        return [p.name for p in self.stack.procs if p.name.startswith(prefix)]

    def kill9(self, name: str) -> None:
        """SIGKILL a stack process's whole group; the supervisor starts it again."""
        assert self.stack is not None
        popen = self.stack.proc(name).popen
        assert popen is not None and popen.poll() is None, f"{name} is not running"
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(10)

    def twilio_down(self, seconds: float) -> None:
        """The Twilio mock answers 503 for the first half, then holds every send past the
        client's timeout (never forwarding it) for the second half."""
        try:
            self.proxy.set_mode("5xx")
            time.sleep(seconds / 2)
            self.proxy.set_mode("timeout")
            time.sleep(seconds / 2)
        finally:
            self.proxy.set_mode("pass")


@dataclass
class Phase:
    """One fault under load: who texts, who has a check-in due, who sends a crisis."""

    name: str
    senders: list[Enrolled]
    due: list[Enrolled]
    crisis: list[Enrolled]


def drive(chaos: Chaos, phase: Phase, fault: Callable[[], None], fault_after: float) -> None:
    """Post the phase's texts (each patient's in order, patients in parallel) while the
    fault runs in its own thread `fault_after` seconds in."""
    counts = chaos.counts
    chaos.make_due(phase.due)
    deadline = time.monotonic() + 180
    errors: list[BaseException] = []

    def fault_thread() -> None:
        try:
            time.sleep(fault_after)
            fault()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def patient_texts(patient: Enrolled) -> None:
        for n in range(counts.messages):
            chaos.post(patient.phone, GREETINGS[n % len(GREETINGS)], deadline)

    injector = threading.Thread(target=fault_thread)
    injector.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(patient_texts, p) for p in phase.senders]
        jobs += [pool.submit(chaos.post, p.phone, CRISIS_TEXT, deadline) for p in phase.crisis]
        for job in jobs:
            job.result()
    injector.join(240)
    assert not injector.is_alive(), f"{phase.name}: the fault did not finish in 240 s"
    if errors:
        raise errors[0]


def collect(chaos: Chaos, due_patients: list[int]) -> Report:
    """Read every message, the due patients' check-ins and every alert; check them."""
    with chaos.runtime.sessions() as session:
        msgs = [
            Msg(
                m.id,
                m.patient_id,
                m.direction,
                m.kind,
                m.status,
                m.body,
                m.in_reply_to_id,
                m.provider_sid,
                m.processed_at,
                m.error_message,
            )
            for m in session.scalars(select(Message).order_by(Message.id))
        ]
        due = [
            Due(c.id, c.patient_id, c.status)
            for c in session.scalars(
                select(Checkin).where(
                    Checkin.patient_id.in_(due_patients), Checkin.due_at <= utcnow()
                )
            )
        ]
        delivered = set(
            session.scalars(select(AlertDelivery.alert_id).where(AlertDelivery.status == "sent"))
        )
        alerts = [
            AlertRow(a.id, a.code, a.tier, a.kind, a.summary, a.id in delivered)
            for a in session.scalars(select(Alert))
        ]
    return evaluate(msgs, due, alerts, [f.sid for f in chaos.proxy.forwarded()])


def outstanding(chaos: Chaos, phase: Phase) -> str:
    """What is still in flight ('' once the system is at rest)."""
    with chaos.runtime.sessions() as session:
        received = session.scalar(
            select(func.count()).where(Message.direction == "inbound", Message.status == "received")
        )
        sending = session.scalar(
            select(func.count()).where(
                Message.direction == "outbound", Message.status.in_(("pending", "claimed"))
            )
        )
        ids = [p.id for p in phase.due]
        now = utcnow()
        planned = session.scalar(
            select(func.count()).where(Checkin.patient_id.in_(ids), Checkin.due_at <= now)
        )
        starting = session.scalar(
            select(func.count()).where(
                Checkin.patient_id.in_(ids),
                Checkin.due_at <= now,
                Checkin.status.in_(("due", "queued")),
            )
        )
        # Not paged yet: nobody claimed it, or a level was claimed and no attempt stored
        # (the sweep pages such a level again after a minute).
        unpaged = session.scalar(
            select(func.count()).where(
                Alert.tier.in_(PAGING_TIERS),
                Alert.state == "open",
                ~select(AlertDelivery.id).where(AlertDelivery.alert_id == Alert.id).exists(),
            )
        )
        crisis_ids = [p.id for p in phase.crisis]
        crisis_alerts = session.scalar(
            select(func.count(func.distinct(Alert.patient_id))).where(
                Alert.patient_id.in_(crisis_ids)
            )
        )
    parts = []
    if received:
        parts.append(f"{received} inbound not yet processed")
    if sending:
        parts.append(f"{sending} outbound pending or claimed")
    if (planned or 0) < len(ids):
        parts.append(f"{len(ids) - (planned or 0)} due check-in(s) not yet planned")
    if starting:
        parts.append(f"{starting} check-in(s) due or queued")
    if unpaged:
        parts.append(f"{unpaged} alert(s) not yet paged")
    if (crisis_alerts or 0) < len(crisis_ids):
        parts.append(f"{len(crisis_ids) - (crisis_alerts or 0)} crisis alert(s) not raised")
    return "; ".join(parts)


def settle(chaos: Chaos, phase: Phase, timeout: float) -> float:
    """Wait (bounded) until nothing is in flight; return how long it took."""
    started = time.monotonic()
    last = "not checked"
    while time.monotonic() - started < timeout:
        last = outstanding(chaos, phase)
        if not last:
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(
        f"{phase.name}: not at rest after {timeout:.0f} s: {last}; {stuck(chaos)} "
        f"(logs in {chaos.tmp}/logs)"
    )


def stuck(chaos: Chaos) -> str:
    """A sample of what is still in flight, for the failure message."""
    with chaos.runtime.sessions() as session:
        rows = session.scalars(
            select(Message)
            .where(Message.status.in_(("received", "pending", "claimed")))
            .order_by(Message.id)
            .limit(10)
        ).all()
        return "stuck: " + ", ".join(
            f"#{m.id} {m.direction} {m.kind} {m.status} attempts={m.attempts} "
            f"error={m.error_message!r} updated={m.updated_at:%H:%M:%S}"
            for m in rows
        )
