"""No N+1 in the coordination reads: a page of needs with their coverage and matches, and a
page of offers with their matches, cost the same statements at 2 rows as at 8."""

from decimal import Decimal

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.services import matches
from tests.coordination import given_coordination, make_need, make_offer
from tests.factories import make_token

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
