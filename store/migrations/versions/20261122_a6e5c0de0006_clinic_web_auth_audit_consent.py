"""clinic web app: sign-in, audit events, consent history

Revision ID: a6e5c0de0006
Revises: a5e5c0de0005
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a6e5c0de0006'
down_revision: str | None = 'a5e5c0de0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_audit_event_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)
    op.create_index(op.f('ix_audit_event_patient_id'), 'audit_event', ['patient_id'], unique=False)
    op.create_table('consent_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recorded_by', sa.String(length=254), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_consent_event_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_event'))
    )
    op.create_index(op.f('ix_consent_event_patient_id'), 'consent_event', ['patient_id'], unique=False)
    with op.batch_alter_table('clinician') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('sessions_valid_after', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('clinic') as batch:
        batch.add_column(sa.Column('escalation_overrides', sa.Text(), nullable=True))
    op.create_table('care_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_care_team_clinic_id_clinic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_team')),
    sa.UniqueConstraint('clinic_id', 'name', name=op.f('uq_care_team_clinic_id'))
    )
    op.create_table('care_team_member',
    sa.Column('care_team_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['care_team_id'], ['care_team.id'], name=op.f('fk_care_team_member_care_team_id_care_team')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_care_team_member_clinician_id_clinician')),
    sa.PrimaryKeyConstraint('care_team_id', 'clinician_id', name=op.f('pk_care_team_member'))
    )
    op.create_table('message_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('approved_by', sa.String(length=254), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_message_template_clinic_id_clinic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_template'))
    )
    op.create_index(op.f('ix_message_template_clinic_id'), 'message_template', ['clinic_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_message_template_clinic_id'), table_name='message_template')
    op.drop_table('message_template')
    op.drop_table('care_team_member')
    op.drop_table('care_team')
    with op.batch_alter_table('clinic') as batch:
        batch.drop_column('escalation_overrides')
    with op.batch_alter_table('clinician') as batch:
        batch.drop_column('sessions_valid_after')
        batch.drop_column('last_login_at')
        batch.drop_column('locked_until')
        batch.drop_column('failed_logins')
        batch.drop_column('password_hash')
    op.drop_index(op.f('ix_consent_event_patient_id'), table_name='consent_event')
    op.drop_table('consent_event')
    op.drop_index(op.f('ix_audit_event_patient_id'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    op.drop_table('audit_event')
