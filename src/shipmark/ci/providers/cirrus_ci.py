"""Cirrus CI: https://cirrus-ci.org/guide/writing-tasks/#environment-variables

On pull requests CIRRUS_BRANCH names the PR (`pull/<n>`); the head branch is
CIRRUS_HEAD_BRANCH.
"""
from __future__ import annotations

import re
from typing import Callable

from ..env import Env, joined
from ..facts import ProviderFacts

NAME = "cirrus_ci"

_PR_BRANCH = re.compile(r"pull/[0-9]+")


def detect(env: Env) -> bool:
    return env.is_set("CIRRUS_CI")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("CIRRUS_PR")
    branch = env.get("CIRRUS_BRANCH")
    facts = ProviderFacts(commit=env.get("CIRRUS_CHANGE_IN_REPO"), tag=env.get("CIRRUS_TAG"), is_pr=pr)
    if pr:
        pr_named = branch is not None and _PR_BRANCH.fullmatch(branch) is not None
        facts.branch = (env.get("CIRRUS_HEAD_BRANCH"), None if pr_named else branch)
        facts.pr = pr
        facts.pr_base_branch = env.get("CIRRUS_BASE_BRANCH")
        facts.pr_base_sha = env.get("CIRRUS_BASE_SHA")  # the base branch's tip for this build
    else:
        facts.branch = branch
    build_id, task_id = env.get("CIRRUS_BUILD_ID"), env.get("CIRRUS_TASK_ID")
    facts.build = build_id
    facts.build_url = joined("/", "https://cirrus-ci.com/build", build_id) if build_id else None
    facts.pipeline_id = build_id
    facts.job = task_id
    facts.job_url = joined("/", "https://cirrus-ci.com/task", task_id) if task_id else None
    facts.slug = env.get("CIRRUS_REPO_FULL_NAME")
    facts.repository_url = env.get("CIRRUS_REPO_CLONE_URL")
    return facts
