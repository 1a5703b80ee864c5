"""Per-operation DataLoaders: each relation costs one batched statement, however many rows.

Every loader applies the same visibility rules as the top-level queries (services.access),
so a nested path shows exactly what a list would.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col
from strawberry.dataloader import DataLoader

from backend import models
from backend.actors import Actor
from backend.services import access, matches, needs, offers

Reading = Callable[[], AbstractAsyncContextManager[AsyncSession]]
K = TypeVar("K", bound=Hashable)
M = TypeVar("M", bound=SQLModel)


def _grouped(rows: Iterable[M], keys: Sequence[K], key_of: Callable[[M], K]) -> list[list[M]]:
    groups: dict[K, list[M]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


class Loaders:
    def __init__(self, actor: Actor, reading: Reading) -> None:
        self.actor = actor
        self.reading = reading
        self.organisation = self._by_id(models.Organisation)
        self.coalition = self._by_id(models.Coalition)
        self.workstream = self._by_id(models.Workstream)
        self.in_kind_line = self._by_id(models.InKindLine)
        self.commitment = DataLoader(self._load_commitments)
        self.workstreams_of_coalition = DataLoader(self._load_workstreams_of_coalition)
        self.memberships_of_coalition = DataLoader(self._load_memberships_of_coalition)
        self.memberships_of_organisation = DataLoader(self._load_memberships_of_organisation)
        self.commitments_of_organisation = DataLoader(self._load_commitments_of_organisation)
        self.in_kind_lines_of_commitment = DataLoader(self._load_in_kind_lines)
        self.deliveries_of_commitment = DataLoader(self._load_deliveries)
        # The coordination layer: needs and offers as their readers may see them.
        self.need = DataLoader(self._load_needs)
        self.offer = DataLoader(self._load_offers)
        self.need_coverage = DataLoader(self._load_need_coverage)
        self.matches_of_need = DataLoader(self._load_matches_of_need)
        self.matches_of_offer = DataLoader(self._load_matches_of_offer)
        # Visibility plans, for readers the resolvers have let through.
        self.plan_of_commitment = DataLoader(self._load_plans_of_commitments)
        self.actions_of_plan = DataLoader(self._load_actions_of_plans)

    async def _rows(self, statement: sa.Select[Any]) -> list[Any]:
        async with self.reading() as session:
            return list((await session.scalars(statement)).all())

    def _by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        async def load(ids: Sequence[int]) -> list[M | None]:
            id_column = col(model.id)  # type: ignore[attr-defined]
            rows = await self._rows(sa.select(model).where(id_column.in_(ids)))
            found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(id) for id in ids]

        return DataLoader(load)

    async def _load_commitments(self, ids: Sequence[int]) -> list[models.Commitment | None]:
        commitment = models.Commitment
        rows = await self._rows(
            sa.select(commitment).where(
                col(commitment.id).in_(ids), access.commitment_listed(self.actor)
            )
        )
        found = {row.id: row for row in rows}
        return [found.get(id) for id in ids]

    async def _load_workstreams_of_coalition(
        self, ids: Sequence[int | None]
    ) -> list[list[models.Workstream]]:
        workstream = models.Workstream
        rows = await self._rows(
            sa.select(workstream)
            .where(col(workstream.coalition_id).in_(ids))
            .order_by(col(workstream.id))
        )
        return _grouped(rows, ids, lambda row: row.coalition_id)

    async def _load_memberships_of_coalition(
        self, ids: Sequence[int | None]
    ) -> list[list[models.Membership]]:
        membership = models.Membership
        rows = await self._rows(
            sa.select(membership)
            .where(col(membership.coalition_id).in_(ids), access.membership_listed(self.actor))
            .order_by(col(membership.id))
        )
        return _grouped(rows, ids, lambda row: row.coalition_id)

    async def _load_memberships_of_organisation(
        self, ids: Sequence[int | None]
    ) -> list[list[models.Membership]]:
        membership = models.Membership
        rows = await self._rows(
            sa.select(membership)
            .where(col(membership.organisation_id).in_(ids), access.membership_listed(self.actor))
            .order_by(col(membership.id))
        )
        return _grouped(rows, ids, lambda row: row.organisation_id)

    async def _load_commitments_of_organisation(
        self, keys: Sequence[tuple[int | None, int | None]]
    ) -> list[list[models.Commitment]]:
        """Keyed by (organisation id, coalition id or None for every coalition)."""
        commitment = models.Commitment
        organisation_ids = sorted({id for id, _ in keys if id is not None})
        rows = await self._rows(
            sa.select(commitment)
            .where(
                col(commitment.organisation_id).in_(organisation_ids),
                access.commitment_listed(self.actor),
            )
            .order_by(col(commitment.created_at).desc(), col(commitment.id).desc())
        )
        by_organisation = _grouped(rows, organisation_ids, lambda row: row.organisation_id)
        found: dict[int | None, list[models.Commitment]] = dict(
            zip(organisation_ids, by_organisation, strict=True)
        )
        return [
            [
                row
                for row in found.get(organisation_id, [])
                if coalition_id in (None, row.coalition_id)
            ]
            for organisation_id, coalition_id in keys
        ]

    async def _load_in_kind_lines(self, ids: Sequence[int | None]) -> list[list[models.InKindLine]]:
        line = models.InKindLine
        rows = await self._rows(
            sa.select(line)
            .where(col(line.commitment_id).in_(ids))
            .order_by(col(line.commitment_id), col(line.position))
        )
        return _grouped(rows, ids, lambda row: row.commitment_id)

    async def _load_deliveries(self, ids: Sequence[int | None]) -> list[list[models.Delivery]]:
        """Deliveries of commitments the reader already sees (the parent was filtered)."""
        delivery = models.Delivery
        rows = await self._rows(
            sa.select(delivery)
            .where(col(delivery.commitment_id).in_(ids))
            .order_by(col(delivery.delivered_on).desc(), col(delivery.id).desc())
        )
        return _grouped(rows, ids, lambda row: row.commitment_id)

    async def _load_needs(self, ids: Sequence[int]) -> list[models.Need | None]:
        rows = await self._rows(sa.select(models.Need).where(col(models.Need.id).in_(ids)))
        found = {row.id: row for row in rows if needs.sees(self.actor, row)}
        return [found.get(id) for id in ids]

    async def _load_offers(self, ids: Sequence[int]) -> list[models.Offer | None]:
        rows = await self._rows(sa.select(models.Offer).where(col(models.Offer.id).in_(ids)))
        found = {row.id: row for row in rows if offers.sees(self.actor, row)}
        return [found.get(id) for id in ids]

    async def _load_need_coverage(self, ids: Sequence[int]) -> list[needs.Coverage]:
        async with self.reading() as session:
            found = await needs.coverage(session, ids)
        return [found.get(id, needs.Coverage()) for id in ids]

    async def _load_matches_of_need(self, ids: Sequence[int]) -> list[list[models.Match]]:
        rows = await self._rows(matches.listing(self.actor, need_ids=ids))
        return _grouped(rows, ids, lambda row: row.need_id)

    async def _load_matches_of_offer(self, ids: Sequence[int]) -> list[list[models.Match]]:
        rows = await self._rows(matches.listing(self.actor, offer_ids=ids))
        return _grouped(rows, ids, lambda row: row.offer_id)

    async def _load_plans_of_commitments(
        self, ids: Sequence[int]
    ) -> list[models.VisibilityPlan | None]:
        plan = models.VisibilityPlan
        rows = await self._rows(sa.select(plan).where(col(plan.commitment_id).in_(ids)))
        found = {row.commitment_id: row for row in rows}
        return [found.get(id) for id in ids]

    async def _load_actions_of_plans(
        self, ids: Sequence[int]
    ) -> list[list[models.CommunicationAction]]:
        action = models.CommunicationAction
        rows = await self._rows(
            sa.select(action)
            .where(col(action.plan_id).in_(ids))
            .order_by(col(action.planned_on), col(action.id))
        )
        return _grouped(rows, ids, lambda row: row.plan_id)
