"""Fixtures of the wrapper tests (helpers live in wrapper_support.py)."""
import sys
from pathlib import Path

import pytest

# The test modules import wrapper_support by name, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from wrapper_support import FakeReleaseBits  # noqa: E402


@pytest.fixture
def releasebits():
    """A fake ReleaseBits API on 127.0.0.1 that records every request."""
    server = FakeReleaseBits()
    yield server
    server.close()
