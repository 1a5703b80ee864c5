"""Commitment mutations: pledge, revise, advance, withdraw, cancel."""

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from backend import models
from backend.errors import REQUIRED, DomainError, FieldIssue, InvalidInput
from backend.graphql import errors, inputs, relay
from backend.graphql.commitments import Commitment
from backend.graphql.context import Context
from backend.services import commitments
from backend.services.commitment_rules import CommitmentDraft, InKindDraft

WriteInfo = Info[Context, None]


@strawberry.input(description="A quantity of non-cash help.")
class InKindLineInput:
    category: models.InKindCategory = strawberry.field(description="What kind of help.")
    description: str = strawberry.field(description="What exactly is offered.")
    quantity: Decimal = strawberry.field(description="How much, in `unit`; more than zero.")
    unit: str = strawberry.field(description="GB, device, seat, expert_day, airtime_minute, ...")
    fair_value: Decimal | None = strawberry.field(default=None, description="Fair-market value.")
    fair_value_currency: str | None = strawberry.field(default=None, description="ISO 4217.")
    valuation_method: str | None = strawberry.field(
        default=None, description="How the value was set; required with a value."
    )
    free_of_charge: bool = strawberry.field(default=True, description="Given free.")
    free_until: dt.date | None = strawberry.field(default=None, description="Free until.")


@strawberry.input(description="A new pledge.")
class PledgeCommitmentInput:
    coalition_id: strawberry.ID = strawberry.field(description="The coalition pledged to.")
    title: str = strawberry.field(description="What is promised, in a line.")
    resource_kind: models.ResourceKind = strawberry.field(description="Cash, in-kind or both.")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The pledging organisation; defaults to the viewer's own. The secretariat "
        "must give it.",
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=None, description="Counts towards."
    )
    description: str | None = strawberry.field(default=None, description="Details.")
    amount: Decimal | None = strawberry.field(default=None, description="Cash part, more than 0.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217 code.")
    value_date: dt.date | None = strawberry.field(
        default=None, description="Day the amount is valued at (and its USD rate); today if none."
    )
    earmarking: str | None = strawberry.field(default=None, description="IATI category 1 to 4.")
    in_kind: list[InKindLineInput] = strawberry.field(
        default_factory=list, description="In-kind lines (IN_KIND and MIXED)."
    )
    countries: list[str] = strawberry.field(default_factory=list, description="ISO 3166-1 alpha-2.")
    sdg_targets: list[str] = strawberry.field(default_factory=list, description="e.g. 4.1.")
    sectors: list[str] = strawberry.field(
        default_factory=list, description="OECD DAC 5-digit purpose codes, e.g. 11220."
    )
    funded_through_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Pass-through money: the other member's commitment this cash is part of. "
        "Coalition totals then count it once, there.",
    )
    start_date: dt.date | None = strawberry.field(default=None, description="When delivery starts.")
    end_date: dt.date | None = strawberry.field(default=None, description="Not before start.")
    visibility: models.Visibility = strawberry.field(
        default=models.Visibility.PUBLIC, description="Who sees it, and its figures."
    )
    embargo_until: dt.datetime | None = strawberry.field(
        default=None, description="Keep it from everyone but the owner and secretariat until then."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key returns the first pledge."
    )


@strawberry.input(description="New terms for an open commitment; omitted fields stay.")
class ReviseCommitmentInput:
    id: strawberry.ID = strawberry.field(description="The commitment.")
    version: int = strawberry.field(description="The version the change is based on.")
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="What is promised, in a line."
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Details.")
    resource_kind: models.ResourceKind | None = strawberry.field(
        default=strawberry.UNSET, description="Cash, in-kind or both."
    )
    workstream_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Counts towards; null for none."
    )
    amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Cash part, more than 0."
    )
    currency: str | None = strawberry.field(default=strawberry.UNSET, description="ISO 4217 code.")
    value_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Day the amount is valued at (and its USD rate)."
    )
    earmarking: str | None = strawberry.field(
        default=strawberry.UNSET, description="IATI category 1 to 4."
    )
    in_kind: list[InKindLineInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every in-kind line; refused once deliveries are recorded.",
    )
    countries: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 3166-1 alpha-2; replaces the list."
    )
    sdg_targets: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="e.g. 4.1; replaces the list."
    )
    sectors: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="OECD DAC 5-digit codes; replaces the list."
    )
    funded_through_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The other member's commitment this cash passes through; null for none.",
    )
    start_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="When delivery starts."
    )
    end_date: dt.date | None = strawberry.field(
        default=strawberry.UNSET, description="Not before start."
    )
    visibility: models.Visibility | None = strawberry.field(
        default=strawberry.UNSET, description="Who sees it, and its figures."
    )
    embargo_until: dt.datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Keep it from everyone but the owner and secretariat until then.",
    )


@strawberry.input(description="Move a commitment one stage on.")
class AdvanceCommitmentInput:
    id: strawberry.ID = strawberry.field(description="The commitment.")
    version: int = strawberry.field(description="The version the change is based on.")
    stage: models.Stage = strawberry.field(description="COMMITTED, IN_DELIVERY or FULFILLED.")


@strawberry.input(description="Close a commitment, with the reason.")
class CloseCommitmentInput:
    id: strawberry.ID = strawberry.field(description="The commitment.")
    version: int = strawberry.field(description="The version the change is based on.")
    reason: str = strawberry.field(description="Why; kept in the history.")


CommitmentResult = Annotated[
    Commitment
    | errors.ValidationFailed
    | errors.NotFound
    | errors.PermissionDenied
    | errors.Conflict,
    strawberry.union("CommitmentResult", description="The commitment, or why not."),
]


def _lines(lines: list[InKindLineInput]) -> list[InKindDraft]:
    return [InKindDraft(**vars(line)) for line in lines]


def _pledge_draft(info: WriteInfo, input: PledgeCommitmentInput) -> CommitmentDraft:
    fields = inputs.changes_of(input, exclude=("idempotency_key",))
    fields["coalition_id"] = relay.decode_id(input.coalition_id, "Coalition", field="coalition_id")
    fields["workstream_id"] = relay.decode_optional_id(
        input.workstream_id, "Workstream", field="workstream_id"
    )
    organisation_id = relay.decode_optional_id(
        input.organisation_id, "Organisation", field="organisation_id"
    )
    fields["funded_through_id"] = relay.decode_optional_id(
        input.funded_through_id, "Commitment", field="funded_through_id"
    )
    fields["organisation_id"] = organisation_id or info.context.actor.organisation_id
    if fields["organisation_id"] is None and not info.context.actor.is_anonymous:
        message = "Say which organisation pledges."
        raise InvalidInput([FieldIssue("organisation_id", REQUIRED, message)])
    fields["in_kind"] = _lines(input.in_kind)
    return CommitmentDraft(**fields)


def _revisions(input: ReviseCommitmentInput) -> dict[str, object]:
    changes = inputs.changes_of(input, exclude=("id", "version"))
    if "workstream_id" in changes:
        changes["workstream_id"] = relay.decode_optional_id(
            input.workstream_id,
            "Workstream",
            field="workstream_id",  # type: ignore[arg-type]
        )
    if "funded_through_id" in changes:
        changes["funded_through_id"] = relay.decode_optional_id(
            input.funded_through_id,
            "Commitment",
            field="funded_through_id",  # type: ignore[arg-type]
        )
    if "in_kind" in changes:
        changes["in_kind"] = _lines(input.in_kind or [])
    for name in ("countries", "sdg_targets", "sectors"):
        if name in changes and changes[name] is None:
            changes[name] = []
    return changes


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a pledge for your organisation (ACTIVE members).")
    async def pledge_commitment(
        self, info: WriteInfo, input: PledgeCommitmentInput
    ) -> CommitmentResult:
        actor = info.context.actor
        try:
            draft = _pledge_draft(info, input)
            async with info.context.transaction() as session:
                commitment = await commitments.pledge(
                    session,
                    actor,
                    draft=draft,
                    idempotency_key=input.idempotency_key,
                    rate_window_days=info.context.settings.fx_rate_window_days,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Commitment.from_model(commitment, actor)

    @strawberry.mutation(description="Change an open commitment's terms.")
    async def revise_commitment(
        self, info: WriteInfo, input: ReviseCommitmentInput
    ) -> CommitmentResult:
        actor = info.context.actor
        try:
            commitment_id = relay.decode_id(input.id, "Commitment", field="id")
            changes = _revisions(input)
            async with info.context.transaction() as session:
                commitment = await commitments.revise(
                    session,
                    actor,
                    commitment_id=commitment_id,
                    version=input.version,
                    changes=changes,
                    rate_window_days=info.context.settings.fx_rate_window_days,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Commitment.from_model(commitment, actor)

    @strawberry.mutation(description="PLEDGED -> COMMITTED -> IN_DELIVERY -> FULFILLED.")
    async def advance_commitment(
        self, info: WriteInfo, input: AdvanceCommitmentInput
    ) -> CommitmentResult:
        actor = info.context.actor
        try:
            commitment_id = relay.decode_id(input.id, "Commitment", field="id")
            async with info.context.transaction() as session:
                commitment = await commitments.advance(
                    session,
                    actor,
                    commitment_id=commitment_id,
                    version=input.version,
                    stage=input.stage,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return Commitment.from_model(commitment, actor)

    @strawberry.mutation(description="Take back your organisation's open commitment.")
    async def withdraw_commitment(
        self, info: WriteInfo, input: CloseCommitmentInput
    ) -> CommitmentResult:
        return await _close(info, input, commitments.withdraw)

    @strawberry.mutation(description="Cancel an open commitment (secretariat admins).")
    async def cancel_commitment(
        self, info: WriteInfo, input: CloseCommitmentInput
    ) -> CommitmentResult:
        return await _close(info, input, commitments.cancel)


async def _close(
    info: WriteInfo, input: CloseCommitmentInput, close: Callable[..., Awaitable[models.Commitment]]
) -> CommitmentResult:
    """Withdraw or cancel: the same input, the same transaction, a different rule."""
    actor = info.context.actor
    try:
        commitment_id = relay.decode_id(input.id, "Commitment", field="id")
        async with info.context.transaction() as session:
            commitment = await close(
                session,
                actor,
                commitment_id=commitment_id,
                version=input.version,
                reason=input.reason,
            )
    except DomainError as error:
        return errors.from_domain(error)
    return Commitment.from_model(commitment, actor)
