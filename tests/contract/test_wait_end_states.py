"""`--wait` ends only on a final state: success exits 0; failed, cancelled or timed out exits 3.

Queued and in-progress states keep the command polling. Each service has its own words
for these states (Aviator `pending`/`canceled`, DeployBot `waiting`, BuildMaster's
`canceledOn`), read back through each backend into the shared statuses.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import SHA, assert_no_canary, run_cli
from tests.contract.fake_services import target_env

AVIATOR = "/api/releases/web/environments/production/deployments"
RC = "1.4.0-rc1"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def in_turn(answers: List[Any], polls: List[float]) -> Callable[[Request], Response]:
    """Each poll gets the next answer; the last one repeats."""
    def answer(_request: Request) -> Response:
        polls.append(time.monotonic())
        return _json(answers[min(len(polls), len(answers)) - 1])
    return answer


def aviator(server: HTTPServer, states: List[str]) -> List[float]:
    polls: List[float] = []
    server.expect_request(AVIATOR, method="POST").respond_with_data("", status=201)
    server.expect_request(AVIATOR, method="GET").respond_with_handler(in_turn(
        [[{"id": 7, "status": s, "release_candidate_version": RC, "environment_name": "production"}]
         for s in states], polls))
    return polls


def deploybot(server: HTTPServer, states: List[str]) -> List[float]:
    polls: List[float] = []
    server.expect_request("/api/v1/deployments", method="GET").respond_with_json(
        {"meta": {"next": None, "total": 0}, "entries": []})  # the event-key lookup: nothing yet
    server.expect_request("/api/v1/deployments", method="POST").respond_with_json(
        {"id": 345, "environment_id": 12, "state": "waiting", "deployed_version": SHA}, status=201)
    server.expect_request("/api/v1/deployments/345", method="GET").respond_with_handler(in_turn(
        [{"id": 345, "environment_id": 12, "state": s, "deployed_version": SHA} for s in states], polls))
    return polls


def buildmaster(server: HTTPServer, deployments: List[Dict[str, Any]]) -> List[float]:
    polls: List[float] = []
    poll = in_turn([[d] for d in deployments], polls)

    def read(request: Request) -> Response:
        return poll(request) if "deploymentId" in request.args else _json([])  # else: the re-run lookup

    server.expect_request("/api/releases/builds/deployments", method="GET").respond_with_handler(read)
    server.expect_request("/api/releases/builds/deploy", method="POST").respond_with_json(
        [{"id": 91, "status": "pending", "pipelineStageName": "production", "buildNumber": "7"}])
    return polls


COMMANDS = {
    "av": ["deploy", "-t", "av", "-e", "production", "--version", RC, "--param", "trigger_workflow=true"],
    "db": ["deploy", "-t", "db", "--commit", SHA, "--version", "1.2.3"],
    "bm": ["deploy", "-t", "bm", "-e", "production", "--version", "1.2.3", "--build", "7"],
}


def wait(server: HTTPServer, tmp_path: Path, target: str, wait_timeout: str = "30"):
    proc = run_cli(COMMANDS[target] + ["--wait", "--wait-timeout", wait_timeout, "--timeout", "5", "--json"],
                   env=target_env(server.url_for("/"), tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    (result,) = json.loads(proc.stdout)
    return proc, result


def cancelled_buildmaster(server: HTTPServer) -> List[float]:
    return buildmaster(server, [{"id": 91, "status": "executing", "pipelineStageName": "production",
                                 "buildNumber": "7", "canceledOn": "2024-05-01T12:31:00Z"}])


@pytest.mark.parametrize("target, serve, word", [
    pytest.param("av", lambda server: aviator(server, ["canceled"]), "canceled", id="aviator"),
    pytest.param("bm", cancelled_buildmaster, "canceled", id="buildmaster-canceledOn"),
])
def test_a_cancelled_deployment_is_not_success(httpserver: HTTPServer, tmp_path: Path, target, serve, word) -> None:
    polls = serve(httpserver)
    proc, result = wait(httpserver, tmp_path, target)
    assert proc.returncode == 3, proc.stderr
    assert result["ok"] is False and result["remote_status"] == "cancelled"
    assert result["error"] == f"the deployment was cancelled (state: {word})"
    assert len(polls) == 1


def test_queued_is_not_final_and_the_state_after_it_decides(httpserver: HTTPServer, tmp_path: Path) -> None:
    polls = aviator(httpserver, ["pending", "failure"])
    proc, result = wait(httpserver, tmp_path, "av")
    assert proc.returncode == 3, proc.stderr
    assert len(polls) == 2
    assert "av: queued" in proc.stderr  # the progress line while it waited
    assert result["ok"] is False and result["remote_status"] == "failure"
    assert result["error"] == "the deployment failed (state: failure)"


def test_a_queued_deployment_is_followed_to_success(httpserver: HTTPServer, tmp_path: Path) -> None:
    polls = deploybot(httpserver, ["waiting", "success"])
    proc, result = wait(httpserver, tmp_path, "db")
    assert proc.returncode == 0, proc.stderr
    assert len(polls) == 2
    assert result["ok"] is True and result["remote_status"] == "success" and result["error"] is None


@pytest.mark.parametrize("target, serve, last", [
    pytest.param("av", lambda server: aviator(server, ["in_progress"]), "in_progress", id="aviator-in-progress"),
    pytest.param("db", lambda server: deploybot(server, ["waiting"]), "queued", id="deploybot-queued"),
])
def test_a_wait_that_times_out_exits_3(httpserver: HTTPServer, tmp_path: Path, target, serve, last) -> None:
    polls = serve(httpserver)
    started = time.monotonic()
    proc, result = wait(httpserver, tmp_path, target, wait_timeout="1")
    assert proc.returncode == 3, proc.stderr
    assert time.monotonic() - started < 15
    assert len(polls) >= 2
    assert result["ok"] is False and result["remote_status"] == last
    assert result["error"] == f"--wait timed out after 1s; last state: {last}"
