"""Migration a4e5c0de0004: live duplicates left by an old race are joined, not dropped,
before the one-live-alert index is created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from store.migrate import alembic_config
from tests.conftest import create_pg_database, drop_pg_database

ROWS = [
    # id, code, tier, state, signals
    (1, "OLDONE", "urgent", "notified", 1),
    (2, "NEWONE", "emergency", "open", 2),
    (3, "GONE01", "urgent", "resolved", 1),
]


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    url = create_pg_database("medfollow_migration")
    yield url
    drop_pg_database(url)


def test_it_joins_live_duplicates_before_adding_the_index(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "aa12915115db")
    engine = create_engine(fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
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
            for alert_id, code, tier, state, signals in ROWS:
                conn.execute(
                    text(
                        "INSERT INTO alert (id, code, patient_id, tier, kind, rules, summary, "
                        "signals, state, level, created_at) VALUES (:id, :code, 1, :tier, "
                        "'suicidality', 'R1', '', :signals, :state, 0, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": alert_id,
                        "code": code,
                        "tier": tier,
                        "state": state,
                        "signals": signals,
                    },
                )
        command.upgrade(cfg, "a4e5c0de0004")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, tier, state, signals, note FROM alert ORDER BY id")
            ).all()
            band = conn.scalar(text("SELECT age_band FROM patient"))
        assert band is None
        assert [tuple(r) for r in rows] == [
            (1, "emergency", "notified", 3, None),
            (
                2,
                "emergency",
                "resolved",
                2,
                "joined into alert OLDONE (one live alert per patient and kind)",
            ),
            (3, "urgent", "resolved", 1, None),
        ]
        command.downgrade(cfg, "aa12915115db")
        command.upgrade(cfg, "a4e5c0de0004")
    finally:
        engine.dispose()
