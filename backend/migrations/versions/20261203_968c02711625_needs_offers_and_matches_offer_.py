"""needs, offers and matches; offer attestations a coalition requires

Revision ID: 968c02711625
Revises: 5c1e7a9d3b42
Create Date: 2026-12-03 11:44:02.780117

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.base

revision: str = "968c02711625"
down_revision: str | Sequence[str] | None = "5c1e7a9d3b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("quantity", backend.models.base.Money(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("languages", backend.models.base.JSONDocument, nullable=False),
        sa.Column("target_groups", backend.models.base.JSONDocument, nullable=False),
        sa.Column("offline_required", sa.Boolean(), nullable=False),
        sa.Column("low_bandwidth", sa.Boolean(), nullable=False),
        sa.Column("device_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("posted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_needs_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_needs_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
        sa.UniqueConstraint("ref", name=op.f("uq_needs_ref")),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index("ix_needs_coalition_status", ["coalition_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_needs_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("countries", backend.models.base.JSONDocument, nullable=False),
        sa.Column("worldwide", sa.Boolean(), nullable=False),
        sa.Column("languages", backend.models.base.JSONDocument, nullable=False),
        sa.Column("capacity", backend.models.base.Money(), nullable=False),
        sa.Column("reserved", backend.models.base.Money(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("free_of_charge", sa.Boolean(), nullable=False),
        sa.Column("free_until", sa.Date(), nullable=True),
        sa.Column("offline_capable", sa.Boolean(), nullable=False),
        sa.Column("low_bandwidth_friendly", sa.Boolean(), nullable=False),
        sa.Column("accessibility_notes", sa.Text(), nullable=True),
        sa.Column("attestations", backend.models.base.JSONDocument, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "reserved <= capacity", name=op.f("ck_offers_reserved_within_capacity")
        ),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_offers_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_offers_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("ref", name=op.f("uq_offers_ref")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offers_coalition_status", ["coalition_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_offers_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("quantity", backend.models.base.Money(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", backend.models.base.JSONDocument, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("proposed_by_organisation_id", sa.Integer(), nullable=True),
        sa.Column("need_accepted_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("need_accepted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("offer_accepted_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("offer_accepted_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("closing_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("commitment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_matches_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["commitment_id"], ["commitments.id"], name=op.f("fk_matches_commitment_id_commitments")
        ),
        sa.ForeignKeyConstraint(["need_id"], ["needs.id"], name=op.f("fk_matches_need_id_needs")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_matches_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_matches_proposed_by_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
        sa.UniqueConstraint("commitment_id", name=op.f("uq_matches_commitment_id")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matches_coalition_id"), ["coalition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_need_id"), ["need_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_matches_offer_id"), ["offer_id"], unique=False)

    with op.batch_alter_table("coalitions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "offer_attestations_required",
                backend.models.base.JSONDocument,
                nullable=False,
                server_default="[]",
            )
        )



def downgrade() -> None:
    with op.batch_alter_table("coalitions", schema=None) as batch_op:
        batch_op.drop_column("offer_attestations_required")

    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_offer_id"))
        batch_op.drop_index(batch_op.f("ix_matches_need_id"))
        batch_op.drop_index(batch_op.f("ix_matches_coalition_id"))

    op.drop_table("matches")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_organisation_id"))
        batch_op.drop_index("ix_offers_coalition_status")

    op.drop_table("offers")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_organisation_id"))
        batch_op.drop_index("ix_needs_coalition_status")

    op.drop_table("needs")
