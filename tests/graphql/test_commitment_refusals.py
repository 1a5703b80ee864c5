import datetime as dt

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import to_global_id
from backend.services import coalitions
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
    make_workstream,
)

Role = models.Role
Stage = models.Stage
# Each write, its input type, a valid rest of its input, and who may make it.
WRITES = {
    "reviseCommitment": ("ReviseCommitmentInput", {"title": "Renamed"}, "owner"),
    "advanceCommitment": ("AdvanceCommitmentInput", {"stage": "COMMITTED"}, "owner"),
    "withdrawCommitment": ("CloseCommitmentInput", {"reason": "Budget cut"}, "owner"),
    "cancelCommitment": ("CloseCommitmentInput", {"reason": "Budget cut"}, "secretariat"),
}
PLEDGE = """
mutation Pledge($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Error { code message } }
}
"""
WRITTEN = [models.Commitment, models.InKindLine, models.FeedEvent, models.AuditRecord]


def _document(mutation):
    input_type = WRITES[mutation][0]
    return f"""
    mutation ($input: {input_type}!) {{
      {mutation}(input: $input) {{ __typename ... on Error {{ code }} }}
    }}
    """


def _input(mutation, commitment_id, version=1):
    return {"input": {"id": commitment_id, "version": version, **WRITES[mutation][1]}}


def _problem(mutation, typename, code):
    return {mutation: {"__typename": typename, "code": code}}


async def _counts(session):
    return [
        await session.scalar(sa.select(sa.func.count()).select_from(model)) for model in WRITTEN
    ]


async def _reload(session, commitment):
    row = await session.get(models.Commitment, commitment.id, populate_existing=True)
    return row.title, row.stage, row.version


async def _scene(session, **fields):
    """A PUBLIC pledge by Acme in a coalition where Globex is a member too."""
    coalition = await make_coalition(session, name="Education")
    acme = await make_organisation(session, name="Acme")
    globex = await make_organisation(session, name="Globex")
    for organisation in (acme, globex):
        await make_membership(session, coalition, organisation)
    commitment = await make_commitment(session, coalition, acme, title="Original", **fields)
    tokens = {
        "owner": await make_token(session, Role.PARTNER_EDITOR, acme),
        "owner's viewer": await make_token(session, Role.PARTNER_VIEWER, acme),
        "other partner": await make_token(session, Role.PARTNER_ADMIN, globex),
        "secretariat": await make_token(session, Role.SECRETARIAT_ADMIN),
        "analyst": await make_token(session, Role.SECRETARIAT_ANALYST),
    }
    return coalition, acme, commitment, tokens


@pytest.mark.parametrize("mutation", list(WRITES))
async def test_an_unknown_commitment_is_not_found(api, session, mutation):
    _, _, _, tokens = await _scene(session)
    token = tokens[WRITES[mutation][2]]

    data = await api(
        _document(mutation), _input(mutation, to_global_id("Commitment", 999)), token=token
    )

    assert data == _problem(mutation, "NotFound", "NOT_FOUND")


@pytest.mark.parametrize(
    "mutation", ["reviseCommitment", "advanceCommitment", "withdrawCommitment"]
)
@pytest.mark.parametrize(
    "hidden",
    [
        {"visibility": models.Visibility.MEMBERS},
        {"embargo_until": models.utcnow() + dt.timedelta(days=30)},
    ],
    ids=["members-only", "embargoed"],
)
async def test_a_commitment_the_caller_may_not_see_is_not_found(api, session, mutation, hidden):
    elsewhere = await make_coalition(session)
    outsider = await make_organisation(session)
    await make_membership(session, elsewhere, outsider)
    token = await make_token(session, Role.PARTNER_EDITOR, outsider)
    _, _, commitment, _ = await _scene(session, **hidden)
    before = await _counts(session)

    data = await api(_document(mutation), _input(mutation, gid(commitment)), token=token)

    assert data == _problem(mutation, "NotFound", "NOT_FOUND")
    assert await _counts(session) == before


DENIED = [
    (mutation, caller)
    for mutation in WRITES
    for caller in ["owner's viewer", "other partner", "analyst", "owner", "secretariat"]
    if caller != WRITES[mutation][2]
    and not (caller == "secretariat" and mutation in ("reviseCommitment", "advanceCommitment"))
]


@pytest.mark.parametrize(("mutation", "caller"), DENIED)
async def test_a_caller_without_the_right_is_denied_and_nothing_changes(
    api, session, mutation, caller
):
    _, _, commitment, tokens = await _scene(session)
    before = await _counts(session)

    data = await api(_document(mutation), _input(mutation, gid(commitment)), token=tokens[caller])

    assert data == _problem(mutation, "PermissionDenied", "PERMISSION_DENIED")
    assert await _counts(session) == before
    assert await _reload(session, commitment) == ("Original", Stage.PLEDGED, 1)


@pytest.mark.parametrize("mutation", list(WRITES))
async def test_a_stale_version_is_refused_and_nothing_changes(api, session, mutation):
    _, _, commitment, tokens = await _scene(session)
    await api(
        _document("reviseCommitment"),
        _input("reviseCommitment", gid(commitment)),
        token=tokens["owner"],
    )
    before = await _counts(session)

    data = await api(
        _document(mutation),
        _input(mutation, gid(commitment), version=1),
        token=tokens[WRITES[mutation][2]],
    )

    assert data == _problem(mutation, "Conflict", "STALE_VERSION")
    assert await _counts(session) == before
    assert await _reload(session, commitment) == ("Renamed", Stage.PLEDGED, 2)


@pytest.mark.parametrize(
    ("mutation", "stage"),
    [
        ("reviseCommitment", Stage.FULFILLED),
        ("advanceCommitment", Stage.IN_DELIVERY),
        ("withdrawCommitment", Stage.CANCELLED),
        ("cancelCommitment", Stage.WITHDRAWN),
    ],
)
async def test_a_step_the_stages_do_not_allow_is_refused(api, session, mutation, stage):
    _, _, commitment, tokens = await _scene(session, stage=stage)
    before = await _counts(session)

    data = await api(
        _document(mutation),
        _input(mutation, gid(commitment), version=commitment.version),
        token=tokens[WRITES[mutation][2]],
    )

    assert data == _problem(mutation, "Conflict", "INVALID_TRANSITION")
    assert await _counts(session) == before
    assert await _reload(session, commitment) == ("Original", stage, commitment.version)


def _pledge(coalition, **fields):
    return {
        "input": {
            "coalitionId": gid(coalition),
            "title": "School connectivity fund",
            "resourceKind": "FINANCIAL",
            "amount": "1000",
            "currency": "USD",
            **fields,
        }
    }


@pytest.mark.parametrize("caller", ["owner", "secretariat"])
async def test_a_closed_coalition_takes_no_pledges(api, session, caller):
    coalition, acme, _, tokens = await _scene(session)
    await coalitions.update(
        session,
        SYSTEM,
        coalition_id=coalition.id,
        changes={"status": models.CoalitionStatus.CLOSED},
    )
    await session.commit()
    before = await _counts(session)

    data = await api(PLEDGE, _pledge(coalition, organisationId=gid(acme)), token=tokens[caller])

    assert data == {
        "pledgeCommitment": {
            "__typename": "Conflict",
            "code": "COALITION_CLOSED",
            "message": "The coalition 'Education' is closed.",
        }
    }
    assert await _counts(session) == before


@pytest.mark.parametrize("caller", ["owner's viewer", "analyst"])
async def test_readers_cannot_pledge(api, session, caller):
    coalition, acme, _, tokens = await _scene(session)
    before = await _counts(session)

    data = await api(PLEDGE, _pledge(coalition, organisationId=gid(acme)), token=tokens[caller])

    assert data["pledgeCommitment"]["__typename"] == "PermissionDenied"
    assert await _counts(session) == before


async def test_a_partner_cannot_pledge_for_another_organisation(api, session):
    coalition, acme, _, tokens = await _scene(session)

    data = await api(
        PLEDGE, _pledge(coalition, organisationId=gid(acme)), token=tokens["other partner"]
    )

    assert data == {
        "pledgeCommitment": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "You may only write for your own organisation.",
        }
    }


async def test_a_partner_pledges_only_where_it_is_an_active_member(api, session):
    _, _, _, tokens = await _scene(session)
    elsewhere = await make_coalition(session)

    data = await api(PLEDGE, _pledge(elsewhere), token=tokens["owner"])

    assert data == {
        "pledgeCommitment": {
            "__typename": "PermissionDenied",
            "code": "PERMISSION_DENIED",
            "message": "Your organisation is not an active member of this coalition.",
        }
    }


async def test_pledges_to_missing_parents_are_not_found(api, session):
    coalition, acme, _, tokens = await _scene(session)
    foreign = await make_workstream(session, await make_coalition(session))
    cases = [
        (
            _pledge(
                coalition, organisationId=gid(acme), coalitionId=to_global_id("Coalition", 999)
            ),
            "No coalition with this id.",
        ),
        (
            _pledge(coalition, organisationId=to_global_id("Organisation", 999)),
            "No organisation with this id.",
        ),
        (
            _pledge(coalition, organisationId=gid(acme), workstreamId=gid(foreign)),
            "No workstream with this id in the commitment's coalition.",
        ),
    ]
    before = await _counts(session)

    answers = [await api(PLEDGE, pledge, token=tokens["secretariat"]) for pledge, _ in cases]

    assert answers == [
        {"pledgeCommitment": {"__typename": "NotFound", "code": "NOT_FOUND", "message": message}}
        for _, message in cases
    ]
    assert await _counts(session) == before


@pytest.mark.parametrize("mutation", ["pledgeCommitment", *WRITES])
async def test_anonymous_writes_are_refused_whole(api, session, mutation):
    coalition, _, commitment, _ = await _scene(session)
    if mutation == "pledgeCommitment":
        document, variables = PLEDGE, _pledge(coalition)
    else:
        document, variables = _document(mutation), _input(mutation, gid(commitment))
    before = await _counts(session)

    response = await api.post(document, variables)

    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert await _counts(session) == before
