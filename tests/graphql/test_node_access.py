"""`node(id:)` for every node type, asked by readers who must not see the object in full.

The per-type index of the visibility rules (README "What you see"): for each type in
NODE_TYPES, objects of the "owner" organisation read by anonymous, by a partner admin of
an organisation outside every coalition ("stranger"), by a partner admin of another
member of the same coalition ("member"), by the owner's admin, by the secretariat's
analyst and by a secretariat admin; each answer compared whole. test_visibility.py
checks that lists, totals and nested fields follow the same rules as `node(id:)`.
"""

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.graphql.schema import NODE_TYPES
from backend.services import matches
from tests.coordination import Coordination, make_need, make_offer
from tests.factories import (
    gid,
    make_activity,
    make_coalition,
    make_full_commitment,
    make_membership,
    make_opportunity,
    make_organisation,
    make_token,
    make_workstream,
)

READERS = ("anonymous", "stranger", "member", "owner", "analyst", "secretariat")

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    ... on Coalition { slug }
    ... on Workstream { name }
    ... on Organisation { name }
    ... on Membership { status organisation { name } coalition { slug } }
    ... on Commitment {
      title amount amountUsd inKind { fairValue } deliveries { amount amountUsd }
    }
    ... on InKindLine { quantity fairValue }
    ... on Delivery { amount amountUsd }
    ... on Activity { title }
    ... on ApiToken { name }
    ... on Need { title }
    ... on Offer { title offerStatus: status }
    ... on Match { matchStatus: status need { title } offer { title } }
    ... on EngagementOpportunity { title stage }
  }
}
"""


async def given_objects(
    api: Any, session: AsyncSession
) -> tuple[dict[str, str], dict[str, str | None]]:
    """The owner's objects of every type by case name (their global ids), and each
    reader's token."""
    coalition = await make_coalition(session, slug="coalition")
    applied_to = await make_coalition(session, slug="applied-to")
    workstream = await make_workstream(session, coalition, name="Teachers")
    owner = await make_organisation(session, name="Owner")
    member = await make_organisation(session, name="Member")
    stranger = await make_organisation(session, name="Stranger")
    membership = await make_membership(session, coalition, owner)
    await make_membership(session, coalition, member)
    application = await make_membership(
        session, applied_to, owner, status=models.MembershipStatus.APPLIED
    )

    async def full_commitment(title: str, **fields: Any) -> tuple[Any, Any, Any]:
        return await make_full_commitment(session, coalition, owner, title, **fields)

    embargo = {"embargo_until": models.utcnow() + dt.timedelta(days=30)}
    confidential, confidential_line, confidential_delivery = await full_commitment(
        "Confidential", visibility=models.Visibility.CONFIDENTIAL
    )
    members_only, members_only_line, _ = await full_commitment(
        "Members only", visibility=models.Visibility.MEMBERS
    )
    embargoed, _, embargoed_delivery = await full_commitment("Embargoed", **embargo)
    members_activity = await make_activity(
        session,
        coalition,
        organisation_id=owner.id,
        title="Members' debate",
        visibility=models.Visibility.MEMBERS,
    )
    embargoed_activity = await make_activity(
        session, coalition, organisation_id=owner.id, title="Launch", **embargo
    )
    assert coalition.id is not None and owner.id is not None and member.id is not None
    # A need the secretariat posted for a country, the owner's offers, and a match of them.
    world = Coordination(coalition.id, ministry_id=member.id, company_id=owner.id)
    need = await make_need(session, world, by_ministry=False, title="Data for learners")
    draft_offer = await make_offer(
        session, world, status=models.OfferStatus.DRAFT, title="Draft offer"
    )
    listed_offer = await make_offer(session, world, title="Listed offer")
    assert need.id is not None and listed_offer.id is not None
    match = await matches.propose(session, SYSTEM, need_id=need.id, offer_id=listed_offer.id)
    await session.commit()
    # The owner is the prospect: even so it never sees what the secretariat thinks of it.
    opportunity = await make_opportunity(session, coalition, owner, title="Owner's upgrade")
    admin = models.Role.PARTNER_ADMIN
    tokens = {
        "anonymous": None,
        "stranger": await make_token(session, admin, stranger),
        "member": await make_token(session, admin, member),
        "owner": await make_token(session, admin, owner, name="Owner's bot"),
        "analyst": await make_token(session, models.Role.SECRETARIAT_ANALYST),
        "secretariat": await make_token(session, models.Role.SECRETARIAT_ADMIN),
    }
    listed = await api(
        "query Tokens($owner: ID!) { apiTokens(organisationId: $owner) { id name } }",
        {"owner": gid(owner)},
        token=tokens["secretariat"],
    )
    [owner_token] = [token["id"] for token in listed["apiTokens"] if token["name"] == "Owner's bot"]
    objects = {
        "coalition": gid(coalition),
        "workstream": gid(workstream),
        "organisation": gid(owner),
        "active membership": gid(membership),
        "application": gid(application),
        "confidential commitment": gid(confidential),
        "confidential in-kind line": gid(confidential_line),
        "confidential delivery": gid(confidential_delivery),
        "members-only commitment": gid(members_only),
        "members-only in-kind line": gid(members_only_line),
        "embargoed commitment": gid(embargoed),
        "embargoed delivery": gid(embargoed_delivery),
        "members-only activity": gid(members_activity),
        "embargoed activity": gid(embargoed_activity),
        "owner's token": owner_token,
        "need": to_global_id("Need", need.id),
        "draft offer": to_global_id("Offer", draft_offer.id),
        "listed offer": to_global_id("Offer", listed_offer.id),
        "match": to_global_id("Match", match.id),
        "pipeline opportunity": gid(opportunity),
    }
    return objects, tokens


def shown(figure: str, *, figures: bool) -> str | None:
    return figure if figures else None


def commitment(title: str, *, figures: bool) -> dict[str, Any]:
    """A commitment made by `full_commitment`, with or without its figures."""
    amount, delivered = shown("25000.00", figures=figures), shown("1000.00", figures=figures)
    return {
        "__typename": "Commitment",
        "title": title,
        "amount": amount,
        "amountUsd": amount,
        "inKind": [{"fairValue": shown("1200.00", figures=figures)}],
        "deliveries": [{"amount": delivered, "amountUsd": delivered}],
    }


def line(*, figures: bool) -> dict[str, Any]:
    fair_value = shown("1200.00", figures=figures)
    return {"__typename": "InKindLine", "quantity": "5000", "fairValue": fair_value}


def delivery(*, figures: bool) -> dict[str, Any]:
    amount = shown("1000.00", figures=figures)
    return {"__typename": "Delivery", "amount": amount, "amountUsd": amount}


def typed(typename: str, **fields: Any) -> dict[str, Any]:
    return {"__typename": typename, **fields}


def seen_by(readers: tuple[str, ...], answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` for `readers`, null for every other reader."""
    return {reader: answer if reader in readers else None for reader in READERS}


EVERYONE = READERS
MEMBERS = ("member", "owner", "analyst", "secretariat")
OWNER_AND_SECRETARIAT = ("owner", "analyst", "secretariat")
FIGURES = {reader: reader in OWNER_AND_SECRETARIAT for reader in READERS}
ACTIVE_MEMBERSHIP = {
    "__typename": "Membership",
    "status": "ACTIVE",
    "organisation": {"name": "Owner"},
    "coalition": {"slug": "coalition"},
}

# case -> (its node type, what each reader gets)
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "coalition": ("Coalition", seen_by(EVERYONE, typed("Coalition", slug="coalition"))),
    "workstream": ("Workstream", seen_by(EVERYONE, typed("Workstream", name="Teachers"))),
    "organisation": ("Organisation", seen_by(EVERYONE, typed("Organisation", name="Owner"))),
    "active membership": ("Membership", seen_by(EVERYONE, ACTIVE_MEMBERSHIP)),
    "application": ("Membership", seen_by(
        OWNER_AND_SECRETARIAT,
        {**ACTIVE_MEMBERSHIP, "status": "APPLIED", "coalition": {"slug": "applied-to"}},
    )),
    # Listed for everyone; its figures for the owner and the secretariat only.
    "confidential commitment": ("Commitment", {
        reader: commitment("Confidential", figures=figures) for reader, figures in FIGURES.items()
    }),
    "confidential in-kind line": ("InKindLine", {
        reader: line(figures=figures) for reader, figures in FIGURES.items()
    }),
    "confidential delivery": ("Delivery", {
        reader: delivery(figures=figures) for reader, figures in FIGURES.items()
    }),
    "members-only commitment": ("Commitment", seen_by(
        MEMBERS, commitment("Members only", figures=True)
    )),
    "members-only in-kind line": ("InKindLine", seen_by(MEMBERS, line(figures=True))),
    "embargoed commitment": ("Commitment", seen_by(
        OWNER_AND_SECRETARIAT, commitment("Embargoed", figures=True)
    )),
    "embargoed delivery": ("Delivery", seen_by(OWNER_AND_SECRETARIAT, delivery(figures=True))),
    "members-only activity": ("Activity", seen_by(
        MEMBERS, typed("Activity", title="Members' debate")
    )),
    "embargoed activity": ("Activity", seen_by(
        OWNER_AND_SECRETARIAT, typed("Activity", title="Launch")
    )),
    # Tokens are their organisation's admins' and the secretariat admins' business.
    "owner's token": ("ApiToken", seen_by(
        ("owner", "secretariat"), typed("ApiToken", name="Owner's bot")
    )),
    # Needs are the coalition's business; offers once listed too; drafts and matches are
    # their owner's (and the other side's) and the secretariat's.
    "need": ("Need", seen_by(MEMBERS, typed("Need", title="Data for learners"))),
    "draft offer": ("Offer", seen_by(
        OWNER_AND_SECRETARIAT, typed("Offer", title="Draft offer", offerStatus="DRAFT")
    )),
    "listed offer": ("Offer", seen_by(
        MEMBERS, typed("Offer", title="Listed offer", offerStatus="LISTED")
    )),
    "match": ("Match", seen_by(OWNER_AND_SECRETARIAT, typed(
        "Match",
        matchStatus="PROPOSED",
        need={"title": "Data for learners"},
        offer={"title": "Listed offer"},
    ))),
    # The pipeline is the secretariat's alone, whoever the prospect is.
    "pipeline opportunity": ("EngagementOpportunity", seen_by(
        ("analyst", "secretariat"),
        typed("EngagementOpportunity", title="Owner's upgrade", stage="IDENTIFIED"),
    )),
}  # fmt: skip


def test_every_node_type_has_a_case():
    covered = {node_type for node_type, _ in EXPECTED.values()}

    assert covered == {node_type.__name__ for node_type in NODE_TYPES}


async def test_node_shows_each_reader_what_the_rules_allow(api, session):
    objects, tokens = await given_objects(api, session)

    seen = {
        case: {
            reader: (await api(NODE, {"id": id}, token=token))["node"]
            for reader, token in tokens.items()
        }
        for case, id in objects.items()
    }

    assert seen == {case: answers for case, (_, answers) in EXPECTED.items()}
