"""Jenkins, with the Git, multibranch, GHPRB and GitLab plugins.

https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables
Matched last: a stale JENKINS_URL can sit on a machine reused by another CI.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env
from ..facts import ProviderFacts
from ..refs import tag_in_branch_slot
from ..urls import slug_from_url

NAME = "jenkins"


def detect(env: Env) -> bool:
    return env.is_set("JENKINS_URL")


def foreign_code(env: Env) -> Optional[str]:
    """A multibranch change request from a fork: the branch-source plugins set CHANGE_FORK."""
    fork = env.get("CHANGE_FORK")
    return f"a Jenkins change request from a fork ({fork})" if fork and env.get("CHANGE_ID") else None


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    pr_numbers = (
        env.get("CHANGE_ID"),
        env.get("ghprbPullId"),
        env.get("gitlabMergeRequestIid"),  # the project's MR number before the instance-wide id
        env.get("gitlabMergeRequestId"),
    )
    is_pr = next((value for value in pr_numbers if value), None)
    # GIT_BRANCH holds the remote (`origin/main`) and, on tag builds, `origin/tags/v1`.
    git_branch_tag = tag_in_branch_slot(env.get("GIT_BRANCH"))
    git_branch = env.get("GIT_BRANCH") if git_branch_tag is None else None

    facts = ProviderFacts(
        commit=env.get("GIT_COMMIT"),
        tag=(env.get("TAG_NAME"), git_branch_tag),
        is_pr=is_pr,
        commit_from_git=True,
        branch_from_git=True,
    )
    if is_pr:
        facts.pr = pr_numbers
        # BRANCH_NAME is `PR-<n>` here: only the plugins' source-branch names count.
        facts.branch = (env.get("CHANGE_BRANCH"), env.get("ghprbSourceBranch"), env.get("gitlabSourceBranch"))
        facts.pr_base_branch = (env.get("CHANGE_TARGET"), env.get("ghprbTargetBranch"), env.get("gitlabTargetBranch"))
        # GIT_COMMIT may be a merge Jenkins made locally, which exists nowhere upstream;
        # GHPRB also exports the PR head.
        facts.pr_head_sha = env.get("ghprbActualCommit")
    else:
        facts.branch = (env.get("GIT_LOCAL_BRANCH"), git_branch, env.get("gitlabBranch"), env.get("BRANCH_NAME"))

    facts.build = env.get("BUILD_NUMBER")
    facts.build_url = env.get("BUILD_URL")
    facts.pipeline_id = env.get("BUILD_TAG")
    repository_url = env.first("GIT_URL", "GIT_URL_1")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)  # core Jenkins has no slug variable
    facts.stage = env.get("STAGE_NAME")
    facts.actor = env.get("CHANGE_AUTHOR")
    return facts
