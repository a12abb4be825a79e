"""Codefresh: https://codefresh.io/docs/docs/pipelines/variables/

CF_BRANCH names the head branch on pull request builds, and carries a tag as
`tags/<t>` on tag builds.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined, source_of, sourced
from ..facts import ProviderFacts
from ..refs import tag_in_branch_slot

NAME = "codefresh"


def detect(env: Env) -> bool:
    return env.is_set("CF_BUILD_ID")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    numbers = (env.get("CF_PULL_REQUEST_NUMBER"), env.get("CF_PULL_REQUEST_ID"))
    is_pr = numbers[0] or numbers[1]
    branch = env.get("CF_BRANCH")
    tag = tag_in_branch_slot(branch)
    facts = ProviderFacts(
        commit=env.get("CF_REVISION"),
        branch=None if tag else branch,
        tag=sourced(tag, f"{source_of(branch)} holding tags/<t>"),
        is_pr=is_pr,
    )
    if is_pr:
        facts.pr = numbers
        facts.pr_base_branch = env.get("CF_PULL_REQUEST_TARGET")
    build_id = env.get("CF_BUILD_ID")
    facts.build = build_id
    facts.build_url = env.get("CF_BUILD_URL")
    facts.pipeline_id = build_id
    facts.job = env.get("CF_STEP_NAME")
    facts.slug = joined("/", env.get("CF_REPO_OWNER"), env.get("CF_REPO_NAME"))
    facts.actor = env.get("CF_BUILD_INITIATOR")
    return facts

