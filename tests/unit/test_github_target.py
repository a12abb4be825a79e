"""The `github` target against a fake GitHub Deployments API (pytest-httpserver, the installed CLI).

The fake keeps deployments and statuses as GitHub does (newest first) and checks that every
request carries the token, the media type and the API version; each test asserts the exact
requests it expects (method, path, query, body).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, HEAD_SHA, SHA, assert_no_canary, run_cli
from tests.support.fake_github import REPO, FakeGitHub, json_response

RUN_ID = "42"
RUN_URL = f"https://github.com/acme/shop/actions/runs/{RUN_ID}"


@pytest.fixture
def github(httpserver: HTTPServer):
    fake = FakeGitHub(httpserver)
    yield fake
    assert fake.errors == []


def actions_env(github: FakeGitHub, **extra: str) -> Dict[str, str]:
    """A push build in GitHub Actions, run 42, with the target from SHIPMARK_TARGET_GH_*."""
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_RUN_ID": RUN_ID, "GITHUB_JOB": "deploy", "GITHUB_ACTOR": "octo", "GITHUB_EVENT_NAME": "push",
           "GITHUB_SHA": SHA, "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
           "GITHUB_REF_TYPE": "branch",
           "SHIPMARK_TARGET_GH_TYPE": "github", "SHIPMARK_TARGET_GH_URL": github.url,
           "SHIPMARK_TARGET_GH_TOKEN": CANARY}
    env.update(extra)
    return env


def shipmark(env: Dict[str, str], tmp_path: Path, *args: str):
    proc = run_cli(list(args) + ["--timeout", "10"], env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    return proc


START = ("deployment", "start", "-e", "production", "--version", "v1.2.3")
FINISH = ("deployment", "finish", "-e", "production", "--version", "v1.2.3")
LOOKUP = ("GET", f"{REPO}/deployments", {"sha": SHA, "environment": "production", "per_page": "100"}, None)


def status_body(state: str, **extra: Any) -> Dict[str, Any]:
    return {"state": state, "log_url": RUN_URL, "auto_inactive": True, **extra}


def test_start_then_finish_leave_one_deployment_and_a_rerun_adds_none(github: FakeGitHub, tmp_path: Path) -> None:
    env = actions_env(github, SHIPMARK_TARGET_GH_ENVIRONMENT_URL="https://shop.example.com")

    started = shipmark(env, tmp_path, *START, "--json")

    assert started.returncode == 0, started.stderr
    (create, post) = github.writes()
    assert create[:2] == ("POST", f"{REPO}/deployments")
    sent = create[2]
    ours = sent["payload"]["shipmark"]
    assert {k: v for k, v in sent.items() if k != "payload"} == {
        "ref": SHA, "task": "deploy", "environment": "production", "auto_merge": False, "required_contexts": [],
        "description": "v1.2.3"}
    assert ours["event_key"] == json.loads(started.stdout)[0]["event_key"]
    assert (ours["operation"], ours["status"], ours["version"]) == ("deploy", "in_progress", "v1.2.3")
    assert len(ours["lifecycle_key"]) == 16
    assert post == ("POST", f"{REPO}/deployments/1/statuses",
                    status_body("in_progress", environment_url="https://shop.example.com"))
    assert github.requests()[0] == LOOKUP

    github.log.clear()
    finished = shipmark(env, tmp_path, *FINISH, "--json")

    assert finished.returncode == 0, finished.stderr
    assert github.requests() == [
        LOOKUP,
        ("GET", f"{REPO}/deployments/1/statuses", {"per_page": "1"}, None),
        ("POST", f"{REPO}/deployments/1/statuses", {},
         status_body("success", environment_url="https://shop.example.com")),
    ]
    (result,) = json.loads(finished.stdout)
    assert (result["ok"], result["id"], result["remote_status"]) == (True, "1", "success")
    assert [s["state"] for s in reversed(github.statuses[1])] == ["in_progress", "success"]

    github.log.clear()
    again = shipmark(env, tmp_path, *FINISH, "--json")

    assert again.returncode == 0, again.stderr
    assert github.writes() == []
    assert len(github.deployments) == 1
    assert json.loads(again.stdout)[0]["message"] == "already recorded"


def test_the_deployment_github_actions_made_for_this_run_is_used(github: FakeGitHub, tmp_path: Path) -> None:
    # Another run's deployment of the same commit comes first: it must not be taken.
    github.add(SHA, "production", creator="github-actions[bot]",
               statuses=({"state": "in_progress", "log_url": f"{RUN_URL}1/job/7"},))
    github.add(SHA, "production", creator="github-actions[bot]",
               statuses=({"state": "waiting", "log_url": f"{RUN_URL}/job/9"},
                         {"state": "in_progress", "log_url": f"{RUN_URL}/job/9"}))
    github.add(SHA, "production", creator="someone", statuses=({"state": "success", "log_url": f"{RUN_URL}/job/9"},))

    done = shipmark(actions_env(github), tmp_path, *FINISH)

    assert done.returncode == 0, done.stderr
    assert github.requests() == [
        LOOKUP,
        ("GET", f"{REPO}/deployments/2/statuses", {"per_page": "100"}, None),
        ("GET", f"{REPO}/deployments/2/statuses", {"per_page": "1"}, None),
        ("POST", f"{REPO}/deployments/2/statuses", {}, status_body("success")),
    ]
    assert "status added to the deployment GitHub Actions created for this run" in done.stderr


def test_outside_actions_a_deployment_is_created_even_next_to_an_actions_one(github: FakeGitHub,
                                                                            tmp_path: Path) -> None:
    github.add(SHA, "production", creator="github-actions[bot]",
               statuses=({"state": "in_progress", "log_url": f"{RUN_URL}/job/9"},))
    env = {"SHIPMARK_TARGET_GH_TYPE": "github", "SHIPMARK_TARGET_GH_URL": github.url,
           "SHIPMARK_TARGET_GH_TOKEN": CANARY, "SHIPMARK_TARGET_GH_REPOSITORY": "acme/shop"}

    done = shipmark(env, tmp_path, "deploy", "--commit", SHA, "-e", "production", "--version", "v1")

    assert done.returncode == 0, done.stderr
    assert [(m, p) for m, p, _q, _b in github.requests()] == [
        ("GET", f"{REPO}/deployments"), ("POST", f"{REPO}/deployments"), ("POST", f"{REPO}/deployments/2/statuses")]
    assert github.writes()[1][2] == {"state": "success", "auto_inactive": True}


def test_a_pull_request_deploys_its_head_commit_and_a_fork_403_is_a_skip(github: FakeGitHub,
                                                                         tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": HEAD_SHA, "ref": "feature"},
                                                  "base": {"sha": SHA, "ref": "main"}}}))
    env = actions_env(github, GITHUB_EVENT_NAME="pull_request", GITHUB_SHA="1" * 40,
                      GITHUB_REF="refs/pull/7/merge", GITHUB_REF_NAME="7/merge", GITHUB_HEAD_REF="feature",
                      GITHUB_BASE_REF="main", GITHUB_EVENT_PATH=str(event))
    github.queued = [json_response([]), json_response({"message": "Resource not accessible by integration"}, 403)]

    done = shipmark(env, tmp_path, *START, "--json")

    assert done.returncode == 0, done.stderr
    assert github.requests()[0][2]["sha"] == HEAD_SHA
    assert github.writes()[0][2]["ref"] == HEAD_SHA
    (result,) = json.loads(done.stdout)
    assert (result["ok"], result["skipped"], result["status_code"]) == (True, True, 403)
    (warning,) = [line for line in done.stderr.splitlines() if "read-only token" in line]
    assert warning.startswith("::warning title=shipmark::gh: deploy skipped: the token may not write deployments")
    assert "::error" not in done.stderr


def test_a_403_outside_a_pull_request_fails_with_the_permission_to_add(github: FakeGitHub, tmp_path: Path) -> None:
    github.queued = [json_response([]), json_response({"message": "Resource not accessible by integration"}, 403)]

    done = shipmark(actions_env(github), tmp_path, *START)

    assert done.returncode == 1, done.stderr
    assert "HTTP 403" in done.stderr and "the token needs `deployments: write`" in done.stderr


@pytest.mark.parametrize("limited", [
    {"status": 403, "headers": {"retry-after": "1"}},  # a secondary rate limit
    {"status": 403, "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "NOW+2"}},
    {"status": 429, "headers": {"retry-after": "1"}},
], ids=["secondary-403", "primary-403", "429"])
def test_a_rate_limited_answer_is_waited_out_and_retried(github: FakeGitHub, tmp_path: Path,
                                                         limited: Dict[str, Any]) -> None:
    headers = {k: v.replace("NOW+2", str(int(time.time()) + 2)) for k, v in limited["headers"].items()}
    message = {"message": "You have exceeded a secondary rate limit"}
    github.queued = [json_response([]), json_response(message, limited["status"], headers)]
    began = time.monotonic()

    done = shipmark(actions_env(github), tmp_path, *START)

    assert done.returncode == 0, done.stderr
    assert time.monotonic() - began >= 0.9
    assert [(m, p) for m, p, _q, _b in github.requests()] == [
        ("GET", f"{REPO}/deployments"), ("POST", f"{REPO}/deployments"), ("POST", f"{REPO}/deployments"),
        ("POST", f"{REPO}/deployments/1/statuses")]
    assert len(github.deployments) == 1


def test_a_rate_limit_beyond_the_time_budget_is_a_transient_failure(github: FakeGitHub, tmp_path: Path) -> None:
    github.queued = [json_response({"message": "API rate limit exceeded"}, 403,
                           {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)})]

    done = shipmark(actions_env(github), tmp_path, *START)

    assert done.returncode == 0, done.stderr  # tolerated (the target is not required) and spooled
    (warning,) = [line for line in done.stderr.splitlines() if "beyond the remaining time budget" in line]
    assert warning.startswith("::warning title=shipmark::gh: deploy failed: HTTP 403")
    assert "deployments: write" not in warning  # a rate limit, not a missing permission
    assert github.writes() == []


def test_cancelled_is_an_error_status_described_cancelled(github: FakeGitHub, tmp_path: Path) -> None:
    env = actions_env(github)
    assert shipmark(env, tmp_path, *START).returncode == 0

    done = shipmark(env, tmp_path, *FINISH, "--status", "cancelled", "--json")

    assert done.returncode == 0, done.stderr
    assert github.writes()[-1] == ("POST", f"{REPO}/deployments/1/statuses",
                                   status_body("error", description="cancelled"))
    listed = shipmark(env, tmp_path, "deployment", "list", "--json")
    assert [i["status"] for i in json.loads(listed.stdout)[0]["items"]] == ["cancelled"]


def test_skipped_cannot_be_represented(github: FakeGitHub, tmp_path: Path) -> None:
    done = shipmark(actions_env(github), tmp_path, *FINISH, "--status", "skipped", "-t", "gh")

    assert done.returncode == 2
    assert "status 'skipped' cannot be represented by github" in done.stderr
    assert github.requests() == []


def test_update_posts_to_the_deployment_given_by_id(github: FakeGitHub, tmp_path: Path) -> None:
    github.add(SHA, "staging", creator="someone", statuses=({"state": "in_progress"},))

    done = shipmark(actions_env(github), tmp_path, "deployment", "update", "--id", "1", "--status", "failure",
                    "--param", "environment_url=https://pr-7.example.com")

    assert done.returncode == 0, done.stderr
    assert github.requests() == [
        ("GET", f"{REPO}/deployments/1", {}, None),
        ("GET", f"{REPO}/deployments/1/statuses", {"per_page": "1"}, None),
        ("POST", f"{REPO}/deployments/1/statuses", {},
         status_body("failure", environment_url="https://pr-7.example.com")),
    ]


def test_update_without_a_deployment_to_update_fails(github: FakeGitHub, tmp_path: Path) -> None:
    done = shipmark(actions_env(github), tmp_path, "deployment", "update", "-e", "production", "--status", "success")

    assert done.returncode == 1
    assert "record it with `shipmark deployment start` first, or pass --id" in done.stderr
    assert github.writes() == []


def test_list_follows_link_headers_and_shows_each_latest_status(github: FakeGitHub, tmp_path: Path) -> None:
    for n in range(3):
        github.add(SHA, "production", creator="someone", payload={"shipmark": {"version": f"v{n}"}},
                   statuses=({"state": "in_progress"}, {"state": ("success", "failure", "error")[n]}))
    github.page_size = 2

    done = shipmark(actions_env(github), tmp_path, "deployment", "list", "-e", "production", "--json")

    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)[0]["items"]
    assert [(i["id"], i["status"], i["version"], i["environment"], i["commit"]) for i in items] == [
        ("3", "failure", "v2", "production", SHA), ("2", "failure", "v1", "production", SHA),
        ("1", "success", "v0", "production", SHA)]
    assert [(p, q) for _m, p, q, _b in github.requests() if p == f"{REPO}/deployments"] == [
        (f"{REPO}/deployments", {"environment": "production", "per_page": "100"}),
        (f"{REPO}/deployments", {"environment": "production", "per_page": "100", "page": "2"})]


def test_get_shows_the_latest_status(github: FakeGitHub, tmp_path: Path) -> None:
    github.add(SHA, "production", creator="someone", statuses=({"state": "in_progress"}, {"state": "success"}))

    done = shipmark(actions_env(github), tmp_path, "deployment", "get", "--id", "1", "--json")

    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert (result["id"], result["remote_status"], result["record"]["latest_status"]["state"]) == (
        "1", "success", "success")


def test_dry_run_sends_nothing_and_masks_the_token(github: FakeGitHub, tmp_path: Path) -> None:
    done = shipmark(actions_env(github), tmp_path, *START, "--dry-run")

    assert done.returncode == 0, done.stderr
    assert github.requests() == []
    assert f"[dry-run] gh: POST {github.url}{REPO}/deployments" in done.stderr
    assert "Authorization: Bearer ***" in done.stderr
    assert '"required_contexts": []' in done.stderr


def test_a_missing_repository_is_a_usage_error(github: FakeGitHub, tmp_path: Path) -> None:
    env = {"SHIPMARK_TARGET_GH_TYPE": "github", "SHIPMARK_TARGET_GH_URL": github.url,
           "SHIPMARK_TARGET_GH_TOKEN": CANARY}

    done = shipmark(env, tmp_path, "deploy", "--commit", SHA, "-t", "gh")

    assert done.returncode == 2
    assert "set the target's repository (owner/name)" in done.stderr
    assert github.requests() == []
