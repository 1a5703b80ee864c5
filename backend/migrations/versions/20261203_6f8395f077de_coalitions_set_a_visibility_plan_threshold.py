"""coalitions set a visibility plan threshold

Revision ID: 6f8395f077de
Revises: 2956cc92324d
Create Date: 2026-12-03 11:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision: str = "6f8395f077de"
down_revision: str | Sequence[str] | None = "2956cc92324d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: the default threshold (models.VISIBILITY_PLAN_THRESHOLD_USD), so existing
    # coalitions need no value.
    with op.batch_alter_table("coalitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "visibility_plan_threshold_usd", backend.models.base.Money(), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("coalitions", schema=None) as batch_op:
        batch_op.drop_column("visibility_plan_threshold_usd")
