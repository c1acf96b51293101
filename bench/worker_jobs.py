"""CPU per job of an RQ worker: a process forked per job (RQ's `Worker`, with and without
the job modules imported before the fork) against jobs run in the worker's own process
(RQ's `SimpleWorker`, what `medfollow worker` runs).

Run from the repository root:

    .venv/bin/python -m bench.worker_jobs [--jobs 100] [--out docs/benchmarks.md]

Each way runs --jobs `conversation.jobs.send_message` jobs for message ids that do not
exist (each opens a session and looks the message up in PostgreSQL, then returns), in
one burst worker in a child process, on a fresh database and Redis database --redis-url.
CPU = user + system time of that child and every process it forked and reaped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bench.harness import (
    clean_up_step,
    create_database,
    drop_database,
    publish,
    run_lines,
    run_main,
)
from store.db import dispose_all
from store.migrate import upgrade

BEGIN = "<!-- bench:worker_jobs -->"
END = "<!-- /bench:worker_jobs -->"
WAYS = ("forked", "forked, modules imported first", "in-process")
MISSING_ID = 10_000_000  # no message has this id: the job looks it up and returns


def log(text: str) -> None:
    print(f"[worker_jobs] {text}", flush=True)


@dataclass(frozen=True)
class Run:
    way: str
    jobs: int
    wall: float
    cpu: float


def work(way: str, jobs: int, env: dict[str, str], redis_url: str, out: dict[str, float]) -> None:
    """In a child process: queue the jobs, run one burst worker, report wall and CPU."""
    os.environ.update(env)
    from rq import Queue, SimpleWorker, Worker

    from medfollow.runtime import current

    redis = Redis.from_url(redis_url)
    redis.flushdb()
    queue = Queue("bench", connection=redis)
    for n in range(jobs):
        queue.enqueue("conversation.jobs.send_message", MISSING_ID + n)
    _ = current().transport  # as `medfollow worker` does before it works
    if way == WAYS[1]:
        import conversation.jobs  # noqa: F401
        import escalation.alerts  # noqa: F401
        import messaging.outbound  # noqa: F401
    worker_class = SimpleWorker if way == WAYS[2] else Worker
    t0, c0 = time.perf_counter(), os.times()
    worker_class([queue], connection=redis).work(burst=True, logging_level="ERROR")
    c1 = os.times()
    out["wall"] = time.perf_counter() - t0
    out["cpu"] = sum(
        getattr(c1, f) - getattr(c0, f)
        for f in ("user", "system", "children_user", "children_system")
    )
    redis.flushdb()


def measure(way: str, jobs: int, env: dict[str, str], redis_url: str) -> Run:
    with multiprocessing.Manager() as manager:
        out = manager.dict()
        child = multiprocessing.get_context("fork").Process(
            target=work, args=(way, jobs, env, redis_url, out)
        )
        child.start()
        child.join()
        if child.exitcode != 0 or "cpu" not in out:
            raise SystemExit(f"the {way} run failed (exit {child.exitcode})")
        run = Run(way, jobs, float(out["wall"]), float(out["cpu"]))
    log(f"{way}: {jobs} jobs, {run.wall:.2f} s, {1000 * run.cpu / jobs:.1f} ms CPU per job")
    return run


def render(runs: list[Run], wall: float) -> str:
    base = runs[-1].cpu / runs[-1].jobs
    rows = [
        f"| {r.way} | {r.jobs} | {r.wall:.2f} | {1000 * r.cpu / r.jobs:.1f} | "
        f"{(r.cpu / r.jobs) / base:.1f}x |"
        for r in runs
    ]
    return "\n".join(
        [
            BEGIN,
            "## RQ worker: CPU per job (`bench.worker_jobs`)",
            "",
            "One burst worker runs `conversation.jobs.send_message` jobs for message ids",
            "that do not exist (open a session, look the message up in PostgreSQL, return):",
            "the fixed cost of a job around the work itself. CPU counts the worker and every",
            "process it forked.",
            "",
            *run_lines("bench.worker_jobs", wall),
            "",
            "| way | jobs | wall s | CPU ms per job | CPU vs in-process |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            "A forked job starts cold: a new database engine and connection, a new Redis",
            "connection, and whatever the job imports. `medfollow worker` runs jobs",
            'in-process (docs/architecture.md, "Processes").',
            END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--jobs", type=int, default=100)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    p.add_argument("--out", type=Path, default=None, help="markdown file to update")
    args = p.parse_args(argv)
    if args.jobs <= 0:
        p.error("--jobs must be positive")
    started = time.monotonic()
    var = tempfile.mkdtemp(prefix="medfollow_bench_jobs_")
    db_url = create_database()
    try:
        upgrade(db_url)
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": args.redis_url,
            "MEDFOLLOW_VAR": var,
            "RASA_URL": "http://127.0.0.1:9",
            "SMS_TRANSPORT": "simulator",
            "LOG_LEVEL": "WARNING",
        }
        runs = [measure(way, args.jobs, env, args.redis_url) for way in WAYS]
        publish(render(runs, time.monotonic() - started), args.out, (BEGIN, END), log)
        return 0
    finally:
        clean_up_step(log, "dispose engines", dispose_all)
        clean_up_step(log, "drop database", lambda: drop_database(db_url))
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    run_main(main, log)
