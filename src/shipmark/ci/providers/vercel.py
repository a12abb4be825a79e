"""Vercel: https://vercel.com/docs/projects/environment-variables/system-environment-variables

The NOW_* names come from Vercel's earlier name, ZEIT Now.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "vercel"


def detect(env: Env) -> bool:
    return env.is_set("VERCEL") or env.is_set("NOW_BUILDER") or env.is_set("NOW_GITHUB_DEPLOYMENT")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("VERCEL_GIT_PULL_REQUEST_ID")
    facts = ProviderFacts(
        commit=(env.get("VERCEL_GIT_COMMIT_SHA"), env.get("NOW_GITHUB_COMMIT_SHA")),
        branch=(env.get("VERCEL_GIT_COMMIT_REF"), env.get("NOW_GITHUB_COMMIT_REF")),
        is_pr=pr,
    )
    if pr:
        facts.pr = pr
    facts.build = env.get("VERCEL_DEPLOYMENT_ID")
    facts.slug = (
        joined("/", env.get("VERCEL_GIT_REPO_OWNER"), env.get("VERCEL_GIT_REPO_SLUG")),
        joined("/", env.get("NOW_GITHUB_COMMIT_ORG"), env.get("NOW_GITHUB_COMMIT_REPO")),
    )
    facts.environment = env.get("VERCEL_ENV")  # production, preview or development
    return facts
