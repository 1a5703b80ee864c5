"""The envelope every feed event travels in, and its place in the stream."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Envelope(BaseModel):
    """One committed change, as published: who, what, where, who may see it, and the payload.

    `id` is the event's own id (a UUID, fixed when the change is recorded): delivery is
    at-least-once on the wire, and readers drop an id they have already seen.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    occurred_at: dt.datetime
    coalition_id: int | None
    organisation_id: int | None
    visibility: str
    embargo_until: dt.datetime | None
    subject_type: str
    subject_id: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class Positioned:
    """An envelope at its position in the stream; `cursor` orders events in publish order."""

    cursor: str
    envelope: Envelope
