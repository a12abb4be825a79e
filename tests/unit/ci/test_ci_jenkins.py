"""Jenkins: multibranch, Git plugin, GHPRB and GitLab plugin builds (CI-ENV rules 26-28)."""
from __future__ import annotations

import json

import pytest

GIT_COMMIT = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
PR_HEAD = "abcdefabcdefabcdefabcdefabcdefabcdefabcd"


def jenkins_env(**extra: str) -> dict:
    env = {
        "JENKINS_URL": "https://jenkins.example.com/",
        "JENKINS_HOME": "/var/jenkins_home",
        "BUILD_NUMBER": "57",
        "BUILD_ID": "57",
        "BUILD_TAG": "jenkins-shop-main-57",
        "BUILD_URL": "https://jenkins.example.com/job/shop/job/main/57/",
        "JOB_NAME": "shop/main",
        "EXECUTOR_NUMBER": "1",
        "WORKSPACE": "/nonexistent/workspace/shop_main",
        "GIT_COMMIT": GIT_COMMIT,
        "GIT_URL": "https://github.com/acme/shop.git",
    }
    env.update(extra)
    return env


def test_multibranch_branch_build(detect):
    ctx, notes = detect(jenkins_env(BRANCH_NAME="main", GIT_BRANCH="main", STAGE_NAME="Deploy"))
    assert ctx.as_dict() == {
        "ci_name": "jenkins",
        "is_ci": True,
        "commit": GIT_COMMIT,
        "branch": "main",
        "tag": None,
        "is_pr": False,
        "pr": None,
        "pr_head_branch": None,
        "pr_base_branch": None,
        "pr_merge_ref": None,
        "pr_head_sha": None,
        "pr_base_sha": None,
        "pr_merge_base_sha": None,
        "build": "57",
        "build_url": "https://jenkins.example.com/job/shop/job/main/57/",
        "pipeline_id": "jenkins-shop-main-57",
        "job": None,
        "job_url": None,
        "slug": "acme/shop",
        "repository_url": "https://github.com/acme/shop.git",
        "stage": "Deploy",
        "environment": None,
        "actor": None,
        "source": "env",
    }
    assert notes == []


def test_multibranch_pr_never_reports_pr_dash_n_as_branch(detect):
    env = jenkins_env(
        BRANCH_NAME="PR-12",
        CHANGE_ID="12",
        CHANGE_BRANCH="feature/cart",
        CHANGE_TARGET="main",
        CHANGE_AUTHOR="jdoe",
        CHANGE_URL="https://github.com/acme/shop/pull/12",
        GIT_BRANCH="PR-12",
    )
    ctx, _ = detect(env)
    assert (ctx.is_pr, ctx.pr) == (True, "12")
    assert ctx.branch == "feature/cart"
    assert ctx.pr_head_branch == "feature/cart"
    assert ctx.pr_base_branch == "main"
    assert ctx.commit == GIT_COMMIT  # may be a local merge (T25); the head is not exported here
    assert ctx.pr_head_sha is None
    assert ctx.actor == "jdoe"


def test_multibranch_pr_without_change_branch_has_no_branch(detect):
    # CHANGE_TARGET and CHANGE_BRANCH can be absent (trap T9): every PR key is optional.
    ctx, _ = detect(jenkins_env(BRANCH_NAME="PR-12", CHANGE_ID="12", GIT_BRANCH="PR-12"))
    assert ctx.is_pr is True
    assert ctx.branch is None
    assert ctx.pr_base_branch is None


def test_multibranch_tag_build(detect):
    ctx, _ = detect(jenkins_env(BRANCH_NAME="v1.4.0", TAG_NAME="v1.4.0", GIT_BRANCH="v1.4.0"))
    assert ctx.tag == "v1.4.0"
    assert ctx.branch is None  # equal to the tag (rule 12)


@pytest.mark.parametrize(
    "variables, branch, tag",
    [
        ({"GIT_BRANCH": "origin/main"}, "main", None),
        ({"GIT_BRANCH": "origin/feature/a/b"}, "feature/a/b", None),
        ({"GIT_BRANCH": "refs/remotes/origin/release"}, "release", None),
        ({"GIT_BRANCH": "origin/main", "GIT_LOCAL_BRANCH": "main-local"}, "main-local", None),
        ({"GIT_BRANCH": "origin/tags/v1"}, None, "v1"),
        ({"GIT_BRANCH": "refs/tags/v1"}, None, "v1"),
        ({"GIT_BRANCH": "tags/v1"}, None, "v1"),
        ({"GIT_BRANCH": "origin/HEAD"}, None, None),
        ({"GIT_BRANCH": "detached", "gitlabBranch": "x"}, "detached", None),
        ({"gitlabBranch": "from-gitlab-plugin"}, "from-gitlab-plugin", None),
    ],
)
def test_git_plugin_branch_slot(detect, variables, branch, tag):
    ctx, _ = detect(jenkins_env(**variables))
    assert (ctx.branch, ctx.tag) == (branch, tag)


def test_ghprb_pull_request(detect):
    env = jenkins_env(
        ghprbPullId="34",
        ghprbActualCommit=PR_HEAD,
        ghprbSourceBranch="feature/search",
        ghprbTargetBranch="main",
        ghprbPullLink="https://github.com/acme/shop/pull/34",
        GIT_BRANCH="origin/pr/34/merge",
        sha1="origin/pr/34/merge",
    )
    ctx, _ = detect(env)
    assert (ctx.is_pr, ctx.pr) == (True, "34")
    assert ctx.pr_head_sha == PR_HEAD  # 1.3: ghprbActualCommit is the head, not the commit
    assert ctx.commit == GIT_COMMIT
    assert ctx.branch == "feature/search"
    assert ctx.pr_base_branch == "main"


def test_gitlab_plugin_merge_request_prefers_the_iid(detect):
    env = jenkins_env(
        gitlabMergeRequestId="88231",
        gitlabMergeRequestIid="7",
        gitlabSourceBranch="feature/q",
        gitlabTargetBranch="develop",
        gitlabBranch="feature/q",
    )
    ctx, _ = detect(env)
    assert (ctx.is_pr, ctx.pr, ctx.branch, ctx.pr_base_branch) == (True, "7", "feature/q", "develop")


def test_false_in_a_pr_variable_means_no_pr(detect):
    ctx, _ = detect(jenkins_env(ghprbPullId="false", GIT_BRANCH="origin/main"))
    assert ctx.is_pr is False
    assert ctx.pr is None
    assert ctx.branch == "main"


def test_git_url_credentials_are_removed_and_slug_derived(detect):
    env = jenkins_env(GIT_URL="https://jenkins-bot:ghp_T0pS3cret@github.example.com/acme/platform/shop.git?x=1#frag")
    ctx, _ = detect(env)
    assert ctx.repository_url == "https://github.example.com/acme/platform/shop.git"
    assert ctx.slug == "acme/platform/shop"
    assert "T0pS3cret" not in json.dumps(ctx.as_dict())


def test_git_url_1_and_scp_style(detect):
    env = jenkins_env(GIT_URL="", GIT_URL_1="git@github.com:acme/shop.git")
    ctx, _ = detect(env)
    assert ctx.repository_url == "git@github.com:acme/shop.git"
    assert ctx.slug == "acme/shop"


def test_build_url_credentials_are_removed(detect):
    env = jenkins_env(BUILD_URL="https://admin:hunter2@jenkins.example.com/job/shop/57/")
    ctx, _ = detect(env)
    assert ctx.build_url == "https://jenkins.example.com/job/shop/57/"
