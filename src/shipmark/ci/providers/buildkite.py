"""Buildkite: https://buildkite.com/docs/pipelines/environment-variables

BUILDKITE_COMMIT can be `HEAD` on builds started by hand; such a value is used
only if local git resolves it.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env, sourced
from ..facts import ProviderFacts
from ..urls import slug_from_url

NAME = "buildkite"


def detect(env: Env) -> bool:
    return env.is_set("BUILDKITE")


def _branch(env: Env, is_pr: bool) -> Optional[str]:
    branch = env.get("BUILDKITE_BRANCH")
    if is_pr and branch and ":" in branch:
        # Fork PR branches are reported as `<fork owner>:<branch>`; git branch names
        # cannot hold a colon, so the part after it is the branch.
        return sourced(branch.split(":", 1)[1], "BUILDKITE_BRANCH without the fork owner")
    return branch


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("BUILDKITE_PULL_REQUEST")  # `false` outside PR builds
    facts = ProviderFacts(commit=env.get("BUILDKITE_COMMIT"), tag=env.get("BUILDKITE_TAG"), is_pr=pr)
    facts.branch = _branch(env, bool(pr))  # the head branch on PR builds too
    if pr:
        facts.pr = pr
        facts.pr_base_branch = env.get("BUILDKITE_PULL_REQUEST_BASE_BRANCH")
    build_url = env.get("BUILDKITE_BUILD_URL")
    job_id = env.get("BUILDKITE_JOB_ID")
    facts.build = env.get("BUILDKITE_BUILD_NUMBER")
    facts.build_url = build_url
    facts.pipeline_id = env.get("BUILDKITE_BUILD_ID")
    facts.job = job_id
    if build_url and job_id:
        facts.job_url = sourced(f"{build_url}#{job_id}", "$BUILDKITE_BUILD_URL#$BUILDKITE_JOB_ID")
    repository_url = env.get("BUILDKITE_REPO")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)  # never the pipeline's slug: that names no repository
    facts.actor = env.get("BUILDKITE_BUILD_CREATOR")
    return facts
