"""AWS CodeBuild: https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html

Branch, tag and PR data exist only on builds started by a webhook. Builds
started by hand or by CodePipeline name no branch, so git is asked then; the
commit is CODEBUILD_RESOLVED_SOURCE_VERSION when CodeBuild resolved one.
"""
from __future__ import annotations

import re
from typing import Callable, Optional

from ..env import Env, sourced
from ..facts import ProviderFacts
from ..refs import is_full_sha, tag_from_ref
from ..urls import slug_from_url

NAME = "aws_codebuild"

_PR_SOURCE = re.compile(r"pr/([0-9]+)")
_PR_EVENTS = ("PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED")


def detect(env: Env) -> bool:
    return env.is_set("CODEBUILD_BUILD_ID") or env.is_set("CODEBUILD_BUILD_ARN") or env.is_set("CODEBUILD_CI")


def _pr_number(env: Env) -> Optional[str]:
    """``<n>`` of a ``pr/<n>`` source version or webhook trigger."""
    for name in ("CODEBUILD_SOURCE_VERSION", "CODEBUILD_WEBHOOK_TRIGGER"):
        value = env.get(name)
        match = _PR_SOURCE.fullmatch(value or "")
        if match:
            return sourced(match.group(1), f"<n> of pr/<n> in {name}")
    return None


def _console_url(env: Env) -> Optional[str]:
    region, build_id = env.first("AWS_REGION", "AWS_DEFAULT_REGION"), env.get("CODEBUILD_BUILD_ID")
    if not (region and build_id):
        return None
    url = f"https://console.aws.amazon.com/codebuild/home?region={region}#/builds/{build_id}/view/new"
    return sourced(url, "console URL from $AWS_REGION and $CODEBUILD_BUILD_ID")


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    number = _pr_number(env)
    event = env.get("CODEBUILD_WEBHOOK_EVENT")
    is_pr = number or (event if event and event.upper() in _PR_EVENTS else None)
    head_ref = env.get("CODEBUILD_WEBHOOK_HEAD_REF")
    source_version = env.get("CODEBUILD_SOURCE_VERSION")
    facts = ProviderFacts(
        # A manual build's source version may be the commit itself; a branch name there is no commit.
        commit=(env.get("CODEBUILD_RESOLVED_SOURCE_VERSION"), source_version if is_full_sha(source_version) else None),
        branch=head_ref,  # the PR's head on PR builds; tag refs are never a branch
        tag=head_ref if tag_from_ref(head_ref) else None,
        is_pr=is_pr,
        commit_from_git=True,
        branch_from_git=True,
    )
    if is_pr:
        facts.pr = number
        facts.pr_base_branch = env.get("CODEBUILD_WEBHOOK_BASE_REF")
    facts.build = env.get("CODEBUILD_BUILD_ID")
    facts.build_url = (env.get("CODEBUILD_PUBLIC_BUILD_URL"), _console_url(env))
    facts.pipeline_id = env.get("CODEBUILD_BUILD_ARN")
    repository_url = env.get("CODEBUILD_SOURCE_REPO_URL")
    facts.repository_url = repository_url
    facts.slug = slug_from_url(repository_url)
    # `codepipeline/<name>` for CodePipeline, an IAM user or role for manual builds.
    facts.actor = env.get("CODEBUILD_INITIATOR")
    return facts
