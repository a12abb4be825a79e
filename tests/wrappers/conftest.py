"""Fixtures of the wrapper tests (helpers live in wrapper_support.py)."""
import pytest

from wrapper_support import FakeReleaseBits


@pytest.fixture
def releasebits():
    """A fake ReleaseBits API on 127.0.0.1 that records every request."""
    server = FakeReleaseBits()
    yield server
    server.close()
