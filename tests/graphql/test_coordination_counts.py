"""No N+1 in the coordination reads: a page of needs with their coverage and matches, a
page of offers with their matches, and commitments with their visibility plans cost the
same statements at 2 rows as at 8."""

import datetime as dt
from decimal import Decimal

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.services import matches, visibility_plans
from tests.coordination import given_coordination, make_need, make_offer
from tests.factories import make_commitment, make_token

NEEDS = """
query ($coalitionId: ID!) {
  needs(coalitionId: $coalitionId, first: 50) {
    edges { node {
      ref status matchedQuantity deliveredQuantity organisation { name }
      matches { status need { ref } offer { ref organisation { name } } }
    } }
  }
}
"""
OFFERS = """
query ($coalitionId: ID!) {
  offers(coalitionId: $coalitionId, first: 50) {
    edges { node { ref remaining organisation { name } matches { status need { ref } } } }
  }
}
"""
# The token, the page, then one batch each: the ministries, coverage (matched, delivered:
# two), matches, their needs, their offers, and the offers' organisations.
NEEDS_STATEMENTS = 9
# The token, the page, then one batch each: organisations, matches, their needs.
OFFERS_STATEMENTS = 5


async def given_pairs(session, pairs: int):
    """A coalition with `pairs` needs, each matched (and accepted) to an offer of its own."""
    world = await given_coordination(session)
    for number in range(pairs):
        need = await make_need(session, world, quantity=Decimal(100), title=f"Need {number}")
        offer = await make_offer(session, world, capacity=Decimal(60), title=f"Offer {number}")
        match = await matches.propose(session, SYSTEM, need_id=need.id, offer_id=offer.id)
        await matches.accept(session, world.ministry_editor, match_id=match.id)
        await matches.accept(session, world.company_editor, match_id=match.id)
        await session.commit()
    return world


async def test_needs_and_offers_pages_cost_the_same_statements_at_2_and_8_rows(
    api, session, statement_counter
):
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    counted = {}
    for pairs in (2, 8):
        world = await given_pairs(session, pairs)
        variables = {"coalitionId": to_global_id("Coalition", world.coalition_id)}
        for name, document in (("needs", NEEDS), ("offers", OFFERS)):
            statement_counter.reset()
            data = await api(document, variables, token=secretariat)
            nodes = [edge["node"] for edge in data[name]["edges"]]
            assert len(nodes) == pairs
            assert all(len(node["matches"]) == 1 for node in nodes)
            counted[(name, pairs)] = statement_counter.count

    assert counted == {
        ("needs", 2): NEEDS_STATEMENTS,
        ("needs", 8): NEEDS_STATEMENTS,
        ("offers", 2): OFFERS_STATEMENTS,
        ("offers", 8): OFFERS_STATEMENTS,
    }, statement_counter.statements


PLANS = """
query ($coalitionId: ID!) {
  commitments(first: 50, filter: {coalitionId: $coalitionId}) {
    edges { node { title visibilityPlan { acknowledgement actions { title status } } } }
  }
}
"""
# The token, the page, then one batch each: plans, their actions.
PLANS_STATEMENTS = 4


async def test_commitments_with_their_plans_cost_the_same_statements_at_2_and_8_rows(
    api, session, statement_counter
):
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    counted = {}
    for rows in (2, 8):
        world = await given_coordination(session)
        coalition = await session.get(models.Coalition, world.coalition_id)
        company = await session.get(models.Organisation, world.company_id)
        for number in range(rows):
            commitment = await make_commitment(session, coalition, company, title=f"C{number}")
            plan = await visibility_plans.set_for_commitment(
                session,
                SYSTEM,
                commitment_id=commitment.id,
                draft=visibility_plans.PlanDraft(acknowledgement="Thanks"),
            )
            await visibility_plans.add_action(
                session,
                SYSTEM,
                plan_id=plan.id,
                draft=visibility_plans.ActionDraft(
                    kind=models.CommunicationKind.SOCIAL_POST,
                    title=f"Post {number}",
                    planned_on=dt.date.today(),
                ),
            )
        await session.commit()
        statement_counter.reset()
        variables = {"coalitionId": to_global_id("Coalition", world.coalition_id)}
        data = await api(PLANS, variables, token=secretariat)
        nodes = [edge["node"] for edge in data["commitments"]["edges"]]
        assert len(nodes) == rows and all(len(n["visibilityPlan"]["actions"]) == 1 for n in nodes)
        counted[rows] = statement_counter.count

    assert counted == {2: PLANS_STATEMENTS, 8: PLANS_STATEMENTS}, statement_counter.statements
