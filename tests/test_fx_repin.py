"""`coalition-hub fx repin`: rows recorded before a usable rate existed get it afterwards."""

import asyncio
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from backend import models
from backend.actors import SYSTEM
from backend.cli import app
from backend.config import Settings
from backend.services import audit, deliveries, fx
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_organisation,
)

JUNE_30 = dt.date(2025, 6, 30)
JULY_5 = dt.date(2025, 7, 5)


async def _invoke(settings: Settings, *args: str, **env: str) -> Result:
    environment = {"HUB_DATABASE_URL": settings.database_url, **env}
    return await asyncio.to_thread(CliRunner().invoke, app, ["fx", *args], env=environment)


async def _publish(session, currency: str, usd_per_unit: str, on: dt.date) -> None:
    await fx.publish_rate(
        session,
        SYSTEM,
        currency=currency,
        rate_date=on,
        usd_per_unit=Decimal(usd_per_unit),
        source="ECB",
    )
    await session.commit()


async def _unconverted_world(session):
    """A euro commitment with a euro-valued in-kind line, a euro delivery and an in-kind
    delivery, all recorded while no euro rate existed; and a pound commitment pinned."""
    coalition, organisation = await make_coalition(session), await make_organisation(session)
    await _publish(session, "GBP", "1.25", dt.date(2025, 6, 1))
    pinned = await make_commitment(
        session, coalition, organisation, amount=Decimal("100"), currency="GBP", value_date=JUNE_30
    )
    line = in_kind_line(
        quantity=Decimal("400"),
        fair_value=Decimal("2000"),
        fair_value_currency="EUR",
        valuation_method="List price",
    )
    commitment = await make_commitment(
        session,
        coalition,
        organisation,
        stage=models.Stage.COMMITTED,
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("5000"),
        currency="EUR",
        value_date=JUNE_30,
        in_kind=[line],
    )
    cash = await make_delivery(
        session, commitment, delivered_on=JULY_5, amount=Decimal("1000"), currency="EUR"
    )
    [saved_line] = await session.scalars(
        sa.select(models.InKindLine).where(models.InKindLine.commitment_id == commitment.id)
    )
    goods = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=JULY_5, in_kind_line_id=saved_line.id, quantity=Decimal("100")
        ),
    )
    await session.commit()
    return pinned, commitment, saved_line, cash, goods


async def _fresh(session, model, row_id):
    return await session.get(model, row_id, populate_existing=True)


async def test_repin_pins_the_rate_published_since_on_every_unconverted_row(settings, session):
    _, commitment, line, cash, goods = await _unconverted_world(session)
    assert (commitment.amount_usd, line.fair_value_usd, cash.amount_usd) == (None, None, None)
    await _publish(session, "EUR", "1.1", dt.date(2025, 6, 20))

    result = await _invoke(settings, "repin")

    commitment = await _fresh(session, models.Commitment, commitment.id)
    line = await _fresh(session, models.InKindLine, line.id)
    cash = await _fresh(session, models.Delivery, cash.id)
    goods = await _fresh(session, models.Delivery, goods.id)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Rates within 31 days of each row's day:\n"
        "  commitments               1 pinned, 0 still unconverted\n"
        "  in-kind lines             1 pinned, 0 still unconverted\n"
        "  deliveries                1 pinned, 0 still unconverted\n"
        "  in-kind deliveries        1 valued (their line has a USD value now)\n"
    )
    june_20 = (Decimal("1.1"), dt.date(2025, 6, 20), "ECB")
    assert (
        commitment.usd_rate,
        commitment.usd_rate_date,
        commitment.usd_rate_source,
        commitment.amount_usd,
    ) == (*june_20, Decimal("5500"))
    assert (line.usd_rate, line.usd_rate_date, line.usd_rate_source, line.fair_value_usd) == (
        *june_20,
        Decimal("2200"),
    )
    assert (cash.usd_rate, cash.usd_rate_date, cash.usd_rate_source, cash.amount_usd) == (
        *june_20,
        Decimal("1100"),
    )
    assert goods.in_kind_value_usd == Decimal("550")
    trails = [
        await audit.trail(session, SYSTEM, entity_type=kind, entity_id=row.id)
        for kind, row in (("Commitment", commitment), ("InKindLine", line), ("Delivery", cash))
    ]
    assert [trail[-1].action for trail in trails] == [
        "commitment.rate_pinned",
        "in_kind_line.rate_pinned",
        "delivery.rate_pinned",
    ]
    assert [
        (trail[-1].before["amount_usd"], trail[-1].after["amount_usd"])
        for trail in (trails[0], trails[2])
    ] == [
        (None, "5500.0000"),
        (None, "1100.0000"),
    ]
    goods_trail = await audit.trail(session, SYSTEM, entity_type="Delivery", entity_id=goods.id)
    assert goods_trail[-1].action == "delivery.in_kind_valued"


async def test_repin_never_changes_a_row_already_pinned(settings, session):
    pinned, *_ = await _unconverted_world(session)
    # The day's rate is corrected after the pound commitment pinned it.
    await _publish(session, "GBP", "1.5", dt.date(2025, 6, 1))
    await _publish(session, "GBP", "1.6", JUNE_30)

    result = await _invoke(settings, "repin")

    row = await _fresh(session, models.Commitment, pinned.id)
    assert result.exit_code == 0, result.output
    assert (row.usd_rate, row.usd_rate_date, row.amount_usd) == (
        Decimal("1.25"),
        dt.date(2025, 6, 1),
        Decimal("125"),
    )
    trail = await audit.trail(session, SYSTEM, entity_type="Commitment", entity_id=pinned.id)
    assert [record.action for record in trail] == ["commitment.pledged"]


async def test_a_dry_run_counts_what_it_would_pin_and_writes_nothing(settings, session):
    _, commitment, line, cash, goods = await _unconverted_world(session)
    await _publish(session, "EUR", "1.1", dt.date(2025, 6, 20))
    audit_records = await session.scalar(sa.select(sa.func.count()).select_from(models.AuditRecord))

    result = await _invoke(settings, "repin", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Rates within 31 days of each row's day:\n"
        "  commitments               1 would pin, 0 still unconverted\n"
        "  in-kind lines             1 would pin, 0 still unconverted\n"
        "  deliveries                1 would pin, 0 still unconverted\n"
        "  in-kind deliveries        1 would be valued (their line has a USD value now)\n"
        "Dry run: nothing written.\n"
    )
    for model, row in ((models.Commitment, commitment), (models.Delivery, cash)):
        assert (await _fresh(session, model, row.id)).amount_usd is None
    assert (await _fresh(session, models.InKindLine, line.id)).fair_value_usd is None
    assert (await _fresh(session, models.Delivery, goods.id)).in_kind_value_usd is None
    assert (
        await session.scalar(sa.select(sa.func.count()).select_from(models.AuditRecord))
        == audit_records
    )


async def test_a_rate_older_than_the_window_leaves_rows_unconverted(settings, session):
    _, commitment, *_ = await _unconverted_world(session)
    # 10 days before the commitment's value date, 15 before the deliveries'.
    await _publish(session, "EUR", "1.1", dt.date(2025, 6, 20))

    result = await _invoke(settings, "repin", HUB_FX_RATE_WINDOW_DAYS="5")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Rates within 5 days of each row's day:\n"
        "  commitments               0 pinned, 1 still unconverted\n"
        "  in-kind lines             0 pinned, 1 still unconverted\n"
        "  deliveries                0 pinned, 1 still unconverted\n"
        "  in-kind deliveries        0 valued (their line has a USD value now)\n"
        "No usable rate yet for: EUR.\n"
    )
    assert (await _fresh(session, models.Commitment, commitment.id)).amount_usd is None
