"""Migration d4c0ffee0801: mood questionnaires the older code left `queued` once asked
become `answered` when a PHQ score with item 2 was stored within the period, else `sent`
(they close `unanswered` with their period); rows never started keep their status."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from store.migrate import alembic_config
from tests.store.conftest import insert_clinic_and_patient

BEFORE = "a7e5c0de0007"
AFTER = "d4c0ffee0801"
# id, period, status, queued_at, closes_at
MOODS = [
    (1, "2026-11-02", "queued", "2026-11-02 16:00:00", "2026-11-09"),  # answered in time
    (2, "2026-11-09", "queued", "2026-11-09 16:00:00", "2026-11-16"),  # answered too late
    (3, "2026-11-16", "queued", "2026-11-16 16:00:00", "2026-11-23"),  # item 1 only
    (4, "2026-11-23", "due", None, "2026-11-30"),
    (5, "2026-11-30", "skipped", None, "2026-12-07"),
]
# patient 1's scores: instrument, items, created_at
SCORES = [
    ("PHQ-9", "1=2,2=2,3=1", "2026-11-02 16:05:00"),  # a positive PHQ-2 went on to PHQ-9
    ("PHQ-2", "1=1,2=0", "2026-11-16 12:00:00"),  # for period 2: too late
    ("PHQ-2", "1=1", "2026-11-16 16:03:00"),
]


def test_it_moves_rows_left_queued_to_answered_or_sent(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, BEFORE)
    engine = create_engine(fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            insert_clinic_and_patient(conn)
            for mood_id, period, status, queued_at, closes in MOODS:
                conn.execute(
                    text(
                        "INSERT INTO mood_check (id, patient_id, period, instrument, due_at, "
                        "closes_at, status, queued_at, created_at) VALUES (:id, 1, :period, "
                        "'PHQ-2', :due, :closes, :status, :queued, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": mood_id,
                        "period": period,
                        "due": f"{period} 16:00:00",
                        "closes": f"{closes} 00:00:00",
                        "status": status,
                        "queued": queued_at,
                    },
                )
            for instrument, items, created_at in SCORES:
                conn.execute(
                    text(
                        "INSERT INTO score (patient_id, instrument, items, complete, created_at, "
                        "updated_at) VALUES (1, :instrument, :items, false, :at, :at)"
                    ),
                    {"instrument": instrument, "items": items, "at": created_at},
                )
        command.upgrade(cfg, AFTER)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, sent_at, answered_at FROM mood_check ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "answered", None, None),
            (2, "sent", None, None),
            (3, "sent", None, None),
            (4, "due", None, None),
            (5, "skipped", None, None),
        ]
        command.downgrade(cfg, BEFORE)
        with engine.connect() as conn:
            statuses = conn.scalars(text("SELECT status FROM mood_check ORDER BY id")).all()
        assert statuses == ["queued", "queued", "queued", "due", "skipped"]
    finally:
        engine.dispose()
