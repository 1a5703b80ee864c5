"""What to do when something a test needs from the machine is missing."""

import os
from typing import NoReturn

import pytest

# Set by .ci/run: there, a missing server or program is a failure, never a skip.
REQUIRE_SERVICES = os.environ.get("HUB_REQUIRE_SERVICES") == "1"


def missing(message: str) -> NoReturn:
    """Skips the test with `message` (a laptop without the server or program), or fails it
    when HUB_REQUIRE_SERVICES=1."""
    if REQUIRE_SERVICES:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
