import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import ANONYMOUS, SYSTEM, Actor
from backend.errors import InvalidInput, PermissionDenied, Unauthenticated
from backend.services import audit, commitments, deliveries, fx
from tests.factories import in_kind_line, make_coalition, make_commitment, make_organisation

JUNE_30 = dt.date(2025, 6, 30)


async def _publish(session, currency, usd_per_unit, on, source="ECB"):
    rate = await fx.publish_rate(
        session,
        SYSTEM,
        currency=currency,
        rate_date=on,
        usd_per_unit=Decimal(usd_per_unit),
        source=source,
    )
    await session.commit()
    return rate


async def _stored(session):
    statement = sa.select(models.FxRate).order_by(models.FxRate.currency, models.FxRate.rate_date)
    rows = await session.scalars(statement.execution_options(populate_existing=True))
    return [(row.currency, row.rate_date, row.usd_per_unit, row.source) for row in rows]


async def test_the_rate_of_a_day_is_the_latest_published_on_or_before_it(session):
    await _publish(session, "EUR", "1.07", dt.date(2025, 6, 1))
    await _publish(session, "EUR", "1.08", dt.date(2025, 6, 15))
    await _publish(session, "EUR", "1.10", dt.date(2025, 7, 1))
    await _publish(session, "GBP", "1.27", JUNE_30)

    rate = await fx.rate_on(session, currency="EUR", on=JUNE_30)

    assert rate == fx.PinnedRate(
        usd_per_unit=Decimal("1.08"), rate_date=dt.date(2025, 6, 15), source="ECB"
    )


async def test_there_is_no_rate_before_the_first_one(session):
    await _publish(session, "EUR", "1.10", dt.date(2025, 7, 1))

    rate = await fx.rate_on(session, currency="EUR", on=JUNE_30)

    assert rate is None


async def test_a_dollar_is_a_dollar_on_any_day(session):
    rate = await fx.rate_on(session, currency="USD", on=JUNE_30)

    assert rate == fx.PinnedRate(usd_per_unit=Decimal(1), rate_date=JUNE_30, source="identity")


@pytest.mark.parametrize(
    ("amount", "usd_per_unit", "usd"),
    [
        ("1234.5678", "0.0077", "9.5062"),
        ("0.1", "3", "0.3"),
        ("1000000", "0.000041234567", "41.2346"),
        ("99999999999999.9999", "1", "99999999999999.9999"),
    ],
)
def test_conversion_is_exact_to_four_places(amount, usd_per_unit, usd):
    rate = fx.PinnedRate(usd_per_unit=Decimal(usd_per_unit), rate_date=JUNE_30, source="ECB")

    converted = rate.convert(Decimal(amount))

    assert converted == Decimal(usd)
    assert converted.as_tuple().exponent == -4


async def test_a_published_rate_is_stored_exactly_and_audited(session):
    rate = await _publish(session, "IRR", "0.000023756123", JUNE_30, source="UN operational")

    trail = await audit.trail(session, SYSTEM, entity_type="FxRate", entity_id=rate.id)

    assert await _stored(session) == [("IRR", JUNE_30, Decimal("0.000023756123"), "UN operational")]
    assert [(record.action, record.before, record.after["usd_per_unit"]) for record in trail] == [
        ("fx_rate.published", None, "0.000023756123")
    ]


async def test_publishing_a_day_again_corrects_it(session):
    first = await _publish(session, "EUR", "1.085", JUNE_30)

    corrected = await _publish(session, "EUR", "1.0855", JUNE_30, source="IMF")

    assert corrected.id == first.id
    assert await _stored(session) == [("EUR", JUNE_30, Decimal("1.0855"), "IMF")]
    trail = await audit.trail(session, SYSTEM, entity_type="FxRate", entity_id=first.id)
    assert [
        (record.before and Decimal(record.before["usd_per_unit"]), record.after["source"])
        for record in trail
    ] == [(None, "ECB"), (Decimal("1.085"), "IMF")]


async def test_a_commitment_keeps_the_rate_it_pinned_when_the_day_is_corrected(session):
    await _publish(session, "EUR", "1.085", JUNE_30)
    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        amount=Decimal("100"),
        currency="EUR",
        value_date=JUNE_30,
    )

    await _publish(session, "EUR", "1.2", JUNE_30)

    row = await session.get(models.Commitment, commitment.id, populate_existing=True)
    assert (row.usd_rate, row.usd_rate_date, row.usd_rate_source, row.amount_usd) == (
        Decimal("1.085"),
        JUNE_30,
        "ECB",
        Decimal("108.5"),
    )


async def test_a_pledge_without_a_value_date_is_valued_today(session):
    today = dt.date.today()
    await _publish(session, "EUR", "1.1", today - dt.timedelta(days=2))
    await _publish(session, "EUR", "1.2", today + dt.timedelta(days=1))

    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        amount=Decimal("10"),
        currency="EUR",
    )

    assert (commitment.usd_rate, commitment.usd_rate_date, commitment.amount_usd) == (
        Decimal("1.1"),
        today - dt.timedelta(days=2),
        Decimal("11"),
    )


async def test_a_delivery_is_converted_at_the_rate_of_its_day(session):
    await _publish(session, "EUR", "1.05", dt.date(2025, 6, 1))
    await _publish(session, "EUR", "1.25", dt.date(2025, 7, 1))
    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        stage=models.Stage.COMMITTED,
        currency="EUR",
    )

    delivery = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(delivered_on=JUNE_30, amount=Decimal("40"), currency="EUR"),
    )

    assert (delivery.usd_rate, delivery.amount_usd) == (Decimal("1.05"), Decimal("42"))


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"currency": "XYZ"}, [("currency", "UNKNOWN_CODE")]),
        ({"currency": "USD", "usd_per_unit": Decimal("1")}, [("currency", "NOT_ALLOWED")]),
        ({"usd_per_unit": Decimal("0")}, [("usd_per_unit", "NOT_POSITIVE")]),
        ({"usd_per_unit": Decimal("-1.2")}, [("usd_per_unit", "NOT_POSITIVE")]),
        ({"usd_per_unit": Decimal("0.0000000000001")}, [("usd_per_unit", "TOO_PRECISE")]),
        ({"usd_per_unit": Decimal("1000000")}, [("usd_per_unit", "BAD_RANGE")]),
        ({"source": " "}, [("source", "REQUIRED")]),
    ],
)
async def test_a_bad_rate_is_refused(session, fields, refused):
    rate = {
        "currency": "EUR",
        "rate_date": JUNE_30,
        "usd_per_unit": Decimal("1.085"),
        "source": "ECB",
        **fields,
    }

    with pytest.raises(InvalidInput) as raised:
        await fx.publish_rate(session, SYSTEM, **rate)
    await session.rollback()

    assert [(issue.field, issue.code) for issue in raised.value.issues] == refused
    assert await _stored(session) == []


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (ANONYMOUS, Unauthenticated),
        (Actor(name="Ann", role=models.Role.PARTNER_ADMIN, organisation_id=1), PermissionDenied),
        (Actor(name="Al", role=models.Role.SECRETARIAT_ANALYST), PermissionDenied),
    ],
)
async def test_only_secretariat_admins_publish_rates(session, actor, error):
    with pytest.raises(error):
        await fx.publish_rate(
            session,
            actor,
            currency="EUR",
            rate_date=JUNE_30,
            usd_per_unit=Decimal("1.085"),
            source="ECB",
        )
    await session.rollback()

    assert await _stored(session) == []


async def test_a_rate_older_than_the_window_is_not_used(session):
    await _publish(session, "EUR", "1.05", JUNE_30 - dt.timedelta(days=31))
    await _publish(session, "GBP", "1.25", JUNE_30 - dt.timedelta(days=32))

    euro = await fx.rate_on(session, currency="EUR", on=JUNE_30)
    pound = await fx.rate_on(session, currency="GBP", on=JUNE_30)
    pound_in_a_wider_window = await fx.rate_on(session, currency="GBP", on=JUNE_30, window_days=40)

    assert euro is not None and euro.usd_per_unit == Decimal("1.05")
    assert pound is None
    assert pound_in_a_wider_window is not None


async def test_without_a_usable_rate_a_commitment_stays_unconverted(session):
    await _publish(session, "EUR", "1.05", JUNE_30 - dt.timedelta(days=40))

    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        amount=Decimal("100"),
        currency="EUR",
        value_date=JUNE_30,
    )

    assert (commitment.amount, commitment.amount_usd, commitment.usd_rate) == (
        Decimal("100"),
        None,
        None,
    )


async def test_a_delivery_pins_the_day_and_source_of_its_rate(session):
    await _publish(session, "EUR", "1.05", dt.date(2025, 6, 20), source="IMF")
    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        stage=models.Stage.COMMITTED,
    )

    delivery = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(delivered_on=JUNE_30, amount=Decimal("40"), currency="EUR"),
    )

    assert (delivery.usd_rate_date, delivery.usd_rate_source) == (dt.date(2025, 6, 20), "IMF")


async def test_an_in_kind_fair_value_is_pinned_at_the_commitments_day(session):
    await _publish(session, "EUR", "1.1", dt.date(2025, 6, 1), source="ECB")
    await _publish(session, "EUR", "1.3", dt.date(2025, 7, 1), source="ECB")
    commitment = await make_commitment(
        session,
        await make_coalition(session),
        await make_organisation(session),
        stage=models.Stage.COMMITTED,
        resource_kind=models.ResourceKind.MIXED,
        value_date=JUNE_30,
        in_kind=[
            in_kind_line(
                quantity=Decimal("400"),
                fair_value=Decimal("2000"),
                fair_value_currency="EUR",
                valuation_method="List price",
            ),
            in_kind_line(fair_value=Decimal("5"), fair_value_currency="XAF", valuation_method="x"),
            in_kind_line(),
        ],
    )
    lines = await commitments.in_kind_lines(session, commitment_ids=[commitment.id])

    pinned = [
        (line.fair_value_usd, line.usd_rate, line.usd_rate_date, line.usd_rate_source)
        for line in lines
    ]
    assert pinned == [
        (Decimal("2200"), Decimal("1.1"), dt.date(2025, 6, 1), "ECB"),
        (None, None, None, None),  # no rate for the franc: unconverted
        (None, None, None, None),  # no value given
    ]

    delivery = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=JUNE_30, in_kind_line_id=lines[0].id, quantity=Decimal("30")
        ),
    )
    unvalued = await deliveries.report(
        session,
        SYSTEM,
        commitment_id=commitment.id,
        draft=deliveries.DeliveryDraft(
            delivered_on=JUNE_30, in_kind_line_id=lines[1].id, quantity=Decimal("1")
        ),
    )

    # 30 of 400 units of a line worth 2,200 USD.
    assert delivery.in_kind_value_usd == Decimal("165")
    assert unvalued.in_kind_value_usd is None
