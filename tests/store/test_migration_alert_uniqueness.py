"""Migration a4e5c0de0004: live duplicates left by an old race are joined, not dropped,
before the one-live-alert index is created."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from store.migrate import alembic_config
from tests.store.conftest import insert_clinic_and_patient

ROWS = [
    # id, code, tier, state, signals
    (1, "OLDONE", "urgent", "notified", 1),
    (2, "NEWONE", "emergency", "open", 2),
    (3, "GONE01", "urgent", "resolved", 1),
]


def test_it_joins_live_duplicates_before_adding_the_index(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "aa12915115db")
    engine = create_engine(fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            insert_clinic_and_patient(conn)
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
