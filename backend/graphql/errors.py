"""Expected failures as schema types; everything unexpected masked and logged."""

import logging
import re
from dataclasses import replace
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from backend import errors as domain

log = logging.getLogger("backend.graphql")


@strawberry.interface(description="Something the caller can correct or retry; `code` is stable.")
class Error:
    code: str = strawberry.field(description="A stable, machine-readable code.")
    message: str = strawberry.field(description="A human-readable explanation (English).")


@strawberry.type(description="One input field that was refused.")
class FieldError:
    field: str = strawberry.field(
        description="Path of the field in the input, e.g. `inKind.0.unit` or `countries.2`."
    )
    code: str = strawberry.field(
        description="REQUIRED, TOO_LONG, NOT_POSITIVE, TOO_PRECISE, UNKNOWN_CODE, BAD_RANGE, "
        "BAD_FORMAT, BAD_ID, DUPLICATE or NOT_ALLOWED."
    )
    message: str = strawberry.field(description="What is wrong with the value.")


@strawberry.type(description="The input was refused; nothing was written.")
class ValidationFailed(Error):
    fields: list[FieldError] = strawberry.field(description="Every refused field.")


@strawberry.type(description="The thing does not exist, or the caller may not see it.")
class NotFound(Error):
    pass


@strawberry.type(description="The caller may not do this.")
class PermissionDenied(Error):
    pass


@strawberry.type(
    description="The request clashes with the current state: a stale `version` "
    "(STALE_VERSION), a stage change the state machine refuses (INVALID_TRANSITION), "
    "a closed coalition (COALITION_CLOSED), ..."
)
class Conflict(Error):
    pass


Problem = ValidationFailed | NotFound | PermissionDenied | Conflict

_CAMEL = re.compile(r"_([a-z])")


def camel_path(path: str) -> str:
    """`in_kind.0.fair_value` (service names) -> `inKind.0.fairValue` (GraphQL names)."""
    return ".".join(
        _CAMEL.sub(lambda match: match.group(1).upper(), part) for part in path.split(".")
    )


def from_domain(error: domain.DomainError) -> Problem:
    """The union member for an expected failure; UNAUTHENTICATED is a GraphQL error instead."""
    if isinstance(error, domain.Unauthenticated):
        raise unauthenticated(error.message)
    if isinstance(error, domain.InvalidInput):
        refused = _in_client_terms(error)
        fields = [
            FieldError(field=issue.field, code=issue.code, message=issue.message)
            for issue in refused.issues
        ]
        return ValidationFailed(code=refused.code, message=refused.message, fields=fields)
    kinds: dict[type[domain.DomainError], type[Any]] = {
        domain.NotFound: NotFound,
        domain.PermissionDenied: PermissionDenied,
        domain.Conflict: Conflict,
    }
    for kind, result in kinds.items():
        if isinstance(error, kind):
            problem: Problem = result(code=error.code, message=error.message)
            return problem
    raise error


def _in_client_terms(error: domain.InvalidInput) -> domain.InvalidInput:
    """The same error with its paths, message included, spelled as in the schema."""
    issues = [replace(issue, field=camel_path(issue.field)) for issue in error.issues]
    return domain.InvalidInput(issues)


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def for_query(error: domain.DomainError) -> GraphQLError:
    """Queries have no result union: a refused read is a GraphQL error with the domain code."""
    if isinstance(error, domain.InvalidInput):
        refused = _in_client_terms(error)
        fields = [{"field": issue.field, "code": issue.code} for issue in refused.issues]
        return GraphQLError(refused.message, extensions={"code": refused.code, "fields": fields})
    code = "UNAUTHENTICATED" if isinstance(error, domain.Unauthenticated) else error.code
    return GraphQLError(error.message, extensions={"code": code})


def _unexpected(error: GraphQLError) -> bool:
    # Errors we raise on purpose are GraphQLErrors; syntax and validation errors have no
    # original error at all. Anything else is a bug, and its text may leak internals.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Masks unexpected errors, logs them with the request id, and gives the id to the client."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(part) for part in error.path or []),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked
