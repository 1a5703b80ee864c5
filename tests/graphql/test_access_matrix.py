"""Who may make which change: every write mutation for every kind of caller.

EXPECTED below is the access rule table, and the documentation of it. Each cell builds a
world of its own — a coalition whose "owner" and "other" organisations are ACTIVE members —
then the mutation's own data, then the caller's token; one test per mutation sends it as
every caller and compares the whole row, so a failure shows every cell that differs.
"""

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.graphql.relay import to_global_id
from backend.graphql.schema import schema
from backend.services import (
    deliveries,
    matches,
    memberships,
    needs,
    offers,
    organisations,
    visibility_plans,
)
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_opportunity,
    make_organisation,
    make_token,
    make_workstream,
)

ANON = "UNAUTHENTICATED"  # a GraphQL error: the whole operation is refused
NO = "PermissionDenied"
PLAN_ACTION = "CommunicationAction"
NOT_SEEN = "NotFound"
OPPORTUNITY = "EngagementOpportunity"

CALLERS = (
    "anonymous",
    "secretariat_admin",
    "analyst",
    "owner_admin",
    "owner_editor",
    "owner_viewer",
    "other_editor",
    "suspended_editor",
)
# "Owner" is the organisation the change is about: the commitment's, the activity's, the
# token's, the organisation itself. For confirm/dispute the owner reported the delivery and
# the other member received it: the receiver (or the secretariat) reviews, never the reporter.
# Withdrawing is the partner's alone; the secretariat cancels instead.
EXPECTED: dict[str, tuple[str, ...]] = {
    # ---------------------- anon, sec admin, analyst, admin, editor, viewer, other, suspended
    "createCoalition": (ANON, "Coalition", NO, NO, NO, NO, NO, NO),
    "updateCoalition": (ANON, "Coalition", NO, NO, NO, NO, NO, NO),
    "createWorkstream": (ANON, "Workstream", NO, NO, NO, NO, NO, NO),
    "updateWorkstream": (ANON, "Workstream", NO, NO, NO, NO, NO, NO),
    "registerOrganisation": (ANON, "Organisation", NO, NO, NO, NO, NO, NO),
    "updateOrganisation": (ANON, "Organisation", NO, "Organisation", NO, NO, NO, NO),
    "admitMember": (ANON, "Membership", NO, NO, NO, NO, NO, NO),
    "updateMembership": (ANON, "Membership", NO, NO, NO, NO, NO, NO),
    "pledgeCommitment": (ANON, "Commitment", NO, "Commitment", "Commitment", NO, NO, NO),
    "reviseCommitment": (ANON, "Commitment", NO, "Commitment", "Commitment", NO, NO, NO),
    "advanceCommitment": (ANON, "Commitment", NO, "Commitment", "Commitment", NO, NO, NO),
    "withdrawCommitment": (ANON, NO, NO, "Commitment", "Commitment", NO, NO, NO),
    "cancelCommitment": (ANON, "Commitment", NO, NO, NO, NO, NO, NO),
    "reportDelivery": (ANON, "Delivery", NO, "Delivery", "Delivery", NO, NO, NO),
    "confirmDelivery": (ANON, "Delivery", NO, NO, NO, NO, "Delivery", NO),
    "disputeDelivery": (ANON, "Delivery", NO, NO, NO, NO, "Delivery", NO),
    "publishActivity": (ANON, "Activity", NO, "Activity", "Activity", NO, NO, NO),
    "createApiToken": (ANON, "IssuedApiToken", NO, "IssuedApiToken", NO, NO, NO, NO),
    "revokeApiToken": (ANON, "ApiToken", NO, "ApiToken", NO, NO, NO, NO),
    "publishFxRate": (ANON, "FxRate", NO, NO, NO, NO, NO, NO),
    # Visibility plans: a commitment's by its owner's writers or the secretariat's admins.
    "setVisibilityPlan": (
        ANON,
        "VisibilityPlan",
        NO,
        "VisibilityPlan",
        "VisibilityPlan",
        NO,
        NO,
        NO,
    ),
    "recordDonorApproval": (
        ANON,
        "VisibilityPlan",
        NO,
        "VisibilityPlan",
        "VisibilityPlan",
        NO,
        NO,
        NO,
    ),
    "addCommunicationAction": (ANON, PLAN_ACTION, NO, PLAN_ACTION, PLAN_ACTION, NO, NO, NO),
    "updateCommunicationAction": (ANON, PLAN_ACTION, NO, PLAN_ACTION, PLAN_ACTION, NO, NO, NO),
    "publishCommunicationAction": (ANON, PLAN_ACTION, NO, PLAN_ACTION, PLAN_ACTION, NO, NO, NO),
    "cancelCommunicationAction": (ANON, PLAN_ACTION, NO, PLAN_ACTION, PLAN_ACTION, NO, NO, NO),
    # Needs: the secretariat's admins, or the writers of the member ministry ("owner").
    "postNeed": (ANON, "Need", NO, "Need", "Need", NO, NO, NO),
    "updateNeed": (ANON, "Need", NO, "Need", "Need", NO, NO, NO),
    "cancelNeed": (ANON, "Need", NO, "Need", "Need", NO, NO, NO),
    # Offers: the owner's writers; a draft is not even seen by other members.
    "createOffer": (ANON, "Offer", NO, "Offer", "Offer", NO, NO, NO),
    "updateOffer": (ANON, "Offer", NO, "Offer", "Offer", NO, NOT_SEEN, NO),
    "moveOffer": (ANON, "Offer", NO, "Offer", "Offer", NO, NOT_SEEN, NO),
    # Matches of the other member's need and the owner's listed offer: either side, or the
    # secretariat's admins, propose; each side accepts or declines for itself; whoever
    # proposed (here the owner) or the secretariat withdraws.
    "proposeMatch": (ANON, "Match", NO, "Match", "Match", NO, "Match", NOT_SEEN),
    "acceptMatch": (ANON, NO, NO, "Match", "Match", NO, "Match", NO),
    "declineMatch": (ANON, NO, NO, "Match", "Match", NO, "Match", NO),
    "withdrawMatch": (ANON, "Match", NO, "Match", "Match", NO, NO, NO),
    # The pipeline is the secretariat's: its admins write, nobody else, the prospect included.
    "openOpportunity": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
    "updateOpportunity": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
    "moveOpportunityStage": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
    "recordDueDiligence": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
    "convertOpportunityToMembership": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
    "convertOpportunityToCommitment": (ANON, OPPORTUNITY, NO, NO, NO, NO, NO, NO),
}


@dataclass(frozen=True)
class World:
    coalition: models.Coalition
    owner: models.Organisation
    other: models.Organisation
    owner_membership: models.Membership
    other_membership: models.Membership


async def given_world(session: AsyncSession) -> World:
    coalition = await make_coalition(session)
    owner = await make_organisation(session, name="Owner")
    other = await make_organisation(session, name="Other member")
    owner_membership = await make_membership(session, coalition, owner)
    other_membership = await make_membership(session, coalition, other)
    return World(coalition, owner, other, owner_membership, other_membership)


async def token_of(session: AsyncSession, world: World, caller: str) -> str | None:
    """The caller's bearer secret; for the suspended editor, the owner is suspended first."""
    role, organisation = {
        "anonymous": (None, None),
        "secretariat_admin": (models.Role.SECRETARIAT_ADMIN, None),
        "analyst": (models.Role.SECRETARIAT_ANALYST, None),
        "owner_admin": (models.Role.PARTNER_ADMIN, world.owner),
        "owner_editor": (models.Role.PARTNER_EDITOR, world.owner),
        "owner_viewer": (models.Role.PARTNER_VIEWER, world.owner),
        "other_editor": (models.Role.PARTNER_EDITOR, world.other),
        "suspended_editor": (models.Role.PARTNER_EDITOR, world.owner),
    }[caller]
    if caller == "suspended_editor":
        assert world.owner_membership.id is not None
        await memberships.update(
            session,
            SYSTEM,
            membership_id=world.owner_membership.id,
            changes={"status": models.MembershipStatus.SUSPENDED},
        )
        await session.commit()
    return None if role is None else await make_token(session, role, organisation)


# Each returns the mutation's `input` for a change about the world's owner.
Given = Callable[[AsyncSession, World], Awaitable[dict[str, Any]]]


async def a_new_coalition(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"slug": f"{world.coalition.slug}-new", "name": "New coalition", "kind": "COALITION"}


async def a_coalition_change(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"id": gid(world.coalition), "name": "Renamed"}


async def a_new_workstream(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"coalitionId": gid(world.coalition), "name": "Teachers", "kind": "FLAGSHIP"}


async def a_workstream_change(session: AsyncSession, world: World) -> dict[str, Any]:
    workstream = await make_workstream(session, world.coalition)
    return {"id": gid(workstream), "status": "CLOSED"}


async def a_new_organisation(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"name": "Newcomer", "organisationType": "21", "country": "FR"}


async def an_organisation_change(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"id": gid(world.owner), "website": "https://owner.example.org"}


async def an_admission(session: AsyncSession, world: World) -> dict[str, Any]:
    newcomer = await make_organisation(session)
    return {"coalitionId": gid(world.coalition), "organisationId": gid(newcomer)}


async def a_membership_change(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"id": gid(world.other_membership), "role": "CHAMPION"}


async def a_pledge(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        "coalitionId": gid(world.coalition),
        "organisationId": gid(world.owner),
        "title": "Laptops for teachers",
        "resourceKind": "FINANCIAL",
        "amount": "5000",
        "currency": "USD",
    }


async def a_revision(session: AsyncSession, world: World) -> dict[str, Any]:
    commitment = await make_commitment(session, world.coalition, world.owner)
    return {"id": gid(commitment), "version": commitment.version, "title": "Revised"}


async def an_advance(session: AsyncSession, world: World) -> dict[str, Any]:
    commitment = await make_commitment(session, world.coalition, world.owner)
    return {"id": gid(commitment), "version": commitment.version, "stage": "COMMITTED"}


async def a_closing(session: AsyncSession, world: World) -> dict[str, Any]:
    commitment = await make_commitment(session, world.coalition, world.owner)
    return {"id": gid(commitment), "version": commitment.version, "reason": "Plans changed"}


async def a_delivery(session: AsyncSession, world: World) -> dict[str, Any]:
    stage = models.Stage.COMMITTED
    commitment = await make_commitment(session, world.coalition, world.owner, stage=stage)
    return {
        "commitmentId": gid(commitment),
        "deliveredOn": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "amount": "1000",
        "currency": "USD",
    }


async def a_delivery_to_review(session: AsyncSession, world: World) -> dict[str, Any]:
    stage = models.Stage.COMMITTED
    commitment = await make_commitment(session, world.coalition, world.owner, stage=stage)
    assert commitment.id is not None and world.owner.id is not None
    reporter = Actor(
        name="Owner's reporter",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=world.owner.id,
        member_coalition_ids=frozenset({commitment.coalition_id}),
    )
    delivery = await deliveries.report(
        session,
        reporter,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=dt.date.today(),
            amount=Decimal("1000"),
            currency="USD",
            receiving_organisation_id=world.other.id,
        ),
    )
    await session.commit()
    return {"id": gid(delivery)}


async def a_dispute(session: AsyncSession, world: World) -> dict[str, Any]:
    return {**await a_delivery_to_review(session, world), "reason": "Never arrived"}


async def an_activity(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        "coalitionId": gid(world.coalition),
        "organisationId": gid(world.owner),
        "kind": "EVENT",
        "title": "Launch",
        "occurredAt": "2026-01-15T10:00:00Z",
    }


async def a_new_token(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"name": "Bot", "role": "PARTNER_EDITOR", "organisationId": gid(world.owner)}


async def a_token_to_revoke(session: AsyncSession, world: World) -> dict[str, Any]:
    secret = await make_token(session, models.Role.PARTNER_EDITOR, world.owner)
    return {"prefix": secret[:12]}


async def a_rate(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"currency": "EUR", "rateDate": "2026-01-02", "usdPerUnit": "1.08", "source": "ECB"}


async def a_plan(session: AsyncSession, world: World) -> models.VisibilityPlan:
    commitment = await make_commitment(session, world.coalition, world.owner)
    assert commitment.id is not None
    plan = await visibility_plans.set_for_commitment(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=visibility_plans.PlanDraft(acknowledgement="Thanks", donor_approval_required=True),
    )
    await session.commit()
    return plan


async def a_plan_of_a_commitment(session: AsyncSession, world: World) -> dict[str, Any]:
    commitment = await make_commitment(session, world.coalition, world.owner)
    return {"commitmentId": gid(commitment), "acknowledgement": "With thanks."}


async def a_donor_approval(session: AsyncSession, world: World) -> dict[str, Any]:
    plan = await a_plan(session, world)
    return {"planId": to_global_id("VisibilityPlan", plan.id), "approvedBy": "Jane"}


async def a_new_plan_action(session: AsyncSession, world: World) -> dict[str, Any]:
    plan = await a_plan(session, world)
    return {
        "planId": to_global_id("VisibilityPlan", plan.id),
        "kind": "PRESS_RELEASE",
        "title": "Launch",
        "plannedOn": "2026-12-01",
    }


async def a_plan_action(session: AsyncSession, world: World) -> dict[str, Any]:
    plan = await a_plan(session, world)
    assert plan.id is not None
    plan.donor_approval_required = False
    session.add(plan)
    action = await visibility_plans.add_action(
        session,
        SYSTEM,
        plan_id=plan.id,
        draft=visibility_plans.ActionDraft(
            kind=models.CommunicationKind.SOCIAL_POST, title="Post", planned_on=dt.date.today()
        ),
    )
    await session.commit()
    return {"id": to_global_id("CommunicationAction", action.id)}


async def a_plan_action_change(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        **await a_plan_action(session, world),
        "kind": "EVENT_MENTION",
        "title": "At the summit",
        "plannedOn": "2026-12-20",
    }


async def as_ministry(session: AsyncSession, organisation: models.Organisation) -> None:
    assert organisation.id is not None
    await organisations.update(
        session, SYSTEM, organisation_id=organisation.id, changes={"organisation_type": "10"}
    )
    await session.commit()


def need_terms(coalition: models.Coalition) -> dict[str, Any]:
    return {
        "coalitionId": gid(coalition),
        "country": "MZ",
        "category": "CONNECTIVITY",
        "title": "Data for learners",
        "quantity": "1000",
        "unit": "learner",
    }


async def a_new_need(session: AsyncSession, world: World) -> dict[str, Any]:
    await as_ministry(session, world.owner)
    return {**need_terms(world.coalition), "organisationId": gid(world.owner)}


async def a_need_of(
    session: AsyncSession, world: World, organisation: models.Organisation
) -> models.Need:
    await as_ministry(session, organisation)
    assert world.coalition.id is not None
    need = await needs.post(
        session,
        SYSTEM,
        draft=needs.NeedDraft(
            coalition_id=world.coalition.id,
            organisation_id=organisation.id,
            country="MZ",
            category=models.InKindCategory.CONNECTIVITY,
            title="Data for learners",
            quantity=Decimal(1000),
            unit="learner",
        ),
    )
    await session.commit()
    return need


async def a_need_change(session: AsyncSession, world: World) -> dict[str, Any]:
    need = await a_need_of(session, world, world.owner)
    return {"id": to_global_id("Need", need.id), "title": "Data for 2,000 learners"}


async def a_need_to_cancel(session: AsyncSession, world: World) -> dict[str, Any]:
    need = await a_need_of(session, world, world.owner)
    return {"id": to_global_id("Need", need.id)}


def offer_terms(world: World) -> dict[str, Any]:
    return {
        "coalitionId": gid(world.coalition),
        "organisationId": gid(world.owner),
        "category": "CONNECTIVITY",
        "title": "Zero-rated sites",
        "capacity": "5000",
        "unit": "learner",
        "countries": ["MZ"],
    }


async def a_new_offer(session: AsyncSession, world: World) -> dict[str, Any]:
    return offer_terms(world)


async def an_offer_of_the_owner(
    session: AsyncSession, world: World, *, listed: bool = False
) -> models.Offer:
    assert world.coalition.id is not None and world.owner.id is not None
    offer = await offers.create(
        session,
        SYSTEM,
        draft=offers.OfferDraft(
            coalition_id=world.coalition.id,
            organisation_id=world.owner.id,
            category=models.InKindCategory.CONNECTIVITY,
            title="Zero-rated sites",
            capacity=Decimal(5000),
            unit="learner",
            countries=["MZ"],
        ),
    )
    assert offer.id is not None
    if listed:
        for status in (models.OfferStatus.UNDER_REVIEW, models.OfferStatus.LISTED):
            offer = await offers.move(session, SYSTEM, offer_id=offer.id, to=status)
    await session.commit()
    return offer


async def a_draft_offer_change(session: AsyncSession, world: World) -> dict[str, Any]:
    offer = await an_offer_of_the_owner(session, world)
    return {"id": to_global_id("Offer", offer.id), "title": "Zero-rated learning sites"}


async def a_draft_offer_to_submit(session: AsyncSession, world: World) -> dict[str, Any]:
    offer = await an_offer_of_the_owner(session, world)
    return {"id": to_global_id("Offer", offer.id), "move": "SUBMIT"}


async def a_possible_match(session: AsyncSession, world: World) -> dict[str, Any]:
    need = await a_need_of(session, world, world.other)
    offer = await an_offer_of_the_owner(session, world, listed=True)
    return {"needId": to_global_id("Need", need.id), "offerId": to_global_id("Offer", offer.id)}


async def a_match_proposed_by(session: AsyncSession, world: World, proposer: Actor) -> str:
    need = await a_need_of(session, world, world.other)
    offer = await an_offer_of_the_owner(session, world, listed=True)
    assert need.id is not None and offer.id is not None
    match = await matches.propose(session, proposer, need_id=need.id, offer_id=offer.id)
    await session.commit()
    return to_global_id("Match", match.id)


async def a_match_to_answer(session: AsyncSession, world: World) -> dict[str, Any]:
    return {"id": await a_match_proposed_by(session, world, SYSTEM)}


async def a_match_the_owner_proposed(session: AsyncSession, world: World) -> dict[str, Any]:
    assert world.coalition.id is not None
    owner_editor = Actor(
        name="owner editor",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=world.owner.id,
        member_coalition_ids=frozenset({world.coalition.id}),
    )
    return {"id": await a_match_proposed_by(session, world, owner_editor)}


async def a_new_opportunity(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        "coalitionId": gid(world.coalition),
        "prospectOrganisationId": gid(world.owner),
        "title": "Data bundles",
        "donorKind": "CORPORATE",
    }


async def an_opportunity(session: AsyncSession, world: World, **fields: Any) -> dict[str, Any]:
    """An opportunity with a prospect of its own, not yet a member."""
    prospect = await make_organisation(session)
    opportunity = await make_opportunity(session, world.coalition, prospect, **fields)
    return {"id": gid(opportunity)}


async def an_opportunity_change(session: AsyncSession, world: World) -> dict[str, Any]:
    return {**await an_opportunity(session, world), "probability": 50}


async def an_opportunity_move(session: AsyncSession, world: World) -> dict[str, Any]:
    return {**await an_opportunity(session, world), "stage": "RESEARCH"}


async def a_due_diligence(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        **await an_opportunity(session, world),
        "decision": "CLEARED",
        "riskRating": "LOW",
        "validUntil": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    }


async def an_agreed_opportunity(session: AsyncSession, world: World) -> dict[str, Any]:
    cleared_until = models.utcnow().date() + dt.timedelta(days=30)
    agreed = models.OpportunityStage.AGREED
    return await an_opportunity(session, world, stage=agreed, cleared_until=cleared_until)


async def an_opportunity_pledge(session: AsyncSession, world: World) -> dict[str, Any]:
    return {
        **await an_agreed_opportunity(session, world),
        "title": "Connectivity fund",
        "resourceKind": "FINANCIAL",
        "amount": "50000",
        "currency": "USD",
    }


WRITES: dict[str, tuple[str, Given]] = {
    "createCoalition": ("CreateCoalitionInput", a_new_coalition),
    "updateCoalition": ("UpdateCoalitionInput", a_coalition_change),
    "createWorkstream": ("CreateWorkstreamInput", a_new_workstream),
    "updateWorkstream": ("UpdateWorkstreamInput", a_workstream_change),
    "registerOrganisation": ("RegisterOrganisationInput", a_new_organisation),
    "updateOrganisation": ("UpdateOrganisationInput", an_organisation_change),
    "admitMember": ("AdmitMemberInput", an_admission),
    "updateMembership": ("UpdateMembershipInput", a_membership_change),
    "pledgeCommitment": ("PledgeCommitmentInput", a_pledge),
    "reviseCommitment": ("ReviseCommitmentInput", a_revision),
    "advanceCommitment": ("AdvanceCommitmentInput", an_advance),
    "withdrawCommitment": ("CloseCommitmentInput", a_closing),
    "cancelCommitment": ("CloseCommitmentInput", a_closing),
    "reportDelivery": ("ReportDeliveryInput", a_delivery),
    "confirmDelivery": ("ConfirmDeliveryInput", a_delivery_to_review),
    "disputeDelivery": ("DisputeDeliveryInput", a_dispute),
    "publishActivity": ("PublishActivityInput", an_activity),
    "createApiToken": ("CreateApiTokenInput", a_new_token),
    "revokeApiToken": ("RevokeApiTokenInput", a_token_to_revoke),
    "publishFxRate": ("PublishFxRateInput", a_rate),
    "setVisibilityPlan": ("SetVisibilityPlanInput", a_plan_of_a_commitment),
    "recordDonorApproval": ("RecordDonorApprovalInput", a_donor_approval),
    "addCommunicationAction": ("AddCommunicationActionInput", a_new_plan_action),
    "updateCommunicationAction": ("UpdateCommunicationActionInput", a_plan_action_change),
    "publishCommunicationAction": ("PublishCommunicationActionInput", a_plan_action),
    "cancelCommunicationAction": ("CancelCommunicationActionInput", a_plan_action),
    "postNeed": ("PostNeedInput", a_new_need),
    "updateNeed": ("UpdateNeedInput", a_need_change),
    "cancelNeed": ("CancelNeedInput", a_need_to_cancel),
    "createOffer": ("CreateOfferInput", a_new_offer),
    "updateOffer": ("UpdateOfferInput", a_draft_offer_change),
    "moveOffer": ("MoveOfferInput", a_draft_offer_to_submit),
    "proposeMatch": ("ProposeMatchInput", a_possible_match),
    "acceptMatch": ("MatchInput", a_match_to_answer),
    "declineMatch": ("CloseMatchInput", a_match_to_answer),
    "withdrawMatch": ("CloseMatchInput", a_match_the_owner_proposed),
    "openOpportunity": ("OpenOpportunityInput", a_new_opportunity),
    "updateOpportunity": ("UpdateOpportunityInput", an_opportunity_change),
    "moveOpportunityStage": ("MoveOpportunityStageInput", an_opportunity_move),
    "recordDueDiligence": ("RecordDueDiligenceInput", a_due_diligence),
    "convertOpportunityToMembership": (
        "ConvertOpportunityToMembershipInput",
        an_agreed_opportunity,
    ),
    "convertOpportunityToCommitment": (
        "ConvertOpportunityToCommitmentInput",
        an_opportunity_pledge,
    ),
}


async def attempt(api: Any, mutation: str, input: dict[str, Any], token: str | None) -> str:
    """The result's typename, or the GraphQL error code when the operation was refused."""
    input_type = WRITES[mutation][0]
    document = f"""
        mutation Attempt($input: {input_type}!) {{
          result: {mutation}(input: $input) {{ __typename ... on Error {{ code message }} }}
        }}
    """
    response = await api.post(document, {"input": input}, token=token)
    body = response.json()
    if "errors" in body:
        assert body["data"] is None, body
        code: str = body["errors"][0]["extensions"]["code"]
        return code
    result = body["data"]["result"]
    typename: str = result["__typename"]
    if typename == NO:
        assert result["code"] == "PERMISSION_DENIED", result
    return typename


def test_the_table_has_a_row_for_every_mutation():
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None

    assert set(EXPECTED) == set(WRITES) == set(mutation_type.fields)
    assert {len(row) for row in EXPECTED.values()} == {len(CALLERS)}


@pytest.mark.parametrize("mutation", EXPECTED)
async def test_access_rules_of(api, session, mutation):
    attempts = {}
    for caller in CALLERS:
        world = await given_world(session)
        input = await WRITES[mutation][1](session, world)
        attempts[caller] = (input, await token_of(session, world, caller))

    outcomes = {
        caller: await attempt(api, mutation, input, token)
        for caller, (input, token) in attempts.items()
    }

    assert outcomes == dict(zip(CALLERS, EXPECTED[mutation], strict=True))
