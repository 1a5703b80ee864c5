"""activities know when they were announced

Revision ID: 78f65e1bb9c4
Revises: 247a74161f73
Create Date: 2026-11-25 13:32:03.271553

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision: str = "78f65e1bb9c4"
down_revision: str | Sequence[str] | None = "247a74161f73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announced_at", backend.models.base.UTCDateTime(), nullable=True)
        )
    # Activities published without an embargo went public when they were published; those
    # still embargoed (or past it) are announced by the relay's next sweep.
    op.execute("UPDATE activities SET announced_at = created_at WHERE embargo_until IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("announced_at")

