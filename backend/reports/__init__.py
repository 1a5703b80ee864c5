"""The secretariat's figures and exports: read-only SQL over the models.

Every aggregate is computed in the database (GROUP BY, window functions) and gives the same
answer on SQLite and PostgreSQL. A report counts the commitments of a `Scope`: the
coalitions asked for, the period, and what the reader may see (the caller passes the
reader's visibility rules, so this package needs nothing but the models).
"""
