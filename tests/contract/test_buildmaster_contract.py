"""BuildMaster end to end: the installed CLI against a local BuildMaster-like server (real sockets)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, assert_no_canary, run_cli

FORM = "application/x-www-form-urlencoded"
DEPLOYMENTS = "/api/releases/builds/deployments"
DEPLOY = "/api/releases/builds/deploy"
KEY = {"X-ApiKey": CANARY}


def bm_env(server: HTTPServer, tmp_path: Path) -> Dict[str, str]:
    return {
        "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl"),  # run_cli drops SHIPMARK_*: keep it private
        "SHIPMARK_TARGET_BM_TYPE": "buildmaster",
        "SHIPMARK_TARGET_BM_URL": server.url_for("/"),
        "SHIPMARK_TARGET_BM_TOKEN": CANARY,
        "SHIPMARK_TARGET_BM_APPLICATION": "Web",
        "SHIPMARK_TARGET_BM_PIPELINE": "Standard",
    }


def cli(args: List[str], server: HTTPServer, tmp_path: Path):
    proc = run_cli(list(args) + ["--timeout", "5"], env=bm_env(server, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    return proc


def received(server: HTTPServer) -> List[Any]:
    return [request for request, _response in server.log]


def form_of(request) -> Dict[str, str]:
    pairs = parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
    assert len(pairs) == len({k for k, _ in pairs}), "a key sent twice is a 400 in BuildMaster"
    return dict(pairs)


def deployment(id_: int, status: str, **extra: Any) -> Dict[str, Any]:
    data = {"id": id_, "status": status, "pipelineStageName": "Integration", "releaseNumber": "1.2",
            "buildNumber": "7", "createdOn": "2024-03-04T09:31:20.5100000Z", "canceledOn": None}
    data.update(extra)
    return data


def expect_deploy(server: HTTPServer, answer: Any) -> None:
    server.expect_ordered_request(DEPLOYMENTS, method="GET", headers=KEY, query_string={
        "applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7", "pipelineStageName": "Integration",
    }).respond_with_json([])
    server.expect_ordered_request(DEPLOY, method="POST", headers=KEY, query_string="").respond_with_json(answer)


DEPLOY_ARGS = ["deploy", "--version", "1.2", "--build", "7", "-e", "Integration"]


def test_deploy_json_result_and_the_form_the_server_received(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver, [deployment(91, "pending")])
    proc = cli(["build", "deploy", "--version", "1.2", "--build", "7", "-e", "Integration", "--force",
                "--param", "$Notes=from CI", "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert (result["target"], result["type"], result["operation"]) == ("bm", "buildmaster", "build_deploy")
    assert result["ok"] is True and result["status_code"] == 200 and result["error"] is None
    assert result["id"] == "91"
    assert result["url"] == httpserver.url_for(DEPLOYMENTS) + "?deploymentId=91"
    assert result["remote_status"] == "queued"
    assert len(result["event_key"]) == 16
    lookup, post = received(httpserver)
    assert lookup.headers["User-Agent"].startswith("shipmark/")
    assert post.headers["Content-Type"] == FORM
    assert post.query_string == b""
    assert form_of(post) == {"applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7",
                             "toStage": "Integration", "force": "true", "$Notes": "from CI",
                             "$ShipmarkEventKey": result["event_key"]}
    httpserver.check_assertions()


def test_deploy_newest_build_single_object_answer(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_ordered_request("/api/releases/builds", method="GET", headers=KEY, query_string={
        "applicationName": "Web", "releaseNumber": "1.2"}).respond_with_json(
        [{"id": 5, "buildNumber": "6", "status": "deployed"}, {"id": 8, "buildNumber": "7", "status": "active"},
         {"id": 9, "buildNumber": "8", "status": "rejected"}])
    expect_deploy(httpserver, deployment(92, "executing"))
    proc = cli(DEPLOY_ARGS[:3] + ["-e", "Integration"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "deploying: build 7 to Integration (executing)" in proc.stderr
    assert form_of(received(httpserver)[-1])["buildNumber"] == "7"
    httpserver.check_assertions()


def test_deploy_wait_until_succeeded_exits_0(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver, [deployment(93, "pending")])
    for state in ("executing", "succeeded"):
        httpserver.expect_ordered_request(DEPLOYMENTS, method="GET", headers=KEY,
                                          query_string={"deploymentId": "93"}).respond_with_json(
            [deployment(93, state)])
    proc = cli(DEPLOY_ARGS + ["--wait", "--wait-timeout", "30", "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["remote_status"] == "success"
    assert "waiting" in proc.stderr  # progress is shown while it runs
    httpserver.check_assertions()


def test_deploy_wait_until_failed_exits_3(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver, [deployment(94, "executing")])
    httpserver.expect_ordered_request(DEPLOYMENTS, method="GET", headers=KEY,
                                      query_string={"deploymentId": "94"}).respond_with_json(
        [deployment(94, "failed")])
    proc = cli(DEPLOY_ARGS + ["--wait", "--wait-timeout", "30", "--json"], httpserver, tmp_path)
    assert proc.returncode == 3, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is False and result["remote_status"] == "failure"
    assert result["error"] == "the deployment ended failed"
    httpserver.check_assertions()


def test_deploy_rerun_is_already_deployed(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_ordered_request(DEPLOYMENTS, method="GET", headers=KEY).respond_with_json(
        [deployment(95, "succeeded")])
    proc = cli(DEPLOY_ARGS + ["--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["id"] == "95" and result["message"].startswith("already deployed")
    assert [r.method for r in received(httpserver)] == ["GET"]


def test_release_create_from_a_config_file_then_rerun(httpserver: HTTPServer, tmp_path: Path):
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  bm: {{type: buildmaster, url: '{httpserver.url_for('/')}', token: '${{BM_KEY}}', application: 42,\n"
        "        release_template: Std}\n")
    lookup = {"applicationId": "42", "releaseNumber": "2.0"}
    release = {"id": 12, "releaseNumber": "2.0", "status": "active", "applicationId": 42}
    httpserver.expect_ordered_request("/api/releases", method="GET", headers=KEY,
                                      query_string=lookup).respond_with_json([])
    httpserver.expect_ordered_request("/api/releases/create-from-template", method="POST",
                                      headers=KEY).respond_with_json(release)
    env = {"BM_KEY": CANARY, "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl")}
    args = ["release", "create", "--version", "2.0", "--name", "Spring", "--json", "--timeout", "5"]
    first = run_cli(args, env=env, cwd=tmp_path)
    assert_no_canary(first.stdout, first.stderr)
    assert first.returncode == 0, first.stderr
    httpserver.check_assertions()
    created = json.loads(first.stdout)[0]
    assert created["id"] == "12" and created["message"] == "created: release 2.0 (active)"
    post = received(httpserver)[1]
    assert post.headers["Content-Type"] == FORM and post.query_string == b""
    assert form_of(post) == {"applicationId": "42", "releaseNumber": "2.0", "template": "Std",
                             "releaseName": "Spring", "$ShipmarkEventKey": created["event_key"]}

    # The re-run finds the release and sends no POST.
    httpserver.expect_request("/api/releases", method="GET", headers=KEY,
                              query_string=lookup).respond_with_json([release])
    second = run_cli(args, env=env, cwd=tmp_path)
    assert_no_canary(second.stdout, second.stderr)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)[0]
    assert again["id"] == "12" and again["event_key"] == created["event_key"]
    assert again["message"] == "already exists: release 2.0 (active)"
    assert [r.method for r in received(httpserver)].count("POST") == 1
    httpserver.check_assertions()


def test_400_is_exit_1_with_the_servers_text_on_one_line(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_ordered_request("/api/releases", method="GET").respond_with_json([])
    httpserver.expect_ordered_request("/api/releases/create", method="POST").respond_with_data(
        "Invalid pipeline name: Standard", status=400, content_type="text/plain")
    proc = cli(["release", "create", "--version", "2.0"], httpserver, tmp_path)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "Invalid pipeline name" in line]
    assert len(lines) == 1
    assert "bm" in lines[0] and lines[0].rstrip().endswith("Invalid pipeline name: Standard")


def test_check_online_with_a_bad_key_explains_the_403(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/releases", method="GET").respond_with_data("", status=403)
    proc = cli(["check", "--online"], httpserver, tmp_path)
    assert proc.returncode == 1
    assert "the API key is missing, unknown or lacks Release & Build Deployment access" in proc.stderr


def test_build_list_limit_keeps_the_newest(httpserver: HTTPServer, tmp_path: Path):
    # BuildMaster does not page: one GET returns everything and --limit keeps the newest.
    builds = [{"id": i, "buildNumber": str(i), "status": "active", "releaseNumber": "1.2",
               "furthestStage": "Integration", "createdOn": f"2024-03-0{i}T09:00:00"} for i in (1, 3, 2)]
    httpserver.expect_request("/api/releases/builds", method="GET", headers=KEY, query_string={
        "applicationName": "Web", "releaseNumber": "1.2"}).respond_with_json(builds)
    proc = cli(["build", "list", "--version", "1.2", "--limit", "2", "--json"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert [(i["id"], i["build"], i["created_at"]) for i in result["items"]] == [
        ("3", "3", "2024-03-03T09:00:00.000Z"), ("2", "2", "2024-03-02T09:00:00.000Z")]


def test_deployment_list_table(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(DEPLOYMENTS, method="GET", headers=KEY, query_string={
        "applicationName": "Web", "pipelineStageName": "Integration"}).respond_with_json(
        [deployment(1, "succeeded"), deployment(2, "executing", canceledOn="2024-03-04T10:00:00")])
    proc = cli(["deployment", "list", "-e", "Integration"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [(r[1], r[2]) for r in rows] == [("2", "cancelled"), ("1", "success")]


def test_dry_run_sends_nothing_and_masks_the_key(httpserver: HTTPServer, tmp_path: Path):
    proc = cli(DEPLOY_ARGS + ["--dry-run"], httpserver, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert received(httpserver) == []
    assert f"POST {httpserver.url_for(DEPLOY)}" in proc.stderr
    assert "X-ApiKey: ***" in proc.stderr
    assert "buildNumber=7" in proc.stderr
