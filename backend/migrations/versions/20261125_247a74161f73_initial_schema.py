"""initial schema

Revision ID: 247a74161f73
Revises:
Create Date: 2026-11-25 12:10:59.425648

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.models.base

revision: str = "247a74161f73"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("usd_per_unit", backend.models.base.Rate(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("currency", "rate_date", name=op.f("uq_fx_rates_currency_rate_date")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("acronym", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("iati_identifier", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("organisation_type", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("hub_category", sa.String(length=32), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("iati_identifier", name=op.f("uq_organisations_iati_identifier")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_organisations_organisation_type"), ["organisation_type"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_tokens_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "coalitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("host_organisation_id", sa.Integer(), nullable=True),
        sa.Column("launched_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sdg_goals", backend.models.base.JSONDocument, nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_coalitions_host_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coalitions")),
        sa.UniqueConstraint("slug", name=op.f("uq_coalitions_slug")),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("actor_organisation_id", sa.Integer(), nullable=True),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("before", backend.models.base.JSONDocument, nullable=True),
        sa.Column("after", backend.models.base.JSONDocument, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_records_actor_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_token_id"],
            ["api_tokens.id"],
            name=op.f("fk_audit_records_actor_token_id_api_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_records_entity", ["entity_type", "entity_id", "id"], unique=False
        )

    op.create_table(
        "feed_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("embargo_until", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("occurred_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("payload", backend.models.base.JSONDocument, nullable=False),
        sa.Column("published_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_feed_events_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_feed_events_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_feed_events_event_id")),
    )
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_events_coalition_id"), ["coalition_id"], unique=False
        )
        batch_op.create_index("ix_feed_events_unpublished", ["published_at", "id"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("principles_accepted", backend.models.base.JSONDocument, nullable=False),
        sa.Column("workstream_ids", backend.models.base.JSONDocument, nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_memberships_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_memberships_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "coalition_id",
            "organisation_id",
            name=op.f("uq_memberships_coalition_id_organisation_id"),
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_coalition_id"), ["coalition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_memberships_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "workstreams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("target_metric", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("target_value", backend.models.base.Money(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_workstreams_coalition_id_coalitions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workstreams")),
        sa.UniqueConstraint("coalition_id", "name", name=op.f("uq_workstreams_coalition_id_name")),
    )
    with op.batch_alter_table("workstreams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workstreams_coalition_id"), ["coalition_id"], unique=False
        )

    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("workstream_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("organisation_ids", backend.models.base.JSONDocument, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("occurred_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("countries", backend.models.base.JSONDocument, nullable=False),
        sa.Column("links", backend.models.base.JSONDocument, nullable=False),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("embargo_until", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_activities_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_activities_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["workstreams.id"],
            name=op.f("fk_activities_workstream_id_workstreams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activities_coalition_occurred", ["coalition_id", "occurred_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activities_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("coalition_id", sa.Integer(), nullable=False),
        sa.Column("workstream_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("resource_kind", sa.String(length=32), nullable=False),
        sa.Column("amount", backend.models.base.Money(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("earmarking", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("usd_rate", backend.models.base.Rate(), nullable=True),
        sa.Column("usd_rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("amount_usd", backend.models.base.Money(), nullable=True),
        sa.Column("countries", backend.models.base.JSONDocument, nullable=False),
        sa.Column("sdg_targets", backend.models.base.JSONDocument, nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("embargo_until", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("announced_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_progress_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("closing_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition_id"], ["coalitions.id"], name=op.f("fk_commitments_coalition_id_coalitions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_commitments_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["workstreams.id"],
            name=op.f("fk_commitments_workstream_id_workstreams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_commitments_organisation_id_idempotency_key"),
        ),
        sa.UniqueConstraint("ref", name=op.f("uq_commitments_ref")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commitments_coalition_created", ["coalition_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commitments_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_commitments_stage"), ["stage"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_commitments_workstream_id"), ["workstream_id"], unique=False
        )

    op.create_table(
        "in_kind_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("quantity", backend.models.base.Money(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("fair_value", backend.models.base.Money(), nullable=True),
        sa.Column("fair_value_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("valuation_method", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("free_of_charge", sa.Boolean(), nullable=False),
        sa.Column("free_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_in_kind_lines_commitment_id_commitments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_kind_lines")),
    )
    with op.batch_alter_table("in_kind_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_in_kind_lines_commitment_id"), ["commitment_id"], unique=False
        )

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("in_kind_line_id", sa.Integer(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("amount", backend.models.base.Money(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("amount_usd", backend.models.base.Money(), nullable=True),
        sa.Column("usd_rate", backend.models.base.Rate(), nullable=True),
        sa.Column("quantity", backend.models.base.Money(), nullable=True),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("receiving_organisation_id", sa.Integer(), nullable=True),
        sa.Column("beneficiaries", sa.Integer(), nullable=True),
        sa.Column("evidence_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reported_by_organisation_id", sa.Integer(), nullable=True),
        sa.Column("reported_by_token_id", sa.Integer(), nullable=True),
        sa.Column("reported_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("reviewed_at", backend.models.base.UTCDateTime(), nullable=True),
        sa.Column("dispute_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", backend.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["commitments.id"],
            name=op.f("fk_deliveries_commitment_id_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["in_kind_line_id"],
            ["in_kind_lines.id"],
            name=op.f("fk_deliveries_in_kind_line_id_in_kind_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["receiving_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deliveries_receiving_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deliveries_reported_by_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_token_id"],
            ["api_tokens.id"],
            name=op.f("fk_deliveries_reported_by_token_id_api_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "commitment_id",
            "idempotency_key",
            name=op.f("uq_deliveries_commitment_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveries_commitment_id"), ["commitment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_commitment_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("in_kind_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_in_kind_lines_commitment_id"))

    op.drop_table("in_kind_lines")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_workstream_id"))
        batch_op.drop_index(batch_op.f("ix_commitments_stage"))
        batch_op.drop_index(batch_op.f("ix_commitments_organisation_id"))
        batch_op.drop_index("ix_commitments_coalition_created")

    op.drop_table("commitments")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_organisation_id"))
        batch_op.drop_index("ix_activities_coalition_occurred")

    op.drop_table("activities")
    with op.batch_alter_table("workstreams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workstreams_coalition_id"))

    op.drop_table("workstreams")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_coalition_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_events_unpublished")
        batch_op.drop_index(batch_op.f("ix_feed_events_coalition_id"))

    op.drop_table("feed_events")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_entity")

    op.drop_table("audit_records")
    op.drop_table("coalitions")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_organisation_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_organisation_type"))
        batch_op.drop_index(batch_op.f("ix_organisations_name"))

    op.drop_table("organisations")
    op.drop_table("fx_rates")
