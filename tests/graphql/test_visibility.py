"""Who sees what, on every path to it: top-level lists and their totals, nested fields and
`node(id:)` must all apply the same rules (services.access).

The readers: anonymous, a partner outside the coalition, a partner of another member, the
owning organisation's viewer, and the secretariat's analyst (and, for applications, the
applicant).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from tests.factories import (
    gid,
    make_activity,
    make_coalition,
    make_full_commitment,
    make_membership,
    make_organisation,
    make_token,
)

FUTURE = dt.timedelta(days=30)


@dataclass(frozen=True)
class Parties:
    coalition: models.Coalition
    owner: models.Organisation
    tokens: dict[str, str | None]


async def given_parties(session: AsyncSession) -> Parties:
    """A coalition with two ACTIVE members (owner, member) and an outsider, a member elsewhere."""
    coalition = await make_coalition(session, slug="coalition")
    owner = await make_organisation(session, name="Owner")
    member = await make_organisation(session, name="Member")
    outsider = await make_organisation(session, name="Outsider")
    await make_membership(session, coalition, owner)
    await make_membership(session, coalition, member)
    await make_membership(session, await make_coalition(session), outsider)
    viewer = models.Role.PARTNER_VIEWER
    tokens = {
        "anonymous": None,
        "outsider": await make_token(session, viewer, outsider),
        "member": await make_token(session, viewer, member),
        "owner": await make_token(session, viewer, owner),
        "analyst": await make_token(session, models.Role.SECRETARIAT_ANALYST),
    }
    return Parties(coalition, owner, tokens)


async def a_full_commitment(
    session: AsyncSession, parties: Parties, title: str, **fields: Any
) -> tuple[models.Commitment, models.InKindLine, models.Delivery]:
    """A COMMITTED mixed commitment of the owner, valued in-kind line and cash delivery."""
    return await make_full_commitment(session, parties.coalition, parties.owner, title, **fields)


COMMITMENT_PATHS = """
query Paths($slug: String!, $coalition: ID!, $owner: ID!, $id: ID!, $line: ID!, $delivery: ID!) {
  commitments(first: 100) { totalCount edges { node { ...Seen } } }
  coalition(slug: $slug) {
    commitments(first: 100) { totalCount edges { node { ...Seen } } }
    memberships { organisation { id commitments(coalitionId: $coalition) { ...Seen } } }
  }
  organisation(id: $owner) { commitments { ...Seen } }
  commitment: node(id: $id) { ... on Commitment { ...Seen } }
  line: node(id: $line) { ... on InKindLine { fairValue } }
  delivery: node(id: $delivery) { ... on Delivery { amount amountUsd } }
}
fragment Seen on Commitment {
  title amount amountUsd inKind { fairValue } deliveries { amount amountUsd }
}
"""


async def commitments_seen(
    api: Any, parties: Parties, token: str | None, item: tuple[Any, Any, Any]
) -> dict[str, Any]:
    """What the reader gets on each path: the commitments listed, totals, and nodes."""
    commitment, line, delivery = item
    data = await api(
        COMMITMENT_PATHS,
        {
            "slug": parties.coalition.slug,
            "coalition": gid(parties.coalition),
            "owner": gid(parties.owner),
            "id": gid(commitment),
            "line": gid(line),
            "delivery": gid(delivery),
        },
        token=token,
    )
    coalition = data["coalition"]
    [nested] = [
        membership["organisation"]["commitments"]
        for membership in coalition["memberships"]
        if membership["organisation"]["id"] == gid(parties.owner)
    ]
    return {
        "commitments": [edge["node"] for edge in data["commitments"]["edges"]],
        "commitments.totalCount": data["commitments"]["totalCount"],
        "coalition.commitments": [edge["node"] for edge in coalition["commitments"]["edges"]],
        "coalition.commitments.totalCount": coalition["commitments"]["totalCount"],
        "coalition.memberships.organisation.commitments": nested,
        "organisation.commitments": data["organisation"]["commitments"],
        "node": data["commitment"],
        "node(inKindLine)": data["line"],
        "node(delivery)": data["delivery"],
    }


def figures(title: str, *, shown: bool = True) -> dict[str, Any]:
    """How a commitment made by `a_full_commitment` reads, with or without its figures."""
    if not shown:
        return {
            "title": title,
            "amount": None,
            "amountUsd": None,
            "inKind": [{"fairValue": None}],
            "deliveries": [{"amount": None, "amountUsd": None}],
        }
    return {
        "title": title,
        "amount": "25000.00",
        "amountUsd": "25000.00",
        "inKind": [{"fairValue": "1200.00"}],
        "deliveries": [{"amount": "1000.00", "amountUsd": "1000.00"}],
    }


def everywhere(listed: list[dict[str, Any]], *, node: dict[str, Any] | None) -> dict[str, Any]:
    """The answer when every list path holds `listed` and the nodes show `node` (or null)."""
    return {
        "commitments": listed,
        "commitments.totalCount": len(listed),
        "coalition.commitments": listed,
        "coalition.commitments.totalCount": len(listed),
        "coalition.memberships.organisation.commitments": listed,
        "organisation.commitments": listed,
        "node": node,
        "node(inKindLine)": node and node["inKind"][0],
        "node(delivery)": node and node["deliveries"][0],
    }


async def test_confidential_commitment_is_listed_with_figures_only_for_owner_and_secretariat(
    api, session
):
    parties = await given_parties(session)
    confidential = await a_full_commitment(
        session, parties, "Confidential", visibility=models.Visibility.CONFIDENTIAL
    )

    seen = {
        reader: await commitments_seen(api, parties, token, confidential)
        for reader, token in parties.tokens.items()
    }

    shown = {"anonymous": False, "outsider": False, "member": False, "owner": True, "analyst": True}
    assert seen == {
        reader: everywhere(
            [figures("Confidential", shown=with_figures)],
            node=figures("Confidential", shown=with_figures),
        )
        for reader, with_figures in shown.items()
    }


async def test_members_commitment_is_seen_only_by_members_owner_and_secretariat(api, session):
    parties = await given_parties(session)
    await a_full_commitment(session, parties, "Public")
    members_only = await a_full_commitment(
        session, parties, "Members only", visibility=models.Visibility.MEMBERS
    )

    seen = {
        reader: await commitments_seen(api, parties, token, members_only)
        for reader, token in parties.tokens.items()
    }

    hidden = everywhere([figures("Public")], node=None)
    shown = everywhere([figures("Members only"), figures("Public")], node=figures("Members only"))
    assert seen == {
        "anonymous": hidden,
        "outsider": hidden,
        "member": shown,
        "owner": shown,
        "analyst": shown,
    }


async def test_embargoed_commitment_is_seen_only_by_owner_and_secretariat_until_it_ends(
    api, session
):
    parties = await given_parties(session)
    now = models.utcnow()
    await a_full_commitment(session, parties, "Embargo over", embargo_until=now - FUTURE)
    embargoed = await a_full_commitment(session, parties, "Embargoed", embargo_until=now + FUTURE)

    seen = {
        reader: await commitments_seen(api, parties, token, embargoed)
        for reader, token in parties.tokens.items()
    }

    hidden = everywhere([figures("Embargo over")], node=None)
    shown = everywhere([figures("Embargoed"), figures("Embargo over")], node=figures("Embargoed"))
    assert seen == {
        "anonymous": hidden,
        "outsider": hidden,
        "member": hidden,
        "owner": shown,
        "analyst": shown,
    }


ACTIVITY_LIST = """
query Activities($coalition: ID!) {
  activities(first: 100, filter: {coalitionId: $coalition}) {
    totalCount edges { node { title } }
  }
}
"""
ACTIVITY_NODE = "query Activity($id: ID!) { node(id: $id) { ... on Activity { title } } }"


async def activities_seen(
    api: Any, parties: Parties, token: str | None, ids: dict[str, str]
) -> dict[str, Any]:
    """The listed titles and their total, and which activities `node(id:)` returns."""
    data = await api(ACTIVITY_LIST, {"coalition": gid(parties.coalition)}, token=token)
    nodes = {
        title: (await api(ACTIVITY_NODE, {"id": id}, token=token))["node"]
        for title, id in ids.items()
    }
    return {
        "activities": [edge["node"]["title"] for edge in data["activities"]["edges"]],
        "activities.totalCount": data["activities"]["totalCount"],
        "node": nodes,
    }


async def test_members_and_embargoed_activities_are_hidden_on_every_path(api, session):
    parties = await given_parties(session)
    now = models.utcnow()
    # Latest first, one day apart.
    published = {
        "Embargoed": {"embargo_until": now + FUTURE},
        "Members only": {"visibility": models.Visibility.MEMBERS},
        "Public": {},
        "Embargo over": {"embargo_until": now - FUTURE},
    }
    ids = {
        title: gid(
            await make_activity(
                session,
                parties.coalition,
                organisation_id=parties.owner.id,
                title=title,
                occurred_at=now - dt.timedelta(days=days),
                **fields,
            )
        )
        for days, (title, fields) in enumerate(published.items())
    }

    seen = {
        reader: await activities_seen(api, parties, token, ids)
        for reader, token in parties.tokens.items()
    }

    def only(*listed: str) -> dict[str, Any]:
        return {
            "activities": list(listed),
            "activities.totalCount": len(listed),
            "node": {title: {"title": title} if title in listed else None for title in published},
        }

    assert seen == {
        "anonymous": only("Public", "Embargo over"),
        "outsider": only("Public", "Embargo over"),
        "member": only("Members only", "Public", "Embargo over"),
        "owner": only("Embargoed", "Members only", "Public", "Embargo over"),
        "analyst": only("Embargoed", "Members only", "Public", "Embargo over"),
    }


MEMBERSHIP_PATHS = """
query Memberships(
  $slug: String!, $coalition: ID!, $applicant: ID!, $id: ID!, $status: MembershipStatus!
) {
  coalition(slug: $slug) {
    memberships { status organisation { name } }
    withStatus: memberships(status: $status) { organisation { name } }
  }
  organisations(first: 100, filter: {coalitionId: $coalition}) {
    totalCount edges { node { name } }
  }
  organisation(id: $applicant) { memberships { status coalition { slug } } }
  node(id: $id) { ... on Membership { status } }
}
"""


def memberships_answer(status: str, *, visible: bool) -> dict[str, Any]:
    """MEMBERSHIP_PATHS' answer when the applicant's membership is `visible` or not."""
    members = [{"status": "ACTIVE", "organisation": {"name": name}} for name in ("Owner", "Member")]
    applicant = [{"status": status, "organisation": {"name": "Applicant"}}]
    # `organisations(filter: {coalitionId})` lists ACTIVE members only, whoever asks.
    names = ["Member", "Owner"]
    return {
        "coalition": {
            "memberships": members + (applicant if visible else []),
            "withStatus": [{"organisation": {"name": "Applicant"}}] if visible else [],
        },
        "organisations": {
            "totalCount": len(names),
            "edges": [{"node": {"name": name}} for name in names],
        },
        "organisation": {
            "memberships": [{"status": status, "coalition": {"slug": "coalition"}}]
            if visible
            else []
        },
        "node": {"status": status} if visible else None,
    }


@pytest.mark.parametrize("status", ["APPLIED", "REJECTED"])
async def test_an_application_or_rejection_is_seen_only_by_the_applicant_and_the_secretariat(
    api, session, status
):
    parties = await given_parties(session)
    applicant = await make_organisation(session, name="Applicant")
    application = await make_membership(
        session, parties.coalition, applicant, status=models.MembershipStatus(status)
    )
    tokens = parties.tokens | {
        "applicant": await make_token(session, models.Role.PARTNER_VIEWER, applicant)
    }
    variables = {
        "slug": "coalition",
        "coalition": gid(parties.coalition),
        "applicant": gid(applicant),
        "id": gid(application),
        "status": status,
    }

    seen = {
        reader: await api(MEMBERSHIP_PATHS, variables, token=token)
        for reader, token in tokens.items()
    }

    hidden = memberships_answer(status, visible=False)
    shown = memberships_answer(status, visible=True)
    assert seen == {
        "anonymous": hidden,
        "outsider": hidden,
        "member": hidden,
        "owner": hidden,
        "analyst": shown,
        "applicant": shown,
    }
