"""429 and 408 on a POST mean the service did nothing: the event is kept for a resend.

Unlike a 5xx or a cut-off answer, these statuses say the request was not processed, so
the write cannot have been recorded. Even a backend with no way to look a record up
(Aviator's release candidates) may then keep the event in the spool and resend it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import responses
from pytest_httpserver import HTTPServer

from shipmark.errors import ApiError
from tests.conftest import CANARY, SHA, assert_no_canary, make_request, make_target, run_cli
from tests.contract.fake_services import target_env

RC = "1.4.0-rc1"
RELEASE = f"/api/releases/web/releases/{RC}"
# Retry-After beyond every budget used here: the HTTP layer gives up at once instead of retrying.
SLOW_DOWN = {"Retry-After": "120"}


def spooled(tmp_path: Path) -> List[Dict[str, Any]]:
    spool = tmp_path / "spool.jsonl"
    lines = spool.read_text().splitlines() if spool.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("status", [429, 408])
def test_the_error_says_not_landed(status: int) -> None:
    target = make_target("aviator", token=CANARY, project="web", repository="acme/web", timeout=3.0)
    request = make_request("release_create", version=RC)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(f"https://api.aviator.co{RELEASE}", status=status, json={"error": "slow down"},
                  headers=SLOW_DOWN)
        target.check(request)
        with pytest.raises(ApiError) as info:
            target.release_create(request)
        assert len(mock.calls) == 1
    error = info.value
    assert error.status_code == status and error.transient is True and error.may_have_landed is False
    assert "not re-sent" not in error.message


@pytest.mark.parametrize("status", [429, 408])
def test_a_post_refused_with_status_is_spooled_and_flushed_once(httpserver: HTTPServer, tmp_path: Path,
                                                                status: int) -> None:
    httpserver.expect_oneshot_request(RELEASE, method="POST").respond_with_json(
        {"error": "slow down"}, status=status, headers=SLOW_DOWN)
    env = target_env(httpserver.url_for("/"), tmp_path)
    proc = run_cli(["release", "create", "-t", "av", "--version", RC, "--commit", SHA, "--json", "--timeout", "3"],
                   env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr  # transient, and the target is not required
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is False and result["status_code"] == status
    assert result["transient"] is True and result["spooled"] is True
    assert "may have been recorded" not in result["error"] and "not kept" not in result["error"]
    (entry,) = spooled(tmp_path)
    assert entry["target"] == "av" and entry["may_have_landed"] is False

    httpserver.expect_oneshot_request(RELEASE, method="POST").respond_with_data("", status=201)
    flushed = run_cli(["flush", "--timeout", "3"], env=env, cwd=tmp_path)
    assert flushed.returncode == 0, flushed.stderr
    assert "1 delivered, 0 still waiting" in flushed.stderr
    posts = [request for request, _ in httpserver.log if request.method == "POST"]
    assert len(posts) == 2 and json.loads(posts[1].get_data()) == {
        "repo": "acme/web", "commit": SHA, "trigger_build_workflow": False}
    assert spooled(tmp_path) == []
