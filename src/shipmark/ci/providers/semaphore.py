"""Semaphore: https://docs.semaphoreci.com/reference/env-vars

Semaphore 2 names everything SEMAPHORE_GIT_*; Semaphore 1 used BRANCH_NAME,
PULL_REQUEST_NUMBER and SEMAPHORE_REPO_SLUG and exported no commit, so git is
asked for it there. On pull requests SEMAPHORE_GIT_BRANCH is the target.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import join_url

NAME = "semaphore"


def detect(env: Env) -> bool:
    return env.is_set("SEMAPHORE")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.first("SEMAPHORE_GIT_PR_NUMBER", "PULL_REQUEST_NUMBER")
    facts = ProviderFacts(
        commit=env.get("SEMAPHORE_GIT_SHA"),  # the merge Semaphore tests, on pull requests
        tag=env.get("SEMAPHORE_GIT_TAG_NAME"),
        is_pr=pr,
        commit_from_git=True,
    )
    if pr:
        facts.branch = env.get("SEMAPHORE_GIT_PR_BRANCH")
        facts.pr = pr
        facts.pr_base_branch = env.get("SEMAPHORE_GIT_BRANCH")
        facts.pr_head_sha = env.get("SEMAPHORE_GIT_PR_SHA")
    else:
        facts.branch = (env.get("SEMAPHORE_GIT_BRANCH"), env.get("BRANCH_NAME"))
    job_id, workflow_id = env.get("SEMAPHORE_JOB_ID"), env.get("SEMAPHORE_WORKFLOW_ID")
    organization_url = env.get("SEMAPHORE_ORGANIZATION_URL")
    facts.build = (job_id, env.get("SEMAPHORE_BUILD_NUMBER"))
    facts.build_url = join_url(organization_url, "workflows", workflow_id)
    facts.pipeline_id = workflow_id
    facts.job = job_id
    facts.job_url = join_url(organization_url, "jobs", job_id)
    facts.slug = (env.get("SEMAPHORE_GIT_REPO_SLUG"), env.get("SEMAPHORE_REPO_SLUG"))
    facts.repository_url = env.get("SEMAPHORE_GIT_URL")
    return facts
