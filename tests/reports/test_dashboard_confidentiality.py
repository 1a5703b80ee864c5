"""A partner's dashboard never exposes another organisation's confidential amount — not
even by subtracting two figures (two periods, two breakdown rows): its figures are the same
whether those commitments exist or not, only the counts tell them apart. Withdrawn and
cancelled commitments leave every figure but the counts by stage."""

import datetime as dt
from decimal import Decimal
from typing import Any

from backend import models
from backend.actors import Actor
from backend.services import commitments
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_token,
)
from tests.reports import world
from tests.reports.dashboards import read

FIRST, TODAY = world.FIRST_DAY, world.TODAY
PERIODS = [
    (None, None),
    (FIRST + dt.timedelta(days=100), TODAY - dt.timedelta(days=200)),
    (FIRST + dt.timedelta(days=101), TODAY - dt.timedelta(days=200)),
    (FIRST + dt.timedelta(days=350), None),
]
# Counts, which may differ: they say a commitment exists, never what it is worth.
COUNTS = {"commitments", "withheldCount", "lines", "countsByStage", "rows", "count"}
# Ids and references of the commitments themselves differ between two recordings.
RECORDING = {"commitmentId", "commitmentRef", "key", "asOf"}


def amounts_only(value: Any) -> Any:
    """The dashboard without counts, ids, and rows that hold only withheld commitments."""
    if isinstance(value, dict):
        return {
            name: amounts_only(item)
            for name, item in value.items()
            if name not in COUNTS and name not in RECORDING
        }
    if isinstance(value, list):
        kept = [item for item in value if not _only_withheld(item)]
        shown = [amounts_only(item) for item in kept]
        return sorted(shown, key=repr) if shown and isinstance(shown[0], dict) else shown
    return value


def _only_withheld(row: Any) -> bool:
    if not isinstance(row, dict):
        return False
    counted = row.get("figures", row)
    return "withheldCount" in counted and counted["commitments"] == counted["withheldCount"]


async def test_a_partner_sees_the_same_figures_without_others_confidential_commitments(
    session: Any, api: Any
) -> None:
    await world.publish_rates(session)
    plan = world.plan(seed=11, size=120)
    confidential = {
        index
        for index, planned in enumerate(plan.commitments)
        if planned.organisation != 0 and planned.visibility is models.Visibility.CONFIDENTIAL
    }
    own_confidential = [
        planned
        for planned in plan.commitments
        if planned.organisation == 0 and planned.visibility is models.Visibility.CONFIDENTIAL
    ]
    organisations = await world.organisations_of(session, plan)
    with_them, without_them = await make_coalition(session), await make_coalition(session)
    await world.record(session, plan, with_them, organisations)
    await world.record(session, plan.without(confidential), without_them, organisations)
    partner = await make_token(session, models.Role.PARTNER_EDITOR, organisations[0])
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)

    seen = {}
    for start, end in PERIODS:
        seen[start, end] = [
            await read(api, partner, slug=coalition.slug, start=start, end=end)
            for coalition in (with_them, without_them)
        ]
    everything = await read(api, secretariat, slug=with_them.slug)

    assert len(confidential) > 10 and own_confidential
    for (start, end), (shown_with, shown_without) in seen.items():
        # Every unconverted row is listed (the operation asks for 50), so lists compare whole.
        assert len(shown_with["unconverted"]) < 50
        assert amounts_only(shown_with) == amounts_only(shown_without), (start, end)
        assert shown_with["totals"]["withheldCount"] > 0
        assert shown_without["totals"]["withheldCount"] == 0
    # The same data, read by the secretariat, holds amounts the partner never saw.
    whole = seen[None, None][0]
    assert everything["totals"]["committedUsd"] != whole["totals"]["committedUsd"]
    assert everything["totals"]["withheldCount"] == 0


async def test_the_owner_sees_its_own_confidential_amounts(session: Any, api: Any) -> None:
    coalition = await make_coalition(session)
    owner, other = await make_organisation(session), await make_organisation(session)
    for organisation in (owner, other):
        await make_membership(session, coalition, organisation)
        await make_commitment(
            session,
            coalition,
            organisation,
            stage=models.Stage.COMMITTED,
            amount=Decimal("1000"),
            visibility=models.Visibility.CONFIDENTIAL,
        )
    owner_token = await make_token(session, models.Role.PARTNER_EDITOR, owner)

    totals = (await read(api, owner_token, slug=coalition.slug))["totals"]

    assert (totals["commitments"], totals["withheldCount"], totals["committedUsd"]) == (
        2,
        1,
        Decimal("1000"),
    )


async def test_a_withdrawn_commitment_leaves_every_figure(session: Any, api: Any) -> None:
    await world.publish_rates(session)
    plan = world.plan(seed=12, size=30)
    organisations = await world.organisations_of(session, plan)
    coalition = await make_coalition(session)
    built = await world.record(session, plan, coalition, organisations)
    secretariat = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    partner = await make_token(session, models.Role.PARTNER_EDITOR, organisations[0])
    before = [await read(api, token, slug=coalition.slug) for token in (secretariat, partner)]
    # Cash, a valued line, deliveries in dollars and in a currency without rates, reach.
    leaving = await make_commitment(
        session,
        coalition,
        organisations[0],
        stage=models.Stage.COMMITTED,
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("250000"),
        currency="USD",
        value_date=TODAY,
        countries=["KE", "NG"],
        sdg_targets=["4.1"],
        workstream_id=built.workstreams[0].id,
        in_kind=[
            in_kind_line(
                fair_value=Decimal("900"), fair_value_currency="USD", valuation_method="List price"
            )
        ],
    )
    await make_delivery(session, leaving, amount=Decimal("1000"), beneficiaries=40)
    await make_delivery(session, leaving, amount=Decimal("3000"), currency="NGN")
    during = await read(api, secretariat, slug=coalition.slug)
    assert leaving.id is not None and organisations[0].id is not None
    withdrawing = Actor(
        name="partner",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=organisations[0].id,
        member_coalition_ids=frozenset({coalition.id or 0}),
    )
    current = await commitments.get(session, withdrawing, commitment_id=leaving.id)
    await commitments.withdraw(
        session,
        withdrawing,
        commitment_id=leaving.id,
        version=current.version,
        reason="Plans changed",
    )
    await session.commit()

    after = [await read(api, token, slug=coalition.slug) for token in (secretariat, partner)]

    assert during["totals"] != before[0]["totals"]
    for earlier, later in zip(before, after, strict=True):
        earlier_counts = {row["stage"]: row["count"] for row in earlier.pop("countsByStage")}
        later_counts = {row["stage"]: row["count"] for row in later.pop("countsByStage")}
        assert later == earlier
        assert later_counts == {**earlier_counts, "WITHDRAWN": earlier_counts["WITHDRAWN"] + 1}
