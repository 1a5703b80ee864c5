"""No N+1: the portal's nested reads cost the same number of SQL statements at 5 rows as at 50.

Each relation is one batched DataLoader statement, so the counts below are exact; a change
that makes one grow with the rows (a lazy load, a loader bypassed) fails here.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM
from backend.services import coalitions, commitments, deliveries, memberships, organisations
from tests.factories import gid, in_kind_line

COALITION_PAGE = """
query CoalitionPage($slug: String!, $coalition: ID!) {
  coalition(slug: $slug) {
    id name
    workstreams { id name }
    memberships {
      status role workstreams { name }
      organisation {
        id name
        commitments(coalitionId: $coalition) {
          id title stage amount amountUsd workstream { name }
          inKind { category quantity unit fairValue }
          deliveries { id deliveredOn amount status }
        }
      }
    }
  }
}
"""
COMMITMENT_LIST = """
query CommitmentList($coalition: ID!, $first: Int!) {
  commitments(first: $first, filter: {coalitionId: $coalition}) {
    edges {
      node {
        id title amount
        organisation { name }
        coalition { slug }
        workstream { name }
        inKind { category quantity unit fairValue }
        deliveries { amount status }
      }
    }
  }
}
"""
# coalition, workstreams, memberships, workstreams of memberships, organisations,
# commitments of organisations, workstreams of commitments, in-kind lines, deliveries —
# minus one: the memberships' and commitments' workstreams come through the same loader,
# which has them all cached after the first batch.
COALITION_PAGE_STATEMENTS = 8
# the page, organisations, coalitions, workstreams, in-kind lines, deliveries
COMMITMENT_LIST_STATEMENTS = 6


VALUED_LINE = in_kind_line(
    fair_value=Decimal("900"), fair_value_currency="USD", valuation_method="Retail price"
)


async def given_coalition(
    session: AsyncSession, slug: str, *, members: int, commitments_each: int
) -> models.Coalition:
    """`members` ACTIVE members, each with COMMITTED mixed commitments delivered once.

    Built through the services in one transaction (the factories commit every row).
    """
    coalition = await coalitions.create(
        session,
        SYSTEM,
        draft=coalitions.CoalitionDraft(slug=slug, name=slug, kind=models.CoalitionKind.COALITION),
    )
    assert coalition.id is not None
    flagships = [
        await coalitions.create_workstream(
            session,
            SYSTEM,
            coalition_id=coalition.id,
            draft=coalitions.WorkstreamDraft(name=name, kind=models.WorkstreamKind.FLAGSHIP),
        )
        for name in ("Connectivity", "Teachers")
    ]
    for number in range(members):
        organisation = await organisations.register(
            session,
            SYSTEM,
            draft=organisations.OrganisationDraft(
                name=f"{slug} member {number}", organisation_type="70", country="KE"
            ),
        )
        workstream = flagships[number % 2]
        assert organisation.id is not None and workstream.id is not None
        await memberships.admit(
            session,
            SYSTEM,
            coalition_id=coalition.id,
            organisation_id=organisation.id,
            draft=memberships.MembershipDraft(workstream_ids=[workstream.id]),
        )
        for _ in range(commitments_each):
            await a_delivered_commitment(session, coalition, organisation, workstream)
    await session.commit()
    return coalition


async def a_delivered_commitment(
    session: AsyncSession,
    coalition: models.Coalition,
    organisation: models.Organisation,
    workstream: models.Workstream,
) -> None:
    assert coalition.id is not None and organisation.id is not None
    commitment = await commitments.pledge(
        session,
        SYSTEM,
        draft=commitments.CommitmentDraft(
            coalition_id=coalition.id,
            organisation_id=organisation.id,
            workstream_id=workstream.id,
            title="Data and cash",
            resource_kind=models.ResourceKind.MIXED,
            amount=Decimal("5000"),
            currency="USD",
            in_kind=[
                in_kind_line(
                    fair_value=Decimal("900"),
                    fair_value_currency="USD",
                    valuation_method="Retail price",
                )
            ],
        ),
    )
    assert commitment.id is not None
    await commitments.advance(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        version=commitment.version,
        stage=models.Stage.COMMITTED,
    )
    await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=dt.date.today(), amount=Decimal("500"), currency="USD"
        ),
    )


def sizes(memberships: list[dict[str, Any]]) -> dict[str, int]:
    """How many members, commitments, in-kind lines and deliveries the page shows."""
    shown = [
        commitment
        for membership in memberships
        for commitment in membership["organisation"]["commitments"]
    ]
    return {
        "members": len(memberships),
        "commitments": len(shown),
        "inKind": sum(len(commitment["inKind"]) for commitment in shown),
        "deliveries": sum(len(commitment["deliveries"]) for commitment in shown),
    }


async def test_coalition_page_costs_the_same_statements_at_5_and_50_members(
    api, session, statement_counter
):
    small = await given_coalition(session, "small", members=5, commitments_each=2)
    large = await given_coalition(session, "large", members=50, commitments_each=2)
    seen = {}

    for coalition in (small, large):
        statement_counter.reset()
        data = await api(COALITION_PAGE, {"slug": coalition.slug, "coalition": gid(coalition)})
        seen[coalition.slug] = sizes(data["coalition"]["memberships"]) | {
            "statements": statement_counter.count
        }

    print(f"coalition page: {seen}")
    assert seen == {
        "small": {
            "members": 5,
            "commitments": 10,
            "inKind": 10,
            "deliveries": 10,
            "statements": COALITION_PAGE_STATEMENTS,
        },
        "large": {
            "members": 50,
            "commitments": 100,
            "inKind": 100,
            "deliveries": 100,
            "statements": COALITION_PAGE_STATEMENTS,
        },
    }, statement_counter.statements


async def test_commitment_list_costs_the_same_statements_at_5_and_50_rows(
    api, session, statement_counter
):
    coalition = await given_coalition(session, "listed", members=25, commitments_each=2)
    seen = {}

    for first in (5, 50):
        statement_counter.reset()
        data = await api(COMMITMENT_LIST, {"coalition": gid(coalition), "first": first})
        rows = [edge["node"] for edge in data["commitments"]["edges"]]
        seen[first] = {
            "rows": len(rows),
            "inKind": sum(len(row["inKind"]) for row in rows),
            "deliveries": sum(len(row["deliveries"]) for row in rows),
            "statements": statement_counter.count,
        }

    print(f"commitment list: {seen}")
    assert seen == {
        5: {"rows": 5, "inKind": 5, "deliveries": 5, "statements": COMMITMENT_LIST_STATEMENTS},
        50: {"rows": 50, "inKind": 50, "deliveries": 50, "statements": COMMITMENT_LIST_STATEMENTS},
    }, statement_counter.statements
