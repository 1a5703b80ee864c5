"""How each GraphQL type the portal reads is stored: the table behind it and, per field,
the column or relation that answers it.

This is the compiled path's half of the contract; the resolvers (`from_model` and the
`@strawberry.field` methods) are the other, and tests/graphql/test_compiled_reads.py checks
that both answer every trusted document alike. A field not listed here makes its document
go through the resolvers.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from backend import models


class Format(StrEnum):
    PLAIN = "plain"  # text, integers and enums (stored by name) as they are
    AMOUNT = "amount"  # money.amount: two places unless the figure needs more
    QUANTITY = "quantity"  # money.quantity: no trailing zeros
    RATE = "rate"  # money.quantity of a twelve-place rate
    INSTANT = "instant"  # datetime.isoformat() in UTC
    DATE = "date"
    BOOLEAN = "boolean"
    JSON = "json"  # a JSON list stored as it is answered


@dataclass(frozen=True)
class Column:
    name: str
    format: Format = Format.PLAIN
    # Null unless the reader may see the commitment's figures (access.can_see_amounts).
    masked: bool = False


@dataclass(frozen=True)
class GlobalId:
    """relay.to_global_id(type, id)."""

    type_name: str


@dataclass(frozen=True)
class CodeName:
    """The name of a code in one of backend/codes' lists ("" for an unknown code)."""

    column: str
    code_list: str


@dataclass(frozen=True)
class One:
    """The row of `target` whose id is in `column` (null when there is none)."""

    target: str
    column: str


@dataclass(frozen=True)
class Many:
    """The rows of `target` whose `foreign_key` holds this row's id, in `order`."""

    parent: str  # the GraphQL type holding the field (for its arguments' definitions)
    target: str
    foreign_key: str
    order: tuple[tuple[str, bool], ...]  # (column, descending)
    # access rule the rows pass: "listed" (commitments, activities) or "memberships"
    rule: str | None = None
    # argument name -> the target's column it must equal (a global id of `id_type`)
    arguments: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ByIds:
    """The rows of `target` whose ids a JSON list column holds, in the list's order."""

    target: str
    column: str


@dataclass(frozen=True)
class Codes:
    """A JSON list of codes, as objects of {code, name} (SdgGoal)."""

    column: str
    code_list: str


Field = Column | GlobalId | CodeName | One | Many | ByIds | Codes


@dataclass(frozen=True)
class Shape:
    model: type[Any]
    fields: dict[str, Field]
    # The type's amounts follow its commitment's visibility (set by the parent).
    figures_of_commitment: bool = False
    # For commitments: the shown-figures rule starts here for its children.
    owns_figures: bool = False

    @property
    def table(self) -> sa.Table:
        return models.table_of(self.model)


def _columns(*names: str, format: Format = Format.PLAIN) -> dict[str, Field]:
    return {_camel(name): Column(name, format) for name in names}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


ORGANISATION = Shape(
    models.Organisation,
    {
        "id": GlobalId("Organisation"),
        **_columns(
            "name",
            "acronym",
            "iati_identifier",
            "organisation_type",
            "hub_category",
            "country",
            "website",
            "description",
        ),
        "organisationTypeName": CodeName("organisation_type", "organisation_types"),
        "memberships": Many(
            "Organisation", "Membership", "organisation_id", (("id", False),), "memberships"
        ),
        "commitments": Many(
            "Organisation",
            "Commitment",
            "organisation_id",
            (("created_at", True), ("id", True)),
            "listed",
            {"coalitionId": ("coalition_id", "Coalition")},
        ),
    },
)

COALITION = Shape(
    models.Coalition,
    {
        "id": GlobalId("Coalition"),
        **_columns("slug", "name", "kind", "status", "description"),
        "launchedOn": Column("launched_on", Format.DATE),
        "sdgGoals": Codes("sdg_goals", "sdg_goals"),
        "hostOrganisation": One("Organisation", "host_organisation_id"),
        "workstreams": Many("Coalition", "Workstream", "coalition_id", (("id", False),)),
        "memberships": Many(
            "Coalition", "Membership", "coalition_id", (("id", False),), "memberships"
        ),
    },
)

WORKSTREAM = Shape(
    models.Workstream,
    {
        "id": GlobalId("Workstream"),
        **_columns("name", "kind", "description", "target_metric", "status"),
        "targetValue": Column("target_value", Format.QUANTITY),
        "targetDate": Column("target_date", Format.DATE),
        "coalition": One("Coalition", "coalition_id"),
    },
)

MEMBERSHIP = Shape(
    models.Membership,
    {
        "id": GlobalId("Membership"),
        **_columns("status", "role"),
        **_columns("joined_on", "left_on", format=Format.DATE),
        "principlesAccepted": Column("principles_accepted", Format.JSON),
        "organisation": One("Organisation", "organisation_id"),
        "coalition": One("Coalition", "coalition_id"),
        "workstreams": ByIds("Workstream", "workstream_ids"),
    },
)

COMMITMENT = Shape(
    models.Commitment,
    {
        "id": GlobalId("Commitment"),
        **_columns(
            "ref",
            "title",
            "description",
            "stage",
            "resource_kind",
            "currency",
            "earmarking",
            "usd_rate_source",
            "visibility",
            "closing_reason",
            "version",
        ),
        "amount": Column("amount", Format.AMOUNT, masked=True),
        "amountUsd": Column("amount_usd", Format.AMOUNT, masked=True),
        "usdRate": Column("usd_rate", Format.RATE),
        **_columns("value_date", "usd_rate_date", "start_date", "end_date", format=Format.DATE),
        **_columns("countries", "sdg_targets", "sectors", format=Format.JSON),
        **_columns(
            "embargo_until",
            "announced_at",
            "last_progress_at",
            "created_at",
            "updated_at",
            format=Format.INSTANT,
        ),
        "organisation": One("Organisation", "organisation_id"),
        "coalition": One("Coalition", "coalition_id"),
        "workstream": One("Workstream", "workstream_id"),
        "inKind": Many("Commitment", "InKindLine", "commitment_id", (("position", False),)),
        "deliveries": Many(
            "Commitment", "Delivery", "commitment_id", (("delivered_on", True), ("id", True))
        ),
    },
    owns_figures=True,
)

IN_KIND_LINE = Shape(
    models.InKindLine,
    {
        "id": GlobalId("InKindLine"),
        **_columns("category", "description", "unit", "fair_value_currency", "valuation_method"),
        "quantity": Column("quantity", Format.QUANTITY),
        "fairValue": Column("fair_value", Format.AMOUNT, masked=True),
        "fairValueUsd": Column("fair_value_usd", Format.AMOUNT, masked=True),
        "usdRate": Column("usd_rate", Format.RATE),
        "usdRateDate": Column("usd_rate_date", Format.DATE),
        "usdRateSource": Column("usd_rate_source"),
        "freeOfCharge": Column("free_of_charge", Format.BOOLEAN),
        "freeUntil": Column("free_until", Format.DATE),
    },
    figures_of_commitment=True,
)

DELIVERY = Shape(
    models.Delivery,
    {
        "id": GlobalId("Delivery"),
        **_columns(
            "currency",
            "unit",
            "country",
            "beneficiaries",
            "evidence_url",
            "note",
            "status",
            "reported_by",
            "reviewed_by",
            "dispute_reason",
        ),
        "deliveredOn": Column("delivered_on", Format.DATE),
        "amount": Column("amount", Format.AMOUNT, masked=True),
        "amountUsd": Column("amount_usd", Format.AMOUNT, masked=True),
        "usdRate": Column("usd_rate", Format.RATE),
        "usdRateDate": Column("usd_rate_date", Format.DATE),
        "usdRateSource": Column("usd_rate_source"),
        "quantity": Column("quantity", Format.QUANTITY),
        "inKindValueUsd": Column("in_kind_value_usd", Format.AMOUNT, masked=True),
        **_columns("reviewed_at", "created_at", format=Format.INSTANT),
        "inKindLine": One("InKindLine", "in_kind_line_id"),
        "receivingOrganisation": One("Organisation", "receiving_organisation_id"),
    },
    figures_of_commitment=True,
)

ACTIVITY = Shape(
    models.Activity,
    {
        "id": GlobalId("Activity"),
        **_columns("kind", "title", "summary", "visibility", "published_by"),
        **_columns("occurred_at", "embargo_until", format=Format.INSTANT),
        **_columns("countries", "links", format=Format.JSON),
        "coalition": One("Coalition", "coalition_id"),
        "workstream": One("Workstream", "workstream_id"),
        "organisation": One("Organisation", "organisation_id"),
        "organisations": ByIds("Organisation", "organisation_ids"),
    },
)

SHAPES: dict[str, Shape] = {
    "Organisation": ORGANISATION,
    "Coalition": COALITION,
    "Workstream": WORKSTREAM,
    "Membership": MEMBERSHIP,
    "Commitment": COMMITMENT,
    "InKindLine": IN_KIND_LINE,
    "Delivery": DELIVERY,
    "Activity": ACTIVITY,
}
