"""GitLab CI: https://docs.gitlab.com/ci/variables/predefined_variables/"""
from __future__ import annotations

from typing import Callable, Optional

from ..env import Env
from ..facts import ProviderFacts
from ..env import joined, source_of, sourced
from ..urls import join_url, slug_from_url

NAME = "gitlab_ci"


def detect(env: Env) -> bool:
    return env.is_set("GITLAB_CI")


def foreign_code(env: Env) -> Optional[str]:
    """A merge-request pipeline whose source project is not the target project (a fork)."""
    source, target = env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), env.get("CI_MERGE_REQUEST_PROJECT_ID")
    if source and target and source != target:
        return f"a GitLab merge request from another project (id {source})"
    return None


def read(env: Env, warn: Callable[[str], None]) -> ProviderFacts:
    # CI_MERGE_REQUEST_* exist only in MR pipelines. The IID is the number in the MR's URL;
    # CI_MERGE_REQUEST_ID is instance-wide and means nothing to people.
    iid = env.get("CI_MERGE_REQUEST_IID")
    is_pr = iid is not None
    tag = env.first("CI_COMMIT_TAG", "CI_BUILD_TAG")  # the name before GitLab 9.0 last

    facts = ProviderFacts(
        commit=(env.get("CI_COMMIT_SHA"), env.get("CI_BUILD_REF")),
        tag=tag,
        is_pr=is_pr,
    )
    if is_pr:
        facts.pr = iid
        facts.branch = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        facts.pr_base_branch = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
        # Filled only in merged-results pipelines, where CI_COMMIT_SHA is a temporary merge:
        # the branch's own commit survives here.
        facts.pr_head_sha = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
        facts.pr_base_sha = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA")
        facts.pr_merge_base_sha = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
    elif tag is None:
        # CI_COMMIT_REF_NAME is the tag on tag pipelines, so it counts as a branch only without one.
        facts.branch = (env.get("CI_COMMIT_BRANCH"), env.get("CI_COMMIT_REF_NAME"), env.get("CI_BUILD_REF_NAME"))
    else:
        facts.branch = env.get("CI_COMMIT_BRANCH")  # unset on tag pipelines, but never wrong

    project_url = env.get("CI_PROJECT_URL")
    pipeline_id = env.get("CI_PIPELINE_ID")
    job_id = env.first("CI_JOB_ID", "CI_BUILD_ID")
    facts.build = pipeline_id
    facts.pipeline_id = pipeline_id
    facts.build_url = env.get("CI_PIPELINE_URL") or join_url(project_url, "-/pipelines", pipeline_id)
    facts.job = job_id
    facts.job_url = env.get("CI_JOB_URL") or join_url(project_url, "-/jobs", job_id)

    # CI_BUILD_REPO is the clone URL's name before GitLab 9.0.
    repository_url = env.first("CI_REPOSITORY_URL", "CI_BUILD_REPO")
    facts.slug = (
        env.get("CI_PROJECT_PATH"),
        joined("/", env.get("CI_PROJECT_NAMESPACE"), env.get("CI_PROJECT_NAME")),
        _slug_of(repository_url),
        _slug_of(project_url),
    )
    facts.repository_url = (repository_url, project_url)
    facts.stage = env.get("CI_JOB_STAGE")
    facts.environment = env.get("CI_ENVIRONMENT_NAME")  # only in jobs with `environment:`
    facts.actor = env.get("GITLAB_USER_LOGIN")
    return facts


def _slug_of(url):
    return sourced(slug_from_url(url), f"path of {source_of(url)}") if url else None
