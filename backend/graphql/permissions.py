"""Checks that hold for whole operations, before any resolver runs."""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from backend.graphql import errors


class WritesNeedSignIn(SchemaExtension):
    """An anonymous mutation is refused as a whole with `extensions.code = UNAUTHENTICATED`.

    Checking here, before resolvers run, gives the same answer whatever is wrong with the
    input: an anonymous caller learns nothing about ids or validation rules.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        actor = getattr(context, "actor", None)
        is_write = self.execution_context.operation_type is OperationType.MUTATION
        if is_write and actor is not None and actor.is_anonymous:
            error = errors.unauthenticated("Sign in with an API token to make changes.")
            # Refused as a whole, before anything ran (no `data` entry over GraphQL-over-HTTP).
            self.execution_context.result = PreExecutionError(data=None, errors=[error])
        yield
