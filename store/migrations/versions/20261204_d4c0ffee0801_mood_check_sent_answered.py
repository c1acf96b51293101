"""mood_check: when the PHQ-2 was asked and when it was answered

Revision ID: d4c0ffee0801
Revises: d309decbeed8
Create Date: 2026-12-04 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd4c0ffee0801'
down_revision: str | None = 'd309decbeed8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Rows started before the dialogue reported back stayed `queued` once asked. Those with
# a PHQ score whose item 2 was answered within the period are answered; the rest count
# as asked (sent), so they close unanswered with their period instead of looking never
# asked. Their times were not recorded and stay empty.
ANSWERED = """
UPDATE mood_check SET status = 'answered'
WHERE status = 'queued' AND EXISTS (
    SELECT 1 FROM score
    WHERE score.patient_id = mood_check.patient_id
      AND score.instrument IN ('PHQ-2', 'PHQ-9')
      AND (score.items LIKE '2=%' OR score.items LIKE '%,2=%')
      AND score.created_at >= mood_check.queued_at
      AND score.created_at < mood_check.closes_at
)
"""
ASKED = "UPDATE mood_check SET status = 'sent' WHERE status = 'queued'"


def upgrade() -> None:
    with op.batch_alter_table('mood_check') as batch:
        batch.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(ANSWERED)
    op.execute(ASKED)


def downgrade() -> None:
    # Back to the statuses the older code knows: asked rows look started again.
    op.execute(
        "UPDATE mood_check SET status = 'queued' WHERE status IN ('sent', 'answered', 'unanswered')"
    )
    with op.batch_alter_table('mood_check') as batch:
        batch.drop_column('answered_at')
        batch.drop_column('sent_at')
