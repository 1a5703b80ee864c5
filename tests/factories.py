"""Test data made through the services, so factories obey the same rules as the API.

Each factory commits, as a finished request would; defaults make a valid, plain record and
keyword arguments change what a test cares about.
"""

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.graphql.relay import to_global_id
from backend.services import (
    activities,
    coalitions,
    commitments,
    deliveries,
    memberships,
    organisations,
    pipeline,
    tokens,
)
from backend.services.commitment_rules import CommitmentDraft, InKindDraft

_numbers = count(1)


def gid(entity: Any) -> str:
    """The GraphQL global id of a model instance."""
    return to_global_id(type(entity).__name__, entity.id)


async def make_organisation(session: AsyncSession, **fields: Any) -> models.Organisation:
    number = next(_numbers)
    draft = organisations.OrganisationDraft(
        **{"name": f"Organisation {number}", "organisation_type": "70", "country": "KE", **fields}
    )
    organisation = await organisations.register(session, SYSTEM, draft=draft)
    await session.commit()
    return organisation


async def make_coalition(session: AsyncSession, **fields: Any) -> models.Coalition:
    number = next(_numbers)
    draft = coalitions.CoalitionDraft(
        **{
            "slug": f"coalition-{number}",
            "name": f"Coalition {number}",
            "kind": models.CoalitionKind.COALITION,
            "sdg_goals": ["4"],
            **fields,
        }
    )
    coalition = await coalitions.create(session, SYSTEM, draft=draft)
    await session.commit()
    return coalition


async def make_workstream(
    session: AsyncSession, coalition: models.Coalition, **fields: Any
) -> models.Workstream:
    draft = coalitions.WorkstreamDraft(
        **{"name": f"Workstream {next(_numbers)}", "kind": models.WorkstreamKind.FLAGSHIP, **fields}
    )
    assert coalition.id is not None
    workstream = await coalitions.create_workstream(
        session, SYSTEM, coalition_id=coalition.id, draft=draft
    )
    await session.commit()
    return workstream


async def make_membership(
    session: AsyncSession,
    coalition: models.Coalition,
    organisation: models.Organisation,
    **fields: Any,
) -> models.Membership:
    assert coalition.id is not None and organisation.id is not None
    membership = await memberships.admit(
        session,
        SYSTEM,
        coalition_id=coalition.id,
        organisation_id=organisation.id,
        draft=memberships.MembershipDraft(**fields),
    )
    await session.commit()
    return membership


async def make_token(
    session: AsyncSession,
    role: models.Role,
    organisation: models.Organisation | None = None,
    *,
    name: str | None = None,
) -> str:
    """A bearer secret for `role` (for `organisation`, if a partner role)."""
    issued = await tokens.create(
        session,
        SYSTEM,
        name=name or f"{role.value.lower()} {next(_numbers)}",
        role=role,
        organisation_id=organisation.id if organisation else None,
    )
    await session.commit()
    return issued.secret


def in_kind_line(**fields: Any) -> InKindDraft:
    return InKindDraft(
        **{
            "category": models.InKindCategory.CONNECTIVITY,
            "description": "Mobile data for learners",
            "quantity": Decimal("5000"),
            "unit": "GB",
            **fields,
        }
    )


async def make_commitment(
    session: AsyncSession,
    coalition: models.Coalition,
    organisation: models.Organisation,
    *,
    stage: models.Stage = models.Stage.PLEDGED,
    **fields: Any,
) -> models.Commitment:
    """A financial pledge of 10,000 USD by default, moved on to `stage` if asked."""
    assert coalition.id is not None and organisation.id is not None
    defaults: dict[str, Any] = {
        "title": f"Commitment {next(_numbers)}",
        "resource_kind": models.ResourceKind.FINANCIAL,
        "amount": Decimal("10000"),
        "currency": "USD",
    }
    draft = CommitmentDraft(
        coalition_id=coalition.id, organisation_id=organisation.id, **{**defaults, **fields}
    )
    commitment = await commitments.pledge(session, SYSTEM, draft=draft)
    assert commitment.id is not None
    if stage is models.Stage.WITHDRAWN:
        # Only the pledging organisation withdraws.
        partner = Actor(
            name="partner",
            role=models.Role.PARTNER_EDITOR,
            organisation_id=organisation.id,
            member_coalition_ids=frozenset({coalition.id}),
        )
        commitment = await commitments.withdraw(
            session, partner, commitment_id=commitment.id, version=commitment.version, reason="Test"
        )
    elif stage is models.Stage.CANCELLED:
        commitment = await commitments.cancel(
            session, SYSTEM, commitment_id=commitment.id, version=commitment.version, reason="Test"
        )
    elif stage is not models.Stage.PLEDGED:
        path = [models.Stage.COMMITTED, models.Stage.IN_DELIVERY, models.Stage.FULFILLED]
        for step in path[: path.index(stage) + 1]:
            commitment = await commitments.advance(
                session, SYSTEM, commitment_id=commitment.id, version=commitment.version, stage=step
            )
    await session.commit()
    return commitment


async def make_delivery(
    session: AsyncSession, commitment: models.Commitment, **fields: Any
) -> models.Delivery:
    """A cash delivery of 1,000 USD yesterday, reported by the secretariat by default."""
    defaults: dict[str, Any] = {
        "delivered_on": dt.date.today() - dt.timedelta(days=1),
        "amount": Decimal("1000"),
        "currency": "USD",
    }
    assert commitment.id is not None
    delivery = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(**{**defaults, **fields}),
    )
    await session.commit()
    return delivery


async def make_activity(
    session: AsyncSession, coalition: models.Coalition, **fields: Any
) -> models.Activity:
    assert coalition.id is not None
    draft = activities.ActivityDraft(
        **{
            "coalition_id": coalition.id,
            "kind": models.ActivityKind.EVENT,
            "title": f"Activity {next(_numbers)}",
            "occurred_at": models.utcnow(),
            **fields,
        }
    )
    activity = await activities.publish(session, SYSTEM, draft=draft)
    await session.commit()
    return activity


async def make_member_editor(
    session: AsyncSession, **organisation_fields: Any
) -> tuple[models.Coalition, str]:
    """A coalition and the bearer secret of an editor of one of its ACTIVE members."""
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, **organisation_fields)
    await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    return coalition, token


async def make_full_commitment(
    session: AsyncSession,
    coalition: models.Coalition,
    organisation: models.Organisation,
    title: str,
    **fields: Any,
) -> tuple[models.Commitment, models.InKindLine, models.Delivery]:
    """A COMMITTED mixed commitment with a valued in-kind line and a cash delivery: every
    figure visibility rules may hide."""
    line = in_kind_line(
        fair_value=Decimal("1200"), fair_value_currency="USD", valuation_method="List price"
    )
    commitment = await make_commitment(
        session,
        coalition,
        organisation,
        stage=models.Stage.COMMITTED,
        title=title,
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("25000"),
        in_kind=[line],
        **fields,
    )
    delivery = await make_delivery(session, commitment, amount=Decimal("1000"))
    assert commitment.id is not None
    [saved_line] = await commitments.in_kind_lines(session, commitment_ids=[commitment.id])
    return commitment, saved_line, delivery


async def make_opportunity(
    session: AsyncSession,
    coalition: models.Coalition,
    prospect: models.Organisation,
    *,
    stage: models.OpportunityStage = models.OpportunityStage.IDENTIFIED,
    cleared_until: dt.date | None = None,
    **fields: Any,
) -> models.EngagementOpportunity:
    """A corporate prospect at IDENTIFIED, walked forward to `stage` if asked; with
    `cleared_until`, its due diligence CLEARED (LOW risk) until that day."""
    assert coalition.id is not None and prospect.id is not None
    defaults: dict[str, Any] = {
        "title": f"Opportunity {next(_numbers)}",
        "donor_kind": models.DonorKind.CORPORATE,
    }
    opportunity = await pipeline.open_opportunity(
        session,
        SYSTEM,
        coalition_id=coalition.id,
        prospect_organisation_id=prospect.id,
        draft=pipeline.OpportunityDraft(**{**defaults, **fields}),
    )
    assert opportunity.id is not None
    if cleared_until is not None:
        opportunity = await pipeline.record_due_diligence(
            session,
            SYSTEM,
            opportunity_id=opportunity.id,
            draft=pipeline.DueDiligenceDraft(
                decision=models.DueDiligenceDecision.CLEARED,
                risk_rating=models.RiskRating.LOW,
                valid_until=cleared_until,
            ),
        )
    path = pipeline.FORWARD
    steps = path[1 : path.index(stage) + 1] if stage in path else (stage,)
    for step in steps:
        opportunity = await pipeline.move_stage(
            session, SYSTEM, opportunity_id=opportunity.id, stage=step
        )
    await session.commit()
    return opportunity
