"""Exchange rates the secretariat publishes; commitments pin the rate of their value date."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, money
from backend.graphql.context import Context
from backend.services import fx


@strawberry.type(description="US dollars per unit of a currency on a day, and who said so.")
class FxRate:
    currency: str = strawberry.field(description="ISO 4217 code.")
    rate_date: dt.date = strawberry.field(description="The day.")
    usd_per_unit: Decimal = strawberry.field(description="US dollars for one unit.")
    source: str = strawberry.field(description="Who published it, e.g. IMF, ECB, UN operational.")

    @classmethod
    def from_model(cls, rate: models.FxRate) -> "FxRate":
        return cls(
            currency=rate.currency,
            rate_date=rate.rate_date,
            usd_per_unit=money.quantity(rate.usd_per_unit),
            source=rate.source,
        )


@strawberry.input(description="A rate to add or correct.")
class PublishFxRateInput:
    currency: str = strawberry.field(description="ISO 4217 code.")
    rate_date: dt.date = strawberry.field(description="The day the rate holds for.")
    usd_per_unit: Decimal = strawberry.field(description="US dollars for one unit; more than 0.")
    source: str = strawberry.field(description="Who published it, e.g. IMF, ECB, UN operational.")


FxRateResult = Annotated[
    FxRate | errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict,
    strawberry.union("FxRateResult", description="The rate, or why not."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add or correct a day's rate (secretariat admins). "
        "Commitments already recorded keep the rate they pinned."
    )
    async def publish_fx_rate(
        self, info: Info[Context, None], input: PublishFxRateInput
    ) -> FxRateResult:
        try:
            async with info.context.transaction() as session:
                rate = await fx.publish_rate(session, info.context.actor, **vars(input))
        except DomainError as error:
            return errors.from_domain(error)
        return FxRate.from_model(rate)
