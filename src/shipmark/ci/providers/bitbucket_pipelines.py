"""Bitbucket Pipelines: https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/

BITBUCKET_BRANCH is the source branch on pull request pipelines too; the
destination has its own variables.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import join_url

NAME = "bitbucket_pipelines"


def detect(env: Env) -> bool:
    return env.is_set("BITBUCKET_BUILD_NUMBER") or env.is_set("BITBUCKET_COMMIT")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr = env.get("BITBUCKET_PR_ID")
    facts = ProviderFacts(
        commit=env.get("BITBUCKET_COMMIT"),
        branch=env.get("BITBUCKET_BRANCH"),
        tag=env.get("BITBUCKET_TAG"),
        is_pr=pr,
    )
    if pr:
        facts.pr = pr
        facts.pr_base_branch = env.get("BITBUCKET_PR_DESTINATION_BRANCH")
        # Often an abbreviated sha: used only if local git can complete it.
        facts.pr_base_sha = env.get("BITBUCKET_PR_DESTINATION_COMMIT")
    full_name = env.get("BITBUCKET_REPO_FULL_NAME")
    number = env.get("BITBUCKET_BUILD_NUMBER")
    facts.build = number
    facts.build_url = join_url("https://bitbucket.org", full_name, "addon/pipelines/home#!/results", number)
    uuid = env.get("BITBUCKET_PIPELINE_UUID")
    facts.pipeline_id = uuid.strip("{}") if uuid else None
    facts.slug = full_name
    facts.repository_url = (env.get("BITBUCKET_GIT_SSH_ORIGIN"), env.get("BITBUCKET_GIT_HTTP_ORIGIN"))
    facts.environment = env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT")  # deployment steps only
    return facts
