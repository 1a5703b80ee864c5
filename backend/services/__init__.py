"""Business rules: plain async functions `(session, actor, *, args) -> model`.

Services never commit (the caller owns the transaction) and never import web frameworks.
"""
