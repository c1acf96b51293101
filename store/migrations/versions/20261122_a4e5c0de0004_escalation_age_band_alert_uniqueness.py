"""escalation: age band on patients, one live alert per patient and kind

Revision ID: a4e5c0de0004
Revises: aa12915115db
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = 'a4e5c0de0004'
down_revision: str | None = 'aa12915115db'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
