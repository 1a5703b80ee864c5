"""Reporting inputs: pass-through links, DAC sectors and co-reported reach shares."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)

RESULT = """
  __typename
  ... on Commitment { sectors fundedThrough { ref } }
  ... on ValidationFailed { fields { field code } }
  ... on Error { code }
"""
PLEDGE = f"""
mutation Pledge($input: PledgeCommitmentInput!) {{ pledgeCommitment(input: $input) {{ {RESULT} }} }}
"""
REVISE = f"""
mutation Revise($input: ReviseCommitmentInput!) {{ reviseCommitment(input: $input) {{ {RESULT} }} }}
"""
REPORT = """
mutation Report($input: ReportDeliveryInput!) {
  reportDelivery(input: $input) {
    __typename
    ... on Delivery { beneficiaries beneficiaryShare usdRateDate usdRateSource }
    ... on ValidationFailed { fields { field code } }
  }
}
"""


async def _foundation_and_agency(session):
    coalition = await make_coalition(session)
    foundation = await make_organisation(session, organisation_type="60")
    agency = await make_organisation(session, organisation_type="40")
    for organisation in (foundation, agency):
        await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, foundation)
    channel = await make_commitment(
        session, coalition, agency, stage=models.Stage.COMMITTED, amount=Decimal("500000")
    )
    return coalition, foundation, token, channel


def _pledge(coalition, **fields):
    return {
        "input": {
            "coalitionId": gid(coalition),
            "title": "Through the agency",
            "resourceKind": "FINANCIAL",
            "amount": "200000",
            "currency": "USD",
            **fields,
        }
    }


async def test_cash_may_pass_through_another_members_commitment(session, api):
    coalition, _, token, channel = await _foundation_and_agency(session)

    data = await api(
        PLEDGE,
        _pledge(coalition, fundedThroughId=gid(channel), sectors=["11220", "11130"]),
        token=token,
    )

    assert data["pledgeCommitment"] == {
        "__typename": "Commitment",
        "sectors": ["11220", "11130"],
        "fundedThrough": {"ref": channel.ref},
    }


async def test_a_pass_through_link_that_would_count_wrongly_is_refused(session, api):
    coalition, foundation, token, channel = await _foundation_and_agency(session)
    own = await make_commitment(session, coalition, foundation, stage=models.Stage.COMMITTED)
    withdrawn = await make_commitment(
        session, coalition, await make_organisation(session), stage=models.Stage.WITHDRAWN
    )
    link = {"fundedThroughId": gid(own)}

    own_refused = await api(PLEDGE, _pledge(coalition, **link), token=token)
    withdrawn_refused = await api(
        PLEDGE, _pledge(coalition, fundedThroughId=gid(withdrawn)), token=token
    )
    in_kind_refused = await api(
        PLEDGE,
        _pledge(
            coalition,
            fundedThroughId=gid(channel),
            resourceKind="IN_KIND",
            amount=None,
            currency=None,
            inKind=[
                {"category": "DEVICES", "description": "Tablets", "quantity": "5", "unit": "device"}
            ],
        ),
        token=token,
    )

    refusal = {
        "__typename": "ValidationFailed",
        "code": "INVALID_INPUT",
        "fields": [{"field": "fundedThroughId", "code": "NOT_ALLOWED"}],
    }
    assert own_refused["pledgeCommitment"] == refusal
    assert withdrawn_refused["pledgeCommitment"] == refusal
    assert in_kind_refused["pledgeCommitment"] == refusal


async def test_links_stay_one_level_deep(session, api):
    coalition, _, token, channel = await _foundation_and_agency(session)
    passing = await api(PLEDGE, _pledge(coalition, fundedThroughId=gid(channel)), token=token)
    assert passing["pledgeCommitment"]["__typename"] == "Commitment"
    third = await make_organisation(session)
    await make_membership(session, coalition, third)
    third_token = await make_token(session, models.Role.PARTNER_EDITOR, third)
    pass_through = await session.scalar(
        sa.select(models.Commitment).where(
            models.Commitment.funded_through_id == channel.id  # type: ignore[arg-type]
        )
    )
    admin = await make_token(session, models.Role.SECRETARIAT_ADMIN)

    # Through a commitment that passes its money on itself: refused.
    chained = await api(
        PLEDGE,
        _pledge(coalition, fundedThroughId=gid(pass_through)),
        token=third_token,
    )
    # The channel itself cannot become a pass-through while others pass through it.
    looped = await api(
        REVISE,
        {
            "input": {
                "id": gid(channel),
                "version": channel.version,
                "fundedThroughId": gid(await make_commitment(session, coalition, third)),
            }
        },
        token=admin,
    )

    refusal = [{"field": "fundedThroughId", "code": "NOT_ALLOWED"}]
    assert chained["pledgeCommitment"]["fields"] == refusal
    assert looped["reviseCommitment"]["fields"] == refusal


async def test_a_link_to_another_coalitions_commitment_is_not_found(session, api):
    coalition, _, token, _ = await _foundation_and_agency(session)
    elsewhere = await make_commitment(
        session, await make_coalition(session), await make_organisation(session)
    )

    data = await api(PLEDGE, _pledge(coalition, fundedThroughId=gid(elsewhere)), token=token)

    assert data["pledgeCommitment"] == {"__typename": "NotFound", "code": "NOT_FOUND"}


async def test_an_unknown_sector_is_refused(session, api):
    coalition, _, token, _ = await _foundation_and_agency(session)

    data = await api(PLEDGE, _pledge(coalition, sectors=["11220", "99999"]), token=token)

    assert data["pledgeCommitment"]["fields"] == [{"field": "sectors.1", "code": "UNKNOWN_CODE"}]


async def _committed_for(session):
    coalition = await make_coalition(session)
    partner = await make_organisation(session)
    await make_membership(session, coalition, partner)
    commitment = await make_commitment(session, coalition, partner, stage=models.Stage.COMMITTED)
    return commitment, await make_token(session, models.Role.PARTNER_EDITOR, partner)


def _delivery(commitment, **fields):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    return {
        "input": {
            "commitmentId": gid(commitment),
            "deliveredOn": yesterday.isoformat(),
            "amount": "100",
            "currency": "USD",
            **fields,
        }
    }


async def test_a_co_reported_reach_carries_its_share(session, api):
    commitment, token = await _committed_for(session)

    shared = await api(
        REPORT, _delivery(commitment, beneficiaries=9000, beneficiaryShare="33.33"), token=token
    )
    whole = await api(REPORT, _delivery(commitment, beneficiaries=100), token=token)

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert shared["reportDelivery"] == {
        "__typename": "Delivery",
        "beneficiaries": 9000,
        "beneficiaryShare": "33.33",
        "usdRateDate": yesterday,
        "usdRateSource": "identity",
    }
    assert whole["reportDelivery"]["beneficiaryShare"] == "100"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"beneficiaries": 10, "beneficiaryShare": "0"}, "NOT_POSITIVE"),
        ({"beneficiaries": 10, "beneficiaryShare": "100.01"}, "BAD_RANGE"),
        ({"beneficiaries": 10, "beneficiaryShare": "33.333"}, "TOO_PRECISE"),
        ({"beneficiaryShare": "50"}, "NOT_ALLOWED"),
    ],
)
async def test_a_bad_share_is_refused(session, api, fields, code):
    commitment, token = await _committed_for(session)

    data = await api(REPORT, _delivery(commitment, **fields), token=token)

    assert data["reportDelivery"] == {
        "__typename": "ValidationFailed",
        "fields": [{"field": "beneficiaryShare", "code": code}],
    }


async def test_a_link_to_a_commitment_the_partner_may_not_see_is_not_found(session, api):
    coalition, _, token, _ = await _foundation_and_agency(session)
    hidden = await make_commitment(
        session,
        coalition,
        await make_organisation(session),
        stage=models.Stage.COMMITTED,
        embargo_until=models.utcnow() + dt.timedelta(days=5),
    )

    data = await api(PLEDGE, _pledge(coalition, fundedThroughId=gid(hidden)), token=token)

    assert data["pledgeCommitment"] == {"__typename": "NotFound", "code": "NOT_FOUND"}
