"""End-to-end turn latency, memory per process type, and how the figures grow with the
number of enrolled patients.

Run from the repository root:

    .venv/bin/python -m bench.turns [--rates 10,50] [--duration 30] [--rasa 1,2] \
        [--scale 1000,10000,100000] [--scale-rate 10] [--scale-duration 20] \
        [--workers 4] [--out docs/benchmarks.md]

What it does, all on 127.0.0.1:

1. Creates a fresh PostgreSQL database (as bench.webhook_ack) and starts the whole stack
   (`medfollow.stack.Stack`: max(--rasa) Rasa servers on consecutive ports (RASA_URLS,
   conversations pinned by consistent hash), as many action servers, gunicorn, --workers
   RQ workers, the Prism mock of Twilio; SMS_TRANSPORT=twilio; the send rate limit per
   number raised to --send-limit so it does not hide the pipeline). The scheduler is
   stopped (its check-ins would mix with the replies) and started again at the end, to
   sample its memory while it plans for every enrolled patient.
2. Memory at rest: RSS of every process of each type, children included (by session),
   summed; PostgreSQL = the backends of the bench's two databases (app, Rasa tracker);
   Redis = the redis-server holding --redis-url.
3. Growth: for each --scale size (ascending), patients are bulk-inserted up to that size
   (one twice-daily medicine each, as bench.checkins), then timed: check-in planning for
   a day ahead (`plan_checkins`), a turn run at --scale-rate for --scale-duration s, and
   two API reads over HTTP (the first page of active patients, the newest patient).
4. Turn latency at the largest size: for each Rasa server count in --rasa (the workers
   restarted with the first N of RASA_URLS) and each rate in --rates, an open-loop run of
   signed webhook posts (bench.webhook_ack's generator: no coordinated omission), each
   from a patient not used before while any remain. A turn = the reply's send instant
   (its row's `updated_at`, written when Twilio's answer is stored, as in bench.checkins)
   minus the inbound row's `created_at` (accepted by the webhook). Replies are found by
   `in_reply_to_id`; the first reply sent counts. After the sends, answers are awaited
   for at most --drain s; what is left is reported as backlog, never dropped. Memory is
   sampled every second during each run (peak per type).
5. Writes a markdown section between ``<!-- bench:turns -->`` and ``<!-- /bench:turns -->``
   in --out; stops the stack, drops the databases and flushes the Redis database, on
   success, error or Ctrl-C alike.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import shlex
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from sqlalchemy import func, select

from api.tokens import create_token
from bench.checkins import (
    READY_SECONDS,
    ZONES,
    Timed,
    bench_stack,
    clinic_and_medicine,
    enrol_range,
    phone,
    restart_workers,
    stack_env,
    timed_plan,
)
from bench.harness import HOST, clean_up, clean_up_step, create_database, publish, run_main
from bench.webhook_ack import LoadGenerator, PayloadMaker, cpu_model, machine_busy, percentile
from medfollow.runtime import QUEUES, Runtime
from medfollow.settings import Settings
from medfollow.stack import Stack, consecutive_urls
from store.migrate import upgrade
from store.models import Message, Patient, utcnow

BEGIN = "<!-- bench:turns -->"
END = "<!-- /bench:turns -->"
# Ordinary texts a patient might send that go to the dialogue (no keyword, no crisis words).
BODIES = ("hi", "feeling ok today", "hello", "all good thanks")
NOT_SENT = ("pending", "claimed", "failed")
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
TYPES = ("web", "worker", "scheduler", "rasa", "actions", "prism", "postgres", "redis")


def log(text: str) -> None:
    print(f"[turns] {text}", file=sys.stderr, flush=True)


# --- patients (not timed) ------------------------------------------------------------


@dataclass
class Cohort:
    """The enrolled patients: how many, and which one sends the next message."""

    clinic_id: int = 0
    medication_id: int = 0
    size: int = 0
    cursor: int = 0

    def phones(self, count: int) -> list[str]:
        """`count` senders, not used before while any remain (then round again)."""
        out = [phone((self.cursor + k) % self.size) for k in range(count)]
        self.cursor += count
        return out


def enrol_up_to(rt: Runtime, cohort: Cohort, size: int) -> None:
    """Bulk-insert patients (one twice-daily medicine each) until there are `size`."""
    if cohort.clinic_id == 0:
        cohort.clinic_id, cohort.medication_id = clinic_and_medicine(rt)
    enrol_range(rt, cohort.clinic_id, cohort.medication_id, range(cohort.size, size), ZONES)
    cohort.size = max(cohort.size, size)


# --- memory --------------------------------------------------------------------------


def _stat(pid: str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, session...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _rss(pid: str) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def kind_of(name: str) -> str:
    """A stack process's type: "worker-3" -> "worker", "rasa-2" -> "rasa", "web" -> "web"."""
    return name.split("-", 1)[0]


@dataclass
class MemoryProbe:
    """RSS by process type, from /proc: each stack process with its whole session (its
    children: gunicorn and Sanic workers, RQ work horses), the PostgreSQL backends of the
    bench's databases, and the Redis server."""

    stack: Stack
    db_name: str
    redis_port: int

    def sample(self) -> dict[str, tuple[int, int]]:
        """{type: (bytes, processes)}."""
        sessions = {
            p.popen.pid: kind_of(p.name)
            for p in self.stack.procs
            if p.popen is not None and p.popen.poll() is None
        }
        pg_markers = (f" {self.db_name} ".encode(), f" {self.db_name}_rasa ".encode())
        redis_marker = f":{self.redis_port}".encode()
        out: dict[str, list[int]] = {}
        for proc_dir in Path("/proc").glob("[0-9]*"):
            pid = proc_dir.name
            try:
                kind = sessions.get(int(_stat(pid)[3]))
                if kind is None:
                    cmd = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ") + b" "
                    if cmd.startswith(b"postgres") and any(m in cmd for m in pg_markers):
                        kind = "postgres"
                    elif cmd.startswith(b"redis-server") and redis_marker in cmd:
                        kind = "redis"
                    else:
                        continue
                total = out.setdefault(kind, [0, 0])
                total[0] += _rss(pid)
                total[1] += 1
            except (OSError, IndexError, ValueError):
                continue
        return {k: (v[0], v[1]) for k, v in out.items()}


@dataclass
class PeakSampler:
    """Samples a probe every `interval` s in a thread; keeps the peak of each type."""

    probe: MemoryProbe
    interval: float = 1.0
    peak: dict[str, tuple[int, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> PeakSampler:
        self._thread = threading.Thread(target=self._run, name="memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            for kind, (rss, n) in self.probe.sample().items():
                if rss > self.peak.get(kind, (0, 0))[0]:
                    self.peak[kind] = (rss, n)
            if self._stop.wait(self.interval):
                return


# --- turns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRun:
    rate: float
    rasa: int
    enrolled: int
    duration: float
    scheduled: int
    accepted: int  # webhook answered 200
    refused: int  # no 200 from the webhook (other status, or no answer in time)
    ack_p50: float  # ms
    ack_p99: float
    replied: int  # turns whose reply was sent
    in_window: int  # of which sent before the last request was due
    no_reply: int  # processed, no reply text (nothing to wait for)
    backlog_end: int  # accepted but not yet answered when the last request was due
    unanswered: int  # still not answered after the drain
    p50: float  # seconds, inbound accepted -> reply sent
    p99: float
    max: float
    drain: float  # seconds from the last scheduled request to the last reply
    memory: dict[str, tuple[int, int]]
    machine_cpu: float  # cores busy on the whole machine while the load ran

    @property
    def throughput(self) -> float:
        """Replies sent per second while the load ran."""
        return self.in_window / self.duration

    @property
    def completed_rate(self) -> float:
        """Replies per second over the whole run, drain included."""
        return self.replied / (self.duration + max(0.0, self.drain))


def outcome(rt: Runtime, sids: Sequence[str]) -> tuple[list[tuple[datetime, datetime]], int, int]:
    """Of the texts stored by the webhook: (accepted, first reply sent) pairs; how many
    were processed without a reply; how many are still waiting (for the dialogue turn, or
    with a reply not yet sent)."""
    with rt.sessions() as session:
        inbound: dict[int, tuple[datetime, str]] = {}
        for chunk in range(0, len(sids), 1000):
            for mid, created, status in session.execute(
                select(Message.id, Message.created_at, Message.status).where(
                    Message.provider_sid.in_(sids[chunk : chunk + 1000]),
                    Message.direction == "inbound",
                )
            ):
                inbound[mid] = (created, status)
        sent: dict[int, datetime] = {}
        pending: set[int] = set()
        ids = list(inbound)
        for chunk in range(0, len(ids), 1000):
            for reply_to, status, at in session.execute(
                select(Message.in_reply_to_id, Message.status, Message.updated_at).where(
                    Message.in_reply_to_id.in_(ids[chunk : chunk + 1000]),
                    Message.direction == "outbound",
                )
            ):
                if status in NOT_SENT[:2]:
                    pending.add(reply_to)
                elif status != "failed":
                    sent[reply_to] = min(at, sent.get(reply_to, at))
    pairs = [(inbound[m][0], at) for m, at in sent.items()]
    no_reply = sum(
        1
        for m, (_, st) in inbound.items()
        if m not in sent and m not in pending and st != "received"
    )
    waiting = len(inbound) - len(pairs) - no_reply
    return pairs, no_reply, waiting


def run_turns(
    rt: Runtime,
    gen: LoadGenerator,
    probe: MemoryProbe,
    cohort: Cohort,
    *,
    rate: float,
    duration: float,
    rasa: int,
    drain: float,
) -> TurnRun:
    count = max(1, round(rate * duration))
    maker = PayloadMaker(rt.settings, cohort.phones(count), BODIES)
    payloads = maker.make(count)
    sids = [
        dict(p.split("=", 1) for p in body.decode().split("&"))["MessageSid"]
        for body, _ in payloads
    ]
    log(f"{rate:g}/s with {rasa} Rasa server(s), {cohort.size} enrolled: {count} texts")
    with PeakSampler(probe) as sampler:
        start, busy0, t0 = datetime.now(UTC), machine_busy(), time.perf_counter()
        phase = gen.run(payloads, rate)
        cores = (machine_busy() - busy0) / (time.perf_counter() - t0)
        window_end = start + timedelta(seconds=count / rate)
        deadline = time.monotonic() + drain
        accepted = phase.statuses.get(200, 0)
        while True:
            pairs, no_reply, waiting = outcome(rt, sids)
            stored = len(pairs) + no_reply + waiting
            if (waiting == 0 and stored >= accepted) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    turns = sorted((sent - got).total_seconds() for got, sent in pairs)
    acks = sorted(x * 1000 for x in phase.latency)
    in_window = sum(1 for _, sent in pairs if sent <= window_end)
    last = max((sent for _, sent in pairs), default=window_end)
    run = TurnRun(
        rate=rate,
        rasa=rasa,
        enrolled=cohort.size,
        duration=count / rate,
        scheduled=count,
        accepted=accepted,
        refused=count - accepted,
        ack_p50=percentile(acks, 50),
        ack_p99=percentile(acks, 99),
        replied=len(pairs),
        in_window=in_window,
        no_reply=no_reply,
        backlog_end=max(0, stored - in_window - no_reply),
        unanswered=waiting,
        p50=percentile(turns, 50),
        p99=percentile(turns, 99),
        max=turns[-1] if turns else math.nan,
        drain=(last - window_end).total_seconds(),
        memory=dict(sampler.peak),
        machine_cpu=cores,
    )
    if waiting:
        # What the drain left must not slow the next run down: its jobs are taken off the
        # queues (the texts stay unanswered, and are counted so above).
        dropped = 0
        for name in QUEUES:
            queue = rt.queue(name)
            dropped += queue.count
            queue.empty()  # type: ignore[no-untyped-call]
        log(f"  {dropped} queued jobs removed after the drain")
    log(
        f"  replies {run.replied}/{run.accepted} (refused {run.refused}, no reply "
        f"{no_reply}, unanswered {run.unanswered}); cores busy {run.machine_cpu:.2f}; "
        f"turn p50 {run.p50:.2f} s p99 {run.p99:.2f} s; "
        f"{run.throughput:.1f} replies/s during the load; ack p99 {run.ack_p99:.0f} ms"
    )
    return run


# --- API reads ----------------------------------------------------------------------

API_READS = ("/api/v1/patients?status=active&limit=50", "/api/v1/patients/{last}")


def api_reads(rt: Runtime, port: int, token: str, count: int) -> dict[str, float]:
    """p50 ms of each API read over HTTP to the stack's gunicorn, one at a time, after a
    warm-up of 3; {last} is the most recently enrolled patient."""
    with rt.sessions() as session:
        last = session.scalar(select(func.max(Patient.id)))
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, float] = {}
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for template in API_READS:
            path = template.format(last=last)
            times = []
            for k in range(3 + count):
                started = time.perf_counter()
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"GET {path}: {resp.status}")
                if k >= 3:
                    times.append((time.perf_counter() - started) * 1000)
            out[template] = percentile(sorted(times), 50)
    finally:
        conn.close()
    return out


# --- the stack -----------------------------------------------------------------------


def free_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            first: int = sock.getsockname()[1]
        if first + count > 65535:
            continue
        try:
            for port in range(first + 1, first + count):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind((HOST, port))
        except OSError:
            continue
        return first
    raise RuntimeError(f"no {count} consecutive free ports")


def use_rasa(stack: Stack, redis: Redis, urls: Sequence[str]) -> None:
    """Restart the RQ workers talking to the first len(urls) Rasa servers only."""
    restart_workers(stack, redis, {"RASA_URLS": ",".join(urls)})


# --- report --------------------------------------------------------------------------


def command_line() -> str:
    python = os.path.relpath(sys.executable) if sys.executable else "python"
    return shlex.join([python, "-m", "bench.turns", *sys.argv[1:]])


def mb(sample: dict[str, tuple[int, int]], kind: str) -> str:
    rss, n = sample.get(kind, (0, 0))
    return f"{rss / MB:,.0f} ({n})" if n else "-"


@dataclass(frozen=True)
class Growth:
    enrolled: int
    planning: Timed
    turns: TurnRun
    api: dict[str, float]


def render(
    args: argparse.Namespace,
    growth: Sequence[Growth],
    runs: Sequence[TurnRun],
    rest: dict[str, tuple[int, int]],
    idle: dict[str, tuple[int, int]],
    scheduler: dict[str, tuple[int, int]],
    started: datetime,
    load: tuple[float, float, float],
    wall: float,
) -> str:
    n = os.cpu_count()
    enrolled = growth[-1].enrolled if growth else 0
    lines = [
        BEGIN,
        "## End-to-end turns, memory, and growth with enrolment (`bench.turns`)",
        "",
        f"- Machine: {n} CPUs (nproc), {cpu_model()}",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)",
        f"- Command: `{command_line()}` (wall time {wall:.0f} s)",
        f"- Stack: `medfollow.stack.Stack`: {max(args.rasa_list)} Rasa server(s) with as many "
        f"action servers, gunicorn ({args.web_workers} workers x 4 threads), {args.workers} "
        "RQ workers, Prism as Twilio (`SMS_TRANSPORT=twilio`), PostgreSQL (local), Redis; "
        f"send limit per number raised to {args.send_limit:g}/s (at the default 1/s one "
        "sending number caps replies at 1/s whatever the rest does). Scheduler stopped "
        f"during the runs. The load generator shares the {n} cores.",
        "- Load: open loop, signed `POST /twilio/sms` from enrolled patients (a new sender "
        "for each text while any remain), ordinary texts answered by the real Rasa model.",
        "",
        f"**Turn latency** (inbound accepted by the webhook -> reply handed to the Twilio "
        f"mock), {runs[0].enrolled if runs else 0} patients enrolled, {args.duration:g} s "
        "per run:",
        "",
        "| Rasa servers | target /s | texts | accepted (refused) | ack p50 / p99 ms | turn p50 s "
        "| turn p99 s | max s | replies/s during load | backlog at end of load "
        "| unanswered after drain | drain s | cores busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.rasa} | {r.rate:g} | {r.scheduled} | {r.accepted} ({r.refused}) "
            f"| {r.ack_p50:.0f} / "
            f"{r.ack_p99:.0f} | {r.p50:.2f} | {r.p99:.2f} | {r.max:.2f} | {r.throughput:.1f} "
            f"| {r.backlog_end} | {r.unanswered} | {r.drain:.1f} | {r.machine_cpu:.2f} of {n} |"
        )
    held = [r for r in runs if r.throughput < 0.9 * r.rate]
    lines += [
        "",
        "Turn = the first reply's send instant (its row's `updated_at`, stored with "
        "Twilio's answer) minus the inbound row's `created_at`; percentiles over the turns "
        "answered, after the load and a drain of at most "
        f"{args.drain:g} s. Replies/s during load = replies sent before the last text was "
        "due / run length; backlog = texts accepted but not answered by then. "
        + (
            "**Not held:** "
            + "; ".join(
                f"{r.rate:g}/s with {r.rasa} Rasa: {r.throughput:.1f} replies/s "
                f"({r.completed_rate:.1f}/s drain included), backlog {r.backlog_end}"
                for r in held
            )
            + f". Cores busy (whole machine, during the load) show whether the {n} cores "
            "were the limit."
            if held
            else "Every rate was held."
        ),
        "",
        "**Memory** (RSS in MB, processes in brackets; each type summed with its children; "
        "forked children share pages, so sums overstate what the type needs; PostgreSQL = "
        "the backends of the bench's app and Rasa databases, shared buffers they touch "
        "included; Redis = the whole server, shared with other databases on it):",
        "",
        f"| type | at rest: just started, no patients | at rest: {enrolled:,} enrolled, "
        "after the growth runs | "
        + " | ".join(f"peak at {r.rate:g}/s, {r.rasa} Rasa" for r in runs)
        + " |",
        "|---|---:|---:|" + "---:|" * len(runs),
    ]
    for kind in TYPES:
        cells = [mb(r.memory, kind) for r in runs]
        if kind == "scheduler":
            cells = [f"stopped; peak while planning: {mb(scheduler, kind)}"] + cells[1:]
        lines.append(
            f"| {kind} | {mb(rest, kind)} | {mb(idle, kind)} | " + " | ".join(cells) + " |"
        )
    lines += [
        "",
        "The scheduler is stopped during the turn runs (its check-ins would mix with the "
        f"replies); its peak is sampled at the end, for {args.scheduler_seconds:g} s after "
        f"it is started again with {enrolled:,} patients to plan.",
        "",
        f"**Growth with enrolment** (turns at {args.scale_rate:g}/s for "
        f"{args.scale_duration:g} s with {max(args.rasa_list)} Rasa server(s); planning = "
        "`plan_checkins` one day ahead, every patient's two doses, empty day):",
        "",
        "| enrolled | webhook ack p50 / p99 ms | turn p50 s | turn p99 s | replies/s "
        "| planning s (check-ins) | planning CPU s python + postgres "
        + "".join(f"| `GET {t}` p50 ms " for t in API_READS)
        + "|",
        "|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(API_READS),
    ]
    for g in growth:
        t, p = g.turns, g.planning
        lines.append(
            f"| {g.enrolled:,} | {t.ack_p50:.0f} / {t.ack_p99:.0f} | {t.p50:.2f} | "
            f"{t.p99:.2f} | {t.throughput:.1f} | {p.seconds:.1f} ({p.created:,}) | "
            f"{p.cpu_python:.1f} + {p.cpu_postgres:.1f} | "
            + " | ".join(f"{g.api[t]:.1f}" for t in API_READS)
            + " |"
        )
    lines += [
        "",
        "Webhook ack here is measured with the whole stack working (RQ workers, Rasa), "
        "unlike `bench.webhook_ack`, which isolates the web tier. API reads: "
        f"{args.api_requests} requests each over HTTP to the stack's gunicorn, one at a "
        "time, on the idle stack (after the turn run has drained), a read-scope token; "
        "`{last}` is the most recently enrolled patient.",
        "",
        "Small version (a few minutes): `.venv/bin/python -m bench.turns --scale 200,1000 "
        "--rates 5,10 --duration 8 --scale-rate 5 --scale-duration 5 --workers 2 "
        "--scheduler-seconds 5 --out /tmp/bench.md`.",
        END,
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------


def _floats(p: argparse.ArgumentParser, text: str, name: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        p.error(f"{name} must be comma-separated numbers, got {text!r}")
    if not out or min(out) <= 0:
        p.error(f"{name} must be positive numbers")
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.turns", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--rates", default="10,50", help="conversations/s for the turn runs")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per turn run")
    p.add_argument("--rasa", default="1,2", help="Rasa server counts to compare")
    p.add_argument("--scale", default="1000,10000,100000", help="enrolled sizes, ascending")
    p.add_argument("--scale-rate", type=float, default=10.0)
    p.add_argument("--scale-duration", type=float, default=20.0)
    p.add_argument("--drain", type=float, default=90.0, help="max wait for replies, s")
    p.add_argument("--workers", type=int, default=4, help="RQ worker processes")
    p.add_argument("--web-workers", type=int, default=2)
    p.add_argument("--send-limit", type=float, default=1000.0, help="segments/s per number")
    p.add_argument("--scheduler-seconds", type=float, default=30.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--api-requests", type=int, default=20, help="per API read and size")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    p.add_argument("--keep-logs", type=Path, help="copy the stack's logs here at the end")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = p.parse_args(argv)
    args.rate_list = _floats(p, args.rates, "--rates")
    args.rasa_list = sorted({int(x) for x in _floats(p, args.rasa, "--rasa")})
    args.scale_list = sorted({int(x) for x in _floats(p, args.scale, "--scale")})
    if min(args.duration, args.scale_rate, args.scale_duration, args.drain) <= 0:
        p.error("durations and rates must be positive")
    if args.workers <= 0 or args.web_workers <= 0:
        p.error("--workers and --web-workers must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.setswitchinterval(0.001)  # the generator's clock thread must wake on time
    started_at, load_at_start, t_start = datetime.now(UTC), os.getloadavg(), time.monotonic()
    servers = max(args.rasa_list)
    redis = Redis.from_url(args.redis_url)
    workdir = Path(tempfile.mkdtemp(prefix="medfollow_bench_turns_"))
    db_url: str | None = None
    stack: Stack | None = None
    gen: LoadGenerator | None = None
    try:
        redis.flushdb()
        db_url = create_database()
        db_name = db_url.rsplit("/", 1)[1]
        env = stack_env(workdir, db_url, args.redis_url, args.send_limit)
        rasa_port, action_port = free_block(servers), free_block(servers)
        urls = consecutive_urls(f"http://127.0.0.1:{rasa_port}", servers)
        env.update(
            {
                "RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "RASA_URLS": urls,
                "ACTION_SERVER_PORT": str(action_port),
                "LOG_LEVEL": "WARNING",
                "API_RATE_LIMIT": "1000000",  # the reads below are not the rate limit's test
            }
        )
        settings = Settings.from_env(env)
        rt = Runtime(settings)
        upgrade(db_url)
        log(f"starting the stack ({servers} Rasa, {args.workers} workers, web, Prism)")
        stack = bench_stack(
            settings,
            env,
            workers=args.workers,
            web_workers=args.web_workers,
            action_servers=servers,
        )
        stack.start()
        stack.wait_ready(timeout=READY_SECONDS)
        probe = MemoryProbe(stack, db_name, urlsplit(args.redis_url).port or 6379)
        rest = probe.sample()
        stack.stop_one("scheduler")
        gen = LoadGenerator(settings.port, args.connections)
        with rt.sessions.begin() as session:
            _, token = create_token(session, "bench", ["read"], "bench")
        cohort = Cohort()
        growth: list[Growth] = []
        for k, size in enumerate(args.scale_list):
            log(f"enrolling up to {size} patients")
            enrol_up_to(rt, cohort, size)
            if k == 0:  # not measured: the first turns of a fresh stack load lazily
                log("warm-up")
                run_turns(
                    rt,
                    gen,
                    probe,
                    cohort,
                    rate=args.scale_rate,
                    duration=3,
                    rasa=servers,
                    drain=args.drain,
                )
            planning = timed_plan(rt, utcnow() + timedelta(days=1 + k), db_name)
            turns = run_turns(
                rt,
                gen,
                probe,
                cohort,
                rate=args.scale_rate,
                duration=args.scale_duration,
                rasa=servers,
                drain=args.drain,
            )
            reads = api_reads(rt, settings.port, token, args.api_requests)
            log(f"  API reads p50 ms: {reads}")
            growth.append(Growth(size, planning, turns, reads))
        time.sleep(2)  # the last drain's tail: idle again
        idle = probe.sample()
        runs: list[TurnRun] = []
        all_urls = urls.split(",")
        for count in args.rasa_list:
            use_rasa(stack, rt.redis, all_urls[:count])
            for rate in args.rate_list:
                runs.append(
                    run_turns(
                        rt,
                        gen,
                        probe,
                        cohort,
                        rate=rate,
                        duration=args.duration,
                        rasa=count,
                        drain=args.drain,
                    )
                )
        log(f"scheduler: sampling its memory for {args.scheduler_seconds:g} s of planning")
        stack.start_one("scheduler")
        with PeakSampler(probe) as sched:
            time.sleep(args.scheduler_seconds)
        section = render(
            args,
            growth,
            runs,
            rest,
            idle,
            sched.peak,
            started_at,
            load_at_start,
            time.monotonic() - t_start,
        )
        publish(section, args.out, (BEGIN, END), log)
        return 0
    finally:
        if gen is not None:
            clean_up_step(log, "stop load generator", gen.close)
        if stack is not None:
            clean_up_step(log, "stop the stack", stack.stop)
        clean_up(log, redis, db_url, workdir, t_start, args.keep_logs)


if __name__ == "__main__":
    run_main(main, log)
