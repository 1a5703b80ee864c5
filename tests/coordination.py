"""Builders for the coordination layer's tests: a coalition with a ministry and a member
that offers, needs and listed offers, and the actors of each side."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.services import needs, offers
from tests.factories import make_coalition, make_membership, make_organisation


@dataclass(frozen=True)
class Coordination:
    """The ids stay readable after a test rolls its session back (which expires rows)."""

    coalition_id: int
    ministry_id: int
    company_id: int

    def actor_of(
        self,
        organisation_id: int,
        role: models.Role = models.Role.PARTNER_EDITOR,
        *,
        member: bool = True,
    ) -> Actor:
        return Actor(
            name=f"organisation {organisation_id} {role.value.lower()}",
            role=role,
            organisation_id=organisation_id,
            member_coalition_ids=frozenset({self.coalition_id}) if member else frozenset(),
        )

    @property
    def ministry_editor(self) -> Actor:
        return self.actor_of(self.ministry_id)

    @property
    def company_editor(self) -> Actor:
        return self.actor_of(self.company_id)


async def given_coordination(session: AsyncSession, **coalition_fields: Any) -> Coordination:
    coalition = await make_coalition(session, **coalition_fields)
    ministry = await make_organisation(
        session, name="Ministry of Education", organisation_type="10", country="MZ"
    )
    company = await make_organisation(session, name="Brightwave Telecom")
    for organisation in (ministry, company):
        await make_membership(session, coalition, organisation)
    assert coalition.id is not None and ministry.id is not None and company.id is not None
    return Coordination(coalition.id, ministry.id, company.id)


async def make_need(
    session: AsyncSession, world: Coordination, *, by_ministry: bool = True, **fields: Any
) -> models.Need:
    draft = needs.NeedDraft(
        **{
            "coalition_id": world.coalition_id,
            "organisation_id": world.ministry_id if by_ministry else None,
            "country": "MZ",
            "category": models.InKindCategory.CONNECTIVITY,
            "title": "Mobile data for 50,000 learners",
            "quantity": Decimal("50000"),
            "unit": "learner",
            "languages": ["pt"],
            **fields,
        }
    )
    need = await needs.post(session, SYSTEM, draft=draft)
    await session.commit()
    return need


async def make_offer(
    session: AsyncSession,
    world: Coordination,
    *,
    status: models.OfferStatus = models.OfferStatus.LISTED,
    organisation_id: int | None = None,
    **fields: Any,
) -> models.Offer:
    """An offer of the company (by default), moved through review to `status`."""
    draft = offers.OfferDraft(
        **{
            "coalition_id": world.coalition_id,
            "organisation_id": organisation_id or world.company_id,
            "category": models.InKindCategory.CONNECTIVITY,
            "title": "Zero-rated learning sites",
            "capacity": Decimal("30000"),
            "unit": "learner",
            "countries": ["MZ", "AO"],
            "languages": ["pt", "en"],
            "free_until": dt.date.today() + dt.timedelta(days=365),
            "attestations": [code.value for code in models.Attestation],
            **fields,
        }
    )
    offer = await offers.create(session, SYSTEM, draft=draft)
    offer_id = offer.id
    assert offer_id is not None
    path = {
        models.OfferStatus.DRAFT: [],
        models.OfferStatus.UNDER_REVIEW: [models.OfferStatus.UNDER_REVIEW],
        models.OfferStatus.LISTED: [models.OfferStatus.UNDER_REVIEW, models.OfferStatus.LISTED],
        models.OfferStatus.PAUSED: [
            models.OfferStatus.UNDER_REVIEW,
            models.OfferStatus.LISTED,
            models.OfferStatus.PAUSED,
        ],
        models.OfferStatus.WITHDRAWN: [models.OfferStatus.WITHDRAWN],
    }[status]
    for step in path:
        offer = await offers.move(session, SYSTEM, offer_id=offer_id, to=step)
    await session.commit()
    return offer
