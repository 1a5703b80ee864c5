"""The audit trail, for the secretariat."""

import datetime as dt
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, relay
from backend.graphql.context import Context
from backend.services import audit


@strawberry.type(description="One change: who made it, when, and the entity before and after.")
class AuditRecord:
    occurred_at: dt.datetime = strawberry.field(description="When.")
    actor_name: str = strawberry.field(description="Who (the token's holder).")
    actor_role: str = strawberry.field(description="Their role.")
    actor_organisation_id: strawberry.ID | None = strawberry.field(
        description="Their organisation."
    )
    action: str = strawberry.field(description="e.g. commitment.pledged.")
    entity_id: strawberry.ID = strawberry.field(description="Global id of what changed.")
    before: JSON | None = strawberry.field(description="The entity's fields before.")
    after: JSON | None = strawberry.field(description="The entity's fields after.")

    @classmethod
    def from_model(cls, record: models.AuditRecord) -> "AuditRecord":
        organisation = record.actor_organisation_id
        return cls(
            occurred_at=record.occurred_at,
            actor_name=record.actor_name,
            actor_role=record.actor_role,
            actor_organisation_id=relay.to_global_id("Organisation", organisation)
            if organisation
            else None,
            action=record.action,
            entity_id=relay.to_global_id(record.entity_type, record.entity_id),
            before=cast(JSON, record.before),
            after=cast(JSON, record.after),
        )


@strawberry.type
class Query:
    @strawberry.field(
        description="Every recorded change to one entity, oldest first (secretariat only)."
    )
    async def audit_trail(
        self, info: Info[Context, None], entity_id: strawberry.ID
    ) -> list[AuditRecord]:
        # A malformed id names no entity, but is still refused to anyone outside the
        # secretariat, so the answer never depends on what the caller sent.
        entity_type, id = relay.from_global_id(entity_id) or ("", 0)
        try:
            async with info.context.reading() as session:
                records = await audit.trail(
                    session, info.context.actor, entity_type=entity_type, entity_id=id
                )
        except DomainError as error:
            raise errors.for_query(error) from error
        return [AuditRecord.from_model(record) for record in records]
