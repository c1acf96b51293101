"""What every benchmark does around its measurement: a throwaway PostgreSQL database,
clean-up that always runs (success, error, Ctrl-C or SIGTERM alike), the entry point,
and measuring on PostgreSQL and then on SQLite. bench/report.py writes the results."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

import psycopg
from redis import Redis

from bench.report import write_section
from store.db import dispose_all

# As in tests/conftest.py; scripts/setup_system.sh exports a URL with a password where
# PostgreSQL does not trust local TCP connections. Loopback only.
PG_ADMIN = os.environ.get("MEDFOLLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"

Log = Callable[[str], None]
T = TypeVar("T")


def create_database() -> str:
    """A fresh PostgreSQL database (same scheme as tests/conftest.py); returns its URL."""
    if urlsplit(PG_ADMIN).hostname != HOST:
        raise SystemExit(f"the benchmark runs on {HOST} only; MEDFOLLOW_TEST_PG points elsewhere")
    name = f"medfollow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def clean_up_step(log: Log, label: str, action: Callable[[], object]) -> None:
    """Run one clean-up step; report a failure and carry on with the others."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - clean-up must go on
        log(f"clean-up step {label!r} failed: {type(exc).__name__}: {exc}")


def clean_up(
    log: Log,
    redis: Redis,
    db_url: str | None,
    workdir: Path,
    started: float,
    keep_logs: Path | None = None,
) -> None:
    """The end of every stack benchmark, once its own processes are stopped: keep the
    logs if asked, flush and close Redis, close the pooled connections, drop the database
    (and Rasa's tracker database beside it), remove the work directory."""
    if keep_logs is not None:
        kept = keep_logs
        clean_up_step(
            log, "keep logs", lambda: shutil.copytree(workdir / "logs", kept, dirs_exist_ok=True)
        )
    clean_up_step(log, "flush redis", redis.flushdb)
    clean_up_step(log, "close redis", redis.close)
    clean_up_step(log, "dispose engines", dispose_all)
    if db_url is not None:
        url = db_url
        clean_up_step(log, "drop database", lambda: drop_database(url))
        clean_up_step(log, "drop rasa database", lambda: drop_database(url + "_rasa"))
    shutil.rmtree(workdir, ignore_errors=True)
    log(f"cleaned up; total wall time {time.monotonic() - started:.0f} s")


def on_both_databases(measure: Callable[[str, Path], T], log: Log) -> dict[str, T]:
    """`measure(url, tmp)` on a fresh PostgreSQL database (dropped after), then on a
    SQLite file in a temporary directory; results by database name."""
    results: dict[str, T] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pg = create_database()
        try:
            log("PostgreSQL")
            results["PostgreSQL"] = measure(pg, Path(tmp))
        finally:
            dispose_all()
            drop_database(pg)
        log("SQLite")
        results["SQLite"] = measure(f"sqlite:///{tmp}/bench.db", Path(tmp))
    return results


def measure_both(
    argv: Sequence[str] | None,
    doc: str | None,
    requests: int,
    measure: Callable[[str, int, Path], T],
    render: Callable[[dict[str, T], int, float], str],
    markers: tuple[str, str],
    log: Log,
) -> int:
    """The main of a benchmark timing `--requests` requests in one process on both
    databases (bench.api, bench.patient_page): `measure(url, requests, tmp)` on each,
    then `render(results, requests, wall seconds)` printed and written to --out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--out", type=Path, default=None, help="markdown file to update")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results = on_both_databases(lambda url, tmp: measure(url, args.requests, tmp), log)
    publish(render(results, args.requests, time.monotonic() - started), args.out, markers, log)
    return 0


def run_lines(module: str, wall: float) -> list[str]:
    """The machine and command lines of a `measure_both` benchmark's section."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    command = shlex.join([os.path.relpath(sys.executable), "-m", module, *sys.argv[1:]])
    return [
        f"- Machine: {os.cpu_count()} CPUs; date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average at end {load} (1 / 5 / 15 min)",
        f"- Command: `{command}` (wall time {wall:.0f} s)",
    ]


def publish(section: str, out: Path | None, markers: tuple[str, str], log: Log) -> None:
    """Print the markdown section; write it into `out` between its markers, if given."""
    print(section)
    if out is not None:
        write_section(out, section, *markers)
        log(f"written to {out}")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run_main(main: Callable[[], int], log: Log) -> NoReturn:
    """The `python -m bench.<name>` entry point: SIGTERM and Ctrl-C end the run through
    its clean-up (exit 143 and 130)."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
