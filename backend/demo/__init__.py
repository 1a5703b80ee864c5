"""Fictional demo data: a learning coalition and an arts movement, seeded through the
services (or, at large scales, written in bulk with the same rules: `bulk.py`).

`seed` creates it once (a second run finds the learning coalition by its slug and stops);
`issue_tokens` hands out fresh tokens to try the API with.
"""

from backend.demo.progress import bar
from backend.demo.seeding import (
    BULK_ABOVE_SCALE,
    SLUG,
    TOKEN_LIFETIME,
    DemoTokens,
    Progress,
    Seeded,
    issue_tokens,
    seed,
)

__all__ = [
    "BULK_ABOVE_SCALE",
    "SLUG",
    "TOKEN_LIFETIME",
    "DemoTokens",
    "Progress",
    "Seeded",
    "bar",
    "issue_tokens",
    "seed",
]
