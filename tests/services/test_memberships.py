import datetime as dt

from backend import models
from backend.actors import SYSTEM
from backend.services import memberships
from tests.factories import make_coalition, make_membership, make_organisation


async def test_leaving_sets_left_on_and_rejoining_clears_it(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    membership = await make_membership(session, coalition, organisation)

    left = await memberships.update(
        session,
        SYSTEM,
        membership_id=membership.id,
        changes={"status": models.MembershipStatus.WITHDRAWN},
    )
    left_on = left.left_on
    rejoined = await memberships.update(
        session,
        SYSTEM,
        membership_id=membership.id,
        changes={"status": models.MembershipStatus.ACTIVE},
    )

    assert left_on == dt.date.today()
    assert (rejoined.status, rejoined.left_on) == (models.MembershipStatus.ACTIVE, None)


async def test_application_gets_no_join_date_until_admitted(session):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    applied = await make_membership(
        session, coalition, organisation, status=models.MembershipStatus.APPLIED
    )
    joined_before = applied.joined_on

    admitted = await memberships.update(
        session,
        SYSTEM,
        membership_id=applied.id,
        changes={"status": models.MembershipStatus.ACTIVE},
    )

    assert joined_before is None
    assert admitted.joined_on == dt.date.today()
