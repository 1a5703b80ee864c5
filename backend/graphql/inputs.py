"""Turning GraphQL inputs into service arguments."""

from typing import Any

import strawberry


def changes_of(input: object, *, exclude: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """The fields the client set (UNSET ones are left alone), by their Python names."""
    return {
        name: value
        for name, value in vars(input).items()
        if value is not strawberry.UNSET and name not in exclude
    }
