"""`coalition-hub import commitments`: pledges from a spreadsheet, each at its stage."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import col

from backend import models
from backend.actors import SYSTEM
from backend.services import fx
from tests.factories import (
    make_coalition,
    make_commitment,
    make_delivery,
    make_organisation,
    make_workstream,
)
from tests.imports.cli import count, invoke, stderr_lines, write_csv

Stage = models.Stage
COLUMNS = (
    "ref",
    "coalition",
    "workstream",
    "organisation",
    "organisation_country",
    "title",
    "stage",
    "resource_kind",
    "amount",
    "currency",
    "value_date",
    "usd_rate",
    "usd_rate_date",
    "usd_rate_source",
    "amount_usd",
    "in_kind_lines",
    "funded_through",
    "closing_reason",
    "last_progress_at",
    "created_at",
)


@pytest.fixture
async def world(session):
    coalition = await make_coalition(session, slug="learning", name="Learning")
    await make_workstream(session, coalition, name="Connectivity")
    await make_organisation(session, name="UNESCO", iati_identifier="XM-DAC-41304", country="FR")
    await make_organisation(session, name="Brightwave Telecom", country="KE")
    return coalition


def _row(ref, **cells):
    return {
        "ref": ref,
        "coalition": "learning",
        "organisation": "XM-DAC-41304",
        "title": f"Pledge {ref}",
        "stage": "PLEDGED",
        "resource_kind": "FINANCIAL",
        "amount": "10000",
        "currency": "USD",
        **cells,
    }


def _lines(*lines):
    return json.dumps(lines)


async def _commitments(session):
    commitment = models.Commitment
    rows = await session.execute(
        sa.select(
            commitment.ref, commitment.stage, commitment.closing_reason, commitment.amount_usd
        ).order_by(commitment.ref)
    )
    return [tuple(row) for row in rows]


async def _events(session):
    event, commitment = models.FeedEvent, models.Commitment
    rows = await session.execute(
        sa.select(commitment.ref, event.type, event.published_at)
        .join(commitment, col(commitment.id) == col(event.subject_id))
        .where(event.subject_type == "Commitment")
        .order_by(event.id)
    )
    return [tuple(row) for row in rows]


async def test_each_row_is_pledged_and_brought_to_its_stage_with_its_feed_events(
    settings, session, world, tmp_path
):
    rows = [
        _row("GEC-1"),
        _row(
            "GEC-2", stage="COMMITTED", organisation="Brightwave Telecom", workstream="Connectivity"
        ),
        _row("GEC-3", stage="IN_DELIVERY"),
        _row("GEC-4", stage="FULFILLED"),
        _row("GEC-5", stage="WITHDRAWN", closing_reason="Budget cut"),
        _row("GEC-6", stage="CANCELLED", closing_reason="Programme ended"),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported commitments.csv: 6 rows; created 6, unchanged 0; recorded 14 feed events."
    ]
    usd = Decimal("10000")
    assert await _commitments(session) == [
        ("GEC-1", Stage.PLEDGED, None, usd),
        ("GEC-2", Stage.COMMITTED, None, usd),
        ("GEC-3", Stage.IN_DELIVERY, None, usd),
        ("GEC-4", Stage.FULFILLED, None, usd),
        ("GEC-5", Stage.WITHDRAWN, "Budget cut", usd),
        ("GEC-6", Stage.CANCELLED, "Programme ended", usd),
    ]
    events = await _events(session)
    assert sorted((ref, kind) for ref, kind, _ in events) == sorted(
        [
            ("GEC-1", "commitment.pledged"),
            ("GEC-2", "commitment.pledged"),
            ("GEC-2", "commitment.committed"),
            ("GEC-3", "commitment.pledged"),
            ("GEC-3", "commitment.committed"),
            ("GEC-3", "commitment.in_delivery"),
            ("GEC-4", "commitment.pledged"),
            ("GEC-4", "commitment.committed"),
            ("GEC-4", "commitment.in_delivery"),
            ("GEC-4", "commitment.fulfilled"),
            ("GEC-5", "commitment.pledged"),
            ("GEC-5", "commitment.withdrawn"),
            ("GEC-6", "commitment.pledged"),
            ("GEC-6", "commitment.cancelled"),
        ]
    )
    # In the outbox, for the relay of a running hub to publish.
    assert {published for _, _, published in events} == {None}
    audit = models.AuditRecord
    actors = await session.scalars(
        sa.select(audit.actor_name).where(audit.entity_type == "Commitment").distinct()
    )
    assert list(actors) == ["import of commitments.csv"]


async def test_every_bad_row_is_reported_by_line_and_nothing_is_written(
    settings, session, world, tmp_path
):
    devices = {"category": "DEVICES", "description": "Tablets", "quantity": "0", "unit": "device"}
    rows = [
        _row(
            "GEC-1",
            amount="1000",
            currency="EUR",
            value_date="2024-03-01",
            usd_rate="1.0825",
            usd_rate_date="2024-03-01",
            usd_rate_source="ECB",
        ),
        _row("GEC-2", coalition="nowhere", amount="-5"),
        _row("GEC-3", amount="1,000", currency="EUX"),
        _row("GEC-4", stage="WITHDRAWN"),
        _row(
            "GEC-5", resource_kind="IN_KIND", amount="", currency="", in_kind_lines=_lines(devices)
        ),
        _row("GEC-1", title="Same ref again"),
        _row("GEC-7", organisation="Nobody", stage="DONE", created_at="2024-03-01"),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 3: coalition: NOT_FOUND: No coalition has the slug 'nowhere'; create it first.",
        "line 3: amount: NOT_POSITIVE: Must be greater than zero.",
        "line 4: amount: BAD_FORMAT: '1,000' is not a plain decimal such as 1250.50.",
        "line 4: currency: UNKNOWN_CODE: 'EUX' is not an ISO 4217 currency code.",
        "line 5: closing_reason: REQUIRED: This field is required.",
        "line 6: in_kind_lines.0.quantity: NOT_POSITIVE: Must be greater than zero.",
        "line 7: ref: DUPLICATE: Line 2 has the same ref.",
        "line 8: organisation: NOT_FOUND: No organisation has 'Nobody' as its IATI identifier, "
        "or as its name.",
        "line 8: stage: BAD_FORMAT: 'DONE' is not one of PLEDGED, COMMITTED, IN_DELIVERY, "
        "FULFILLED, WITHDRAWN, CANCELLED.",
        "line 8: created_at: BAD_FORMAT: '2024-03-01' has no offset; give the time in UTC, "
        "ending in Z.",
        "error: 6 of 7 rows of commitments.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.Commitment) == 0
    assert await count(session, models.FeedEvent) == 0
    assert await count(session, models.FxRate) == 0
    audit = models.AuditRecord
    assert await count(session, audit, col(audit.entity_type) == "Commitment") == 0


async def test_a_second_import_of_the_same_file_creates_nothing(settings, session, world, tmp_path):
    rows = [
        _row("GEC-1"),
        _row("GEC-2", stage="COMMITTED"),
        _row("GEC-3", stage="WITHDRAWN", closing_reason="Budget cut"),
        _row(
            "GEC-4",
            resource_kind="IN_KIND",
            amount="",
            currency="",
            in_kind_lines=_lines(
                {"category": "DEVICES", "description": "Tablets", "quantity": 500, "unit": "device"}
            ),
        ),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)
    first = await invoke(settings, "import", "commitments", path)
    events = await count(session, models.FeedEvent)
    # A delivery moves the COMMITTED commitment on to IN_DELIVERY in the meantime.
    committed = await session.scalar(
        sa.select(models.Commitment).where(models.Commitment.ref == "GEC-2")
    )
    await make_delivery(session, committed)

    again = await invoke(settings, "import", "commitments", path)

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "Imported commitments.csv: 4 rows; created 0, unchanged 4.",
        "Nothing new: every row matches a record the hub already has.",
    ]
    assert await count(session, models.Commitment) == 4
    assert await count(session, models.FeedEvent) == events + 2  # the delivery's own


async def test_a_row_whose_ref_exists_with_other_values_is_refused(
    settings, session, world, tmp_path
):
    unesco = await session.scalar(
        sa.select(models.Organisation).where(models.Organisation.name == "UNESCO")
    )
    existing = await make_commitment(session, world, unesco, title="Teachers online")
    path = write_csv(
        tmp_path / "commitments.csv",
        [_row(existing.ref, title="Teachers offline", amount="12000", stage="COMMITTED")],
        COLUMNS,
    )

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 2: title: DIFFERS: Differs from the existing record: the file says "
        "'Teachers offline', the hub has 'Teachers online'.",
        "line 2: stage: DIFFERS: Differs from the existing record: the file says COMMITTED, "
        "the hub has PLEDGED.",
        "line 2: amount: DIFFERS: Differs from the existing record: the file says 12000, "
        "the hub has 10000.",
        "error: 1 of 1 rows of commitments.csv are invalid; nothing was written.",
    ]
    await session.refresh(existing)
    assert (existing.title, existing.amount, existing.stage) == (
        "Teachers online",
        Decimal("10000"),
        Stage.PLEDGED,
    )


async def test_the_rates_rows_pinned_are_published_and_pinned_again(
    settings, session, world, tmp_path
):
    tablets = {
        "category": "DEVICES",
        "description": "Tablets",
        "quantity": "500",
        "unit": "device",
        "fair_value": "130000",
        "fair_value_currency": "KES",
        "valuation_method": "List price",
        "fair_value_usd": "1001",
        "usd_rate": "0.0077",
        "usd_rate_date": "2024-03-01",
        "usd_rate_source": "CBK",
    }
    euro = {
        "currency": "EUR",
        "usd_rate": "1.0825",
        "usd_rate_date": "2024-02-29",
        "usd_rate_source": "ECB",
    }
    rows = [
        _row("GEC-1", amount="1000", value_date="2024-03-01", amount_usd="1082.5", **euro),
        _row("GEC-2", amount="500", value_date="2024-03-02", **euro),
        _row(
            "GEC-3",
            resource_kind="IN_KIND",
            amount="",
            currency="",
            in_kind_lines=_lines(tablets),
            created_at="2024-03-01T08:00:00Z",
        ),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Imported commitments.csv: 3 rows; created 3, unchanged 0; recorded 3 feed events and "
        "2 exchange rates the file pinned."
    ]
    rates = await session.execute(
        sa.select(
            models.FxRate.currency, models.FxRate.rate_date, models.FxRate.usd_per_unit
        ).order_by(models.FxRate.currency)
    )
    assert [tuple(rate) for rate in rates] == [
        ("EUR", dt.date(2024, 2, 29), Decimal("1.0825")),
        ("KES", dt.date(2024, 3, 1), Decimal("0.0077")),
    ]
    commitment = models.Commitment
    pinned = await session.execute(
        sa.select(
            commitment.ref, commitment.usd_rate, commitment.usd_rate_date, commitment.amount_usd
        ).order_by(commitment.ref)
    )
    assert [tuple(row) for row in pinned] == [
        ("GEC-1", Decimal("1.0825"), dt.date(2024, 2, 29), Decimal("1082.5")),
        ("GEC-2", Decimal("1.0825"), dt.date(2024, 2, 29), Decimal("541.25")),
        ("GEC-3", None, None, None),
    ]
    line = await session.scalar(sa.select(models.InKindLine))
    assert (line.usd_rate, line.usd_rate_source, line.fair_value_usd) == (
        Decimal("0.0077"),
        "CBK",
        Decimal("1001"),
    )


async def test_a_pinned_rate_the_hub_cannot_honour_is_the_rows_problem(
    settings, session, world, tmp_path
):
    await fx.publish_rate(
        session,
        SYSTEM,
        currency="EUR",
        rate_date=dt.date(2024, 3, 1),
        usd_per_unit=Decimal("1.08"),
        source="ECB",
    )
    await session.commit()
    euro = {"currency": "EUR", "value_date": "2024-03-01", "usd_rate_source": "ECB"}
    rows = [
        _row("GEC-1", usd_rate="1.09", usd_rate_date="2024-03-01", **euro),
        # More than the window's 31 days before the value date: nothing is pinned.
        _row("GEC-2", usd_rate="1.27", usd_rate_date="2024-01-02", **{**euro, "currency": "GBP"}),
        _row("GEC-3", usd_rate="1.08", **euro),
        _row("GEC-4", usd_rate="1.08", usd_rate_date="2024-03-01", amount_usd="10900", **euro),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 1
    assert stderr_lines(result) == [
        "line 2: usd_rate: DIFFERS: The hub's EUR rate of 2024-03-01 is 1.08 (ECB); the file "
        "pins 1.09 (ECB).",
        "line 3: usd_rate: DIFFERS: The hub records nothing where the file says 1.27.",
        "line 3: usd_rate_date: DIFFERS: The hub records nothing where the file says 2024-01-02.",
        "line 3: usd_rate_source: DIFFERS: The hub records nothing where the file says 'ECB'.",
        "line 4: usd_rate_date: REQUIRED: Give usd_rate, usd_rate_date and usd_rate_source "
        "together.",
        "line 5: amount_usd: DIFFERS: The hub records 10800 where the file says 10900.",
        "error: 4 of 4 rows of commitments.csv are invalid; nothing was written.",
    ]
    assert await count(session, models.FxRate) == 1  # not GBP's of line 3


async def test_pass_through_rows_need_not_follow_their_channel_in_the_file(
    settings, session, world, tmp_path
):
    rows = [
        _row("GEC-2", organisation="Brightwave Telecom", funded_through="GEC-1", stage="COMMITTED"),
        _row("GEC-1", stage="WITHDRAWN", closing_reason="Merged into a fund"),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 0, result.output
    channel = await session.scalar(
        sa.select(models.Commitment).where(models.Commitment.ref == "GEC-1")
    )
    passing = await session.scalar(
        sa.select(models.Commitment).where(models.Commitment.ref == "GEC-2")
    )
    assert (passing.funded_through_id, passing.stage) == (channel.id, Stage.COMMITTED)
    assert channel.stage is Stage.WITHDRAWN


async def test_a_dry_run_lists_what_it_would_create_and_writes_nothing(
    settings, session, world, tmp_path
):
    rows = [
        _row("GEC-1", stage="COMMITTED"),
        _row(
            "GEC-2",
            currency="EUR",
            value_date="2024-03-01",
            usd_rate="1.08",
            usd_rate_date="2024-03-01",
            usd_rate_source="ECB",
        ),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "would create commitment GEC-1 (COMMITTED): 'Pledge GEC-1', line 2",
        "would create commitment GEC-2 (PLEDGED): 'Pledge GEC-2', line 3",
        "Dry run of commitments.csv: 2 rows, all valid; created 2, unchanged 0; would record "
        "3 feed events and 1 exchange rate the file pinned. Nothing was written.",
    ]
    assert await count(session, models.Commitment) == 0
    assert await count(session, models.FeedEvent) == 0
    assert await count(session, models.FxRate) == 0
    audit = models.AuditRecord
    assert await count(session, audit, col(audit.entity_type) == "Commitment") == 0


async def test_the_day_recorded_and_the_last_progress_report_are_kept(
    settings, session, world, tmp_path
):
    rows = [
        _row(
            "GEC-1",
            stage="COMMITTED",
            created_at="2022-01-10T09:00:00Z",
            last_progress_at="2022-06-01T12:30:00+00:00",
        )
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert result.exit_code == 0, result.output
    commitment = await session.scalar(sa.select(models.Commitment))
    assert (commitment.created_at, commitment.last_progress_at) == (
        dt.datetime(2022, 1, 10, 9, tzinfo=dt.UTC),
        dt.datetime(2022, 6, 1, 12, 30, tzinfo=dt.UTC),
    )


async def test_an_organisation_named_twice_needs_its_country(settings, session, world, tmp_path):
    await make_organisation(session, name="Daybreak Radio", country="KE")
    await make_organisation(session, name="Daybreak Radio", country="UG")
    rows = [
        _row("GEC-1", organisation="Daybreak Radio"),
        _row("GEC-2", organisation="Daybreak Radio", organisation_country="UG"),
        _row("GEC-3", organisation="XM-DAC-41304", organisation_country="KE"),
    ]
    path = write_csv(tmp_path / "commitments.csv", rows, COLUMNS)

    result = await invoke(settings, "import", "commitments", path)

    assert stderr_lines(result) == [
        "line 2: organisation: AMBIGUOUS: Several organisations are named 'Daybreak Radio'; "
        "give organisation_country.",
        "line 4: organisation_country: DIFFERS: 'XM-DAC-41304' is registered in FR.",
        "error: 2 of 3 rows of commitments.csv are invalid; nothing was written.",
    ]
