"""Is the code being built someone else's? The one fact config discovery depends on.

A provider module may define ``foreign_code(env) -> Optional[str]``: the reason, in a
few words, when the checkout holds files written by someone other than the pipeline's
owner (a pull request from a fork, GitHub's pull_request_target). Like ``detect`` it
reads variables and, on GitHub, the event payload; never git and never the network.
What follows from it (no config file is discovered) is decided in shipmark.config.
"""
from __future__ import annotations

from typing import Mapping, Optional

from .env import Env
from .providers import match_provider


def foreign_code(env: Mapping[str, str]) -> Optional[str]:
    """Why the checkout may hold someone else's files, or None when it is the pipeline owner's."""
    reader = Env(env)
    provider = match_provider(reader)
    check = getattr(provider, "foreign_code", None)
    return check(reader) if check is not None else None
