"""The GraphQL layer: the only place that knows GraphQL."""

# The domain enums get their descriptions before any type module is imported: a module that
# names an enum first would pin an undocumented copy of it in the schema.
from backend.graphql import enums  # noqa: F401
