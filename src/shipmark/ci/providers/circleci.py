"""CircleCI: https://circleci.com/docs/variables/

No variable names a pull request's target branch or a separate head or base
sha, so those keys stay null on CircleCI.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from ..env import Env
from ..facts import ProviderFacts
from ..urls import slug_from_url

NAME = "circleci"

# Fork PRs are built under CircleCI's own name for the PR, not the fork's branch.
_FORK_PR_BRANCH = re.compile(r"pull/[0-9]+")


def detect(env: Env) -> bool:
    return env.is_set("CIRCLECI")


def _branch(env: Env, is_pr: bool) -> Optional[str]:
    branch = env.get("CIRCLE_BRANCH")
    if is_pr and branch and _FORK_PR_BRANCH.fullmatch(branch):
        return None
    return branch


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    # CIRCLE_PR_NUMBER exists only for fork PRs; same-repository PRs only carry the
    # PR's URL. CI_PULL_REQUEST is the older name of that URL, read last.
    pr_sources = (env.get("CIRCLE_PR_NUMBER"), env.get("CIRCLE_PULL_REQUEST"), env.get("CI_PULL_REQUEST"))
    # The first set one, so the explanation names the variable that made this a PR build:
    # CircleCI has kept PR variables on builds of a branch after its PR was merged.
    is_pr = next((value for value in pr_sources if value), None)

    facts = ProviderFacts(commit=env.get("CIRCLE_SHA1"), tag=env.get("CIRCLE_TAG"), is_pr=is_pr)
    if is_pr:
        facts.pr = pr_sources  # the number, else the digits ending the URL
    # CIRCLE_BRANCH is the head branch on PR builds too; no variable names the target.
    facts.branch = _branch(env, bool(is_pr))

    build_number = env.get("CIRCLE_BUILD_NUM")  # a job number, unique per job
    node_index = env.get("CIRCLE_NODE_INDEX")  # which parallel copy of the job this is
    facts.build = build_number
    facts.build_url = env.get("CIRCLE_BUILD_URL")  # the job's page
    facts.pipeline_id = env.get("CIRCLE_WORKFLOW_ID")  # shared by every job of the workflow run
    facts.job = f"{build_number}.{node_index}" if build_number and node_index else build_number
    facts.job_url = facts.build_url

    owner, name = env.get("CIRCLE_PROJECT_USERNAME"), env.get("CIRCLE_PROJECT_REPONAME")
    repository_url = env.get("CIRCLE_REPOSITORY_URL")
    facts.slug = (f"{owner}/{name}" if owner and name else None, slug_from_url(repository_url))
    facts.repository_url = repository_url
    facts.actor = env.get("CIRCLE_USERNAME")  # who triggered the pipeline, if they have a CircleCI account
    return facts
