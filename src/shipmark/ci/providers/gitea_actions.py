"""Gitea Actions: https://docs.gitea.com/usage/actions/comparison

Gitea exports GitHub's variable names (GITHUB_SERVER_URL points at the Gitea
instance), so it reads them the same way and must be matched before GitHub.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from .github_actions import foreign_code as foreign_code  # the same payload rule as GitHub
from .github_actions import read_actions

NAME = "gitea_actions"


def detect(env: Env) -> bool:
    # Gitea also sets GITHUB_ACTIONS; only this variable tells the two apart.
    return env.is_set("GITEA_ACTIONS")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    return read_actions(env, warn, default_server=None)  # no public default: every Gitea is self-hosted
