"""Bamboo: https://confluence.atlassian.com/bamboo/bamboo-variables-289277087.html

Bamboo exports its variables as `bamboo_<name>` with dots turned into
underscores; on Windows agents the case of the names varies, which the
variable reader absorbs.
"""
from __future__ import annotations

from typing import Callable

from ..env import Env
from ..facts import ProviderFacts
from ..urls import slug_from_url

NAME = "bamboo"


def detect(env: Env) -> bool:
    return env.is_set("bamboo_planKey") or env.is_set("bamboo_buildNumber") or env.is_set("bamboo_agentId")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    # Plan branches created for pull requests carry the repository's PR variables.
    pr = env.get("bamboo_repository_pr_key")
    facts = ProviderFacts(
        commit=(env.get("bamboo_planRepository_1_revision"), env.get("bamboo_planRepository_revision")),
        is_pr=pr,
    )
    facts.branch = (
        env.get("bamboo_repository_pr_sourceBranch") if pr else None,
        env.get("bamboo_planRepository_1_branchName"),
        env.get("bamboo_planRepository_branchName"),
        env.get("bamboo_planRepository_branch"),
    )
    if pr:
        facts.pr = pr
        facts.pr_base_branch = env.get("bamboo_repository_pr_targetBranch")
    facts.build = env.get("bamboo_buildNumber")
    facts.build_url = env.get("bamboo_buildResultsUrl")
    facts.job = env.get("bamboo_buildKey")
    repository_url = env.first("bamboo_planRepository_1_repositoryUrl", "bamboo_planRepository_repositoryUrl")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)
    facts.actor = env.get("bamboo_ManualBuildTriggerReason_userName")  # manual builds only
    return facts
