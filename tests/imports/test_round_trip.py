"""The issue's proof: CSV round-trips. Varied data exported from one hub and imported into
an empty one gives the same totals — pledged, committed and delivered, by stage and
currency, converted and unconverted, in-kind values and quantities, reach, counts — and
exports again as the same rows (but for who reported and reviewed deliveries, and when: in
the new hub, the import did)."""

import asyncio
import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import db, migrations, models
from backend.actors import SYSTEM
from backend.config import Settings
from backend.models.base import Money
from backend.services import commitments, deliveries, fx
from tests.factories import (
    in_kind_line,
    make_coalition,
    make_commitment,
    make_delivery,
    make_workstream,
)
from tests.imports.cli import invoke
from tests.reports import exports_world
from tests.reports.exports_world import REVIEWER

Stage = models.Stage
FILES = ("organisations", "commitments", "deliveries")
# Deliveries' provenance: who reported and reviewed them, and when, in the hub that holds them.
PROVENANCE = ("reported_by", "reviewed_by", "reviewed_at", "created_at")


async def _more_of_every_kind(session: AsyncSession, world: exports_world.World) -> None:
    """What the exports' world lacks: more currencies with pinned rates, a fulfilled and a
    cancelled commitment with deliveries made before they closed, an unconverted delivery,
    an in-kind delivery with co-reported reach."""
    for currency, rate, day in (
        ("GBP", "1.27", dt.date(2025, 5, 30)),
        ("CHF", "1.13", dt.date(2025, 6, 2)),
    ):
        await fx.publish_rate(
            session,
            SYSTEM,
            currency=currency,
            rate_date=day,
            usd_per_unit=Decimal(rate),
            source="BIS",
        )
    await session.commit()
    coalition = world.coalition
    pounds = await make_commitment(
        session,
        coalition,
        world.escola,
        stage=Stage.IN_DELIVERY,
        title="Pounds, fulfilled",
        amount=Decimal("8000"),
        currency="GBP",
        value_date=dt.date(2025, 6, 3),
    )
    await make_delivery(
        session, pounds, delivered_on=dt.date(2025, 6, 5), amount=Decimal("8000"), currency="GBP"
    )
    await commitments.advance(
        session, SYSTEM, commitment_id=pounds.id, version=pounds.version, stage=Stage.FULFILLED
    )
    francs = await make_commitment(
        session,
        coalition,
        world.outsider,
        stage=Stage.COMMITTED,
        title="=Francs, cancelled (a formula to a spreadsheet)",
        amount=Decimal("4000"),
        currency="CHF",
        value_date=dt.date(2025, 6, 4),
        sdg_targets=["4.c"],
    )
    paid = await make_delivery(
        session,
        francs,
        delivered_on=dt.date(2025, 6, 10),
        amount=Decimal("1000"),
        currency="CHF",
        beneficiaries=45,
    )
    await deliveries.confirm(session, REVIEWER, delivery_id=paid.id)
    await commitments.cancel(
        session, SYSTEM, commitment_id=francs.id, version=francs.version, reason="Programme ended"
    )
    shillings = await make_commitment(
        session,
        coalition,
        world.kalinga,
        stage=Stage.COMMITTED,
        title="Shillings, committed",
        resource_kind=models.ResourceKind.MIXED,
        amount=Decimal("500000"),
        currency="KES",
        in_kind=[in_kind_line(quantity=Decimal("200"), unit="GB")],
    )
    await make_delivery(
        session,
        shillings,
        delivered_on=dt.date(2025, 6, 20),
        amount=Decimal("100000"),
        currency="KES",
        beneficiaries=80,
        beneficiary_share=Decimal("62.5"),
    )
    [_, readers] = await commitments.in_kind_lines(session, commitment_ids=[world.in_kind.id])
    shared = await make_delivery(
        session,
        world.in_kind,
        delivered_on=dt.date(2025, 7, 20),
        amount=None,
        currency=None,
        in_kind_line_id=readers.id,
        quantity=Decimal("10"),
        beneficiaries=300,
        beneficiary_share=Decimal("25"),
    )
    await deliveries.confirm(session, REVIEWER, delivery_id=shared.id)
    await session.commit()


async def _identity_rates_on_the_day_recorded(session: AsyncSession) -> None:
    """The exports' world sets the day commitments were recorded after the fact, which moves
    the day a commitment without a value date converts at, but not the day its US dollars
    were pinned at (as the services would have): put that back, as a hub's records have it."""
    identity = await session.scalars(
        sa.select(models.Commitment)
        .where(models.Commitment.usd_rate_source == "identity")
        .execution_options(populate_existing=True)
    )
    for commitment in identity:
        commitment.usd_rate_date = commitments.valued_on(commitment)
    await session.commit()


async def _totals(session: AsyncSession) -> dict[str, Any]:
    """The figures the dashboard reports, in plain SQL over the tables."""
    commitment = models.table_of(models.Commitment)
    line = models.table_of(models.InKindLine)
    delivery = models.table_of(models.Delivery)
    counted = commitment.c.stage.not_in([Stage.WITHDRAWN, Stage.CANCELLED])
    channel = commitment.alias("channel")
    passing_through = sa.and_(
        commitment.c.funded_through_id.is_not(None),
        sa.exists().where(
            channel.c.id == commitment.c.funded_through_id,
            channel.c.stage.not_in([Stage.WITHDRAWN, Stage.CANCELLED]),
        ),
    )

    def money(column: Any, where: Any = None) -> Any:
        picked = column if where is None else sa.case((where, column))
        return sa.type_coerce(sa.func.sum(picked), Money())

    def unconverted(amount: Any, usd: Any) -> Any:
        return sa.func.count(amount) - sa.func.count(usd)

    async def rows(statement: Any) -> list[tuple[Any, ...]]:
        return sorted((tuple(row) for row in await session.execute(statement)), key=str)

    firm = [Stage.COMMITTED, Stage.IN_DELIVERY, Stage.FULFILLED]
    by_delivery = delivery.join(commitment, commitment.c.id == delivery.c.commitment_id)
    delivered = [models.DeliveryStatus.REPORTED, models.DeliveryStatus.CONFIRMED]
    share = sa.func.coalesce(delivery.c.beneficiary_share_bp, 10000)
    return {
        "counts by stage": await rows(
            sa.select(commitment.c.stage, sa.func.count()).group_by(commitment.c.stage)
        ),
        "cash by stage and currency": await rows(
            sa.select(
                commitment.c.stage,
                commitment.c.currency,
                sa.func.count(),
                money(commitment.c.amount),
                money(commitment.c.amount_usd),
                unconverted(commitment.c.amount, commitment.c.amount_usd),
            )
            .where(commitment.c.amount.is_not(None))
            .group_by(commitment.c.stage, commitment.c.currency)
        ),
        "pledged, committed USD": await rows(
            sa.select(
                money(commitment.c.amount_usd, commitment.c.stage == Stage.PLEDGED),
                money(commitment.c.amount_usd, commitment.c.stage.in_(firm)),
            ).where(counted, sa.not_(passing_through))
        ),
        "pass-through": await rows(
            sa.select(sa.func.count(), money(commitment.c.amount_usd)).where(
                counted, passing_through
            )
        ),
        "in-kind by stage, category and unit": await rows(
            sa.select(
                commitment.c.stage,
                line.c.category,
                line.c.unit,
                sa.func.count(),
                money(line.c.quantity),
                money(line.c.fair_value_usd),
                unconverted(line.c.fair_value, line.c.fair_value_usd),
            )
            .select_from(line.join(commitment, commitment.c.id == line.c.commitment_id))
            .group_by(commitment.c.stage, line.c.category, line.c.unit)
        ),
        "deliveries by status and currency": await rows(
            sa.select(
                delivery.c.status,
                delivery.c.currency,
                delivery.c.unit,
                sa.func.count(),
                money(delivery.c.amount),
                money(delivery.c.amount_usd),
                unconverted(delivery.c.amount, delivery.c.amount_usd),
                money(delivery.c.quantity),
                money(delivery.c.in_kind_value_usd),
            ).group_by(delivery.c.status, delivery.c.currency, delivery.c.unit)
        ),
        "delivered, confirmed USD": await rows(
            sa.select(
                money(delivery.c.amount_usd, delivery.c.status.in_(delivered)),
                money(delivery.c.amount_usd, delivery.c.status == models.DeliveryStatus.CONFIRMED),
            )
            .select_from(by_delivery)
            .where(counted, sa.not_(passing_through))
        ),
        "reach x 10000": await rows(
            sa.select(sa.func.sum(delivery.c.beneficiaries * share)).where(
                delivery.c.status != models.DeliveryStatus.DISPUTED
            )
        ),
    }


def _rows(path: Path, dropped: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    return sorted(
        tuple(value for column, value in record.items() if column not in dropped)
        for record in records
    )


async def _export(settings: Settings, folder: Path) -> Path:
    await asyncio.to_thread(folder.mkdir)
    for name in FILES:
        result = await invoke(settings, "export", name, "--output", folder / f"{name}.csv")
        assert result.exit_code == 0, result.output
    return folder


async def test_an_export_imported_into_an_empty_hub_gives_the_same_totals(
    settings, session, scratch_database_url, tmp_path
):
    world = await exports_world.build(session)
    await _identity_rates_on_the_day_recorded(session)
    await _more_of_every_kind(session, world)
    exported = await _export(settings, tmp_path / "exported")
    await asyncio.to_thread(migrations.upgrade, scratch_database_url)
    empty = Settings(database_url=scratch_database_url)
    engine = db.create_engine(empty)
    try:
        async with db.create_session_factory(engine)() as fresh:
            # Coalitions and their workstreams are set up by hand, not imported.
            learning = await make_coalition(fresh, slug="learning-continuity", name="Learning")
            await make_coalition(fresh, slug="resiliart", name="ResiliArt")
            await make_workstream(fresh, learning, name="Connectivity")

            imported = [
                await invoke(empty, "import", name, exported / f"{name}.csv") for name in FILES
            ]
            totals = await _totals(fresh)
            reimported = [
                await invoke(empty, "import", name, exported / f"{name}.csv") for name in FILES
            ]
        again = await _export(empty, tmp_path / "again")
    finally:
        await engine.dispose()

    for result in imported:
        assert result.exit_code == 0, result.output
    assert [result.stdout.splitlines()[-1] for result in imported] == [
        "Imported organisations.csv: 4 rows; created 4, unchanged 0.",
        "Imported commitments.csv: 11 rows; created 11, unchanged 0; recorded 23 feed events "
        "and 3 exchange rates the file pinned.",
        "Imported deliveries.csv: 7 rows; created 7, unchanged 0; recorded 11 feed events.",
    ]
    assert [result.stdout.splitlines()[0] for result in reimported] == [
        "Imported organisations.csv: 4 rows; created 0, unchanged 4.",
        "Imported commitments.csv: 11 rows; created 0, unchanged 11.",
        "Imported deliveries.csv: 7 rows; created 0, unchanged 7.",
    ]
    expected = await _totals(session)
    assert expected["counts by stage"] == [
        (Stage.CANCELLED, 1),
        (Stage.COMMITTED, 1),
        (Stage.FULFILLED, 1),
        (Stage.IN_DELIVERY, 3),
        (Stage.PLEDGED, 4),
        (Stage.WITHDRAWN, 1),
    ]
    assert expected["reach x 10000"] == [
        ((120 * 5000) + (3 * 3333) + (45 * 10000) + (80 * 6250) + (300 * 2500),)
    ]
    # Cash in euros (1,000 and 500.25 at 1.08) and pounds (8,000 at 1.27); the francs'
    # commitment was cancelled and the shillings have no rate.
    assert expected["delivered, confirmed USD"] == [(Decimal("11780.27"), Decimal("540.27"))]
    assert expected["pass-through"] == [(1, Decimal("3000"))]
    assert totals == expected
    for name in ("organisations", "commitments"):
        assert _rows(again / f"{name}.csv") == _rows(exported / f"{name}.csv")
    deliveries_file = "deliveries.csv"
    assert _rows(again / deliveries_file, PROVENANCE) == _rows(
        exported / deliveries_file, PROVENANCE
    )
