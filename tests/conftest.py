"""Root fixtures: real PostgreSQL and SQLite databases, a real Redis database, the app.

Redis: the tests use their own database number (MEDFOLLOW_TEST_REDIS_DB, default 13),
flushed before and after each test. PostgreSQL: a database of its own per test run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import text
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from medfollow import runtime as runtime_mod
from medfollow.runtime import QUEUES, Runtime
from medfollow.settings import DEMO_FROM_NUMBER, Settings
from store.db import dispose_all, session_factory
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.migrate import upgrade
from store.models import Base, Patient
from webhook.app import create_app

PG_ADMIN = os.environ.get("MEDFOLLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("MEDFOLLOW_TEST_REDIS", "redis://127.0.0.1:6379")
# The unit tests use this Redis database; the two test stacks use the two below it.
REDIS_DB = int(os.environ.get("MEDFOLLOW_TEST_REDIS_DB", "13"))
TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]


def create_pg_database(prefix: str) -> str:
    """A fresh PostgreSQL database for this run; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}_rasa" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = create_pg_database("medfollow_test")
    upgrade(url)
    yield url
    dispose_all()
    drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'medfollow.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using this runs on PostgreSQL and on SQLite; tables emptied after."""
    url: str = request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
    yield url
    with session_factory(url).begin() as session:
        for table in TABLES:
            session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def redis() -> Iterator[Redis]:
    conn = Redis.from_url(f"{REDIS_BASE}/{REDIS_DB}")
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def settings(db_url: str, redis: Redis, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "MEDFOLLOW_VAR": str(tmp_path),
            "DATABASE_URL": db_url,
            "REDIS_URL": f"{REDIS_BASE}/{REDIS_DB}",
            "RASA_URL": "http://127.0.0.1:9",  # nothing listens: tests that need Rasa use the stack
            "RASA_TIMEOUT": "1",
            "RETRY_INTERVALS": "0",
            "SWEEP_AFTER_SECONDS": "0",
            # Tests not about pacing are not paced (tests/messaging/test_ratelimit.py is).
            "SEND_RATE_PER_NUMBER": "1000",
        }
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    runtime_mod.install(runtime)
    yield runtime
    runtime_mod.install(None)


@pytest.fixture
def app(rt: Runtime) -> Flask:
    return create_app(rt=rt)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def patient(rt: Runtime) -> Patient:
    return make_patient(rt)


def make_patient(rt: Runtime, **overrides: Any) -> Patient:
    """Enrol a patient (and the clinic on first use), on a number of the sending pool."""
    fields: dict[str, Any] = {
        "pool": rt.settings.sending_pool,
        "phone": "+15555550142",
        "name": "Sam Tester",
        "tz": "America/New_York",
        "meds": [MedSpec("sertraline", "50mg", ("09:00",))],
        "consent": "v1",
        # An adult: the risk modifiers treat an unrecorded band as under 25.
        "age_band": "25_64",
    }
    fields.update(overrides)
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        return enrol(session, clinic, **fields)


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def sms_params(phone: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid or new_sid(),
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": DEMO_FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def signed_post(
    client: FlaskClient, settings: Settings, path: str, params: dict[str, str]
) -> TestResponse:
    """POST as Twilio would: form body plus a real X-Twilio-Signature over the public URL."""
    validator = RequestValidator(settings.twilio_auth_token.reveal())
    signature = validator.compute_signature(settings.public_base_url + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def run_jobs(rt: Runtime) -> None:
    """Run every queued job in this process with a real RQ worker, until the queues are empty."""
    worker = SimpleWorker([rt.queue(q) for q in QUEUES], connection=rt.redis)
    worker.work(burst=True, with_scheduler=False)
