"""engagement opportunities: the private-sector pipeline

Revision ID: 2956cc92324d
Revises: 968c02711625
Create Date: 2026-12-03 11:41:54.570338

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision: str = "2956cc92324d"
down_revision: str | Sequence[str] | None = "968c02711625"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engagement_opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("prospect_organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("donor_kind", sa.String(length=32), nullable=False),
        sa.Column("motivations", backend.models.base.JSONDocument, nullable=False),
        sa.Column("estimated_value", backend.models.base.Money(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("next_step", sa.Text(), nullable=True),
        sa.Column("next_step_on", sa.Date(), nullable=True),
        sa.Column("due_diligence_decision", sa.String(length=32), nullable=False),
        sa.Column("risk_rating", sa.String(length=32), nullable=True),
        sa.Column("due_diligence_conditions", sa.Text(), nullable=True),
        sa.Column("due_diligence_valid_until", sa.Date(), nullable=True),
        sa.Column("due_diligence_decided_by", sa.String(length=200), nullable=True),
        sa.Column("due_diligence_decided_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("converted_membership_id", sa.Integer(), nullable=True),
        sa.Column("converted_commitment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"],
            ["coalitions.id"],
            name=op.f("fk_engagement_opportunities_coalition_id_coalitions"),
        ),
        sa.ForeignKeyConstraint(
            ["converted_commitment_id"],
            ["commitments.id"],
            name=op.f("fk_engagement_opportunities_converted_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["converted_membership_id"],
            ["memberships.id"],
            name=op.f("fk_engagement_opportunities_converted_membership_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["prospect_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_engagement_opportunities_prospect_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_opportunities")),
    )
    op.create_index(
        op.f("ix_engagement_opportunities_coalition_id"),
        "engagement_opportunities",
        ["coalition_id"],
    )
    op.create_index(
        op.f("ix_engagement_opportunities_prospect_organisation_id"),
        "engagement_opportunities",
        ["prospect_organisation_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_engagement_opportunities_prospect_organisation_id"),
        table_name="engagement_opportunities",
    )
    op.drop_index(
        op.f("ix_engagement_opportunities_coalition_id"), table_name="engagement_opportunities"
    )
    op.drop_table("engagement_opportunities")
