"""scheduling: quiet hours per clinic and patient, questionnaire cadence, conversation hold

Revision ID: a5e5c0de0005
Revises: a4e5c0de0004
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = 'a5e5c0de0005'
down_revision: str | None = 'a4e5c0de0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
