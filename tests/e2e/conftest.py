"""The whole stack on loopback: Rasa server, action server, gunicorn, RQ workers, the
scheduler and the Prism mock of Twilio, started once per test session."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from medfollow.runtime import Runtime
from medfollow.settings import Settings
from medfollow.stack import Stack
from store.db import dispose_all
from store.migrate import upgrade
from tests.conftest import REDIS_BASE, REDIS_DB, create_pg_database, drop_pg_database
from tests.e2e.logscan import Leak, RecordList, leaks
from tests.support import ROOT, free_ports, free_run


def built(script: str) -> Path:
    """Run a set-up script (cached: instant once built) and return the path it prints."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stderr[-3000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


def start_stack(
    tmp: Path,
    db_url: str,
    redis_db: int,
    workers: int,
    rasa_servers: int = 1,
    web_workers: int = 2,
    action_servers: int = 1,
) -> tuple[Stack, Runtime]:
    """The stack on free loopback ports; several Rasa servers share the tracker store."""
    web, prism, *rasa = free_ports(2 + rasa_servers)
    actions = free_run(action_servers)  # ACTION_SERVER_PORT and the ports after it
    env = {
        "MEDFOLLOW_VAR": str(tmp),
        "DATABASE_URL": db_url,
        "REDIS_URL": f"{REDIS_BASE}/{redis_db}",
        "MEDFOLLOW_PORT": str(web),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web}",
        "RASA_URLS": ",".join(f"http://127.0.0.1:{port}" for port in rasa),
        "RASA_DOWN_SECONDS": "3",
        "ACTION_SERVER_PORT": str(actions),
        "PRISM_PORT": str(prism),
        "SMS_TRANSPORT": "twilio",
        "SEND_RATE_PER_NUMBER": "1000",
        "TWILIO_API_BASE": f"http://127.0.0.1:{prism}",
        "RETRY_INTERVALS": "1,2,3,5,8",
        "SWEEP_AFTER_SECONDS": "5",
        # Prism answers sends but never posts the status callbacks Twilio would, so no
        # text is ever reported delivered: at the default (120 s) every crisis reply and
        # red-flag advice would raise an R20 `delivery_failed` alert and page the on-call
        # clinician mid-suite. tests/escalation/test_unconfirmed.py covers the rule.
        "DELIVERY_CONFIRM_SECONDS": "86400",
        # The most talkative setting: logscan.py checks no log line carries private data.
        "LOG_LEVEL": "DEBUG",
        "SECRET_KEY": "e2e-secret-key-must-not-leak-7f3a",
        "SMTP_PASSWORD": "e2e-smtp-password-must-not-leak-91c2",
        "PAGER_WEBHOOK_SECRET": "e2e-pager-secret-must-not-leak-5d0e",
        "ESCALATION_POLICY": str(Path(__file__).parent / "policy_seconds.yaml"),
    }
    settings = Settings.from_env(env)
    rt = Runtime(settings)
    rt.redis.flushdb()
    upgrade(db_url)
    stack = Stack(
        settings,
        env,
        built("setup_rasa.sh"),
        built("train_rasa.sh"),
        workers=workers,
        web_workers=web_workers,
        action_servers=action_servers,
        with_prism=True,
    )
    stack.start()
    try:
        stack.wait_ready(timeout=300)
    except Exception:
        stack.stop()
        raise
    return stack, rt


@pytest.fixture(scope="session")
def log_records() -> Iterator[RecordList]:
    """Every record logged in the test process during the end-to-end tests, at DEBUG."""
    handler, root = RecordList(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def stop_and_scan_logs(started: Stack, rt: Runtime, records: RecordList) -> list[Leak]:
    """Stop the stack (its logs complete); every log line holding a phone number, a
    message body or a secret from this stack's run (read before its database goes)."""
    started.stop()
    return leaks(rt, records)


def assert_no_leaks(found: list[Leak]) -> None:
    assert not found, "private data in the logs:\n" + "\n".join(
        f"  {leak.where}:{leak.line}: {leak.what}" for leak in found[:40]
    )


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, log_records: RecordList
) -> Iterator[tuple[Stack, Runtime]]:
    """The production-shaped stack: PostgreSQL, 4 workers, the twilio transport on Prism."""
    db_url = create_pg_database("medfollow_e2e")
    started, rt = start_stack(tmp_path_factory.mktemp("stack"), db_url, REDIS_DB - 1, workers=4)
    yield started, rt
    found = stop_and_scan_logs(started, rt, log_records)
    rt.redis.flushdb()
    dispose_all()
    drop_pg_database(db_url)
    assert_no_leaks(found)


@pytest.fixture(scope="session")
def scaled_stack(
    tmp_path_factory: pytest.TempPathFactory, log_records: RecordList
) -> Iterator[tuple[Stack, Runtime]]:
    """Scaled out on PostgreSQL: 2 Rasa servers (one tracker store), 2 action servers,
    gunicorn with 2 workers, 3 RQ workers."""
    db_url = create_pg_database("medfollow_scaled")
    started, rt = start_stack(
        tmp_path_factory.mktemp("scaled-stack"),
        db_url,
        REDIS_DB - 3,
        workers=3,
        rasa_servers=2,
        action_servers=2,
    )
    yield started, rt
    found = stop_and_scan_logs(started, rt, log_records)
    rt.redis.flushdb()
    dispose_all()
    drop_pg_database(db_url)
    assert_no_leaks(found)


@pytest.fixture(scope="session")
def sqlite_stack(
    tmp_path_factory: pytest.TempPathFactory, log_records: RecordList
) -> Iterator[tuple[Stack, Runtime]]:
    """The embedded default of `make run`: SQLite, shared by every process."""
    tmp = tmp_path_factory.mktemp("sqlite-stack")
    started, rt = start_stack(tmp, f"sqlite:///{tmp / 'medfollow.db'}", REDIS_DB - 2, workers=2)
    yield started, rt
    found = stop_and_scan_logs(started, rt, log_records)
    rt.redis.flushdb()
    assert_no_leaks(found)
