"""Records feed events in the outbox, inside the caller's transaction.

The row commits or rolls back with the change it describes, so the feed can never announce
a write that did not happen, nor miss one that did.
"""

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from events.messages import EventType, Message, OrganisationRef, check


def record(
    session: AsyncSession,
    *,
    type: EventType,
    subject_type: str,
    subject_id: int,
    coalition_id: int | None,
    organisation_id: int | None,
    visibility: models.Visibility,
    embargo_until: dt.datetime | None,
    message: Message,
) -> models.FeedEvent:
    check(type, message)
    if embargo_until is not None and embargo_until <= models.utcnow():
        # Past embargoes no longer restrict anything: the item has been (or is about to be)
        # announced, and later events about it are news for everyone who may see it.
        embargo_until = None
    event = models.FeedEvent(
        event_id=str(uuid.uuid4()),
        type=type.value,
        subject_type=subject_type,
        subject_id=subject_id,
        coalition_id=coalition_id,
        organisation_id=organisation_id,
        visibility=visibility,
        embargo_until=embargo_until,
        payload=message.model_dump(mode="json"),
    )
    session.add(event)
    return event


def organisation_ref(organisation: models.Organisation) -> OrganisationRef:
    assert organisation.id is not None
    return OrganisationRef(id=organisation.id, name=organisation.name, acronym=organisation.acronym)
