"""Which commitments a report counts: coalitions, period, and what the reader may see."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backend import models
from backend.reports.sql import UtcDate

# A visibility rule in SQL for a commitments table (or an alias of it).
Rule = Callable[[Any], sa.ColumnElement[bool]]

# Withdrawn and cancelled commitments leave every total; their history stays.
CLOSED_STAGES = (models.Stage.WITHDRAWN, models.Stage.CANCELLED)
FIRM_STAGES = (models.Stage.COMMITTED, models.Stage.IN_DELIVERY, models.Stage.FULFILLED)


@dataclass(frozen=True)
class Scope:
    """What a report counts.

    `listed` says which commitments the reader may see at all, `amounts_shown` whose
    figures it may add up (others' confidential amounts never enter a reader's totals).
    The period holds commitments by the day their money is valued at (`valued_on`) and
    deliveries by the day they were made; both ends are inclusive and optional.
    """

    listed: Rule
    amounts_shown: Rule
    # None: every coalition.
    coalition_ids: Sequence[int] | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    # The day staleness and overdue commitments are judged on.
    as_of: dt.date | None = None

    @property
    def judged_on(self) -> dt.date:
        return self.as_of or self.period_to or dt.date.today()


def commitments() -> Any:
    return models.table_of(models.Commitment)


def valued_on(commitment: Any) -> sa.ColumnElement[Any]:
    """The day a commitment is dated in reports: its value date, or the day it was recorded
    (as services.commitments.valued_on, which pins its rate on that day)."""
    return sa.func.coalesce(commitment.c.value_date, UtcDate(commitment.c.created_at))


def in_scope(scope: Scope, commitment: Any, *, closed: bool = False) -> sa.ColumnElement[bool]:
    """The commitments of `scope`; withdrawn and cancelled ones only when `closed`."""
    conditions = [scope.listed(commitment)]
    if scope.coalition_ids is not None:
        conditions.append(commitment.c.coalition_id.in_(list(scope.coalition_ids)))
    if not closed:
        conditions.append(commitment.c.stage.not_in(CLOSED_STAGES))
    day = valued_on(commitment)
    if scope.period_from is not None:
        conditions.append(day >= scope.period_from)
    if scope.period_to is not None:
        conditions.append(day <= scope.period_to)
    return sa.and_(*conditions)
