"""`coalition-hub import deliveries`: deliveries from a spreadsheet, reviewed as it says."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from tests.factories import in_kind_line, make_coalition, make_commitment, make_organisation
from tests.imports.cli import count, invoke, stderr_lines, write_csv

Stage = models.Stage
Status = models.DeliveryStatus
COLUMNS = (
    "commitment",
    "key",
    "delivered_on",
    "amount",
    "currency",
    "amount_usd",
    "usd_rate",
    "usd_rate_date",
    "usd_rate_source",
    "in_kind_line",
    "quantity",
    "in_kind_value_usd",
    "country",
    "receiving_organisation",
    "beneficiaries",
    "beneficiary_share",
    "status",
    "dispute_reason",
    "reported_by",
)


@pytest.fixture
async def world(session):
    coalition = await make_coalition(session, slug="learning")
    organisation = await make_organisation(session, name="Brightwave Telecom")
    await make_organisation(session, name="UNESCO", iati_identifier="XM-DAC-41304", country="FR")
    line = in_kind_line(
        fair_value=Decimal("1200"), fair_value_currency="USD", valuation_method="List price"
    )
    made = {
        "committed": await make_commitment(
            session,
            coalition,
            organisation,
            stage=Stage.COMMITTED,
            resource_kind=models.ResourceKind.MIXED,
            in_kind=[line],
        ),
        "fulfilled": await make_commitment(session, coalition, organisation, stage=Stage.FULFILLED),
        "withdrawn": await make_commitment(session, coalition, organisation, stage=Stage.WITHDRAWN),
        "pledged": await make_commitment(session, coalition, organisation),
    }
    return {name: commitment.ref for name, commitment in made.items()}


def _row(ref, key, **cells):
    return {"commitment": ref, "key": key, "delivered_on": "2024-03-05", **cells}


async def _deliveries(session):
    delivery, commitment = models.Delivery, models.Commitment
    rows = await session.execute(
        sa.select(
            delivery.idempotency_key,
            commitment.ref,
            delivery.status,
            delivery.amount_usd,
            delivery.in_kind_value_usd,
            delivery.beneficiary_share_bp,
            delivery.dispute_reason,
        )
        .join(commitment, col(commitment.id) == col(delivery.commitment_id))
        .order_by(delivery.idempotency_key)
    )
    return [tuple(row) for row in rows]


async def _commitment(session, ref):
    return await session.scalar(
        sa.select(models.Commitment)
        .where(models.Commitment.ref == ref)
        .execution_options(populate_existing=True)
    )


async def test_each_row_is_recorded_and_reviewed_as_its_status_says(
    settings, session, world, tmp_path
):
    committed = await _commitment(session, world["committed"])
    rows = [
        _row(
            world["committed"],
            "d-1",
            amount="1000",
            currency="USD",
            beneficiaries="200",
            beneficiary_share="50",
            receiving_organisation="XM-DAC-41304",
            reported_by="Brightwave Kenya office",
        ),
        _row(
            world["committed"],
            "d-2",
            in_kind_line="0",
            quantity="100",
            in_kind_value_usd="24",
            country="KE",
            status="CONFIRMED",
        ),
        _row(
            world["fulfilled"],
            "d-3",
            amount="500",
            currency="USD",
            status="DISPUTED",
            dispute_reason="No receipt",
        ),
        _row(world["withdrawn"], "d-4", amount="200", currency="USD"),
    ]
    path = write_csv(tmp_path / "deliveries.csv", rows, COLUMNS)
    events = await count(session, models.FeedEvent)

    result = await invoke(settings, "import", "deliveries", path)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported deliveries.csv: 4 rows; created 4, unchanged 0; recorded 7 feed events."
    ]
    assert await _deliveries(session) == [
        ("d-1", world["committed"], Status.REPORTED, Decimal("1000"), None, 5000, None),
        ("d-2", world["committed"], Status.CONFIRMED, None, Decimal("24"), None, None),
        ("d-3", world["fulfilled"], Status.DISPUTED, Decimal("500"), None, None, "No receipt"),
        ("d-4", world["withdrawn"], Status.REPORTED, Decimal("200"), None, None, None),
    ]
    event = models.FeedEvent
    kinds = await session.scalars(
        sa.select(event.type).where(col(event.id) > events).order_by(event.type)
    )
    assert list(kinds) == [
        "commitment.in_delivery",
        "delivery.confirmed",
        "delivery.disputed",
        "delivery.reported",
        "delivery.reported",
        "delivery.reported",
        "delivery.reported",
    ]
    # The first delivery starts delivery; the import brings no progress report of its own.
    after = await _commitment(session, world["committed"])
    assert (after.stage, after.last_progress_at) == (Stage.IN_DELIVERY, committed.last_progress_at)
    for ref in ("fulfilled", "withdrawn"):
        assert (await _commitment(session, world[ref])).stage.value == ref.upper()


async def test_every_bad_row_is_reported_by_line_and_nothing_is_written(
    settings, session, world, tmp_path
):
    ref = world["committed"]
    rows = [
        _row(ref, "d-1", amount="1000", currency="USD"),
        _row("CMT-NOPE", "d-2", amount="1000", currency="USD"),
        _row(world["pledged"], "d-3", amount="1000", currency="USD"),
        _row(ref, "d-4", amount="1000", currency="USD", status="DISPUTED"),
        _row(ref, "d-5", amount="1000", currency="USD", in_kind_line="0", quantity="5"),
        _row(ref, "d-6", in_kind_line="3", quantity="5"),
        _row(
            ref,
            "d-7",
            delivered_on="05/03/2024",
            amount="9",
            currency="USD",
            beneficiary_share="150",
            beneficiaries="10",
        ),
        _row(ref, "d-1", amount="1000", currency="USD"),
        _row(ref, "d-9", amount="1", currency="USD", status="CONFIRMED", dispute_reason="Late"),
    ]
    path = write_csv(tmp_path / "deliveries.csv", rows, COLUMNS)
    events = await count(session, models.FeedEvent)

    result = await invoke(settings, "import", "deliveries", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 3: commitment: NOT_FOUND: No commitment has the ref 'CMT-NOPE'.",
        "line 4: INVALID_TRANSITION: A PLEDGED commitment has no deliveries; it is not firm yet.",
        "line 5: dispute_reason: REQUIRED: This field is required.",
        "line 6: amount: NOT_ALLOWED: Give either an amount or an in-kind line, not both.",
        f"line 7: in_kind_line: NOT_FOUND: {ref} has no line 3.",
        "line 8: delivered_on: BAD_FORMAT: '05/03/2024' is not an ISO 8601 date such as "
        "2024-03-31.",
        "line 8: beneficiary_share: BAD_RANGE: A share is at most 100 percent.",
        "line 9: key: DUPLICATE: Line 2 has the same commitment and key.",
        "line 10: dispute_reason: NOT_ALLOWED: Only a DISPUTED delivery has a dispute reason.",
        "error: 8 of 9 rows of deliveries.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.Delivery) == 0
    assert await count(session, models.FeedEvent) == events
    assert (await _commitment(session, ref)).stage is Stage.COMMITTED


async def test_a_second_import_of_the_same_file_creates_nothing(settings, session, world, tmp_path):
    rows = [
        _row(world["committed"], "d-1", amount="1000", currency="USD", status="CONFIRMED"),
        _row(world["committed"], "d-2", in_kind_line="0", quantity="100"),
    ]
    path = write_csv(tmp_path / "deliveries.csv", rows, COLUMNS)
    first = await invoke(settings, "import", "deliveries", path)
    events = await count(session, models.FeedEvent)

    again = await invoke(settings, "import", "deliveries", path)

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "Imported deliveries.csv: 2 rows; created 0, unchanged 2.",
        "Nothing new: every row matches a record the hub already has.",
    ]
    assert await count(session, models.Delivery) == 2
    assert await count(session, models.FeedEvent) == events


async def test_a_row_whose_key_exists_with_other_values_is_refused(
    settings, session, world, tmp_path
):
    first = [_row(world["committed"], "d-1", amount="1000", currency="USD")]
    await invoke(settings, "import", "deliveries", write_csv(tmp_path / "a.csv", first, COLUMNS))
    changed = [_row(world["committed"], "d-1", amount="1500", currency="USD", status="CONFIRMED")]

    result = await invoke(
        settings, "import", "deliveries", write_csv(tmp_path / "b.csv", changed, COLUMNS)
    )

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 2: amount: DIFFERS: Differs from the existing record: the file says 1500, "
        "the hub has 1000.",
        "line 2: status: DIFFERS: Differs from the existing record: the file says CONFIRMED, "
        "the hub has REPORTED.",
        "error: 1 of 1 rows of b.csv are invalid; nothing was written.",
    ]


async def test_the_rate_a_row_pinned_is_published_and_pinned_at_its_delivery_day(
    settings, session, world, tmp_path
):
    rows = [
        _row(
            world["committed"],
            "d-1",
            amount="100",
            currency="EUR",
            amount_usd="110",
            usd_rate="1.1",
            usd_rate_date="2024-03-04",
            usd_rate_source="ECB",
        )
    ]
    path = write_csv(tmp_path / "deliveries.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "deliveries", path)

    assert result.exit_code == 0, result.output
    delivery = await session.scalar(sa.select(models.Delivery))
    assert (delivery.usd_rate, delivery.usd_rate_date, delivery.usd_rate_source) == (
        Decimal("1.1"),
        dt.date(2024, 3, 4),
        "ECB",
    )
    assert delivery.amount_usd == Decimal("110")
    assert await count(session, models.FxRate) == 1
