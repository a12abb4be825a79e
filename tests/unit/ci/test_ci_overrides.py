"""SHIPMARK_* overrides."""
from __future__ import annotations

import pytest

from shipmark.errors import ConfigError, ExitStatus

SHA = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
PROVIDER_SHA = "1234567890123456789012345678901234567890"

GITLAB_BRANCH_PIPELINE = {
    "GITLAB_CI": "true",
    "CI_COMMIT_SHA": PROVIDER_SHA,
    "CI_COMMIT_BRANCH": "main",
    "CI_COMMIT_REF_NAME": "main",
    "CI_ENVIRONMENT_NAME": "staging",
}


def test_commit_override_wins_and_sets_source(detect):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_COMMIT": SHA})
    assert (ctx.commit, ctx.source) == (SHA, "override")


def test_commit_override_outside_ci(detect):
    ctx, _ = detect({"SHIPMARK_COMMIT": " " + SHA.upper() + " "})
    assert (ctx.commit, ctx.source) == (SHA, "override")
    assert (ctx.ci_name, ctx.is_ci) == (None, False)


def test_short_commit_override_is_resolved_by_git(detect, git_repo):
    ctx, _ = detect({"SHIPMARK_COMMIT": git_repo.head[:10]}, cwd=git_repo.path)
    assert (ctx.commit, ctx.source) == (git_repo.head, "override")


@pytest.mark.parametrize("value", ["not-a-sha", "c0ffee", "--upload-pack=evil", "HEAD~1"])
def test_invalid_commit_override_names_the_variable_not_the_value(detect, value):
    with pytest.raises(ConfigError) as raised:
        detect({"SHIPMARK_COMMIT": value})  # no repository: git cannot resolve anything
    assert "SHIPMARK_COMMIT" in raised.value.message
    assert value not in raised.value.message
    assert raised.value.exit_status == ExitStatus.USAGE == 2


@pytest.mark.parametrize(
    "value, branch",
    [("release/2.0", "release/2.0"), ("refs/heads/release/2.0", "release/2.0"), ("origin/hotfix", "hotfix")],
)
def test_branch_override_is_normalized(detect, value, branch):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_BRANCH": value})
    assert ctx.branch == branch


def test_branch_override_with_a_tag_ref_sets_the_tag_instead(detect):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_BRANCH": "refs/tags/v1"})
    assert ctx.tag == "v1"
    assert ctx.branch == "main"


def test_tag_override_wins_over_a_tag_ref_in_branch_override(detect):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_BRANCH": "refs/tags/v1", "SHIPMARK_TAG": "v2"})
    assert ctx.tag == "v2"


def test_tag_override_leaves_branch_alone(detect):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_TAG": "refs/tags/v3.1"})
    assert (ctx.tag, ctx.branch) == ("v3.1", "main")


def test_override_branch_equal_to_tag_is_kept(detect):
    # Detection drops a provider branch equal to the tag; overrides are exempt.
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_BRANCH": "v1", "SHIPMARK_TAG": "v1"})
    assert (ctx.branch, ctx.tag) == ("v1", "v1")


@pytest.mark.parametrize(
    "variable, value",
    [
        ("SHIPMARK_BRANCH", "my branch"),
        ("SHIPMARK_BRANCH", "main\x1b[31m"),
        ("SHIPMARK_TAG", "v1 final"),
        ("SHIPMARK_TAG", "v1\x00"),
        ("SHIPMARK_ENVIRONMENT", "prod\nuction"),
        ("SHIPMARK_ENVIRONMENT", "prod\x07"),
    ],
)
def test_invalid_overrides_raise_config_error_naming_the_variable(detect, variable, value):
    with pytest.raises(ConfigError) as raised:
        detect({**GITLAB_BRANCH_PIPELINE, variable: value})
    assert variable in raised.value.message
    assert value not in raised.value.message


def test_environment_override_wins_and_may_contain_spaces(detect):
    ctx, _ = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_ENVIRONMENT": "Production EU"})
    assert ctx.environment == "Production EU"


@pytest.mark.parametrize("value", ["", "   ", "false", "FALSE", "$(SHIPMARK_BRANCH)"])
def test_unset_overrides_never_blank_a_value(detect, value):
    env = {
        **GITLAB_BRANCH_PIPELINE,
        "SHIPMARK_COMMIT": value,
        "SHIPMARK_BRANCH": value,
        "SHIPMARK_TAG": value,
        "SHIPMARK_ENVIRONMENT": value,
    }
    ctx, _ = detect(env)
    assert (ctx.commit, ctx.branch, ctx.tag, ctx.environment) == (PROVIDER_SHA, "main", None, "staging")
    assert ctx.source == "env"


def test_overrides_never_touch_provider_identity_or_pr_keys(detect):
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": PROVIDER_SHA,
        "CI_MERGE_REQUEST_IID": "8",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/a",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "SHIPMARK_BRANCH": "feature/renamed",
        "SHIPMARK_COMMIT": SHA,
    }
    ctx, _ = detect(env)
    assert ctx.branch == "feature/renamed"
    assert ctx.pr_head_branch == "feature/a"  # still what the provider reported
    assert (ctx.ci_name, ctx.is_ci, ctx.is_pr, ctx.pr, ctx.pr_base_branch) == ("gitlab_ci", True, True, "8", "main")
    assert ctx.pr_head_sha is None  # never copied from the override either


def test_branch_override_that_names_no_branch_is_ignored_with_a_note(detect):
    # `git rev-parse --abbrev-ref HEAD` prints HEAD on detached checkouts, common in CI.
    ctx, notes = detect({**GITLAB_BRANCH_PIPELINE, "SHIPMARK_BRANCH": "HEAD"})
    assert ctx.branch == "main"
    assert len(notes) == 1 and "SHIPMARK_BRANCH" in notes[0]


def test_branch_override_stops_git_fallback(detect, git_repo):
    ctx, notes = detect({"JENKINS_URL": "http://j/", "SHIPMARK_BRANCH": "release"}, cwd=git_repo.path)
    assert ctx.branch == "release"
    assert not any("branch" in note for note in notes)
