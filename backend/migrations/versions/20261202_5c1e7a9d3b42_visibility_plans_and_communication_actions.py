"""visibility plans and communication actions

Revision ID: 5c1e7a9d3b42
Revises: 166ec9bafa2d
Create Date: 2026-12-02 21:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision: str = "5c1e7a9d3b42"
down_revision: str | Sequence[str] | None = "166ec9bafa2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visibility_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=True),
        sa.Column("workstream_id", sa.Integer(), nullable=True),
        sa.Column("acknowledgement", sa.Text(), nullable=False),
        sa.Column("logo_rules", sa.Text(), nullable=True),
        sa.Column("donor_approval_required", sa.Boolean(), nullable=False),
        sa.Column("donor_approved_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("donor_approved_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(commitment_id IS NULL) <> (workstream_id IS NULL)",
            name="ck_visibility_plans_one_subject",
        ),
        sa.ForeignKeyConstraint(["coalition_id"], ["coalitions.id"]),
        sa.ForeignKeyConstraint(["commitment_id"], ["commitments.id"]),
        sa.ForeignKeyConstraint(["workstream_id"], ["workstreams.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commitment_id"),
        sa.UniqueConstraint("workstream_id"),
    )
    op.create_index(op.f("ix_visibility_plans_coalition_id"), "visibility_plans", ["coalition_id"])
    op.create_table(
        "communication_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["visibility_plans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_communication_actions_plan_id"), "communication_actions", ["plan_id"])
    op.create_index(
        "ix_communication_actions_status_planned",
        "communication_actions",
        ["status", "planned_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_communication_actions_status_planned", table_name="communication_actions")
    op.drop_index(op.f("ix_communication_actions_plan_id"), table_name="communication_actions")
    op.drop_table("communication_actions")
    op.drop_index(op.f("ix_visibility_plans_coalition_id"), table_name="visibility_plans")
    op.drop_table("visibility_plans")
