"""Needs, offers and matches over GraphQL, as the portal sends them: a ministry posts a
need, a member's offer goes through review, the hub suggests it, both sides accept, and
the commitment it made is there to read."""

from typing import Any

from backend import models
from tests.factories import (
    gid,
    make_coalition,
    make_membership,
    make_organisation,
    make_token,
)

PROBLEM = "... on Error { code message } ... on ValidationFailed { fields { field code } }"
POST_NEED = f"""
mutation ($input: PostNeedInput!) {{
  postNeed(input: $input) {{ __typename ... on Need {{ id ref status country }} {PROBLEM} }}
}}
"""
CREATE_OFFER = f"""
mutation ($input: CreateOfferInput!) {{
  createOffer(input: $input) {{ __typename ... on Offer {{ id status }} {PROBLEM} }}
}}
"""
MOVE_OFFER = f"""
mutation ($input: MoveOfferInput!) {{
  moveOffer(input: $input) {{ __typename ... on Offer {{ id status }} {PROBLEM} }}
}}
"""
PROPOSE = f"""
mutation ($input: ProposeMatchInput!) {{
  proposeMatch(input: $input) {{
    __typename ... on Match {{ id status quantity score }} {PROBLEM}
  }}
}}
"""
ACCEPT = f"""
mutation ($input: MatchInput!) {{
  acceptMatch(input: $input) {{
    __typename
    ... on Match {{ status commitment {{ stage resourceKind inKind {{ quantity unit }} }} }}
    {PROBLEM}
  }}
}}
"""
SUGGESTIONS = """
query ($id: ID!) {
  node(id: $id) {
    ... on Need {
      status matchedQuantity
      suggestedOffers(first: 3) { score reasons offer { title remaining } }
    }
  }
}
"""
OFFERS = """
query ($coalitionId: ID!) {
  offers(coalitionId: $coalitionId) { edges { node { title status } } }
}
"""


async def given_members(session) -> dict[str, Any]:
    coalition = await make_coalition(
        session, offer_attestations_required=[models.Attestation.LEARNER_DATA_PROTECTION.value]
    )
    ministry = await make_organisation(session, name="Ministry", organisation_type="10")
    company = await make_organisation(session, name="Brightwave")
    for organisation in (ministry, company):
        await make_membership(session, coalition, organisation)
    return {
        "coalition": gid(coalition),
        "ministry": gid(ministry),
        "company": gid(company),
        "ministry editor": await make_token(session, models.Role.PARTNER_EDITOR, ministry),
        "company editor": await make_token(session, models.Role.PARTNER_EDITOR, company),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ADMIN),
    }


def need_input(world: dict[str, Any], organisation: str) -> dict[str, Any]:
    return {
        "coalitionId": world["coalition"],
        "organisationId": world[organisation],
        "country": "MZ",
        "category": "CONNECTIVITY",
        "title": "Mobile data for learners",
        "quantity": "50000",
        "unit": "learner",
        "languages": ["pt"],
        "targetGroups": ["LEARNERS", "GIRLS"],
        "lowBandwidth": True,
    }


def offer_input(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "coalitionId": world["coalition"],
        "organisationId": world["company"],
        "category": "CONNECTIVITY",
        "title": "Zero-rated learning sites",
        "capacity": "30000",
        "unit": "learner",
        "countries": ["MZ"],
        "languages": ["pt"],
        "offlineCapable": True,
        **fields,
    }


async def test_from_a_need_to_the_commitment_an_accepted_match_makes(api, session):
    world = await given_members(session)
    posted = await api(
        POST_NEED, {"input": need_input(world, "ministry")}, token=world["ministry editor"]
    )
    need = posted["postNeed"]
    assert (need["__typename"], need["status"]) == ("Need", "OPEN")

    created = await api(
        CREATE_OFFER, {"input": offer_input(world, attestations=[])}, token=world["company editor"]
    )
    offer_id = created["createOffer"]["id"]
    submit = {"input": {"id": offer_id, "move": "SUBMIT"}}
    assert (await api(MOVE_OFFER, submit, token=world["company editor"]))["moveOffer"][
        "status"
    ] == "UNDER_REVIEW"
    listing = {"input": {"id": offer_id, "move": "LIST"}}
    refused = (await api(MOVE_OFFER, listing, token=world["secretariat"]))["moveOffer"]
    assert (refused["__typename"], refused["code"]) == ("Conflict", "ATTESTATION_REQUIRED")

    # Back to the member, attested, and listed.
    back = {"input": {"id": offer_id, "move": "RETURN"}}
    await api(MOVE_OFFER, back, token=world["secretariat"])
    await api(
        "mutation ($input: UpdateOfferInput!) { updateOffer(input: $input) { __typename } }",
        {"input": {"id": offer_id, "attestations": ["LEARNER_DATA_PROTECTION"]}},
        token=world["company editor"],
    )
    await api(MOVE_OFFER, submit, token=world["company editor"])
    listed = (await api(MOVE_OFFER, listing, token=world["secretariat"]))["moveOffer"]
    assert listed["status"] == "LISTED"

    suggested = (await api(SUGGESTIONS, {"id": need["id"]}, token=world["ministry editor"]))["node"]
    [suggestion] = suggested["suggestedOffers"]
    assert suggestion["offer"] == {"title": "Zero-rated learning sites", "remaining": "30000"}
    assert suggestion["score"] == 90
    assert "capacity left covers 30000 of 50000 learner" in suggestion["reasons"]

    proposal = {"input": {"needId": need["id"], "offerId": offer_id}}
    match = (await api(PROPOSE, proposal, token=world["ministry editor"]))["proposeMatch"]
    assert (match["status"], match["quantity"], match["score"]) == ("PROPOSED", "30000", 90)
    accepted = (await api(ACCEPT, {"input": {"id": match["id"]}}, token=world["company editor"]))[
        "acceptMatch"
    ]
    assert accepted == {
        "__typename": "Match",
        "status": "ACCEPTED",
        "commitment": {
            "stage": "COMMITTED",
            "resourceKind": "IN_KIND",
            "inKind": [{"quantity": "30000", "unit": "learner"}],
        },
    }
    after = (await api(SUGGESTIONS, {"id": need["id"]}, token=world["ministry editor"]))["node"]
    assert (after["status"], after["matchedQuantity"], after["suggestedOffers"]) == (
        "PARTIALLY_MATCHED",
        "30000",
        [],
    )


async def test_a_company_cannot_post_a_need_and_errors_name_the_field(api, session):
    world = await given_members(session)
    refused = (
        await api(POST_NEED, {"input": need_input(world, "company")}, token=world["company editor"])
    )["postNeed"]
    assert refused["__typename"] == "ValidationFailed"
    assert refused["fields"] == [{"field": "organisationId", "code": "NOT_ALLOWED"}]

    bad = {
        **need_input(world, "ministry"),
        "country": "ZZ",
        "quantity": "-5",
        "languages": ["pt-BR"],
    }
    invalid = (await api(POST_NEED, {"input": bad}, token=world["ministry editor"]))["postNeed"]
    assert sorted((f["field"], f["code"]) for f in invalid["fields"]) == [
        ("country", "UNKNOWN_CODE"),
        ("languages.0", "BAD_FORMAT"),
        ("quantity", "NOT_POSITIVE"),
    ]


async def test_another_member_sees_no_draft_offer_and_a_stranger_no_offer(api, session):
    world = await given_members(session)
    await api(
        CREATE_OFFER, {"input": offer_input(world, title="Draft")}, token=world["company editor"]
    )
    stranger = await make_token(
        session, models.Role.PARTNER_ADMIN, await make_organisation(session, name="Stranger")
    )
    listed = {"coalitionId": world["coalition"]}

    seen = {
        reader: [
            edge["node"]["title"]
            for edge in (await api(OFFERS, listed, token=token))["offers"]["edges"]
        ]
        for reader, token in (
            ("owner", world["company editor"]),
            ("member", world["ministry editor"]),
            ("stranger", stranger),
            ("secretariat", world["secretariat"]),
        )
    }

    assert seen == {"owner": ["Draft"], "member": [], "stranger": [], "secretariat": ["Draft"]}
