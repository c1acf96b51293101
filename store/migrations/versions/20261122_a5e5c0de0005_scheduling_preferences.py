"""scheduling: quiet hours per clinic and patient, questionnaire cadence, conversation hold

Revision ID: a5e5c0de0005
Revises: a4e5c0de0004
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a5e5c0de0005'
down_revision: str | None = 'a4e5c0de0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinic') as batch:
        batch.add_column(
            sa.Column('quiet_start', sa.String(length=5), nullable=False, server_default='09:00')
        )
        batch.add_column(
            sa.Column('quiet_end', sa.String(length=5), nullable=False, server_default='20:00')
        )
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('quiet_start', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('quiet_end', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('mood_every_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('answer_window_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reminder_after_minutes', sa.Integer(), nullable=True))
    with op.batch_alter_table('checkin') as batch:
        batch.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_checkin_status_due_at', 'checkin', ['status', 'due_at'], unique=False)
    op.create_table(
        'mood_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('instrument', sa.String(length=16), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['patient.id'], name=op.f('fk_mood_check_patient_id_patient')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mood_check')),
        sa.UniqueConstraint('patient_id', 'period', name=op.f('uq_mood_check_patient_id')),
    )
    op.create_index(op.f('ix_mood_check_due_at'), 'mood_check', ['due_at'], unique=False)
    op.create_table(
        'heartbeat',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeat')),
    )


def downgrade() -> None:
    op.drop_table('heartbeat')
    op.drop_index(op.f('ix_mood_check_due_at'), table_name='mood_check')
    op.drop_table('mood_check')
    op.drop_index('ix_checkin_status_due_at', table_name='checkin')
    with op.batch_alter_table('checkin') as batch:
        batch.drop_column('closes_at')
        batch.drop_column('queued_at')
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('reminder_after_minutes')
        batch.drop_column('answer_window_minutes')
        batch.drop_column('mood_every_days')
        batch.drop_column('quiet_end')
        batch.drop_column('quiet_start')
    with op.batch_alter_table('clinic') as batch:
        batch.drop_column('quiet_end')
        batch.drop_column('quiet_start')
