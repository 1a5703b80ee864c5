"""Domain errors: what can go wrong in business terms, with stable codes.

Services raise these; the GraphQL layer turns them into typed results
(`ValidationFailed`, `NotFound`, `PermissionDenied`, `Conflict`). They never speak HTTP.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one input field; `field` is a dotted path such as `inKind.0.unit`."""

    field: str
    code: str
    message: str


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "NOT_FOUND"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"


class Unauthenticated(PermissionDenied):
    """The request carries no valid token and the action needs one."""

    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    code = "CONFLICT"


class StaleVersion(Conflict):
    """Someone changed the record since the caller read it."""

    code = "STALE_VERSION"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"

    def __init__(self, issues: list[FieldIssue]) -> None:
        fields = ", ".join(issue.field for issue in issues)
        super().__init__(f"Invalid input: {fields}.")
        self.issues = issues


# Stable codes carried by FieldIssue.code; the portal maps them to messages of its own.
REQUIRED = "REQUIRED"
TOO_LONG = "TOO_LONG"
NOT_POSITIVE = "NOT_POSITIVE"
UNKNOWN_CODE = "UNKNOWN_CODE"
BAD_RANGE = "BAD_RANGE"
BAD_FORMAT = "BAD_FORMAT"
TOO_PRECISE = "TOO_PRECISE"
DUPLICATE = "DUPLICATE"
NOT_ALLOWED = "NOT_ALLOWED"
# Imports (backend/imports): a row naming an existing record with other values, and a name
# that matches several records.
DIFFERS = "DIFFERS"
AMBIGUOUS = "AMBIGUOUS"

# A value GraphQL could not read as its type (a malformed Date, DateTime or Decimal, text
# holding a NUL character): refused before any resolver runs, in `extensions.code`.
BAD_USER_INPUT = "BAD_USER_INPUT"

# Requests refused as a whole before anything runs: `extensions.code` of the GraphQL error
# (backend/graphql/limits.py, trusted_documents.py, http.py, body_limit.py, rate_limits.py).
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_DIRECTIVES = "TOO_MANY_DIRECTIVES"
DEPTH_LIMIT_EXCEEDED = "DEPTH_LIMIT_EXCEEDED"
COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
RATE_LIMITED = "RATE_LIMITED"
