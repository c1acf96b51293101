"""message.send_after: texts the clinic starts wait for the patient's quiet-hours window

Revision ID: d4c0ffee0802
Revises: d4c0ffee0801
Create Date: 2026-12-04 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd4c0ffee0802'
down_revision: str | None = 'd4c0ffee0801'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('send_after', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # The older code knows no `held`: such texts go at once.
    op.execute("UPDATE message SET status = 'pending' WHERE status = 'held'")
    with op.batch_alter_table('message') as batch:
        batch.drop_column('send_after')
