"""The exports' filters narrow the commitments as the commitments query does, the period
dates commitments by value date and deliveries by the day made, and a filter that names
nothing is refused with the parameter and a stable code."""

from typing import Any

import pytest

from backend.errors import InvalidInput
from tests.reports.exported import exported
from tests.reports.exports_world import World, build

COALITION = "learning-continuity"


async def _refs(session_factory: Any, **wanted: Any) -> list[str]:
    _, *rows = await exported(session_factory, "commitments", **wanted)
    return [values[0] for values in rows]


def _named(world: World, *names: str) -> list[str]:
    return [getattr(world, name).ref for name in names]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (
            {},
            (
                "cash",
                "in_kind",
                "mixed",
                "unconverted",
                "passed_through",
                "confidential",
                "withdrawn",
                "elsewhere",
            ),
        ),
        ({"coalition": "resiliart"}, ("elsewhere",)),
        ({"coalition": COALITION, "workstream": "Connectivity"}, ("cash",)),
        ({"workstream": "Connectivity"}, ("cash",)),
        ({"organisation": "gb-coh-09000001"}, ("cash", "mixed", "confidential")),
        (
            {"organisation": "Kalinga Reading Corps"},
            ("in_kind", "unconverted", "passed_through", "withdrawn"),
        ),
        (
            {"coalition": COALITION, "organisation_type": "21"},
            ("in_kind", "unconverted", "passed_through", "withdrawn"),
        ),
        (
            {"coalition": COALITION, "stages": ["WITHDRAWN", "PLEDGED"]},
            ("mixed", "unconverted", "confidential", "withdrawn"),
        ),
        ({"resource_kind": "MIXED"}, ("mixed",)),
        ({"country": "KE"}, ("cash", "in_kind")),
        ({"sdg_target": "4.5"}, ("cash",)),
        # In-kind commitments are dated by the day recorded, 2025-06-10.
        (
            {"coalition": COALITION, "period_from": "2025-06-15", "period_to": "2025-06-25"},
            ("unconverted", "passed_through", "confidential"),
        ),
        ({"coalition": COALITION, "period_from": "2025-06-25"}, ("confidential", "withdrawn")),
        ({"coalition": COALITION, "period_to": "2025-06-10"}, ("cash", "in_kind")),
        ({"coalition": COALITION, "country": "KE", "stages": ["COMMITTED"]}, ()),
    ],
)
async def test_commitments_are_filtered_as_the_commitments_query_filters_them(
    session, session_factory, wanted, expected
):
    world = await build(session)

    refs = await _refs(session_factory, **wanted)

    assert refs == _named(world, *expected)


async def test_deliveries_are_those_of_the_commitments_listed_made_within_the_period(
    session, session_factory
):
    world = await build(session)

    june = await exported(
        session_factory,
        "deliveries",
        coalition=COALITION,
        period_from="2025-06-01",
        period_to="2025-06-30",
    )
    summer = await exported(
        session_factory, "deliveries", coalition=COALITION, period_to="2025-07-31"
    )
    in_kind = await exported(session_factory, "deliveries", resource_kind="IN_KIND")
    elsewhere = await exported(session_factory, "deliveries", coalition="resiliart")

    key = 1
    assert [values[key] for values in june[1:]] == [f"delivery-{world.confirmed.id}"]
    # The disputed delivery was made in August.
    assert [values[key] for values in summer[1:]] == ["tranche-1", f"delivery-{world.confirmed.id}"]
    assert [values[key] for values in in_kind[1:]] == [f"delivery-{world.disputed.id}"]
    assert elsewhere[1:] == []


async def test_organisations_are_filtered_by_type_and_key(session, session_factory):
    await build(session)

    by_type = await exported(session_factory, "organisations", organisation_type="22")
    by_key = await exported(session_factory, "organisations", organisation="BRIGHTWAVE TELECOM")

    assert [values[1] for values in by_type[1:]] == ["Escola Aberta"]
    assert [values[1] for values in by_key[1:]] == ["Brightwave Telecom"]


async def test_every_filter_that_names_nothing_is_refused_at_once(session, session_factory):
    await build(session)

    with pytest.raises(InvalidInput) as refused:
        await exported(
            session_factory,
            "commitments",
            coalition="nowhere",
            organisation="Nobody",
            organisation_type="99",
            stages=["PLEDGED", "DONE"],
            resource_kind="CASH",
            country="XX",
            sdg_target="4.99",
            period_from="2025-02-30",
            period_to="tomorrow",
        )

    assert [(issue.field, issue.code) for issue in refused.value.issues] == [
        ("coalition", "UNKNOWN_CODE"),
        ("organisation", "UNKNOWN_CODE"),
        ("organisation_type", "UNKNOWN_CODE"),
        ("country", "UNKNOWN_CODE"),
        ("sdg_target", "UNKNOWN_CODE"),
        ("stage", "UNKNOWN_CODE"),
        ("resource_kind", "UNKNOWN_CODE"),
        ("from", "BAD_FORMAT"),
        ("to", "BAD_FORMAT"),
    ]


@pytest.mark.parametrize(
    ("wanted", "issue"),
    [
        ({"coalition": COALITION, "workstream": "Teachers"}, ("workstream", "UNKNOWN_CODE")),
        ({"coalition": "resiliart", "workstream": "Connectivity"}, ("workstream", "UNKNOWN_CODE")),
        ({"period_from": "2025-07-01", "period_to": "2025-06-30"}, ("to", "BAD_RANGE")),
    ],
)
async def test_a_workstream_outside_the_coalition_or_a_backwards_period_is_refused(
    session, session_factory, wanted, issue
):
    await build(session)

    with pytest.raises(InvalidInput) as refused:
        await exported(session_factory, "deliveries", **wanted)

    assert [(found.field, found.code) for found in refused.value.issues] == [issue]
