"""Deliveries: type and mutations (lists hang off commitments)."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, inputs, money, relay
from backend.graphql.context import Context
from backend.services import access, deliveries

if TYPE_CHECKING:
    from backend.graphql.commitments import Commitment, InKindLine
    from backend.graphql.organisations import Organisation

from backend.graphql import commitments as commitment_types
from backend.graphql import organisations as organisation_types

DeliveryInfo = Info[Context, None]


@strawberry.type(description="Money paid or in-kind help handed over against a commitment.")
class Delivery(relay.Node):
    delivered_on: dt.date = strawberry.field(description="When it was handed over or paid.")
    amount: Decimal | None = strawberry.field(
        description="Cash delivered; null for in-kind, or hidden as the commitment's figures are."
    )
    currency: str | None = strawberry.field(description="ISO 4217 code of `amount`.")
    amount_usd: Decimal | None = strawberry.field(
        description="`amount` in USD at the pinned rate; null when no rate was known "
        "(unconverted) or the amount is hidden."
    )
    usd_rate: Decimal | None = strawberry.field(description="US dollars per unit of currency.")
    usd_rate_date: dt.date | None = strawberry.field(description="Day of the pinned rate.")
    usd_rate_source: str | None = strawberry.field(description="Who published the rate.")
    quantity: Decimal | None = strawberry.field(description="In-kind quantity delivered.")
    in_kind_value_usd: Decimal | None = strawberry.field(
        description="What the quantity is worth in USD: its share of the line's fair value, "
        "fixed when recorded; null without a converted fair value, or when hidden."
    )
    unit: str | None = strawberry.field(description="Unit of `quantity` (from the in-kind line).")
    country: str | None = strawberry.field(description="Where, ISO 3166-1 alpha-2.")
    beneficiaries: int | None = strawberry.field(description="People reached.")
    beneficiary_share: Decimal = strawberry.field(
        description="Percent of `beneficiaries` credited to this delivery (100 unless the "
        "reach is co-reported with other partners); totals count beneficiaries x share."
    )
    evidence_url: str | None = strawberry.field(description="Link to evidence.")
    note: str | None = strawberry.field(description="Free text.")
    status: models.DeliveryStatus = strawberry.field(description="Reported, confirmed or disputed.")
    reported_by: str = strawberry.field(description="Who reported it.")
    reviewed_by: str | None = strawberry.field(description="Who confirmed or disputed it.")
    reviewed_at: dt.datetime | None = strawberry.field(description="When.")
    dispute_reason: str | None = strawberry.field(description="Why it was disputed.")
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    model: strawberry.Private[models.Delivery]
    show_values: strawberry.Private[bool]

    @classmethod
    def from_model(cls, delivery: models.Delivery, *, show_values: bool) -> "Delivery":
        return cls(
            id=relay.to_global_id("Delivery", delivery.id),
            delivered_on=delivery.delivered_on,
            amount=money.amount(delivery.amount) if show_values else None,
            currency=delivery.currency,
            amount_usd=money.amount(delivery.amount_usd) if show_values else None,
            usd_rate=money.quantity(delivery.usd_rate),
            usd_rate_date=delivery.usd_rate_date,
            usd_rate_source=delivery.usd_rate_source,
            quantity=money.quantity(delivery.quantity),
            in_kind_value_usd=money.amount(delivery.in_kind_value_usd) if show_values else None,
            unit=delivery.unit,
            country=delivery.country,
            beneficiaries=delivery.beneficiaries,
            beneficiary_share=money.share_percent(delivery.beneficiary_share_bp),
            evidence_url=delivery.evidence_url,
            note=delivery.note,
            status=delivery.status,
            reported_by=delivery.reported_by,
            reviewed_by=delivery.reviewed_by,
            reviewed_at=delivery.reviewed_at,
            dispute_reason=delivery.dispute_reason,
            created_at=delivery.created_at,
            model=delivery,
            show_values=show_values,
        )

    @strawberry.field(description="The commitment delivered against.")
    async def commitment(
        self, info: DeliveryInfo
    ) -> Annotated["Commitment", strawberry.lazy("backend.graphql.commitments")]:
        commitment = await info.context.loaders.commitment.load(self.model.commitment_id)
        assert commitment is not None
        return commitment_types.Commitment.from_model(commitment, info.context.actor)

    @strawberry.field(description="The in-kind line drawn down, for an in-kind delivery.")
    async def in_kind_line(
        self, info: DeliveryInfo
    ) -> Annotated["InKindLine", strawberry.lazy("backend.graphql.commitments")] | None:
        if self.model.in_kind_line_id is None:
            return None
        line = await info.context.loaders.in_kind_line.load(self.model.in_kind_line_id)
        if line is None:
            return None
        return commitment_types.InKindLine.from_model(line, show_values=self.show_values)

    @strawberry.field(description="Who received it.")
    async def receiving_organisation(
        self, info: DeliveryInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.model.receiving_organisation_id is None:
            return None
        receiver = await info.context.loaders.organisation.load(
            self.model.receiving_organisation_id
        )
        return organisation_types.Organisation.from_model(receiver) if receiver else None


@relay.node_resolver("Delivery")
async def resolve_node(info: DeliveryInfo, id: int) -> Delivery | None:
    try:
        async with info.context.reading() as session:
            delivery = await deliveries.get(session, info.context.actor, delivery_id=id)
    except DomainError:
        return None
    return await _result(info, delivery)


async def _result(info: DeliveryInfo, delivery: models.Delivery) -> Delivery:
    commitment = await info.context.loaders.commitment.load(delivery.commitment_id)
    show = commitment is not None and access.can_see_amounts(info.context.actor, commitment)
    return Delivery.from_model(delivery, show_values=show)


@strawberry.input(
    description="A delivery: either cash (amount, currency) or in-kind (inKindLineId, quantity)."
)
class ReportDeliveryInput:
    commitment_id: strawberry.ID = strawberry.field(description="The commitment delivered against.")
    delivered_on: dt.date = strawberry.field(description="Not in the future.")
    amount: Decimal | None = strawberry.field(
        default=None, description="Cash delivered, more than 0; not with an in-kind line."
    )
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code of `amount`.")
    in_kind_line_id: strawberry.ID | None = strawberry.field(
        default=None, description="The commitment's in-kind line drawn down."
    )
    quantity: Decimal | None = strawberry.field(
        default=None, description="How much of the in-kind line was handed over, in its unit."
    )
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    receiving_organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who received it; they may confirm it."
    )
    beneficiaries: int | None = strawberry.field(default=None, description="People reached.")
    beneficiary_share: Decimal | None = strawberry.field(
        default=None,
        description="Co-reported reach: the percent of `beneficiaries` this delivery is "
        "credited with (more than 0, at most 100, two places), when other partners report the "
        "same people; 100 if omitted.",
    )
    evidence_url: str | None = strawberry.field(
        default=None, description="http(s) link to evidence: a receipt, report or photo."
    )
    note: str | None = strawberry.field(default=None, description="Free text.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the first delivery."
    )


@strawberry.input(description="Confirm a delivery (the receiver or the secretariat).")
class ConfirmDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The delivery.")


@strawberry.input(description="Dispute a delivery (the receiver or the secretariat).")
class DisputeDeliveryInput:
    id: strawberry.ID = strawberry.field(description="The delivery.")
    reason: str = strawberry.field(description="What is wrong with it.")


DeliveryResult = Annotated[
    Delivery
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("DeliveryResult", description="The delivery, or why not."),
]


def _draft(input: ReportDeliveryInput) -> deliveries.DeliveryDraft:
    fields = inputs.changes_of(input, exclude=("commitment_id", "idempotency_key"))
    fields["in_kind_line_id"] = relay.decode_optional_id(
        input.in_kind_line_id, "InKindLine", field="in_kind_line_id"
    )
    fields["receiving_organisation_id"] = relay.decode_optional_id(
        input.receiving_organisation_id, "Organisation", field="receiving_organisation_id"
    )
    return deliveries.DeliveryDraft(**fields)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Report a delivery against your organisation's commitment.")
    async def report_delivery(
        self, info: DeliveryInfo, input: ReportDeliveryInput
    ) -> DeliveryResult:
        try:
            commitment_id = relay.decode_id(
                input.commitment_id, "Commitment", field="commitment_id"
            )
            draft = _draft(input)
            async with info.context.transaction() as session:
                delivery = await deliveries.report(
                    session,
                    info.context.actor,
                    commitment_id=commitment_id,
                    draft=draft,
                    idempotency_key=input.idempotency_key,
                    rate_window_days=info.context.settings.fx_rate_window_days,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return await _result(info, delivery)

    @strawberry.mutation(description="Confirm a delivery; never by whoever reported it.")
    async def confirm_delivery(
        self, info: DeliveryInfo, input: ConfirmDeliveryInput
    ) -> DeliveryResult:
        try:
            delivery_id = relay.decode_id(input.id, "Delivery", field="id")
            async with info.context.transaction() as session:
                delivery = await deliveries.confirm(
                    session, info.context.actor, delivery_id=delivery_id
                )
        except DomainError as error:
            return errors.from_domain(error)
        return await _result(info, delivery)

    @strawberry.mutation(description="Dispute a delivery, with the reason.")
    async def dispute_delivery(
        self, info: DeliveryInfo, input: DisputeDeliveryInput
    ) -> DeliveryResult:
        try:
            delivery_id = relay.decode_id(input.id, "Delivery", field="id")
            async with info.context.transaction() as session:
                delivery = await deliveries.dispute(
                    session, info.context.actor, delivery_id=delivery_id, reason=input.reason
                )
        except DomainError as error:
            return errors.from_domain(error)
        return await _result(info, delivery)
