"""Bitrise: https://devcenter.bitrise.io/en/references/available-environment-variables.html

BITRISE_GIT_BRANCH is the source branch on pull request builds. The app slug
names a Bitrise app, not a repository, so the slug comes from the repository URL.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import slug_from_url

NAME = "bitrise"


def detect(env: Env) -> bool:
    return env.is_set("BITRISE_IO") or env.is_set("BITRISE_BUILD_SLUG")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("BITRISE_PULL_REQUEST")
    facts = ProviderFacts(
        commit=(env.get("BITRISE_GIT_COMMIT"), env.get("GIT_CLONE_COMMIT_HASH")),
        branch=env.get("BITRISE_GIT_BRANCH"),
        tag=env.get("BITRISE_GIT_TAG"),
        is_pr=pr,
    )
    if pr:
        facts.pr = pr
        facts.pr_base_branch = env.get("BITRISEIO_GIT_BRANCH_DEST")
    facts.build = env.get("BITRISE_BUILD_NUMBER")
    facts.build_url = env.get("BITRISE_BUILD_URL")
    facts.pipeline_id = env.get("BITRISE_BUILD_SLUG")
    repository_url = env.get("GIT_REPOSITORY_URL")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)
    return facts
