import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from backend import models
from backend.actors import SYSTEM
from backend.errors import NotFound
from backend.reports import iati
from backend.services import coalitions, commitments, deliveries, fx
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_membership,
    make_organisation,
    make_workstream,
)
from tests.reports.iati_standard import checked, requires_standard

pytestmark = requires_standard

HOST_REF = "XM-DAC-99001"
DAY = dt.date(2026, 1, 15)


async def _coalition(session, **fields: Any) -> models.Coalition:
    """Coalition "learning", hosted by an agency with an IATI identifier."""
    host = await make_organisation(
        session, name="Host Agency", organisation_type="40", iati_identifier=HOST_REF
    )
    return await make_coalition(
        session,
        **{
            "slug": "learning",
            "name": "Learning Coalition",
            "host_organisation_id": host.id,
            "launched_on": dt.date(2025, 3, 1),
            "sdg_goals": ["4", "17"],
            **fields,
        },
    )


async def _file(session, by: iati.Grouping = iati.Grouping.COALITION) -> etree._Element:
    return checked(await iati.activity_file(session, slug="learning", by=by))


def _activity(document: etree._Element) -> etree._Element:
    [activity] = document.findall("iati-activity")
    return activity


def _transactions(activity: etree._Element) -> dict[str, tuple[str, str | None, str]]:
    """ref -> (transaction type, value, currency)."""
    return {
        element.get("ref"): (
            element.find("transaction-type").get("code"),
            element.findtext("value"),
            element.find("value").get("currency"),
        )
        for element in activity.findall("transaction")
    }


def _attributes(activity: etree._Element, tag: str, *names: str) -> list[tuple[str, ...]]:
    return [tuple(element.get(name) for name in names) for element in activity.findall(tag)]


def _generated(body: bytes) -> str:
    return etree.fromstring(body).get("generated-datetime")


def _participants(activity: etree._Element) -> list[tuple[str | None, ...]]:
    return [
        (
            element.get("role"),
            element.get("ref"),
            element.get("type"),
            element.findtext("narrative"),
        )
        for element in activity.findall("participating-org")
    ]


async def test_the_coalition_is_one_activity_reported_by_its_host(session):
    coalition = await _coalition(session, description="Keeping learners learning.")
    telecom = await make_organisation(
        session, name="Brightwave Telecom", organisation_type="70", iati_identifier="GB-COH-1"
    )
    trust = await make_organisation(session, name="Shule Yetu Trust", organisation_type="22")
    await make_membership(session, coalition, telecom)
    await make_membership(session, coalition, trust)

    document = await _file(session)

    activity = _activity(document)
    assert document.get("version") == "2.03"
    assert activity.findtext("iati-identifier") == f"{HOST_REF}-learning"
    assert _attributes(activity, "reporting-org", "ref", "type") == [(HOST_REF, "40")]
    assert activity.findtext("reporting-org/narrative") == "Host Agency"
    assert activity.findtext("title/narrative") == "Learning Coalition"
    assert activity.findtext("description/narrative") == "Keeping learners learning."
    assert _participants(activity) == [
        ("1", "GB-COH-1", "70", "Brightwave Telecom"),
        ("1", None, "22", "Shule Yetu Trust"),
        ("2", HOST_REF, "40", "Host Agency"),
    ]
    assert _attributes(activity, "activity-status", "code") == [("2",)]
    assert _attributes(activity, "activity-date", "type", "iso-date") == [("2", "2025-03-01")]
    assert _attributes(activity, "tag", "vocabulary", "code") == [("2", "4"), ("2", "17")]
    assert activity.find("transaction") is None
    assert activity.find("recipient-country") is None
    assert activity.find("sector") is None


async def test_pledges_commitments_and_cash_deliveries_are_incoming_transactions(session):
    coalition = await _coalition(session)
    telecom = await make_organisation(
        session, name="Brightwave Telecom", organisation_type="70", iati_identifier="GB-COH-1"
    )
    school = await make_organisation(session, name="Lakeside School", organisation_type="22")
    stages = {}
    for stage, amount in [
        (models.Stage.PLEDGED, "1000"),
        (models.Stage.COMMITTED, "2000.5"),
        (models.Stage.IN_DELIVERY, "3000"),
        (models.Stage.FULFILLED, "4000"),
    ]:
        stages[stage] = await make_commitment(
            session,
            coalition,
            telecom,
            stage=stage,
            amount=Decimal(amount),
            value_date=DAY,
            earmarking="2" if stage is models.Stage.COMMITTED else None,
        )
    committed = stages[models.Stage.COMMITTED]
    reported = await make_delivery(
        session,
        committed,
        amount=Decimal("500"),
        delivered_on=dt.date(2026, 2, 1),
        receiving_organisation_id=school.id,
    )
    confirmed = await make_delivery(
        session, committed, amount=Decimal("250.25"), delivered_on=dt.date(2026, 2, 2)
    )
    disputed = await make_delivery(session, committed, delivered_on=dt.date(2026, 2, 3))
    await deliveries.confirm(session, SYSTEM, delivery_id=confirmed.id)
    await deliveries.dispute(session, SYSTEM, delivery_id=disputed.id, reason="Not received")
    await session.commit()

    activity = _activity(await _file(session))

    refs = {stage: commitment.ref for stage, commitment in stages.items()}
    assert _transactions(activity) == {
        refs[models.Stage.PLEDGED]: ("13", "1000", "USD"),
        refs[models.Stage.COMMITTED]: ("11", "2000.5", "USD"),
        refs[models.Stage.IN_DELIVERY]: ("11", "3000", "USD"),
        refs[models.Stage.FULFILLED]: ("11", "4000", "USD"),
        f"{committed.ref}-delivery-{reported.id}": ("1", "500", "USD"),
        f"{committed.ref}-delivery-{confirmed.id}": ("1", "250.25", "USD"),
    }
    by_ref = {element.get("ref"): element for element in activity.findall("transaction")}
    commitment = by_ref[committed.ref]
    delivery = by_ref[f"{committed.ref}-delivery-{reported.id}"]
    assert [child.tag for child in commitment] == [
        "transaction-type",
        "transaction-date",
        "value",
        "description",
        "provider-org",
        "receiver-org",
        "aid-type",
    ]
    assert commitment.find("transaction-date").get("iso-date") == "2026-01-15"
    assert commitment.find("value").get("value-date") == "2026-01-15"
    assert _attributes(commitment, "aid-type", "vocabulary", "code") == [("2", "2")]
    assert _attributes(commitment, "provider-org", "ref", "type") == [("GB-COH-1", "70")]
    assert _attributes(commitment, "receiver-org", "ref", "type") == [(HOST_REF, "40")]
    assert delivery.find("transaction-date").get("iso-date") == "2026-02-01"
    assert delivery.find("value").get("value-date") == "2026-02-01"
    assert _attributes(delivery, "aid-type", "vocabulary", "code") == [("2", "2")]
    assert delivery.findtext("receiver-org/narrative") == "Lakeside School"
    assert by_ref[refs[models.Stage.PLEDGED]].find("aid-type") is None
    # A contributor is a funding participant even when it is not a member.
    assert ("1", "GB-COH-1", "70", "Brightwave Telecom") in _participants(activity)


async def test_only_public_announced_open_commitments_leave_the_hub(session):
    coalition = await _coalition(session)
    public_partner = await make_organisation(session, name="Open Partner")
    hidden_partner = await make_organisation(session, name="Discreet Partner")
    public = await make_commitment(
        session, coalition, public_partner, countries=["KE"], sectors=["11220"], value_date=DAY
    )
    hidden = {
        "confidential": {"visibility": models.Visibility.CONFIDENTIAL},
        "members": {"visibility": models.Visibility.MEMBERS},
        "embargoed": {"embargo_until": models.utcnow() + dt.timedelta(days=30)},
        "withdrawn": {"stage": models.Stage.WITHDRAWN},
        "cancelled": {"stage": models.Stage.CANCELLED},
    }
    for number, fields in enumerate(hidden.values()):
        await make_commitment(
            session,
            coalition,
            hidden_partner,
            amount=Decimal("99999"),
            countries=[["UG", "TZ", "NG", "GH", "ET"][number]],
            sectors=["15110"],
            sdg_targets=["5.1"],
            value_date=DAY,
            **fields,
        )
    confidential_firm = await make_commitment(
        session,
        coalition,
        hidden_partner,
        stage=models.Stage.COMMITTED,
        visibility=models.Visibility.CONFIDENTIAL,
    )
    await make_delivery(session, confidential_firm, delivered_on=DAY)

    activity = _activity(await _file(session))

    assert _transactions(activity) == {public.ref: ("13", "10000", "USD")}
    assert _attributes(activity, "recipient-country", "code", "percentage") == [("KE", "100.00")]
    assert _attributes(activity, "sector", "vocabulary", "code", "percentage") == [
        ("1", "11220", "100.00")
    ]
    assert ("3", "5.1") not in _attributes(activity, "tag", "vocabulary", "code")
    assert [name for *_, name in _participants(activity)] == ["Open Partner", "Host Agency"]


async def test_pass_through_money_is_reported_once_at_its_exported_channel(session):
    coalition = await _coalition(session)
    fund = await make_organisation(session, name="Pooled Fund")
    donor = await make_organisation(session, name="Donor Through The Fund")
    other_donor = await make_organisation(session, name="Donor Through A Confidential Channel")
    channel = await make_commitment(
        session, coalition, fund, stage=models.Stage.COMMITTED, amount=Decimal("50000")
    )
    passing = await make_commitment(
        session,
        coalition,
        donor,
        stage=models.Stage.COMMITTED,
        amount=Decimal("20000"),
        funded_through_id=channel.id,
    )
    await make_delivery(session, passing, delivered_on=DAY)
    hidden_channel = await make_commitment(
        session,
        coalition,
        fund,
        stage=models.Stage.COMMITTED,
        visibility=models.Visibility.CONFIDENTIAL,
    )
    counted = await make_commitment(
        session,
        coalition,
        other_donor,
        amount=Decimal("7000"),
        funded_through_id=hidden_channel.id,
    )

    activity = _activity(await _file(session))

    assert _transactions(activity) == {
        channel.ref: ("11", "50000", "USD"),
        counted.ref: ("13", "7000", "USD"),
    }
    assert [name for *_, name in _participants(activity)] == [
        "Donor Through A Confidential Channel",
        "Pooled Fund",
        "Host Agency",
    ]


async def test_an_in_kind_only_coalition_is_a_valid_activity_without_transactions(session):
    coalition = await _coalition(session)
    telecom = await make_organisation(session, name="Brightwave Telecom", organisation_type="70")
    commitment = await make_commitment(
        session,
        coalition,
        telecom,
        stage=models.Stage.COMMITTED,
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[
            in_kind_line(
                fair_value=Decimal("1200"), fair_value_currency="USD", valuation_method="List"
            )
        ],
        countries=["UG", "BD", "KE"],
        sdg_targets=["4.1"],
    )
    [line] = await _lines(session, commitment)
    await make_delivery(
        session,
        commitment,
        amount=None,
        currency=None,
        in_kind_line_id=line.id,
        quantity=Decimal("10"),
        delivered_on=DAY,
    )

    activity = _activity(await _file(session))

    assert activity.find("transaction") is None
    assert _participants(activity) == [
        ("1", None, "70", "Brightwave Telecom"),
        ("2", HOST_REF, "40", "Host Agency"),
    ]
    # No cash to weigh them by: each commitment weighs the same, split evenly.
    assert _attributes(activity, "recipient-country", "code", "percentage") == [
        ("BD", "33.34"),
        ("KE", "33.33"),
        ("UG", "33.33"),
    ]
    assert ("3", "4.1") in _attributes(activity, "tag", "vocabulary", "code")


async def _lines(session, commitment: models.Commitment) -> list[models.InKindLine]:
    assert commitment.id is not None
    return await commitments.in_kind_lines(session, commitment_ids=[commitment.id])


async def test_commitments_in_many_currencies_keep_theirs_and_weigh_in_usd(session):
    coalition = await _coalition(session)
    partner = await make_organisation(session, name="Partner")
    for currency, day, rate in [
        ("EUR", dt.date(2026, 1, 10), "1.1"),
        ("KES", dt.date(2026, 1, 1), "0.01"),
    ]:
        await fx.publish_rate(
            session,
            SYSTEM,
            currency=currency,
            rate_date=day,
            usd_per_unit=Decimal(rate),
            source="Test",
        )
    await session.commit()
    made = {}
    for currency, amount, day, countries, sectors in [
        ("USD", "10000", dt.date(2026, 1, 15), ["KE"], ["11220"]),
        ("EUR", "10000", dt.date(2026, 1, 10), ["UG", "TZ"], ["11220", "11330"]),
        # No JPY rate: unconverted, so it weighs nothing beside the converted ones.
        ("JPY", "1000000", dt.date(2026, 1, 12), ["NG"], ["15110"]),
        ("KES", "1300000", dt.date(2026, 1, 20), ["KE"], []),
    ]:
        made[currency] = await make_commitment(
            session,
            coalition,
            partner,
            stage=models.Stage.COMMITTED,
            amount=Decimal(amount),
            currency=currency,
            value_date=day,
            countries=countries,
            sectors=sectors,
        )

    activity = _activity(await _file(session))

    assert _transactions(activity) == {
        made["USD"].ref: ("11", "10000", "USD"),
        made["EUR"].ref: ("11", "10000", "EUR"),
        made["JPY"].ref: ("11", "1000000", "JPY"),
        made["KES"].ref: ("11", "1300000", "KES"),
    }
    dates = {
        element.get("ref"): (
            element.find("transaction-date").get("iso-date"),
            element.find("value").get("value-date"),
        )
        for element in activity.findall("transaction")
    }
    assert dates == {
        made["USD"].ref: ("2026-01-15", "2026-01-15"),
        made["EUR"].ref: ("2026-01-10", "2026-01-10"),
        made["JPY"].ref: ("2026-01-12", "2026-01-12"),
        # The value date is the day of the rate pinned on it, within the window.
        made["KES"].ref: ("2026-01-20", "2026-01-01"),
    }
    assert activity.get("default-currency") == "USD"
    # KE 23,000 USD, UG and TZ 5,500 each: remainders to KE, then TZ before UG.
    assert _attributes(activity, "recipient-country", "code", "percentage") == [
        ("KE", "67.65"),
        ("TZ", "16.18"),
        ("UG", "16.17"),
    ]
    assert _attributes(activity, "sector", "code", "percentage") == [
        ("11220", "73.81"),
        ("11330", "26.19"),
    ]


async def test_sdg_goals_and_targets_are_tags(session):
    coalition = await _coalition(session)
    partner = await make_organisation(session)
    await make_commitment(session, coalition, partner, sdg_targets=["17.17", "4.1"])
    await make_commitment(session, coalition, partner, sdg_targets=["17.6", "5.c", "4.1"])

    activity = _activity(await _file(session))

    assert _attributes(activity, "tag", "vocabulary", "code") == [
        ("2", "4"),
        ("2", "17"),
        ("2", "5"),
        ("3", "4.1"),
        ("3", "5.c"),
        ("3", "17.6"),
        ("3", "17.17"),
    ]


async def test_each_workstream_is_an_activity_and_one_holds_the_rest(session):
    coalition = await _coalition(session)
    connectivity = await make_workstream(
        session,
        coalition,
        name="Connectivity",
        target_metric="learners connected",
        target_value=Decimal("1000000"),
        target_date=dt.date(2027, 12, 31),
    )
    teachers = await make_workstream(
        session, coalition, name="Teachers", status=models.WorkstreamStatus.CLOSED
    )
    telecom = await make_organisation(session, name="Brightwave Telecom")
    college = await make_organisation(session, name="Teachers College")
    await make_membership(session, coalition, telecom, workstream_ids=[connectivity.id])
    await make_membership(session, coalition, college, workstream_ids=[teachers.id])
    data = await make_commitment(
        session, coalition, telecom, workstream_id=connectivity.id, value_date=DAY
    )
    training = await make_commitment(
        session, coalition, college, workstream_id=teachers.id, value_date=dt.date(2025, 9, 1)
    )
    loose = await make_commitment(session, coalition, college, value_date=dt.date(2025, 8, 1))

    document = await _file(session, by=iati.Grouping.WORKSTREAM)

    activities = document.findall("iati-activity")
    summary = [
        (
            activity.findtext("iati-identifier"),
            activity.findtext("title/narrative"),
            activity.find("activity-status").get("code"),
            _attributes(activity, "activity-date", "type", "iso-date"),
            set(_transactions(activity)),
            [name for *_, name in _participants(activity)],
        )
        for activity in activities
    ]
    assert summary == [
        (
            f"{HOST_REF}-learning-{connectivity.id}",
            "Learning Coalition: Connectivity",
            "2",
            [("2", "2026-01-15"), ("3", "2027-12-31")],
            {data.ref},
            ["Brightwave Telecom", "Host Agency"],
        ),
        (
            f"{HOST_REF}-learning-{teachers.id}",
            "Learning Coalition: Teachers",
            "4",
            [("2", "2025-09-01")],
            {training.ref},
            ["Teachers College", "Host Agency"],
        ),
        (
            f"{HOST_REF}-learning-general",
            "Learning Coalition: commitments outside any workstream",
            "2",
            [("2", "2025-08-01")],
            {loose.ref},
            ["Teachers College", "Host Agency"],
        ),
    ]
    assert _attributes(activities[0], "description", "type") == [("1",), ("2",)]
    assert activities[0].findtext("description[@type='2']/narrative") == (
        "Target: 1000000 learners connected by 2027-12-31."
    )


async def test_a_coalition_without_workstreams_is_one_general_activity_by_workstream(session):
    await _coalition(session)

    document = await _file(session, by=iati.Grouping.WORKSTREAM)

    assert [item.findtext("iati-identifier") for item in document.iter("iati-activity")] == [
        f"{HOST_REF}-learning-general"
    ]


async def test_a_closed_coalition_without_launch_date_starts_at_its_first_commitment(session):
    coalition = await _coalition(session, launched_on=None)
    partner = await make_organisation(session)
    await make_commitment(session, coalition, partner, value_date=dt.date(2025, 6, 30))
    await make_commitment(session, coalition, partner, value_date=dt.date(2025, 5, 2))
    await coalitions.update(
        session,
        SYSTEM,
        coalition_id=coalition.id,
        changes={"status": models.CoalitionStatus.CLOSED},
    )
    await session.commit()

    activity = _activity(await _file(session))

    assert _attributes(activity, "activity-status", "code") == [("4",)]
    assert _attributes(activity, "activity-date", "type", "iso-date") == [("2", "2025-05-02")]


async def test_nothing_is_dated_in_the_future_as_if_it_had_happened(session):
    now = models.utcnow()
    launch, value_day = now.date() + dt.timedelta(days=90), now.date() + dt.timedelta(days=30)
    coalition = await _coalition(session, launched_on=launch)
    partner = await make_organisation(session)
    pledge = await make_commitment(session, coalition, partner, value_date=value_day)

    body = await iati.activity_file(session, slug="learning", generated_at=now)

    activity = _activity(checked(body))
    [transaction] = activity.findall("transaction")
    assert _attributes(activity, "activity-date", "type", "iso-date") == [("1", launch.isoformat())]
    # Valued at a day still to come, the pledge is dated the day it was made.
    assert _attributes(transaction, "transaction-date", "iso-date") == [
        (pledge.created_at.date().isoformat(),)
    ]
    assert _attributes(transaction, "value", "value-date") == [(value_day.isoformat(),)]
    assert _generated(body) == now.isoformat(timespec="seconds")


async def test_an_activity_with_no_date_at_all_is_planned_from_the_day_it_was_recorded(session):
    coalition = await _coalition(session, launched_on=None)

    activity = _activity(await _file(session))

    recorded = coalition.created_at.date().isoformat()
    assert _attributes(activity, "activity-date", "type", "iso-date") == [("1", recorded)]


async def test_a_coalition_without_a_host_is_refused(session):
    await make_coalition(session, slug="learning")

    with pytest.raises(iati.NoReportingOrganisation) as refused:
        await iati.activity_file(session, slug="learning")

    assert refused.value.code == "IATI_NO_REPORTING_ORGANISATION"
    assert "no host organisation" in refused.value.message


async def test_a_host_without_an_iati_identifier_is_refused(session):
    host = await make_organisation(session, name="Unregistered Host", iati_identifier=None)
    await make_coalition(session, slug="learning", host_organisation_id=host.id)

    with pytest.raises(iati.NoReportingOrganisation) as refused:
        await iati.activity_file(session, slug="learning")

    assert refused.value.code == "IATI_NO_REPORTING_ORGANISATION"
    assert "Unregistered Host" in refused.value.message


async def test_an_unknown_coalition_is_not_found(session):
    with pytest.raises(NotFound):
        await iati.activity_file(session, slug="nowhere")
