"""Webhook acknowledgement latency: how fast POST /twilio/sms answers Twilio.

Run from the repository root:

    .venv/bin/python -m bench.webhook_ack [--rates 50,200] [--duration 30] \
        [--find-max 100,150,200,250,300 --hold 60] [--out docs/benchmarks.md]

What it does, all on 127.0.0.1:

1. Creates a fresh PostgreSQL database (postgresql://postgres@127.0.0.1:5432, trust auth;
   MEDFOLLOW_TEST_PG overrides it as in the tests, loopback only),
   runs the migrations and enrols --patients patients (+1555555xxxx numbers).
2. Starts the real app under gunicorn (2 workers x 4 threads) with SMS_TRANSPORT=simulator
   and REDIS_URL on Redis database 12 (flushed before and after). No RQ workers run: this
   measures the acknowledgement only (verify, store, keyword and safety checks, enqueue);
   the queue just fills and is flushed afterwards.
3. For each rate: a 2 s warm-up at that rate, then an open-loop constant-rate run of
   rate x duration requests. Each request is a pre-computed, correctly signed form body
   with a fresh MessageSid, From cycling over the enrolled patients and an ordinary body.
   Requests are released on schedule whatever the latency, and latency is measured from
   the *scheduled* send time, so a slow server cannot slow the generator down and hide
   its own queueing (no coordinated omission). At most --connections requests are in
   flight (keep-alive connections, one per sender thread); a request that finds them all
   busy waits in the generator, and that wait counts in its latency.
   With --find-max, a step search follows: each step rate (ascending) is held for --hold
   seconds (after its warm-up); a step is held when p99 < --p99-limit ms (100), every
   request got a 200 and the answers kept pace (achieved >= 95 % of the rate). The search
   stops at the first step not held; the highest step held is reported.
4. Prints a markdown section and writes it to --out between the markers
   ``<!-- bench:webhook_ack -->`` and ``<!-- /bench:webhook_ack -->``, keeping the rest.
   Non-200 responses and transport errors are counted and reported, never dropped.
5. Stops gunicorn, drops the database and flushes Redis database 12, on success, error
   or Ctrl-C alike.

The load generator runs on the same machine as the server and competes with it for CPU,
so the figures are an upper bound on the latency the server alone would show.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from redis import Redis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bench.harness import (
    HOST,
    clean_up,
    clean_up_step,
    create_database,
    free_port,
    publish,
    run_main,
)
from medfollow.settings import Settings
from store.db import dispose_all, session_factory
from store.enrolment import enrol, ensure_clinic, parse_med
from store.migrate import upgrade
from store.models import Message

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/12"
PATH = "/twilio/sms"
BEGIN = "<!-- bench:webhook_ack -->"
END = "<!-- /bench:webhook_ack -->"
WORKERS = 2
THREADS = 4
WARMUP_SECONDS = 2.0
REQUEST_TIMEOUT = 10.0  # per socket operation
DRAIN_SECONDS = 30.0  # after the last scheduled send, wait at most this long for answers
IDLE_RECONNECT = 1.5  # gunicorn closes idle keep-alive connections after 2 s
READY_SECONDS = 60.0
HELD_PACE = 0.95  # a step is held only if answers kept up with at least this share of the rate
OTHER_CPU_LIMIT = 0.25  # cores used by other processes beyond which a run is flagged
BODIES = ("took it", "yes", "hi", "took my pills", "feeling ok today", "all good thanks")
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

Payload = tuple[bytes, str]  # form body, X-Twilio-Signature


def log(text: str) -> None:
    print(f"[webhook_ack] {text}", file=sys.stderr, flush=True)


# --- setup: database, patients, server -------------------------------------------------


def patient_phone(i: int) -> str:
    """+1 555 555 2000 onwards: clear of the demo clinic and demo patient numbers."""
    return f"+1555555{2000 + i:04d}"


def seed(url: str, settings: Settings, count: int) -> list[str]:
    """Migrate and enrol `count` patients; return their phone numbers."""
    upgrade(url)
    med = parse_med("sertraline:50mg@09:00")
    phones = [patient_phone(i) for i in range(count)]
    with session_factory(url).begin() as session:
        clinic = ensure_clinic(
            session, settings.clinic_name, settings.clinic_phone, settings.clinic_hours
        )
        for i, phone in enumerate(phones):
            enrol(
                session,
                clinic,
                phone=phone,
                name=f"Bench Patient {i}",
                tz="America/New_York",
                meds=[med],
                consent="v1",
            )
    return phones


def count_inbound(url: str) -> int:
    with session_factory(url)() as session:
        n = session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "inbound")
        )
    return int(n or 0)


def server_env(db_url: str, port: int, redis_url: str = REDIS_URL) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
            "MEDFOLLOW_PORT": str(port),
            "SMS_TRANSPORT": "simulator",
            "LOG_LEVEL": "WARNING",
            "SIMULATOR_ENABLED": "false",
        }
    )
    return env


def start_gunicorn(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    cmd = [
        str(gunicorn),
        "webhook.wsgi:app",
        "-b",
        f"{HOST}:{port}",
        "-w",
        str(WORKERS),
        "--threads",
        str(THREADS),
    ]
    with log_path.open("wb") as out:
        # A session of its own: Ctrl-C reaches only this process, which then stops gunicorn.
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(port: int, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until the app answers HTTP (GET on the POST-only webhook: 405 means it is up)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail(log_path)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", PATH)
            resp = conn.getresponse()
            resp.read()
            if resp.status in (200, 405):
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not answering on port {port}:\n{tail(log_path)}")


def stop_gunicorn(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- payloads --------------------------------------------------------------------------


class PayloadMaker:
    """Signed form bodies, as Twilio would send them; From cycles over the patients."""

    def __init__(
        self, settings: Settings, phones: Sequence[str], bodies: Sequence[str] = BODIES
    ) -> None:
        self.url = settings.public_base_url + PATH
        self.validator = RequestValidator(settings.twilio_auth_token.reveal())
        self.to = settings.twilio_from_number
        self.phones = phones
        self.bodies = bodies
        self.n = 0

    def make(self, count: int) -> list[Payload]:
        out: list[Payload] = []
        for _ in range(count):
            params = {
                "MessageSid": "SM" + uuid.uuid4().hex,
                "AccountSid": "AC" + "0" * 32,
                "From": self.phones[self.n % len(self.phones)],
                "To": self.to,
                "Body": self.bodies[self.n % len(self.bodies)],
                "NumMedia": "0",
            }
            signature = str(self.validator.compute_signature(self.url, params))
            out.append((urlencode(params).encode(), signature))
            self.n += 1
        return out


# --- the open-loop load generator -----------------------------------------------------


@dataclass
class Phase:
    """One run at one rate: what was scheduled, sent and answered."""

    n: int
    rate: float
    start: float = 0.0
    latency: list[float] = field(default_factory=list)  # seconds, answered requests only
    offsets: list[float] = field(default_factory=list)  # their scheduled time - start
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    retried: int = 0
    max_lag: float = 0.0
    first_done: float = math.inf
    last_done: float = 0.0
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: threading.Event = field(default_factory=threading.Event)

    def mark_sent(self, lag: float) -> None:
        with self.lock:
            if not self.closed:
                self.sent += 1
                self.max_lag = max(self.max_lag, lag)

    def record(self, status: int, error: str, due: float, done_at: float) -> None:
        with self.lock:
            if self.closed:
                return
            if error:
                self.errors[error] = self.errors.get(error, 0) + 1
            else:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.latency.append(done_at - due)
                self.offsets.append(due - self.start)
                self.first_done = min(self.first_done, done_at)
                self.last_done = max(self.last_done, done_at)
            if len(self.latency) + sum(self.errors.values()) == self.n:
                self.finished.set()

    def close(self, unsent: int) -> None:
        """Stop counting; whatever is still unanswered is reported as an error."""
        with self.lock:
            self.closed = True
            if unsent:
                self.errors["never sent"] = self.errors.get("never sent", 0) + unsent
            missing = self.n - len(self.latency) - sum(self.errors.values())
            if missing > 0:
                self.errors["no answer in time"] = missing


Job = tuple[Phase, float, Payload]


class LoadGenerator:
    """Sender threads, each with one keep-alive connection, fed by an on-schedule clock."""

    def __init__(self, port: int, connections: int) -> None:
        self.port = port
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._sender, name=f"sender-{i}", daemon=True)
            for i in range(connections)
        ]
        for t in self.threads:
            t.start()

    def run(self, payloads: Sequence[Payload], rate: float) -> Phase:
        """Release payloads[i] at start + i / rate; wait for the answers, bounded."""
        phase = Phase(n=len(payloads), rate=rate)
        phase.start = time.perf_counter() + 0.05
        for i, payload in enumerate(payloads):
            due = phase.start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.jobs.put((phase, due, payload))
        phase.finished.wait(timeout=DRAIN_SECONDS)
        phase.close(unsent=self._discard())
        return phase

    def _discard(self) -> int:
        dropped = 0
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return dropped
            if job is not None:
                dropped += 1

    def close(self) -> None:
        self._discard()
        for _ in self.threads:
            self.jobs.put(None)
        deadline = time.monotonic() + REQUEST_TIMEOUT + 2
        for t in self.threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)

    def _sender(self) -> None:
        conn: http.client.HTTPConnection | None = None
        last_used = 0.0
        while True:
            job = self.jobs.get()
            if job is None:
                break
            phase, due, (body, signature) = job
            started = time.perf_counter()
            phase.mark_sent(started - due)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            status, error = 0, ""
            for attempt in (0, 1):
                fresh = conn is None or time.perf_counter() - last_used > IDLE_RECONNECT
                if conn is not None and fresh:
                    conn.close()
                c = self._connect() if conn is None or fresh else conn
                conn = c
                try:
                    c.request("POST", PATH, body=body, headers=headers)
                    resp = c.getresponse()
                    resp.read()
                    status = resp.status
                    if resp.will_close:
                        c.close()
                        conn = None
                    break
                except STALE as exc:
                    c.close()
                    conn = None
                    if attempt == 0 and not fresh:
                        # The server closed an idle keep-alive connection as we reused it;
                        # any client retries that. Counted, and the retry's time is included.
                        with phase.lock:
                            phase.retried += 1
                        continue
                    error = type(exc).__name__
                    break
                except (OSError, http.client.HTTPException) as exc:
                    c.close()
                    conn = None
                    error = type(exc).__name__
                    break
            done = time.perf_counter()
            last_used = done
            phase.record(status, error, due, done)
        if conn is not None:
            conn.close()


# --- results ---------------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not ordered:
        return math.nan
    k = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[k]


@dataclass(frozen=True)
class Summary:
    rate: float
    scheduled: int
    sent: int
    answered: int
    achieved: float
    p50: float
    p90: float
    p99: float
    max: float
    non_200: int
    statuses: dict[int, int]
    errors: dict[str, int]
    retried: int
    max_lag_ms: float
    generator_cpu: float  # generator CPU seconds / wall seconds (1.0 = one core)
    server_cpu: float  # gunicorn (master and workers), same unit
    postgres_cpu: float  # the bench database's PostgreSQL backends, same unit
    machine_cpu: float  # the whole machine, same unit (at most nproc)
    windows: list[tuple[float, float, float]]  # (start s, p50 ms, p99 ms) by scheduled time

    @property
    def other_cpu(self) -> float:
        """Cores used by everything else: Redis, the kernel, and any other work running."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.postgres_cpu - self.generator_cpu)

    @property
    def disturbed(self) -> bool:
        return self.other_cpu > OTHER_CPU_LIMIT


def by_window(phase: Phase, width: float) -> list[tuple[float, float, float]]:
    """p50 and p99 of the requests scheduled in each `width`-second slice of the run:
    flat means the server keeps up; rising means a backlog is building."""
    buckets: dict[int, list[float]] = {}
    for offset, latency in zip(phase.offsets, phase.latency, strict=True):
        buckets.setdefault(int(offset // width), []).append(latency * 1000)
    out = []
    for k in sorted(buckets):
        ordered = sorted(buckets[k])
        out.append((k * width, percentile(ordered, 50), percentile(ordered, 99)))
    return out


@dataclass(frozen=True)
class Usage:
    """CPU counters around a run, to tell a slow server from a busy machine."""

    wall: float  # perf_counter seconds
    generator: float  # CPU seconds of this process
    server: float  # CPU seconds of gunicorn (master and workers)
    postgres: float  # CPU seconds of the PostgreSQL backends serving the bench database
    busy: float  # CPU seconds of the whole machine, all cores

    @classmethod
    def now(cls, server_pid: int, db_name: str) -> Usage:
        server, postgres = process_cpu(server_pid, db_name)
        return cls(time.perf_counter(), time.process_time(), server, postgres, machine_busy())


def machine_busy() -> float:
    """Busy CPU seconds over all cores since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu(server_pid: int, db_name: str) -> tuple[float, float]:
    """CPU seconds (user + system) of gunicorn (the master and its children) and of the
    PostgreSQL backends connected to `db_name`, from /proc."""
    server = postgres = 0
    marker = f" {db_name} ".encode()
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            rest = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(rest[11]) + int(rest[12])
            if proc_dir.name == str(server_pid) or rest[1] == str(server_pid):
                server += ticks
            elif marker in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ") + b" ":
                postgres += ticks
        except (OSError, IndexError, ValueError):
            continue
    tck = os.sysconf("SC_CLK_TCK")
    return server / tck, postgres / tck


def summarise(phase: Phase, before: Usage, after: Usage, width: float) -> Summary:
    ordered = sorted(x * 1000 for x in phase.latency)
    answered = len(ordered)
    # Answers per second between the first answer and the last: the target rate exactly
    # when the server keeps up; less when answers fall behind the schedule.
    spread = phase.last_done - phase.first_done
    elapsed = max(1e-9, after.wall - before.wall)
    return Summary(
        rate=phase.rate,
        scheduled=phase.n,
        sent=phase.sent,
        answered=answered,
        achieved=(answered - 1) / spread if answered > 1 and spread > 0 else 0.0,
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        max=ordered[-1] if ordered else math.nan,
        non_200=sum(c for s, c in phase.statuses.items() if s != 200),
        statuses=dict(sorted(phase.statuses.items())),
        errors=dict(sorted(phase.errors.items())),
        retried=phase.retried,
        max_lag_ms=phase.max_lag * 1000,
        generator_cpu=(after.generator - before.generator) / elapsed,
        server_cpu=(after.server - before.server) / elapsed,
        postgres_cpu=(after.postgres - before.postgres) / elapsed,
        machine_cpu=(after.busy - before.busy) / elapsed,
        windows=by_window(phase, width),
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def command_line() -> str:
    python = os.path.relpath(sys.executable) if sys.executable else "python"
    return shlex.join([python, "-m", "bench.webhook_ack", *sys.argv[1:]])


def window_width(duration: float) -> float:
    """Six slices of the run, at least one second each."""
    return max(1.0, duration / 6)


def fmt_rate(rate: float) -> str:
    return f"{rate:g}"


def held(r: Summary, p99_limit: float) -> bool:
    """A step is held: p99 under the limit, every request answered 200, answers on pace."""
    return (
        r.p99 < p99_limit
        and r.non_200 == 0
        and not r.errors
        and r.answered == r.scheduled
        and r.achieved >= HELD_PACE * r.rate
    )


def render_search(steps: Sequence[Summary], hold: float, p99_limit: float) -> list[str]:
    best = max((r.rate for r in steps if held(r, p99_limit)), default=None)
    lines = [
        "",
        f"**Highest rate held for {hold:g} s with p99 under {p99_limit:g} ms** (step search, "
        "ascending, stopping at the first step not held; a step is held when p99 is under "
        f"the limit, every request got a 200 and answers kept at least {HELD_PACE:.0%} of the "
        "rate): "
        + (f"**{fmt_rate(best)} requests/s**" if best is not None else "**none of the steps**"),
        "",
        "| step rps | requests | achieved rps | p50 ms | p99 ms | max ms | non-200 | errors "
        "| other CPU (cores) | held |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in steps:
        lines.append(
            f"| {fmt_rate(r.rate)} | {r.scheduled} | {r.achieved:.1f} | {r.p50:.1f} "
            f"| {r.p99:.1f} | {r.max:.1f} | {r.non_200} | {sum(r.errors.values())} "
            f"| {r.other_cpu:.2f}{' (disturbed)' if r.disturbed else ''} "
            f"| {'yes' if held(r, p99_limit) else 'no'} |"
        )
    if best is None:
        bound = "The true maximum lies below the first step."
    elif held(steps[-1], p99_limit):
        bound = "Every step was held: the true maximum lies above the last step."
    else:
        bound = "The true maximum lies between the highest step held and the next one."
    lines += ["", bound]
    return lines


def render(
    results: Sequence[Summary],
    *,
    duration: float,
    patients: int,
    connections: int,
    wall: float,
    stored: int,
    answered_200: int,
    started: datetime,
    load: tuple[float, float, float],
    steps: Sequence[Summary] = (),
    hold: float = 60.0,
    p99_limit: float = 100.0,
) -> str:
    lines = [
        BEGIN,
        "## Webhook acknowledgement latency (`bench.webhook_ack`)",
        "",
        "Time for `POST /twilio/sms` to answer: verify the Twilio signature, store the message,",
        "run the keyword and safety checks, enqueue the job, return empty TwiML. Open-loop",
        "constant-rate load (latency measured from each request's scheduled send time, so",
        "queueing is not hidden), after a 2 s warm-up at the same rate.",
        "",
        f"- Machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)",
        f"- Command: `{command_line()}` (wall time {wall:.0f} s)",
        f"- Server: gunicorn `webhook.wsgi:app -w {WORKERS} --threads {THREADS}` on 127.0.0.1,",
        f"  PostgreSQL (local), Redis DB 12, {patients} enrolled patients, no RQ workers running",
        f"- Load: {duration:g} s per rate, signed form bodies with fresh MessageSids, up to",
        f"  {connections} keep-alive connections from Python `http.client` sender threads",
        "- **The load generator runs on the same machine and competes with the server for",
        f"  its {os.cpu_count()} cores, so these figures are an upper bound** on the server's",
        "  own latency.",
        "",
        "| target rps | requests sent | achieved rps | p50 ms | p90 ms | p99 ms | max ms "
        "| non-200 | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {fmt_rate(r.rate)} | {r.sent} | {r.achieved:.1f} | {r.p50:.1f} | {r.p90:.1f} "
            f"| {r.p99:.1f} | {r.max:.1f} | {r.non_200} | {sum(r.errors.values())} |"
        )
    lines.append("")
    if len(results) >= 2:
        lo, hi = results[0], results[-1]
        ratio = hi.p99 / lo.p99 if lo.p99 > 0 else math.nan
        lines.append(
            f"p99 ratio ({fmt_rate(hi.rate)} rps / {fmt_rate(lo.rate)} rps): "
            f"{hi.p99:.1f} / {lo.p99:.1f} = **{ratio:.2f}x**"
        )
        lines.append("")
    disturbed = [fmt_rate(r.rate) for r in results if r.disturbed]
    if disturbed:
        lines += [
            f"**Warning:** other processes used more than {OTHER_CPU_LIMIT:g} of a core during "
            f"the {', '.join(disturbed)} rps run(s) (see below): those figures include their "
            "interference. Rerun on a quiet machine.",
            "",
        ]
    lines.append("Details per rate:")
    lines.append("")
    for r in results:
        statuses = ", ".join(f"{s}: {c}" for s, c in r.statuses.items()) or "none"
        errors = ", ".join(f"{e}: {c}" for e, c in r.errors.items()) or "none"
        trend = ", ".join(f"{t:g}s {p50:.0f}/{p99:.0f}" for t, p50, p99 in r.windows)
        lines += [
            f"- **{fmt_rate(r.rate)} rps**: scheduled {r.scheduled}, answered {r.answered} "
            f"(status {statuses}); errors: {errors}; stale keep-alive retries {r.retried}; "
            f"max send lag {r.max_lag_ms:.1f} ms",
            f"  - CPU during the run, in cores: machine {r.machine_cpu:.2f} of {os.cpu_count()}; "
            f"gunicorn {r.server_cpu:.2f}; PostgreSQL backends {r.postgres_cpu:.2f}; "
            f"load generator {r.generator_cpu:.2f}; everything else {r.other_cpu:.2f}"
            + (" (**disturbed by other work on the machine**)" if r.disturbed else ""),
            f"  - p50/p99 ms by scheduled time: {trend}",
        ]
    lines += [
        "",
        "Achieved rps = (answers - 1) / (time from first to last answer). Percentiles are over",
        "all answered requests (any status); errors (no HTTP answer) are counted apart. Send",
        "lag = how late the generator released a request against its schedule (it counts in",
        "the latency). The p50/p99 trend splits each run by scheduled time: flat means the",
        "server keeps up, rising means a backlog is building.",
        "",
        f"Check: {stored} inbound messages stored in the database for {answered_200} answers",
        "with status 200 (warm-ups included).",
    ]
    if steps:
        lines += render_search(steps, hold, p99_limit)
    lines.append(END)
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.webhook_ack", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--rates", default="50,200", help="comma-separated requests/second")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per rate")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    p.add_argument("--patients", type=int, default=200)
    p.add_argument("--connections", type=int, default=64, help="max requests in flight")
    p.add_argument(
        "--find-max", default="", help="step rates (requests/s, ascending) for the max search"
    )
    p.add_argument("--redis-url", default=REDIS_URL, help="flushed before and after")
    p.add_argument("--hold", type=float, default=60.0, help="seconds each search step is held")
    p.add_argument("--p99-limit", type=float, default=100.0, help="ms; a step's p99 must be under")
    args = p.parse_args(argv)
    try:
        args.steps = sorted(float(x) for x in args.find_max.split(",") if x.strip())
    except ValueError:
        p.error(f"--find-max must be comma-separated numbers, got {args.find_max!r}")
    if args.steps and (min(args.steps) <= 0 or args.hold <= 0 or args.p99_limit <= 0):
        p.error("--find-max steps, --hold and --p99-limit must be positive")
    try:
        args.rate_list = [float(x) for x in args.rates.split(",") if x.strip()]
    except ValueError:
        p.error(f"--rates must be comma-separated numbers, got {args.rates!r}")
    if not args.rate_list or min(args.rate_list) <= 0:
        p.error("--rates must be positive")
    if args.duration <= 0 or args.patients <= 0 or args.connections <= 0:
        p.error("--duration, --patients and --connections must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rates: list[float] = args.rate_list
    duration: float = args.duration
    sys.setswitchinterval(0.001)  # the clock thread must wake on time among the senders
    started_at = datetime.now(UTC)
    load_at_start = os.getloadavg()
    t_start = time.monotonic()

    redis = Redis.from_url(args.redis_url)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="medfollow_bench_"))
    log_path = workdir / "gunicorn.log"
    db_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    gen: LoadGenerator | None = None
    try:
        redis.flushdb()
        db_url = create_database()
        env = server_env(db_url, port, args.redis_url)
        settings = Settings.from_env(env)
        log(f"database {db_url.rsplit('/', 1)[1]}: migrating, enrolling {args.patients}")
        phones = seed(db_url, settings, args.patients)
        dispose_all()

        maker = PayloadMaker(settings, phones)
        plan = [
            (rate, maker.make(round(rate * WARMUP_SECONDS)), maker.make(round(rate * duration)))
            for rate in rates
        ]
        log(f"{maker.n} signed requests ready; starting gunicorn on {HOST}:{port}")
        proc = start_gunicorn(port, env, log_path)
        wait_ready(port, proc, log_path)

        gen = LoadGenerator(port, args.connections)
        db_name = db_url.rsplit("/", 1)[1]
        results: list[Summary] = []
        answered_200 = 0

        def measure(rate: float, warmup: list[Payload], measured: list[Payload]) -> Summary:
            nonlocal answered_200
            assert gen is not None and proc is not None
            log(f"{fmt_rate(rate)} rps: warm-up {WARMUP_SECONDS:g} s")
            w = gen.run(warmup, rate)
            answered_200 += w.statuses.get(200, 0)
            seconds = len(measured) / rate
            log(f"{fmt_rate(rate)} rps: measuring {seconds:g} s ({len(measured)} requests)")
            before = Usage.now(proc.pid, db_name)
            phase = gen.run(measured, rate)
            after = Usage.now(proc.pid, db_name)
            summary = summarise(phase, before, after, window_width(seconds))
            answered_200 += phase.statuses.get(200, 0)
            log(
                f"{fmt_rate(rate)} rps: achieved {summary.achieved:.1f}, p50 {summary.p50:.1f} "
                f"p99 {summary.p99:.1f} max {summary.max:.1f} ms, non-200 {summary.non_200}, "
                f"errors {sum(summary.errors.values())}; CPU cores: gunicorn "
                f"{summary.server_cpu:.2f}, postgres {summary.postgres_cpu:.2f}, generator "
                f"{summary.generator_cpu:.2f}, other {summary.other_cpu:.2f}"
            )
            return summary

        for rate, warmup, measured in plan:
            results.append(measure(rate, warmup, measured))
        steps: list[Summary] = []
        for rate in args.steps:
            warmup = maker.make(round(rate * WARMUP_SECONDS))
            step = measure(rate, warmup, maker.make(round(rate * args.hold)))
            steps.append(step)
            if not held(step, args.p99_limit):
                log(f"search: {fmt_rate(rate)} rps not held; stopping")
                break
        gen.close()
        gen = None
        stored = count_inbound(db_url)
        if any(r.non_200 or r.errors for r in results):
            log(f"non-200 answers or errors; gunicorn log tail:\n{tail(log_path)}")

        section = render(
            results,
            duration=duration,
            patients=args.patients,
            connections=args.connections,
            wall=time.monotonic() - t_start,
            stored=stored,
            answered_200=answered_200,
            started=started_at,
            load=load_at_start,
            steps=steps,
            hold=args.hold,
            p99_limit=args.p99_limit,
        )
        publish(section, args.out, (BEGIN, END), log)
        return 0
    finally:
        if gen is not None:
            clean_up_step(log, "stop load generator", gen.close)
        if proc is not None:
            clean_up_step(log, "stop gunicorn", lambda: stop_gunicorn(proc))
        clean_up(log, redis, db_url, workdir, t_start)


if __name__ == "__main__":
    run_main(main, log)
