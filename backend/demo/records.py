"""The records a demo plan is made of: plain values, ids still unknown (keys stand for them)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from backend import models
from backend.services import organisations


@dataclass(frozen=True)
class PlannedOrganisation:
    key: str
    draft: organisations.OrganisationDraft
    # The person who acts for it (reports deliveries, withdraws, confirms receipt).
    contact: str


@dataclass(frozen=True)
class PlannedMembership:
    coalition: str
    organisation: str
    # Every membership is admitted APPLIED or ACTIVE; SUSPENDED and WITHDRAWN come later,
    # after the member's commitments, as they would in life.
    status: models.MembershipStatus
    role: models.MembershipRole
    workstreams: list[str]
    joined_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    delivered_on: dt.date
    amount: Decimal | None = None
    # Position of the commitment's in-kind line it draws down, with the quantity handed over.
    line: int | None = None
    quantity: Decimal | None = None
    country: str | None = None
    receiver: str | None = None
    beneficiaries: int | None = None
    # Percent of the beneficiaries credited here when another partner reports the same
    # learners (co-reported reach); None: all of them.
    beneficiary_share: Decimal | None = None
    evidence_url: str | None = None
    note: str | None = None
    review: models.DeliveryStatus = models.DeliveryStatus.REPORTED
    by_receiver: bool = False
    dispute_reason: str | None = None


@dataclass(frozen=True)
class PlannedCommitment:
    coalition: str
    organisation: str
    workstream: str | None
    # CommitmentDraft fields other than the ids.
    terms: dict[str, Any]
    stage: models.Stage
    # The last open stage before a withdrawal or cancellation.
    reached: models.Stage
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    reason: str | None = None
    # When it was recorded (its created_at), and its last stage change or delivery
    # (last_progress_at): the seeding sets both, as a history imported would have them.
    recorded_at: dt.datetime = field(kw_only=True)
    last_progress_at: dt.datetime | None = None
    # The plan position of another member's commitment its cash passes through.
    funded_through: int | None = None

    @property
    def updated_at(self) -> dt.datetime:
        return max(self.recorded_at, self.last_progress_at or self.recorded_at)

    @property
    def version(self) -> int:
        """The version the services leave it at: one more for every stage change (the
        first delivery moves it to IN_DELIVERY)."""
        moves = [
            self.reached is not models.Stage.PLEDGED,
            bool(self.deliveries),
            self.stage in (models.Stage.FULFILLED, models.Stage.WITHDRAWN, models.Stage.CANCELLED),
        ]
        return 1 + sum(moves)


@dataclass(frozen=True)
class PlannedActivity:
    coalition: str
    organisation: str | None
    involved: list[str]
    workstream: str | None
    kind: models.ActivityKind
    title: str
    summary: str
    occurred_at: dt.datetime
    countries: list[str]
    links: list[str]
    visibility: models.Visibility
    embargo_until: dt.datetime | None


@dataclass(frozen=True)
class PlannedRate:
    currency: str
    rate_date: dt.date
    usd_per_unit: Decimal


@dataclass(frozen=True)
class Plan:
    today: dt.date
    rates: list[PlannedRate]
    organisations: list[PlannedOrganisation]
    memberships: list[PlannedMembership]
    commitments: list[PlannedCommitment]
    activities: list[PlannedActivity]

    @property
    def deliveries(self) -> int:
        return sum(len(commitment.deliveries) for commitment in self.commitments)

    @property
    def later_status_changes(self) -> int:
        active = models.MembershipStatus.ACTIVE, models.MembershipStatus.APPLIED
        return sum(1 for membership in self.memberships if membership.status not in active)

    @property
    def steps(self) -> int:
        """Service calls to make, for a progress bar (coalitions and workstreams count one)."""
        return (
            len(self.rates)
            + len(self.organisations)
            + 1
            + len(self.memberships)
            + len(self.commitments)
            + self.deliveries
            + len(self.activities)
            + self.later_status_changes
        )
