"""GitHub and Gitea Actions: realistic run environments -> context (CI-ENV rules 18-22)."""
from __future__ import annotations

import json

import pytest

MERGE_SHA = "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7"
HEAD_SHA = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"
BASE_SHA = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
DECOY_SHA = "dddddddddddddddddddddddddddddddddddddddd"


def github_env(**extra: str) -> dict:
    """What a GitHub-hosted runner exports, minus the noise shipmark never reads."""
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_REPOSITORY_OWNER": "acme",
        "GITHUB_RUN_ID": "9876543210",
        "GITHUB_RUN_NUMBER": "118",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "test",
        "GITHUB_ACTOR": "octo-dev",
        "GITHUB_TRIGGERING_ACTOR": "octo-dev",
        "GITHUB_WORKSPACE": "/nonexistent/workspace",
        "GITHUB_EVENT_PATH": "/nonexistent/event.json",
        "GITHUB_HEAD_REF": "",  # empty outside pull_request* (rule 20)
        "GITHUB_BASE_REF": "",
        "RUNNER_OS": "Linux",
    }
    env.update(extra)
    return env


def pr_payload(number: int = 412, head_ref: str = "feature/login", title: str = "Add login") -> dict:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "title": title,
            "number": number,
            "head": {"ref": head_ref, "sha": HEAD_SHA, "repo": {"full_name": "acme/shop"}},
            "base": {"ref": "main", "sha": BASE_SHA, "repo": {"full_name": "acme/shop"}},
        },
    }


def test_push_to_branch(detect):
    env = github_env(
        GITHUB_EVENT_NAME="push",
        GITHUB_REF="refs/heads/feature/login",
        GITHUB_REF_NAME="feature/login",
        GITHUB_REF_TYPE="branch",
        GITHUB_SHA=MERGE_SHA,
    )
    ctx, notes = detect(env)
    assert ctx.as_dict() == {
        "ci_name": "github_actions",
        "is_ci": True,
        "commit": MERGE_SHA,
        "branch": "feature/login",
        "tag": None,
        "is_pr": False,
        "pr": None,
        "pr_head_branch": None,
        "pr_base_branch": None,
        "pr_merge_ref": None,
        "pr_head_sha": None,
        "pr_base_sha": None,
        "pr_merge_base_sha": None,
        "build": "9876543210",
        "build_url": "https://github.com/acme/shop/actions/runs/9876543210",
        "pipeline_id": "9876543210",
        "job": "test",
        "job_url": None,
        "slug": "acme/shop",
        "repository_url": "https://github.com/acme/shop.git",
        "stage": None,
        "environment": None,
        "actor": "octo-dev",
        "source": "env",
    }
    # A push run never opens the event file, so its absence is not worth a note.
    assert notes == []


@pytest.mark.parametrize(
    "ref_vars",
    [
        {"GITHUB_REF": "refs/tags/v1.2.0", "GITHUB_REF_NAME": "v1.2.0", "GITHUB_REF_TYPE": "tag"},
        {"GITHUB_REF_NAME": "v1.2.0", "GITHUB_REF_TYPE": "tag"},
        {"GITHUB_REF": "refs/tags/v1.2.0"},
    ],
    ids=["ref-and-type", "type-only", "ref-only"],
)
def test_tag_push_sets_tag_and_no_branch(detect, ref_vars):
    ctx, _ = detect(github_env(GITHUB_EVENT_NAME="push", GITHUB_SHA=MERGE_SHA, **ref_vars))
    assert ctx.tag == "v1.2.0"
    assert ctx.branch is None  # trap T13: tag runs have no branch
    assert ctx.is_pr is False


def test_release_tag_with_slashes_is_kept_whole(detect):
    # Classify by prefix, never by length (trap T22).
    ctx, _ = detect(github_env(GITHUB_REF="refs/tags/release/2024.05", GITHUB_SHA=MERGE_SHA))
    assert ctx.tag == "release/2024.05"


def test_pull_request_uses_merge_commit_and_head_from_event_file(detect, event_file):
    env = github_env(
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/412/merge",
        GITHUB_REF_NAME="412/merge",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_HEAD_REF="feature/login",
        GITHUB_BASE_REF="main",
        GITHUB_EVENT_PATH=event_file(pr_payload()),
    )
    ctx, notes = detect(env)
    assert ctx.commit == MERGE_SHA  # the test merge (1.3), source of truth for checkout
    assert ctx.source == "env"
    assert ctx.pr_head_sha == HEAD_SHA  # what the author pushed, from the payload
    assert ctx.pr_base_sha == BASE_SHA
    assert ctx.pr_merge_base_sha is None  # never computed
    assert ctx.is_pr is True
    assert ctx.pr == "412"
    assert ctx.pr_merge_ref == "refs/pull/412/merge"
    assert ctx.branch == "feature/login"
    assert ctx.pr_head_branch == "feature/login"
    assert ctx.pr_base_branch == "main"
    assert ctx.event_commit == HEAD_SHA
    assert notes == []


def test_pull_request_number_comes_from_the_event_file(detect, event_file):
    env = github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_SHA=MERGE_SHA, GITHUB_EVENT_PATH=event_file(pr_payload(77)))
    ctx, _ = detect(env)
    assert ctx.pr == "77"
    assert ctx.branch == "feature/login"  # GITHUB_HEAD_REF empty: head.ref from the file
    assert ctx.pr_base_branch == "main"


def test_pull_request_target_is_a_pr_with_synthesized_merge_ref(detect, event_file):
    # Runs in the base repository: GITHUB_REF is the base branch, GITHUB_SHA its tip (rule 21).
    env = github_env(
        GITHUB_EVENT_NAME="pull_request_target",
        GITHUB_REF="refs/heads/main",
        GITHUB_REF_NAME="main",
        GITHUB_SHA=BASE_SHA,
        GITHUB_HEAD_REF="feature/login",
        GITHUB_BASE_REF="main",
        GITHUB_EVENT_PATH=event_file(pr_payload()),
    )
    ctx, _ = detect(env)
    assert ctx.is_pr is True
    assert ctx.commit == BASE_SHA  # the default checkout
    assert ctx.branch == "feature/login"  # never the base in GITHUB_REF (rule 14)
    assert ctx.pr == "412"
    assert ctx.pr_head_sha == HEAD_SHA
    assert ctx.pr_merge_ref == "refs/pull/412/merge"


def test_fork_pr_keeps_the_fork_branch_name(detect, event_file):
    payload = pr_payload(head_ref="main")
    payload["pull_request"]["head"]["repo"] = {"full_name": "mallory/shop"}
    env = github_env(
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/412/merge",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_HEAD_REF="main",
        GITHUB_BASE_REF="main",
        GITHUB_EVENT_PATH=event_file(payload),
    )
    ctx, _ = detect(env)
    # Rule 15 / trap T3: reported as is, without owner prefix; is_pr tells it apart.
    assert ctx.branch == "main"
    assert ctx.is_pr is True
    assert ctx.slug == "acme/shop"


def test_pr_title_that_looks_like_json_does_not_confuse_the_parser(detect, event_file):
    title = f'Fix "head": {{"sha": "{DECOY_SHA}", "ref": "evil"}} and "number": 999'
    payload = {"pull_request": {"title": title, "body": title}}  # title first, as a regex scan would see it
    payload["pull_request"].update(pr_payload()["pull_request"], title=title)
    env = github_env(
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/412/merge",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_EVENT_PATH=event_file(json.dumps(payload)),
    )
    ctx, _ = detect(env)
    assert ctx.pr_head_sha == HEAD_SHA
    assert ctx.pr == "412"
    assert ctx.branch == "feature/login"


@pytest.mark.parametrize(
    "content",
    [None, "{not json", "[1, 2, 3]", "\xff\xfe garbage"],
    ids=["missing", "invalid-json", "not-an-object", "not-utf8"],
)
def test_missing_or_invalid_event_file_gives_one_note_and_no_crash(detect, tmp_path, content):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_bytes(content.encode("latin-1"))
    env = github_env(
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/412/merge",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_HEAD_REF="feature/login",
        GITHUB_EVENT_PATH=str(path),
    )
    ctx, notes = detect(env)
    assert len(notes) == 1
    assert "event" in notes[0] and str(path) in notes[0]
    assert ctx.pr == "412"  # still known from the ref
    assert ctx.branch == "feature/login"
    assert ctx.pr_head_sha is None  # unknown, never copied from commit (rule 16)


def test_unset_event_path_on_a_pr_gives_a_note(detect):
    env = github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_REF="refs/pull/5/merge", GITHUB_SHA=MERGE_SHA)
    del env["GITHUB_EVENT_PATH"]
    ctx, notes = detect(env)
    assert ctx.pr == "5"
    assert len(notes) == 1 and "GITHUB_EVENT_PATH" in notes[0]


def test_merge_queue_ref_maps_to_its_base_branch(detect):
    queue_ref = f"refs/heads/gh-readonly-queue/release/2.x/pr-412-{HEAD_SHA}"
    env = github_env(
        GITHUB_EVENT_NAME="merge_group",
        GITHUB_REF=queue_ref,
        GITHUB_REF_NAME=queue_ref[len("refs/heads/"):],
        GITHUB_SHA=MERGE_SHA,
    )
    ctx, _ = detect(env)
    assert ctx.branch == "release/2.x"  # trap T23
    assert ctx.is_pr is False
    assert ctx.pr is None


@pytest.mark.parametrize("event_name", ["deployment", "deployment_status"])
def test_deployment_event_environment_from_the_payload(detect, event_file, event_name):
    payload = {"deployment": {"id": 1, "environment": "production", "ref": "main"}}
    env = github_env(
        GITHUB_EVENT_NAME=event_name, GITHUB_REF="refs/heads/main", GITHUB_SHA=MERGE_SHA, GITHUB_EVENT_PATH=event_file(payload)
    )
    ctx, _ = detect(env)
    assert ctx.environment == "production"
    assert ctx.branch == "main"


def test_environment_is_never_guessed_on_push(detect, event_file):
    payload = {"deployment": {"environment": "production"}}  # not a deployment event: ignored
    env = github_env(GITHUB_EVENT_NAME="push", GITHUB_REF="refs/heads/production", GITHUB_SHA=MERGE_SHA,
                     GITHUB_EVENT_PATH=event_file(payload))
    ctx, _ = detect(env)
    assert ctx.environment is None


def test_job_url_only_with_exported_check_run_id_and_server_url_cleaned(detect):
    env = github_env(
        GITHUB_EVENT_NAME="push",
        GITHUB_REF="refs/heads/main",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_SERVER_URL="https://x-access-token:ghs_secret@github.example.com/",
        JOB_CHECK_RUN_ID="24681357",
        GITHUB_TRIGGERING_ACTOR="re-runner",
    )
    ctx, _ = detect(env)
    assert ctx.build_url == "https://github.example.com/acme/shop/actions/runs/9876543210"
    assert ctx.job_url == "https://github.example.com/acme/shop/actions/runs/9876543210/job/24681357"
    assert ctx.repository_url == "https://github.example.com/acme/shop.git"
    assert ctx.actor == "re-runner"  # who started this attempt, not GITHUB_ACTOR
    assert "ghs_secret" not in json.dumps(ctx.as_dict())


def test_pr_ref_name_is_never_a_branch(detect):
    # A pull_request_review run: no HEAD_REF, no payload; `412/merge` must not leak into branch.
    env = github_env(
        GITHUB_EVENT_NAME="pull_request_review",
        GITHUB_REF="refs/pull/412/merge",
        GITHUB_REF_NAME="412/merge",
        GITHUB_SHA=MERGE_SHA,
    )
    ctx, _ = detect(env)
    assert ctx.is_pr is True
    assert ctx.branch is None
    assert ctx.pr_merge_ref == "refs/pull/412/merge"


def test_gitea_actions_uses_github_names_and_its_own_server(detect):
    env = github_env(
        GITEA_ACTIONS="true",
        GITHUB_SERVER_URL="https://gitea.example.com",
        GITHUB_EVENT_NAME="push",
        GITHUB_REF="refs/heads/main",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_RUN_ID="314",
    )
    ctx, _ = detect(env)
    assert ctx.ci_name == "gitea_actions"
    assert ctx.branch == "main"
    assert ctx.build_url == "https://gitea.example.com/acme/shop/actions/runs/314"
    assert ctx.repository_url == "https://gitea.example.com/acme/shop.git"


def test_gitea_pull_request(detect, event_file):
    env = github_env(
        GITEA_ACTIONS="true",
        GITHUB_SERVER_URL="https://gitea.example.com",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_REF="refs/pull/9/head",
        GITHUB_SHA=HEAD_SHA,
        GITHUB_HEAD_REF="fix/typo",
        GITHUB_BASE_REF="main",
        GITHUB_EVENT_PATH=event_file(pr_payload(9, head_ref="fix/typo")),
    )
    ctx, _ = detect(env)
    assert ctx.ci_name == "gitea_actions"
    assert (ctx.is_pr, ctx.pr, ctx.branch, ctx.pr_base_branch) == (True, "9", "fix/typo", "main")
    assert ctx.pr_merge_ref is None  # refs/pull/9/head is not a merge ref


def test_invalid_github_sha_gives_no_commit(detect):
    ctx, _ = detect(github_env(GITHUB_REF="refs/heads/main", GITHUB_SHA="not-a-sha"))
    assert ctx.commit is None
    assert ctx.source is None
