"""Scheduling fixtures: a PostgreSQL-only runtime (for races between two schedulers) and
helpers to enrol patients and drive the scheduler with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import text

from medfollow import runtime as runtime_mod
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.db import session_factory
from store.enrolment import MedSpec
from store.models import Patient
from tests.conftest import REDIS_BASE, REDIS_DB, TABLES, make_patient


@pytest.fixture
def pg_rt(pg_url: str, redis: Redis, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on PostgreSQL only: SQLite has one writer, so no real race to test."""
    settings = Settings.from_env(
        {
            "MEDFOLLOW_VAR": str(tmp_path),
            "DATABASE_URL": pg_url,
            "REDIS_URL": f"{REDIS_BASE}/{REDIS_DB}",
            "RASA_URL": "http://127.0.0.1:9",
            "RETRY_INTERVALS": "0",
        }
    )
    rt = Runtime(settings)
    runtime_mod.install(rt)
    yield rt
    runtime_mod.install(None)
    with session_factory(pg_url).begin() as session:
        for table in TABLES:
            session.execute(text(f"DELETE FROM {table}"))


def enrol(rt: Runtime, phone: str, tz: str, times: tuple[str, ...], **fields: Any) -> Patient:
    """A patient with one medicine at these local times; `fields` set on the row after."""
    patient = make_patient(rt, phone=phone, tz=tz, meds=[MedSpec("sertraline", "50mg", times)])
    if fields:
        with rt.sessions.begin() as session:
            row = session.get_one(Patient, patient.id)
            for name, value in fields.items():
                setattr(row, name, value)
    return patient


def ticks(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    """The frozen clock's instants from start (inclusive) to end (exclusive)."""
    at = start
    while at < end:
        yield at
        at += step


def jobs(rt: Runtime) -> list[tuple[Any, ...]]:
    """The arguments of every queued job (patient id, intent, entities for triggers)."""
    return [tuple(job.args) for job in rt.queue().get_jobs()]
