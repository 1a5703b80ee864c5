import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.models.base import JSONDocument, UTCDateTime, enum_type, utcnow
from backend.models.commitment import Visibility


class FeedEvent(SQLModel, table=True):
    """The outbox and the history of the live feed, written in the mutation's transaction.

    `published_at` stays empty until the event has been handed to the bus after COMMIT;
    the publish order (not `id`, which PostgreSQL assigns before commit) is the feed's order.
    """

    __tablename__ = "feed_events"
    __table_args__ = (sa.Index("ix_feed_events_unpublished", "published_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    type: str = Field(max_length=60)
    coalition_id: int | None = Field(default=None, foreign_key="coalitions.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    subject_type: str = Field(max_length=40)
    subject_id: int
    visibility: Visibility = Field(sa_type=enum_type(Visibility))
    embargo_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    occurred_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    published_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
