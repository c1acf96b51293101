"""Migration tests: a fresh database of each kind, and the rows they all start from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from tests.conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) to migrate step by step, on each database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    url = create_pg_database("medfollow_migration")
    yield url
    drop_pg_database(url)


def insert_clinic_and_patient(conn: Connection) -> None:
    """Clinic 1 and its patient 1, in plain SQL (the columns every schema has had)."""
    conn.execute(
        text(
            "INSERT INTO clinic (id, name, phone, hours, timezone, created_at) "
            "VALUES (1, 'C', '+1', 'h', 'UTC', CURRENT_TIMESTAMP)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO patient (id, clinic_id, pseudonym, phone, display_name, "
            "timezone, language, sms_detail_level, opted_out, status, created_at) "
            "VALUES (1, 1, 'p', '+15555550142', 'P', 'UTC', 'en', 'generic', false, "
            "'active', CURRENT_TIMESTAMP)"
        )
    )
