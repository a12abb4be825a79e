"""The GitHub event payload file: a missing or unreadable file earns exactly one note.

Environment-to-context cases for GitHub and Gitea Actions are data, in
tests/ci_cases/github_actions.yaml and gitea_actions.yaml.
"""
from __future__ import annotations

import pytest

MERGE_SHA = "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7"


def github_env(**extra: str) -> dict:
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "9876543210",
        "GITHUB_EVENT_PATH": "/nonexistent/event.json",
        "GITHUB_HEAD_REF": "",
        "GITHUB_BASE_REF": "",
    }
    env.update(extra)
    return env


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
    assert ctx.pr_head_sha is None  # unknown, and never copied from commit


def test_unset_event_path_on_a_pr_gives_a_note(detect):
    env = github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_REF="refs/pull/5/merge", GITHUB_SHA=MERGE_SHA)
    del env["GITHUB_EVENT_PATH"]
    ctx, notes = detect(env)
    assert ctx.pr == "5"
    assert len(notes) == 1 and "GITHUB_EVENT_PATH" in notes[0]
