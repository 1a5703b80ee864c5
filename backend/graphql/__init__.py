"""The GraphQL layer: the only place that knows GraphQL."""
