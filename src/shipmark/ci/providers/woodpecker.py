"""Woodpecker CI: https://woodpecker-ci.org/docs/usage/environment

Woodpecker 1.0 renamed CI_BUILD_* to CI_PIPELINE_* and jobs to steps; both
spellings are read, the new one first.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "woodpecker"


def detect(env: Env) -> bool:
    return env.equals("CI", "woodpecker")  # Woodpecker's only own marker


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    event = env.first("CI_PIPELINE_EVENT", "CI_BUILD_EVENT")
    # `pull_request_closed` (and `pull_request_metadata`) runs are about a PR as well.
    is_pr = event if event and event.lower().startswith("pull_request") else None
    facts = ProviderFacts(commit=env.get("CI_COMMIT_SHA"), tag=env.get("CI_COMMIT_TAG"), is_pr=is_pr)
    if is_pr:
        facts.branch = env.get("CI_COMMIT_SOURCE_BRANCH")
        facts.pr = env.get("CI_COMMIT_PULL_REQUEST")
        facts.pr_base_branch = env.get("CI_COMMIT_TARGET_BRANCH")
    else:
        facts.branch = env.get("CI_COMMIT_BRANCH")
    facts.build = env.first("CI_PIPELINE_NUMBER", "CI_BUILD_NUMBER")
    # Before 1.0 no variable held the pipeline's page (CI_BUILD_LINK points at the forge).
    facts.build_url = env.get("CI_PIPELINE_URL")
    facts.job = env.first("CI_STEP_NUMBER", "CI_JOB_NUMBER")
    facts.job_url = env.get("CI_STEP_URL")
    facts.slug = (env.get("CI_REPO"), joined("/", env.get("CI_REPO_OWNER"), env.get("CI_REPO_NAME")))
    facts.repository_url = env.get("CI_REPO_CLONE_URL")
    facts.environment = env.first("CI_PIPELINE_DEPLOY_TARGET", "CI_BUILD_DEPLOY_TARGET")
    return facts
