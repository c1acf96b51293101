"""A pool of sending numbers: each patient's number, and our number on each message

Revision ID: bd0b13dfa5e2
Revises: a7e5c0de0007
Create Date: 2026-12-04 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'bd0b13dfa5e2'
down_revision: str | None = 'a7e5c0de0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_number', sa.String(length=20), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_patient_sending_number'), ['sending_number'], unique=False
        )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('our_number', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('our_number')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_sending_number'))
        batch_op.drop_column('sending_number')
