"""Many commitments, in-kind lines and deliveries at once, inserted with SQLAlchemy Core:
test setup for exports of a size the services would take minutes to record."""

import datetime as dt
from decimal import Decimal
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models

CHUNK = 5000
RECORDED = dt.datetime(2025, 1, 15, 8, 0, tzinfo=dt.UTC)


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    iterator = iter(rows)
    return list(iter(lambda: list(islice(iterator, CHUNK)), []))


async def insert(
    session: AsyncSession,
    *,
    coalition_id: int,
    organisation_id: int,
    count: int,
    start: int = 0,
) -> None:
    """`count` COMMITTED commitments numbered from `start`: every other one MIXED with an
    in-kind line, each with one cash delivery."""
    commitment = models.table_of(models.Commitment)
    line = models.table_of(models.InKindLine)
    delivery = models.table_of(models.Delivery)
    numbers = range(start, start + count)
    commitments = [
        {
            "ref": f"BULK-{number:07d}",
            "coalition_id": coalition_id,
            "organisation_id": organisation_id,
            "title": f"Bulk commitment {number}, with a title of a usual length",
            "description": "Fictional commitment inserted for an export of many rows.",
            "stage": models.Stage.COMMITTED,
            "resource_kind": models.ResourceKind.MIXED
            if number % 2
            else models.ResourceKind.FINANCIAL,
            "amount": Decimal("1234.5678"),
            "currency": "EUR",
            "value_date": dt.date(2025, 1, 15),
            "usd_rate": Decimal("1.0812345"),
            "usd_rate_date": dt.date(2025, 1, 15),
            "usd_rate_source": "ECB",
            "amount_usd": Decimal("1334.8532"),
            "countries": ["KE", "UG"],
            "sdg_targets": ["4.1"],
            "sectors": ["11220"],
            "visibility": models.Visibility.PUBLIC,
            "version": 1,
            "created_at": RECORDED,
            "updated_at": RECORDED,
        }
        for number in numbers
    ]
    for chunk in _chunks(commitments):
        await session.execute(commitment.insert(), chunk)
    refs = [f"BULK-{number:07d}" for number in numbers]
    ids = {
        ref: id_
        for id_, ref in await session.execute(
            sa.select(commitment.c.id, commitment.c.ref).where(
                commitment.c.ref >= refs[0], commitment.c.ref <= refs[-1]
            )
        )
    }
    lines = [
        {
            "commitment_id": ids[ref],
            "position": 0,
            "category": models.InKindCategory.DEVICES,
            "description": "Tablets for a school",
            "quantity": Decimal("40"),
            "unit": "device",
            "fair_value": Decimal("8000"),
            "fair_value_currency": "EUR",
            "valuation_method": "Supplier quote",
            "fair_value_usd": Decimal("8649.876"),
            "usd_rate": Decimal("1.0812345"),
            "usd_rate_date": dt.date(2025, 1, 15),
            "usd_rate_source": "ECB",
            "free_of_charge": True,
        }
        for number, ref in zip(numbers, refs, strict=True)
        if number % 2
    ]
    for chunk in _chunks(lines):
        await session.execute(line.insert(), chunk)
    deliveries = [
        {
            "commitment_id": ids[ref],
            "delivered_on": dt.date(2025, 3, 1),
            "amount": Decimal("100"),
            "currency": "EUR",
            "amount_usd": Decimal("108.1235"),
            "usd_rate": Decimal("1.0812345"),
            "usd_rate_date": dt.date(2025, 3, 1),
            "usd_rate_source": "ECB",
            "beneficiaries": 250,
            "beneficiary_share_bp": 5000,
            "status": models.DeliveryStatus.REPORTED,
            "reported_by": "Bulk loader",
            "created_at": RECORDED,
            "updated_at": RECORDED,
        }
        for ref in refs
    ]
    for chunk in _chunks(deliveries):
        await session.execute(delivery.insert(), chunk)
    await session.commit()
