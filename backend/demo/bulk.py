"""Writes a demo plan's rows in bulk: multi-row INSERTs with SQLAlchemy Core, a few
thousand rows per statement, instead of one service call per row.

What it keeps from the services: every row's own fields go through the services' checks
that need no database (`check_terms`, `check_fields`), and a pass-through link through
`commitment_rules.check` itself, against the channel as stored; rates are pinned by
`fx.apply` from a `RateTable` with `fx.rate_on`'s rule (the value date, else the day
recorded; deliveries at their day; the same window), in-kind deliveries valued by
`deliveries.in_kind_value`; stages, versions, reporters and reviewers are what the
services' calls would have left (tests/test_demo.py compares both ways at scale 1).

What it leaves out: the audit record and the feed event of each row — one audit record,
`demo.seeded_in_bulk`, says what was written — and the intermediate states (a delivery
is written confirmed, a membership suspended, a commitment at its last stage). A feed of
hundreds of thousands of events would only be replayed by the relay to subscribers who
were never there to miss it. Relations the services look up (the organisation, the
workstream in the coalition, the line in the commitment, the delivering stage, the
reviewer) hold by the plan's construction.
"""

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from backend import models
from backend.actors import SYSTEM
from backend.demo import catalogue, records
from backend.demo.progress import Progress
from backend.services import (
    activities,
    commitment_rules,
    commitments,
    deliveries,
    fx,
    memberships,
    organisations,
)
from backend.services.commitment_rules import CommitmentDraft
from backend.services.rate_table import RateTable

# Commitments per transaction, with their in-kind lines and deliveries.
CHUNK = 2_000
_LEFT = (models.MembershipStatus.WITHDRAWN, models.MembershipStatus.REJECTED)


def _fields(draft: Any) -> dict[str, Any]:
    """A dataclass's fields by name, not copied (dataclasses.asdict copies deeply)."""
    return {field.name: getattr(draft, field.name) for field in fields(draft)}


class _Row(dict[str, Any]):
    """A row to insert that `fx.apply` and `deliveries.in_kind_value` can read and set
    like a model's attributes."""

    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


class Writer:
    def __init__(
        self,
        session: AsyncSession,
        plan: records.Plan,
        *,
        organisations: dict[str, int],
        coalitions: dict[str, int],
        workstreams: dict[tuple[str, str], int],
        rate_window_days: int,
        progress: Progress,
    ) -> None:
        self.session = session
        self.plan = plan
        self.organisations = organisations
        self.coalitions = coalitions
        self.workstreams = workstreams
        self.window_days = rate_window_days
        self.progress = progress
        self.now = models.utcnow()
        self.contacts = {planned.key: planned.contact for planned in plan.organisations}
        self.commitment_ids: list[int] = []
        self.refs: set[str] = set()
        self.rates: RateTable | None = None

    async def write(self) -> None:
        self.rates = await RateTable.load(self.session)
        await self._organisations()
        await self._memberships()
        for start in range(0, len(self.plan.commitments), CHUNK):
            await self._commitments(self.plan.commitments[start : start + CHUNK])
        await self._activities()
        self._summary()
        await self.session.commit()

    # --- organisations and memberships ------------------------------------------------

    async def _organisations(self) -> None:
        planned = [item for item in self.plan.organisations if item.key not in self.organisations]
        for item in planned:
            organisations.check_fields(item.draft)
        rows = [
            {**_fields(item.draft), "created_at": self.now, "updated_at": self.now}
            for item in planned
        ]
        ids = await self._insert(models.Organisation, rows, returning=True)
        for item, organisation_id in zip(planned, ids, strict=True):
            self.organisations[item.key] = organisation_id
        await self._done("Organisations", len(planned))

    async def _memberships(self) -> None:
        rows = []
        for planned in self.plan.memberships:
            applied = planned.status is models.MembershipStatus.APPLIED
            draft = memberships.MembershipDraft(
                status=planned.status,
                role=planned.role,
                joined_on=planned.joined_on,
                left_on=self.plan.today if planned.status in _LEFT else None,
                principles_accepted=[] if applied else catalogue.PRINCIPLES,
                workstream_ids=[
                    self.workstreams[(planned.coalition, w)] for w in planned.workstreams
                ],
            )
            memberships.check_fields(draft)
            rows.append(
                {
                    **_fields(draft),
                    "coalition_id": self.coalitions[planned.coalition],
                    "organisation_id": self.organisations[planned.organisation],
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        await self._insert(models.Membership, rows)
        await self._done("Memberships", len(rows) + self.plan.later_status_changes)

    # --- commitments, in-kind lines, deliveries ----------------------------------------

    async def _commitments(self, chunk: Sequence[records.PlannedCommitment]) -> None:
        drafts = [self._draft(planned) for planned in chunk]
        rows = [
            self._commitment(planned, draft) for planned, draft in zip(chunk, drafts, strict=True)
        ]
        ids = await self._insert(models.Commitment, rows, returning=True)
        first = len(self.commitment_ids)
        self.commitment_ids.extend(ids)
        await self._pass_through(chunk, drafts, first)
        lines = []
        for planned, row, commitment_id in zip(chunk, rows, ids, strict=True):
            for position, draft in enumerate(planned.terms.get("in_kind", [])):
                line = _Row(commitment_id=commitment_id, position=position, **_fields(draft))
                self._pin(
                    line,
                    commitments.valued_on(cast(Any, row)),
                    "fair_value",
                    "fair_value_usd",
                    draft.fair_value_currency,
                )
                lines.append(line)
        line_ids = await self._insert(models.InKindLine, lines, returning=True)
        by_commitment: dict[int, list[_Row]] = {}
        for line, line_id in zip(lines, line_ids, strict=True):
            line["id"] = line_id
            by_commitment.setdefault(line["commitment_id"], []).append(line)
        delivered = [
            self._delivery(planned, commitment_id, by_commitment.get(commitment_id, []), delivery)
            for planned, commitment_id in zip(chunk, ids, strict=True)
            for delivery in planned.deliveries
        ]
        await self._insert(models.Delivery, delivered)
        await self.session.commit()
        self.progress.advance("Commitments", len(chunk))
        self.progress.advance("Deliveries", len(delivered))

    def _draft(self, planned: records.PlannedCommitment) -> CommitmentDraft:
        workstream_id = None
        if planned.workstream is not None:
            workstream_id = self.workstreams[(planned.coalition, planned.workstream)]
        draft = CommitmentDraft(
            coalition_id=self.coalitions[planned.coalition],
            organisation_id=self.organisations[planned.organisation],
            workstream_id=workstream_id,
            **planned.terms,
        )
        commitment_rules.check_terms(draft)
        return draft

    def _commitment(self, planned: records.PlannedCommitment, draft: CommitmentDraft) -> _Row:
        """The row `commitments.pledge` (of a record brought in: `imported`, recorded at the
        plan's time) and the later moves leave behind."""
        columns = _fields(draft)
        del columns["in_kind"]
        embargoed = draft.embargo_until is not None and draft.embargo_until > self.now
        row = _Row(
            **columns,
            ref=self._ref(),
            stage=planned.stage,
            idempotency_key=None,
            announced_at=None if embargoed else self.now,
            last_progress_at=planned.last_progress_at,
            closing_reason=planned.reason,
            version=planned.version,
            created_at=planned.recorded_at,
            updated_at=planned.updated_at,
        )
        self._pin(
            row, commitments.valued_on(cast(Any, row)), "amount", "amount_usd", draft.currency
        )
        return row

    async def _pass_through(
        self,
        chunk: Sequence[records.PlannedCommitment],
        drafts: list[CommitmentDraft],
        first: int,
    ) -> None:
        """Links checked by `commitment_rules.check` against the channel as stored (open,
        another member's, with cash, itself no pass-through), then set."""
        links = []
        for offset, (planned, draft) in enumerate(zip(chunk, drafts, strict=True)):
            if planned.funded_through is None:
                continue
            channel_id = self.commitment_ids[planned.funded_through]
            linked = replace(draft, funded_through_id=channel_id)
            await commitment_rules.check(self.session, linked)
            links.append({"row_id": self.commitment_ids[first + offset], "channel_id": channel_id})
        if links:
            table = models.table_of(models.Commitment)
            await self.session.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("row_id"))
                .values(funded_through_id=sa.bindparam("channel_id")),
                links,
                execution_options={"synchronize_session": False},
            )

    def _delivery(
        self,
        planned: records.PlannedCommitment,
        commitment_id: int,
        lines: list[_Row],
        delivery: records.PlannedDelivery,
    ) -> _Row:
        """The row `deliveries.report` writes, reviewed as `confirm` or `dispute` would."""
        currency = planned.terms.get("currency") if delivery.amount is not None else None
        line = lines[delivery.line] if delivery.line is not None else None
        draft = deliveries.DeliveryDraft(
            delivered_on=delivery.delivered_on,
            amount=delivery.amount,
            currency=currency,
            in_kind_line_id=line["id"] if line is not None else None,
            quantity=delivery.quantity,
            country=delivery.country,
            receiving_organisation_id=(
                self.organisations[delivery.receiver] if delivery.receiver else None
            ),
            beneficiaries=delivery.beneficiaries,
            beneficiary_share=delivery.beneficiary_share,
            evidence_url=delivery.evidence_url,
            note=delivery.note,
        )
        deliveries.check_fields(draft, resource_kind=planned.terms["resource_kind"])
        columns = _fields(draft)
        share = columns.pop("beneficiary_share")
        reviewed = delivery.review is not models.DeliveryStatus.REPORTED
        reviewer = SYSTEM.name
        if delivery.by_receiver and delivery.receiver is not None:
            reviewer = self._partner(delivery.receiver)
        row = _Row(
            **columns,
            commitment_id=commitment_id,
            beneficiary_share_bp=None if share is None else int(share * 100),
            unit=line["unit"] if line is not None else None,
            in_kind_value_usd=None,
            status=delivery.review,
            reported_by=self._partner(planned.organisation),
            reported_by_organisation_id=self.organisations[planned.organisation],
            reported_by_token_id=None,
            reviewed_by=reviewer if reviewed else None,
            reviewed_at=self.now if reviewed else None,
            dispute_reason=delivery.dispute_reason if reviewed else None,
            idempotency_key=None,
            created_at=self.now,
            updated_at=self.now,
        )
        if line is not None and delivery.quantity is not None:
            row["in_kind_value_usd"] = deliveries.in_kind_value(cast(Any, line), delivery.quantity)
        self._pin(row, delivery.delivered_on, "amount", "amount_usd", currency)
        return row

    # --- activities and the record of it all -------------------------------------------

    async def _activities(self) -> None:
        rows = []
        for planned in self.plan.activities:
            workstream_id = None
            if planned.workstream is not None:
                workstream_id = self.workstreams[(planned.coalition, planned.workstream)]
            draft = activities.ActivityDraft(
                coalition_id=self.coalitions[planned.coalition],
                kind=planned.kind,
                title=planned.title,
                occurred_at=planned.occurred_at,
                organisation_id=(
                    self.organisations[planned.organisation] if planned.organisation else None
                ),
                workstream_id=workstream_id,
                organisation_ids=[self.organisations[key] for key in planned.involved],
                summary=planned.summary,
                countries=planned.countries,
                links=planned.links,
                visibility=planned.visibility,
                embargo_until=planned.embargo_until,
            )
            activities.check_fields(draft)
            embargoed = draft.embargo_until is not None and draft.embargo_until > self.now
            rows.append(
                {
                    **_fields(draft),
                    "published_by": SYSTEM.name,
                    "announced_at": None if embargoed else self.now,
                    "created_at": self.now,
                }
            )
        await self._insert(models.Activity, rows)
        await self._done("Activities", len(rows))

    def _summary(self) -> None:
        """One audit record for everything written in bulk, in place of one per row."""
        plan = self.plan
        self.session.add(
            models.AuditRecord(
                actor_name=SYSTEM.name,
                actor_role=SYSTEM.role.value if SYSTEM.role else "ANONYMOUS",
                action="demo.seeded_in_bulk",
                entity_type="Coalition",
                entity_id=self.coalitions[catalogue.LEARNING],
                before=None,
                after={
                    "organisations": len(plan.organisations),
                    "memberships": len(plan.memberships),
                    "commitments": len(plan.commitments),
                    "in_kind_lines": sum(len(c.terms.get("in_kind", [])) for c in plan.commitments),
                    "deliveries": plan.deliveries,
                    "activities": len(plan.activities),
                    "note": "Written in bulk: no audit record or feed event per row.",
                },
            )
        )

    # --- helpers ------------------------------------------------------------------------

    def _pin(
        self, row: _Row, on: dt.date, amount: str, amount_usd: str, currency: str | None
    ) -> None:
        assert self.rates is not None
        rate = None
        if row[amount] is not None and currency is not None:
            rate = self.rates.rate_on(currency=currency, on=on, window_days=self.window_days)
        fx.apply(row, rate, amount=amount, amount_usd=amount_usd)

    def _partner(self, key: str) -> str:
        """The name a partner actor of the organisation has (seeding.Ids.partner)."""
        return f"{self.contacts[key]} ({key})"

    def _ref(self) -> str:
        while (ref := f"CMT-{secrets.token_hex(5).upper()}") in self.refs:
            pass
        self.refs.add(ref)
        return ref

    async def _insert(
        self, model: type[SQLModel], rows: Iterable[dict[str, Any]], *, returning: bool = False
    ) -> list[int]:
        """Multi-row INSERTs (SQLAlchemy's insertmanyvalues batches them); the new ids in
        the order of `rows` when `returning`."""
        rows = [dict(row) for row in rows]
        if not rows:
            return []
        table = models.table_of(model)
        rows = [{key: value for key, value in row.items() if key != "id"} for row in rows]
        if not returning:
            await self.session.execute(sa.insert(table), rows)
            return []
        statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        result = await self.session.execute(statement, rows)
        return [row_id for (row_id,) in result]

    async def _done(self, phase: str, steps: int) -> None:
        await self.session.commit()
        self.progress.advance(phase, steps)
