"""Vela: https://go-vela.github.io/docs/reference/environment/variables/

VELA_BUILD_BRANCH holds the pull request's target on PR builds.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts

NAME = "vela"


def detect(env: Env) -> bool:
    return env.is_set("VELA")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    is_pr = (env.get("VELA_BUILD_EVENT") if env.equals("VELA_BUILD_EVENT", "pull_request") else None) or (
        env.get("VELA_PULL_REQUEST") if env.equals("VELA_PULL_REQUEST", "1") else None
    )
    facts = ProviderFacts(commit=env.get("VELA_BUILD_COMMIT"), tag=env.get("VELA_BUILD_TAG"), is_pr=is_pr)
    if is_pr:
        facts.branch = env.get("VELA_PULL_REQUEST_SOURCE")
        facts.pr = (env.get("VELA_BUILD_PULL_REQUEST"), env.get("VELA_PULL_REQUEST_NUMBER"))
        facts.pr_base_branch = env.get("VELA_PULL_REQUEST_TARGET")
    else:
        facts.branch = env.get("VELA_BUILD_BRANCH")
    facts.build = env.get("VELA_BUILD_NUMBER")
    facts.build_url = env.get("VELA_BUILD_LINK")
    facts.slug = env.get("VELA_REPO_FULL_NAME")
    facts.repository_url = env.first("VELA_REPO_CLONE", "VELA_BUILD_CLONE")
    return facts
