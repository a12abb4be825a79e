"""Fixtures of the wrapper tests (helpers live in wrapper_support.py)."""
import sys
from pathlib import Path

import pytest

# The test modules import wrapper_support (and tests/release's dist_support) by name,
# whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))

from dist_support import Dist, built_dist  # noqa: E402
from wrapper_support import FakeReleaseBits  # noqa: E402


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Dist:
    """The sdist and wheel built from the working tree (once per session, shared with tests/release)."""
    return built_dist(tmp_path_factory)


@pytest.fixture
def releasebits():
    """A fake ReleaseBits API on 127.0.0.1 that records every request."""
    server = FakeReleaseBits()
    yield server
    server.close()
