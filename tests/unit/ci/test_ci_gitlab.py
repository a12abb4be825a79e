"""GitLab CI: branch, tag, MR and merged-results pipelines (CI-ENV rules 17, 23-25)."""
from __future__ import annotations

import json

COMMIT = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
HEAD_SHA = "1111111111111111111111111111111111111111"
TARGET_SHA = "2222222222222222222222222222222222222222"
DIFF_BASE_SHA = "3333333333333333333333333333333333333333"
MERGED_RESULT_SHA = "4444444444444444444444444444444444444444"


def gitlab_env(**extra: str) -> dict:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "278964",
        "CI_PROJECT_PATH": "acme/platform/shop",
        "CI_PROJECT_NAMESPACE": "acme/platform",
        "CI_PROJECT_NAME": "shop",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/platform/shop",
        "CI_PROJECT_DIR": "/nonexistent/builds/acme/platform/shop",
        "CI_REPOSITORY_URL": "https://gitlab-ci-token:glcbt-64_s3cr3tT0ken@gitlab.example.com/acme/platform/shop.git",
        "CI_PIPELINE_ID": "1290345",
        "CI_PIPELINE_IID": "877",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/platform/shop/-/pipelines/1290345",
        "CI_JOB_ID": "7712001",
        "CI_JOB_NAME": "deploy-prod",
        "CI_JOB_URL": "https://gitlab.example.com/acme/platform/shop/-/jobs/7712001",
        "CI_JOB_STAGE": "deploy",
        "CI_COMMIT_SHA": COMMIT,
        "CI_COMMIT_SHORT_SHA": COMMIT[:8],
        "GITLAB_USER_LOGIN": "jdoe",
        "GITLAB_USER_NAME": "Jane Doe",
    }
    env.update(extra)
    return env


def test_branch_pipeline(detect):
    env = gitlab_env(
        CI_PIPELINE_SOURCE="push",
        CI_COMMIT_BRANCH="feature/checkout",
        CI_COMMIT_REF_NAME="feature/checkout",
        CI_ENVIRONMENT_NAME="production",
    )
    ctx, notes = detect(env)
    assert ctx.as_dict() == {
        "ci_name": "gitlab_ci",
        "is_ci": True,
        "commit": COMMIT,
        "branch": "feature/checkout",
        "tag": None,
        "is_pr": False,
        "pr": None,
        "pr_head_branch": None,
        "pr_base_branch": None,
        "pr_merge_ref": None,
        "pr_head_sha": None,
        "pr_base_sha": None,
        "pr_merge_base_sha": None,
        "build": "1290345",  # CI_PIPELINE_ID, not the per-project IID (1.3)
        "build_url": "https://gitlab.example.com/acme/platform/shop/-/pipelines/1290345",
        "pipeline_id": "1290345",
        "job": "7712001",
        "job_url": "https://gitlab.example.com/acme/platform/shop/-/jobs/7712001",
        "slug": "acme/platform/shop",
        "repository_url": "https://gitlab.example.com/acme/platform/shop.git",
        "stage": "deploy",
        "environment": "production",
        "actor": "jdoe",
        "source": "env",
    }
    assert notes == []


def test_repository_url_loses_the_job_token(detect):
    ctx, _ = detect(gitlab_env(CI_COMMIT_BRANCH="main"))
    dumped = json.dumps(ctx.as_dict())
    assert "s3cr3t" not in dumped and "gitlab-ci-token" not in dumped


def test_job_and_pipeline_urls_lose_credentials_but_keep_query_and_fragment(detect):
    env = gitlab_env(
        CI_PIPELINE_URL="https://u:pw@gitlab.example.com/acme/platform/shop/-/pipelines/1290345?tab=jobs",
        CI_JOB_URL="https://u:pw@gitlab.example.com/acme/platform/shop/-/jobs/7712001#L12",
    )
    ctx, _ = detect(env)
    assert ctx.build_url == "https://gitlab.example.com/acme/platform/shop/-/pipelines/1290345?tab=jobs"
    assert ctx.job_url == "https://gitlab.example.com/acme/platform/shop/-/jobs/7712001#L12"


def test_tag_pipeline_has_tag_and_no_branch(detect):
    # CI_COMMIT_REF_NAME holds the tag here and CI_COMMIT_BRANCH is unset (trap T21).
    env = gitlab_env(CI_PIPELINE_SOURCE="push", CI_COMMIT_TAG="v2.3.0", CI_COMMIT_REF_NAME="v2.3.0", CI_COMMIT_BRANCH="")
    ctx, _ = detect(env)
    assert ctx.tag == "v2.3.0"
    assert ctx.branch is None
    assert ctx.is_pr is False


def test_merge_request_pipeline(detect):
    env = gitlab_env(
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_COMMIT_REF_NAME="feature/checkout",
        CI_MERGE_REQUEST_ID="93412776",  # instance-wide: never the PR number (rule 17)
        CI_MERGE_REQUEST_IID="42",
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="feature/checkout",
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        CI_MERGE_REQUEST_DIFF_BASE_SHA=DIFF_BASE_SHA,
        CI_MERGE_REQUEST_SOURCE_BRANCH_SHA="",  # filled only in merged-results pipelines
        CI_MERGE_REQUEST_TARGET_BRANCH_SHA="",
    )
    ctx, _ = detect(env)
    assert ctx.is_pr is True
    assert ctx.pr == "42"
    assert ctx.branch == "feature/checkout"
    assert ctx.pr_head_branch == "feature/checkout"
    assert ctx.pr_base_branch == "main"
    assert ctx.commit == COMMIT
    assert ctx.pr_head_sha is None
    assert ctx.pr_base_sha is None
    assert ctx.pr_merge_base_sha == DIFF_BASE_SHA
    assert ctx.pr_merge_ref is None


def test_merged_results_pipeline_keeps_the_temporary_merge_as_commit(detect):
    env = gitlab_env(
        CI_COMMIT_SHA=MERGED_RESULT_SHA,
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_MERGE_REQUEST_EVENT_TYPE="merged_result",
        CI_COMMIT_REF_NAME="refs/merge-requests/42/merge",
        CI_MERGE_REQUEST_IID="42",
        CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="feature/checkout",
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=HEAD_SHA,
        CI_MERGE_REQUEST_TARGET_BRANCH_SHA=TARGET_SHA,
        CI_MERGE_REQUEST_DIFF_BASE_SHA=DIFF_BASE_SHA,
    )
    ctx, _ = detect(env)
    assert ctx.commit == MERGED_RESULT_SHA  # rule 24
    assert ctx.pr_head_sha == HEAD_SHA  # trap T4: the branch's own commit survives
    assert ctx.pr_base_sha == TARGET_SHA
    assert ctx.pr_merge_base_sha == DIFF_BASE_SHA
    assert ctx.branch == "feature/checkout"  # never the merge-requests ref
    assert ctx.event_commit == HEAD_SHA


def test_ref_name_fallback_and_pre_9_names(detect):
    env = {
        "GITLAB_CI": "true",
        "CI_BUILD_REF": COMMIT,
        "CI_BUILD_REF_NAME": "legacy/branch",
        "CI_BUILD_ID": "55",
        "CI_PIPELINE_ID": "901",
        "CI_PROJECT_URL": "https://gitlab.example.com/acme/old/",
        "CI_PROJECT_NAMESPACE": "acme",
        "CI_PROJECT_NAME": "old",
    }
    ctx, _ = detect(env)
    assert ctx.commit == COMMIT
    assert ctx.branch == "legacy/branch"
    assert ctx.job == "55"
    # Built from the project URL without doubled slashes (rule 37).
    assert ctx.build_url == "https://gitlab.example.com/acme/old/-/pipelines/901"
    assert ctx.job_url == "https://gitlab.example.com/acme/old/-/jobs/55"
    assert ctx.slug == "acme/old"
    assert ctx.repository_url == "https://gitlab.example.com/acme/old/"


def test_ref_name_is_not_a_branch_when_a_tag_is_set(detect):
    ctx, _ = detect(gitlab_env(CI_COMMIT_TAG="v9", CI_COMMIT_REF_NAME="v9-hotfix"))
    assert ctx.branch is None
    assert ctx.tag == "v9"


def test_environment_only_in_jobs_that_declare_one(detect):
    ctx, _ = detect(gitlab_env(CI_COMMIT_BRANCH="production"))
    assert ctx.environment is None  # never guessed from the branch name


def test_ssh_style_repository_url_is_kept(detect):
    ctx, _ = detect(gitlab_env(CI_REPOSITORY_URL="git@gitlab.example.com:acme/platform/shop.git"))
    assert ctx.repository_url == "git@gitlab.example.com:acme/platform/shop.git"
