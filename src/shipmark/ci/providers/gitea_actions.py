"""Gitea Actions: GitHub's variable names, so it must be matched before GitHub (rule 1, 22)."""
from __future__ import annotations

from ..env import Env
from .github_actions import read  # noqa: F401  (same mapping as GitHub Actions)

NAME = "gitea_actions"


def detect(env: Env) -> bool:
    # Gitea also sets GITHUB_ACTIONS; only this variable tells the two apart.
    return env.is_set("GITEA_ACTIONS")
