"""Every kind of feed event reaches a subscriber, after its commit, as its catalogue entry
says: the subject object of its kind, filled from the payload, and no other."""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM
from backend.graphql.relay import from_global_id
from backend.services import (
    commitments,
    deliveries,
    embargoes,
    matches,
    memberships,
    visibility_plans,
)
from events import messages
from tests.coordination import Coordination, make_need, make_offer
from tests.factories import (
    gid,
    make_activity,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)
from tests.feed_client import feed_client
from tests.graphql.test_feed_renders import SHARED

SUBJECTS = (
    "commitment",
    "delivery",
    "membership",
    "activity",
    "need",
    "offer",
    "match",
    "communication",
)
# The node type of each subject's id, where it is not the subject's name capitalised.
SUBJECT_TYPES = {"communication": "CommunicationAction"}


async def every_kind_of_event(session, coalition):
    """Commits, through the services, at least one event of each type for `coalition`."""
    organisation = await make_organisation(session, name="Brightwave Telecom")
    membership = await make_membership(session, coalition, organisation)
    assert membership.id is not None
    await memberships.update(
        session,
        SYSTEM,
        membership_id=membership.id,
        changes={"role": models.MembershipRole.WORKSTREAM_LEAD},
    )
    pledged = await make_commitment(session, coalition, organisation)
    assert pledged.id is not None
    await commitments.revise(
        session,
        SYSTEM,
        commitment_id=pledged.id,
        version=pledged.version,
        changes={"title": "Revised"},
    )
    await make_commitment(session, coalition, organisation, stage=models.Stage.FULFILLED)
    delivering = await make_commitment(
        session, coalition, organisation, stage=models.Stage.IN_DELIVERY
    )
    await make_commitment(session, coalition, organisation, stage=models.Stage.WITHDRAWN)
    await make_commitment(session, coalition, organisation, stage=models.Stage.CANCELLED)
    confirmed = await make_delivery(session, delivering)
    disputed = await make_delivery(session, delivering)
    assert confirmed.id is not None and disputed.id is not None
    await deliveries.confirm(session, SYSTEM, delivery_id=confirmed.id)
    await deliveries.dispute(session, SYSTEM, delivery_id=disputed.id, reason="Not received")
    await make_activity(session, coalition, title="Launch")
    # Recorded under embargo, then announced once it is over.
    tomorrow = models.utcnow() + dt.timedelta(days=1)
    embargoed = await make_commitment(session, coalition, organisation, embargo_until=tomorrow)
    quiet = await make_activity(session, coalition, title="Quiet", embargo_until=tomorrow)
    for model, row in ((models.Commitment, embargoed), (models.Activity, quiet)):
        await session.execute(
            sa.update(model).where(col(model.id) == row.id).values(embargo_until=models.utcnow())
        )
    await embargoes.announce_due(session)
    await session.commit()
    await coordination_events(session, coalition, organisation, pledged)


async def coordination_events(session, coalition, organisation, commitment):
    """A need posted, an offer listed, a match proposed and accepted, a plan action
    published."""
    ministry = await make_organisation(session, name="Ministry", organisation_type="10")
    await make_membership(session, coalition, ministry)
    world = Coordination(coalition.id, ministry_id=ministry.id, company_id=organisation.id)
    need = await make_need(session, world)
    offer = await make_offer(session, world)
    match = await matches.propose(session, world.company_editor, need_id=need.id, offer_id=offer.id)
    await matches.accept(session, world.ministry_editor, match_id=match.id)
    plan = await visibility_plans.set_for_commitment(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=visibility_plans.PlanDraft(acknowledgement="With thanks to Brightwave"),
    )
    action = await visibility_plans.add_action(
        session,
        SYSTEM,
        plan_id=plan.id,
        draft=visibility_plans.ActionDraft(
            kind=models.CommunicationKind.PRESS_RELEASE, title="Launch", planned_on=dt.date.today()
        ),
    )
    await visibility_plans.publish_action(
        session, SYSTEM, action_id=action.id, link="https://example.org/news"
    )
    await session.commit()


async def test_each_kind_of_event_reaches_a_subscriber_as_its_catalogue_payload(
    live_server, session
):
    coalition = await make_coalition(session)
    analyst = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    received: dict[str, dict] = {}

    async with feed_client(live_server.ws_url) as feed:
        await feed.init(analyst)
        await feed.subscribe(document=SHARED, coalitionId=gid(coalition))
        await every_kind_of_event(session, coalition)
        while set(received) != {type.name for type in messages.EventType}:
            item = await feed.next_item()
            received.setdefault(item["type"], item)

    rows = {
        row.event_id: row
        for row in await session.scalars(
            sa.select(models.FeedEvent).where(col(models.FeedEvent.coalition_id) == coalition.id)
        )
    }
    for type_name, item in received.items():
        row = rows[item["eventId"]]
        type = messages.EventType[type_name]
        assert row.type == type.value
        message = messages.CATALOGUE[type].model_validate(row.payload)
        subject = type.value.partition(".")[0]
        assert [name for name in SUBJECTS if item[name] is not None] == [subject], type_name
        shown = item[subject]
        node_type = SUBJECT_TYPES.get(subject, subject.capitalize())
        assert from_global_id(shown["id"]) == (node_type, message.id), type_name
        expected = {
            "commitment": lambda m: {"ref": m.ref, "title": m.title, "stage": m.stage},
            "delivery": lambda m: {"status": m.status, "commitmentRef": m.commitment_ref},
            "membership": lambda m: {"status": m.status, "role": m.role},
            "activity": lambda m: {"title": m.title, "kind": m.kind},
            "need": lambda m: {"ref": m.ref, "country": m.country},
            "offer": lambda m: {"ref": m.ref, "unit": m.unit},
            "match": lambda m: {"status": m.status, "needRef": m.need_ref, "offerRef": m.offer_ref},
            "communication": lambda m: {"title": m.title, "commitmentRef": m.commitment_ref},
        }[subject](message)
        assert {key: shown[key] for key in expected} == expected, type_name
