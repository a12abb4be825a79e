"""Buddy: https://buddy.works/docs/pipelines/environment-variables"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "buddy"


def detect(env: Env) -> bool:
    return env.is_set("BUDDY_WORKSPACE_ID") or env.is_set("BUDDY")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    # BUDDY_EXECUTION_PULL_REQUEST_ID reads `pull/10`: its digits are the number.
    pr_sources = (env.get("BUDDY_RUN_PR_NO"), env.get("BUDDY_EXECUTION_PULL_REQUEST_ID"))
    is_pr = pr_sources[0] or pr_sources[1]
    facts = ProviderFacts(commit=env.get("BUDDY_EXECUTION_REVISION"), tag=env.get("BUDDY_EXECUTION_TAG"), is_pr=is_pr)
    if is_pr:
        facts.branch = env.get("BUDDY_EXECUTION_PULL_REQUEST_HEAD_BRANCH")
        facts.pr = pr_sources
        facts.pr_base_branch = (env.get("BUDDY_RUN_PR_BASE_BRANCH"),
                                env.get("BUDDY_EXECUTION_PULL_REQUEST_BASE_BRANCH"))
    else:
        facts.branch = env.get("BUDDY_EXECUTION_BRANCH")
    execution_id = env.get("BUDDY_EXECUTION_ID")
    facts.build = execution_id
    facts.build_url = env.get("BUDDY_EXECUTION_URL")
    facts.pipeline_id = joined("/", env.get("BUDDY_PIPELINE_ID"), execution_id)  # execution ids are per pipeline
    facts.slug = env.get("BUDDY_REPO_SLUG")
    facts.repository_url = env.get("BUDDY_SCM_URL")
    return facts
