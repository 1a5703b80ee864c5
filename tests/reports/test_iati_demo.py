from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col

from backend import demo, models
from backend.reports import iati
from tests.reports.iati_standard import checked, requires_standard

pytestmark = requires_standard

FIRM = {models.Stage.COMMITTED, models.Stage.IN_DELIVERY, models.Stage.FULFILLED}
OPEN = {models.Stage.PLEDGED, *FIRM}


def _plain(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


async def _expected(session, coalition: models.Coalition) -> dict[str, tuple[str, str, str]]:
    """ref -> (transaction type, value, currency), worked out from the rows themselves."""
    rows = list(
        await session.scalars(
            sa.select(models.Commitment).where(col(models.Commitment.coalition_id) == coalition.id)
        )
    )

    def exported(row: models.Commitment) -> bool:
        return (
            row.visibility is models.Visibility.PUBLIC
            and row.announced_at is not None
            and row.stage in OPEN
        )

    by_id = {row.id: row for row in rows}
    shown = {
        row.id: row
        for row in rows
        if exported(row) and not (row.funded_through_id and exported(by_id[row.funded_through_id]))
    }
    expected = {
        row.ref: ("11" if row.stage in FIRM else "13", _plain(row.amount), row.currency)
        for row in shown.values()
        if row.amount is not None and row.currency is not None
    }
    for delivery in await session.scalars(
        sa.select(models.Delivery).where(col(models.Delivery.commitment_id).in_(list(shown)))
    ):
        counted = delivery.status is not models.DeliveryStatus.DISPUTED
        if counted and delivery.amount is not None and delivery.in_kind_line_id is None:
            ref = f"{shown[delivery.commitment_id].ref}-delivery-{delivery.id}"
            expected[ref] = ("1", _plain(delivery.amount), delivery.currency)
    return expected


def _transactions(activity) -> dict[str, tuple[str, str, str]]:
    return {
        element.get("ref"): (
            element.find("transaction-type").get("code"),
            element.findtext("value"),
            element.find("value").get("currency"),
        )
        for element in activity.findall("transaction")
    }


async def test_the_demo_coalition_exports_valid_iati_with_every_public_figure(
    session_factory, session
):
    await demo.seed(session_factory, scale=1)
    coalition = await session.scalar(
        sa.select(models.Coalition).where(col(models.Coalition.slug) == demo.SLUG)
    )
    expected = await _expected(session, coalition)

    whole = checked(await iati.activity_file(session, slug=demo.SLUG))
    split = checked(await iati.activity_file(session, slug=demo.SLUG, by=iati.Grouping.WORKSTREAM))

    [activity] = whole.findall("iati-activity")
    assert _transactions(activity) == expected
    assert {code for code, *_ in expected.values()} == {"1", "11", "13"}
    assert len({currency for *_, currency in expected.values()}) >= 5
    assert activity.find("recipient-country") is not None
    assert activity.find("tag[@vocabulary='3']") is not None
    parts = split.findall("iati-activity")
    identifiers = [item.findtext("iati-identifier") for item in parts]
    assert len(parts) >= 2 and len(set(identifiers)) == len(parts)
    merged: dict[str, tuple[str, str, str]] = {}
    for part in parts:
        transactions = _transactions(part)
        assert not set(transactions) & set(merged)
        merged |= transactions
    assert merged == expected
