"""`context --explain`: every key with its value and where that value came from."""
from __future__ import annotations

import json
from pathlib import Path

from shipmark.ci import detect_context
from shipmark.ci.explain import explain_context, format_explanation
from shipmark.models import Context

HEAD = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"
MERGE = "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7"
BASE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"


def explained(env, cwd: Path) -> dict:
    notes: list = []
    rows = explain_context(env=env, cwd=str(cwd), warn=notes.append)
    assert [key for key, _, _ in rows] == Context.keys()
    return {key: (value, source) for key, value, source in rows}


def test_github_pull_request_names_variables_event_fields_and_templates(empty_dir, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 412, "head": {"ref": "feature/login", "sha": HEAD},
                                                  "base": {"ref": "main", "sha": BASE}}}))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/412/merge",
           "GITHUB_SHA": MERGE, "GITHUB_HEAD_REF": "", "GITHUB_BASE_REF": "main", "GITHUB_EVENT_PATH": str(event),
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "99"}
    rows = explained(env, empty_dir)
    assert rows["ci_name"] == ("github_actions", "github_actions matched on GITHUB_ACTIONS")
    assert rows["is_ci"] == (True, "github_actions matched")
    assert rows["commit"] == (MERGE, "GITHUB_SHA")
    assert rows["source"] == ("env", "GITHUB_SHA")
    assert rows["is_pr"] == (True, "GITHUB_EVENT_NAME")
    assert rows["pr"] == ("412", "event pull_request.number")
    assert rows["branch"] == ("feature/login", "event pull_request.head.ref")  # GITHUB_HEAD_REF is empty
    assert rows["pr_head_branch"] == ("feature/login", "event pull_request.head.ref")
    assert rows["pr_base_branch"] == ("main", "GITHUB_BASE_REF")
    assert rows["pr_head_sha"] == (HEAD, "event pull_request.head.sha")
    assert rows["pr_merge_ref"] == ("refs/pull/412/merge", "GITHUB_REF")
    assert rows["build_url"] == ("https://github.com/acme/shop/actions/runs/99",
                                 "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID")
    assert rows["repository_url"] == ("https://github.com/acme/shop.git", "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY")
    assert rows["tag"] == (None, None)
    assert rows["pr_merge_base_sha"] == (None, None)


def test_values_equal_what_detect_context_gives(empty_dir):
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": MERGE, "CI_COMMIT_REF_NAME": "origin/main",
           "CI_PROJECT_NAMESPACE": "acme", "CI_PROJECT_NAME": "shop"}
    rows = explained(env, empty_dir)
    assert {key: value for key, (value, _) in rows.items()} == detect_context(env=env, cwd=str(empty_dir)).as_dict()
    assert rows["branch"] == ("main", "CI_COMMIT_REF_NAME")  # normalized, source kept
    assert rows["slug"] == ("acme/shop", "$CI_PROJECT_NAMESPACE/$CI_PROJECT_NAME")


def test_overrides_are_named(empty_dir):
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": MERGE, "CI_COMMIT_BRANCH": "main", "SHIPMARK_COMMIT": HEAD,
           "SHIPMARK_BRANCH": "release/1", "SHIPMARK_TAG": "v1", "SHIPMARK_ENVIRONMENT": "prod"}
    rows = explained(env, empty_dir)
    assert rows["commit"] == (HEAD, "SHIPMARK_COMMIT")
    assert rows["source"] == ("override", "SHIPMARK_COMMIT")
    assert rows["branch"] == ("release/1", "SHIPMARK_BRANCH")
    assert rows["tag"] == ("v1", "SHIPMARK_TAG")
    assert rows["environment"] == ("prod", "SHIPMARK_ENVIRONMENT")


def test_git_commands_are_named(git_repo):
    rows = explained({}, git_repo.path)
    assert rows["ci_name"] == (None, None)
    assert rows["is_ci"] == (False, "no provider matched and CI is unset")
    assert rows["commit"] == (git_repo.head, "git rev-parse --verify HEAD^{commit}")
    assert rows["source"] == ("git", "git rev-parse --verify HEAD^{commit}")
    assert rows["branch"][0] == "main" and rows["branch"][1].startswith("git symbolic-ref")
    assert rows["repository_url"] == ("https://git.example.com/acme/shop.git", "git remote get-url origin")
    assert rows["slug"] == ("acme/shop", "git remote get-url origin")


def test_a_short_sha_resolved_by_git_says_so(git_repo):
    env = {"JENKINS_URL": "https://jenkins.example.com/", "GIT_COMMIT": git_repo.head[:12]}
    rows = explained(env, git_repo.path)
    assert rows["commit"] == (git_repo.head, "GIT_COMMIT resolved by git rev-parse")


def test_ci_alone_is_explained(empty_dir):
    rows = explained({"CI": "1"}, empty_dir)
    assert rows["is_ci"] == (True, "CI (no known provider matched)")


def test_format_aligns_columns_and_marks_nulls():
    text = format_explanation([("ci_name", "gitlab_ci", "gitlab_ci matched on GITLAB_CI"), ("is_pr", False, None),
                               ("tag", None, None)])
    assert text.splitlines() == [
        "ci_name  gitlab_ci  <- gitlab_ci matched on GITLAB_CI",
        "is_pr    false",
        "tag      -",
    ]


def test_context_values_are_plain_strings(empty_dir):
    ctx = detect_context(env={"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main"}, cwd=str(empty_dir))
    assert type(ctx.branch) is str


def test_the_variable_that_made_a_pr_build_is_named(empty_dir):
    """A build of a merged branch that still carries a PR variable shows which one."""
    env = {"CIRCLECI": "true", "CIRCLE_BRANCH": "main", "CIRCLE_PULL_REQUEST": "https://github.com/acme/shop/pull/9"}
    rows = explained(env, empty_dir)
    assert rows["is_pr"] == (True, "CIRCLE_PULL_REQUEST")
    assert rows["pr"] == ("9", "CIRCLE_PULL_REQUEST")


def test_a_tag_ref_in_a_branch_variable_is_explained_as_such(empty_dir):
    rows = explained({"JB_SPACE_EXECUTION_NUMBER": "3", "JB_SPACE_GIT_BRANCH": "refs/tags/v2"}, empty_dir)
    assert rows["tag"] == ("v2", "JB_SPACE_GIT_BRANCH")
    assert rows["branch"] == (None, None)
