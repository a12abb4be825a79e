"""The installed `shipmark` CLI against a local Aviator-like server (real sockets)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

PROJECT = "web"
RC = "1.4.0-rc1"
DEPLOYMENTS = f"/api/releases/{PROJECT}/environments/production/deployments"
AUTH = {"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"}


def env_for(server: HTTPServer) -> Dict[str, str]:
    return {
        "SHIPMARK_TARGET_AV_TYPE": "aviator",
        "SHIPMARK_TARGET_AV_URL": server.url_for("/"),
        "SHIPMARK_TARGET_AV_TOKEN": CANARY,
        "SHIPMARK_TARGET_AV_PROJECT": PROJECT,
        "SHIPMARK_TARGET_AV_REPOSITORY": "acme/web",
    }


def cli(args: List[str], server: HTTPServer, tmp_path: Path, **env: str):
    proc = run_cli(list(args) + ["--timeout", "5"], env={**env_for(server), **env}, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    return proc


def deployment(i: int, status: str, version: str = RC) -> Dict[str, Any]:
    return {"id": i, "status": status, "actor": "octo", "environment_name": "production",
            "release_version": "1.4.0", "release_candidate_version": version,
            "deploy_start_at": "2024-05-01T12:30:00Z", "deploy_end_at": None, "error_message": None}


def received(server: HTTPServer) -> List[Any]:
    return [request for request, _response in server.log]


def test_deploy_patches_the_status_and_prints_json(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(DEPLOYMENTS, method="PATCH", headers=AUTH,
                              json={"release_candidate_version": RC, "status": "success"}).respond_with_data("", 200)
    proc = cli(["deploy", "-e", "production", "--version", RC, "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["target"] == "av" and result["type"] == "aviator" and result["operation"] == "deploy"
    assert result["ok"] is True and result["status_code"] == 200
    assert result["id"] == f"{RC}@production"
    assert result["url"] == httpserver.url_for(DEPLOYMENTS)
    assert len(result["event_key"]) == 16
    (request,) = received(httpserver)
    assert request.headers["User-Agent"].startswith("shipmark/")
    assert json.loads(request.get_data()) == {"release_candidate_version": RC, "status": "success"}


def test_deployment_start_sends_in_progress_from_a_config_file(httpserver: HTTPServer, tmp_path: Path):
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  av: {{type: aviator, url: '{httpserver.url_for('/')}', token: '${{AVIATOR_TOKEN}}', project: {PROJECT}}}\n")
    httpserver.expect_request(DEPLOYMENTS, method="PATCH", headers=AUTH,
                              json={"release_candidate_version": RC, "status": "in_progress"}).respond_with_data("")
    proc = run_cli(["deployment", "start", "-e", "production", "--version", RC, "--timeout", "5"],
                   env={"AVIATOR_TOKEN": CANARY}, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert len(received(httpserver)) == 1


def test_release_create_posts_the_rc(httpserver: HTTPServer, tmp_path: Path):
    path = f"/api/releases/{PROJECT}/releases/{RC}"
    body = {"repo": "acme/web", "commit": SHA, "trigger_build_workflow": False}
    httpserver.expect_request(path, method="POST", headers=AUTH, json=body).respond_with_data("", 201)
    proc = cli(["release", "create", "--version", RC, "--commit", SHA, "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert (result["operation"], result["ok"], result["id"], result["status_code"]) == ("release_create", True, RC, 201)
    assert result["url"] == httpserver.url_for(path)
    assert len(received(httpserver)) == 1


def test_error_is_one_readable_line_and_exit_1(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(DEPLOYMENTS, method="PATCH").respond_with_json(
        {"error": "Release environment not found"}, status=404)
    proc = cli(["deploy", "-e", "production", "--version", RC], httpserver, tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "Release environment not found" in line]
    assert len(errors) == 1
    assert re.fullmatch(r"shipmark: error: av: deploy failed: HTTP 404 \([^()]+\): Release environment not found",
                        errors[0]), errors


def test_invalid_rc_version_is_exit_2_before_sending(httpserver: HTTPServer, tmp_path: Path):
    proc = cli(["deploy", "-t", "av", "-e", "production", "--version", "1.4.0"], httpserver, tmp_path)
    assert proc.returncode == 2
    assert "'1.4.0' is not an Aviator release candidate version" in proc.stderr
    assert received(httpserver) == []


def test_list_follows_two_pages(httpserver: HTTPServer, tmp_path: Path):
    first = [deployment(i, "success") for i in range(200, 100, -1)]
    second = [deployment(100, "canceled"), deployment(99, "error")]
    httpserver.expect_request(DEPLOYMENTS, method="GET", headers=AUTH,
                              query_string={"page": "1", "per_page": "100"}).respond_with_json(first)
    httpserver.expect_request(DEPLOYMENTS, method="GET", headers=AUTH,
                              query_string={"page": "2", "per_page": "100"}).respond_with_json(second)
    proc = cli(["deployment", "list", "-e", "production", "--limit", "0", "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    items = result["items"]
    assert len(items) == 102
    assert items[0]["id"] == "200" and items[0]["status"] == "success" and items[0]["version"] == RC
    assert [i["status"] for i in items[-2:]] == ["cancelled", "failure"]
    assert [r.args.get("page") for r in received(httpserver)] == ["1", "2"]


def test_list_table_respects_limit(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(DEPLOYMENTS, method="GET", query_string={"page": "1", "per_page": "100"}) \
        .respond_with_json([deployment(i, "pending") for i in range(100)])
    proc = cli(["deployment", "list", "-e", "production", "--limit", "3"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.strip().splitlines()
    assert rows[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert len(rows) == 4 and rows[1].split()[:3] == ["av", "0", "queued"]
    assert len(received(httpserver)) == 1


def _expect_trigger(server: HTTPServer) -> None:
    server.expect_oneshot_request(DEPLOYMENTS, method="POST", headers=AUTH,
                                  json={"release_candidate_version": RC}).respond_with_data("", 201)


def test_wait_follows_a_triggered_deployment_to_success(httpserver: HTTPServer, tmp_path: Path):
    _expect_trigger(httpserver)
    httpserver.expect_oneshot_request(DEPLOYMENTS, method="GET").respond_with_json(
        [deployment(7, "in_progress"), deployment(6, "failure")])
    httpserver.expect_request(DEPLOYMENTS, method="GET", query_string={"page": "1", "per_page": "100"}) \
        .respond_with_json([deployment(7, "success"), deployment(6, "failure")])
    proc = cli(["deploy", "-e", "production", "--version", RC, "--param", "trigger_workflow=true",
                "--wait", "--wait-timeout", "30", "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["remote_status"] == "success"
    assert [r.method for r in received(httpserver)] == ["POST", "GET", "GET"]
    assert "waiting" in proc.stderr


def test_wait_on_a_failed_deployment_exits_3(httpserver: HTTPServer, tmp_path: Path):
    _expect_trigger(httpserver)
    httpserver.expect_request(DEPLOYMENTS, method="GET").respond_with_json([deployment(7, "error")])
    proc = cli(["deploy", "-e", "production", "--version", RC, "--param", "trigger_workflow=true",
                "--wait", "--json"], httpserver, tmp_path)
    assert proc.returncode == 3, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is False and result["error"] == "the deployment ended error"


@pytest.mark.parametrize("status,error,code,expected", [
    (404, "Release environment not found", 0, "authenticated; project 'web' found"),
    (401, "Invalid API token", 1, "check failed: HTTP 401 ("),
])
def test_check_online_probes_with_one_get(httpserver: HTTPServer, tmp_path: Path, status, error, code, expected):
    httpserver.expect_request(f"/api/releases/{PROJECT}/environments/shipmark-probe/deployments",
                              method="GET", headers=AUTH, query_string={"per_page": "1"}) \
        .respond_with_json({"error": error}, status=status)
    proc = cli(["check", "--online"], httpserver, tmp_path)
    assert proc.returncode == code, proc.stderr
    assert expected in proc.stderr and (code == 0 or error in proc.stderr)
    assert len(received(httpserver)) == 1


def test_dry_run_sends_nothing(httpserver: HTTPServer, tmp_path: Path):
    proc = cli(["deploy", "-e", "production", "--version", RC, "--dry-run"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "PATCH " + httpserver.url_for(DEPLOYMENTS) in proc.stderr
    assert "Authorization: Bearer ***" in proc.stderr
    assert received(httpserver) == []
