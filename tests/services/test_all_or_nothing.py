"""A write that fails half-way leaves nothing behind, on either database.

On SQLite a savepoint taken before a transaction's first write used to start a transaction
of its own, which RELEASE committed: the pledge row stayed although the mutation failed.
"""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from backend import models
from backend.actors import SYSTEM
from backend.services import audit, commitments
from backend.services.commitment_rules import CommitmentDraft
from tests.factories import make_coalition, make_organisation


class AuditDown(Exception):
    pass


@pytest.mark.parametrize("idempotency_key", [None, "retry-1"])
async def test_a_pledge_that_fails_after_its_savepoint_leaves_nothing(
    session, session_factory, monkeypatch, idempotency_key
):
    coalition = await make_coalition(session)
    organisation = await make_organisation(session)
    draft = CommitmentDraft(
        coalition_id=coalition.id,
        organisation_id=organisation.id,
        title="Connectivity fund",
        resource_kind=models.ResourceKind.FINANCIAL,
        amount=Decimal("1000"),
        currency="USD",
    )

    async def audit_down(*args, **kwargs):
        raise AuditDown

    # The audit record is written after the commitment row (inside its savepoint) exists.
    monkeypatch.setattr(audit, "record", audit_down)
    with pytest.raises(AuditDown):
        async with session_factory() as writing, writing.begin():
            await commitments.pledge(writing, SYSTEM, draft=draft, idempotency_key=idempotency_key)

    written = await session.scalar(sa.select(sa.func.count()).select_from(models.Commitment))
    assert written == 0
