"""Fixtures of the release tests (helpers live in dist_support.py)."""
import sys
from pathlib import Path

import pytest

# The test modules import dist_support by name, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dist_support import Dist, built_dist  # noqa: E402


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Dist:
    return built_dist(tmp_path_factory)
