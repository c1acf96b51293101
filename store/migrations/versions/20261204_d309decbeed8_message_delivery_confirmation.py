"""messaging: delivery deadline of texts that may matter, once-per-text R20 marker

Revision ID: d309decbeed8
Revises: bd0b13dfa5e2
Create Date: 2026-12-04 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd309decbeed8'
down_revision: str | None = 'bd0b13dfa5e2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING = "confirm_by IS NOT NULL"
INDEX = "ix_message_confirm_by"


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nothing to copy, texts already sent have no
    # deadline (they are not checked).
    op.add_column('message', sa.Column('confirm_by', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'message', sa.Column('delivery_alerted_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        INDEX,
        'message',
        ['confirm_by'],
        unique=False,
        postgresql_where=sa.text(AWAITING),
        sqlite_where=sa.text(AWAITING),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name='message')
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of message would fail the foreign
    # keys that point at it.
    op.drop_column('message', 'delivery_alerted_at')
    op.drop_column('message', 'confirm_by')
