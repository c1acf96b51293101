"""escalation: age band on patients, one live alert per patient and kind

Revision ID: a4e5c0de0004
Revises: aa12915115db
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a4e5c0de0004'
down_revision: str | None = 'aa12915115db'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "state IN ('open', 'notified', 'acknowledged')"
INDEX = "uq_alert_live_patient_kind"
RANK = {"routine": 0, "prompt": 1, "urgent": 2, "emergency": 3}


def _join_duplicates() -> None:
    """Before the index: a race could have left two live alerts of one patient and kind.
    The newer ones are resolved into the oldest (their signals and a higher tier carried
    over), with a note; nothing is deleted."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            f"SELECT id, patient_id, kind, signals, code, tier FROM alert "
            f"WHERE patient_id IS NOT NULL AND {LIVE} ORDER BY id"
        )
    ).all()
    kept: dict[tuple[int, str], tuple[int, str, str]] = {}
    for alert_id, patient_id, kind, signals, code, tier in rows:
        key = (patient_id, kind)
        if key not in kept:
            kept[key] = (alert_id, code, tier)
            continue
        into_id, into_code, into_tier = kept[key]
        if RANK.get(tier, 0) > RANK.get(into_tier, 0):
            into_tier = tier
            kept[key] = (into_id, into_code, into_tier)
        bind.execute(
            sa.text("UPDATE alert SET signals = signals + :n, tier = :tier WHERE id = :id"),
            {"n": signals, "tier": into_tier, "id": into_id},
        )
        bind.execute(
            sa.text(
                "UPDATE alert SET state = 'resolved', resolved_at = CURRENT_TIMESTAMP, "
                "note = :note WHERE id = :id"
            ),
            {"note": f"joined into alert {into_code} (one live alert per patient and kind)",
             "id": alert_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("age_band", sa.String(length=16), nullable=True))
    _join_duplicates()
    op.create_index(
        INDEX,
        "alert",
        ["patient_id", "kind"],
        unique=True,
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="alert")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of patient would fail its foreign
    # keys once other tables point at patients.
    op.drop_column("patient", "age_band")
