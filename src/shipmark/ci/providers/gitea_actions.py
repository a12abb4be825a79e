"""Gitea Actions: https://docs.gitea.com/usage/actions/comparison

Gitea exports GitHub's variable names (GITHUB_SERVER_URL points at the Gitea
instance), so it reads them the same way and must be matched before GitHub.
"""
from __future__ import annotations

from ..env import Env
from .github_actions import read  # noqa: F401  (same mapping as GitHub Actions)

NAME = "gitea_actions"


def detect(env: Env) -> bool:
    # Gitea also sets GITHUB_ACTIONS; only this variable tells the two apart.
    return env.is_set("GITEA_ACTIONS")
