"""message: a partial index of the texts still in flight, for the every-second sweep

Revision ID: c0ffee0803ab
Revises: d4c0ffee0802
Create Date: 2026-12-04 06:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c0ffee0803ab'
down_revision: str | None = 'd4c0ffee0802'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_message_in_flight"
# As store.models.IN_FLIGHT when this migration was written.
IN_FLIGHT = "status IN ('received', 'pending', 'claimed', 'held')"


def upgrade() -> None:
    op.create_index(
        INDEX,
        'message',
        ['status', 'updated_at'],
        unique=False,
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name='message')
