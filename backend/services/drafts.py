"""Helpers for services that validate a whole draft before writing it.

An update merges the changes into the current values and checks the result as one draft,
so a rule that spans fields (end after start) holds whichever of them changed.
"""

import dataclasses
from typing import Any, TypeVar

from sqlmodel import SQLModel

DraftT = TypeVar("DraftT")


def current(draft_type: type[DraftT], entity: SQLModel, **given: Any) -> DraftT:
    """A draft holding the entity's present values; `given` supplies fields it has no column
    for (a commitment's in-kind lines live in their own table)."""
    names = [field.name for field in dataclasses.fields(draft_type)]  # type: ignore[arg-type]
    return draft_type(
        **{name: given[name] if name in given else getattr(entity, name) for name in names}
    )


def merged(draft_type: type[DraftT], entity: SQLModel, changes: dict[str, Any]) -> DraftT:
    """The entity's values with `changes` on top; None for a list field means an empty list."""
    lists = {
        field.name
        for field in dataclasses.fields(draft_type)  # type: ignore[arg-type]
        if field.default_factory is list
    }
    changes = {
        name: [] if value is None and name in lists else value for name, value in changes.items()
    }
    return dataclasses.replace(current(draft_type, entity), **changes)  # type: ignore[type-var]


def apply(entity: SQLModel, draft: Any) -> None:
    for field in dataclasses.fields(draft):
        setattr(entity, field.name, getattr(draft, field.name))
