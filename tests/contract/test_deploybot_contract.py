"""DeployBot end to end: the installed `shipmark` CLI against a local HTTP server (real sockets)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

PREFIX = "/api/v1"


@pytest.fixture
def env(httpserver: HTTPServer) -> Dict[str, str]:
    """Target `db` wholly from SHIPMARK_TARGET_* variables; the url is the account base (no /api/v1)."""
    return {
        "SHIPMARK_TARGET_DB_TYPE": "deploybot",
        "SHIPMARK_TARGET_DB_URL": httpserver.url_for("/"),
        "SHIPMARK_TARGET_DB_TOKEN": CANARY,
        "SHIPMARK_TARGET_DB_ENVIRONMENT_ID": "12",
    }


def shipmark(args: List[str], env: Dict[str, str], tmp_path: Path):
    proc = run_cli(args + ["--timeout", "5"], env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    return proc


def page(entries: List[Dict[str, Any]], next_after: Optional[int] = None) -> Dict[str, Any]:
    return {"meta": {"next": next_after, "next_uri": None if next_after is None else f"/deployments?after={next_after}",
                     "total": 3},
            "entries": entries}


def deployment(ident: int, state: str, comment: str = "by hand") -> Dict[str, Any]:
    return {"id": ident, "repository_id": 7, "environment_id": 12, "user_id": 3, "deployed_version": SHA,
            "comment": comment, "state": state, "created_at": "2024/05/01 12:30:05 +0000", "deployed_at": None}


def expect_lookup(httpserver: HTTPServer, entries: Optional[List[Dict[str, Any]]] = None) -> None:
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="GET",
                                      query_string="environment_id=12&limit=50").respond_with_json(page(entries or []))


def received(httpserver: HTTPServer, method: str) -> List[Any]:
    return [req for req, _resp in httpserver.log if req.method == method]


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("shipmark: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_deploy_json(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    expect_lookup(httpserver)
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        deployment(345, "waiting"))

    proc = shipmark(["deploy", "--json", "-t", "db", "--commit", SHA, "--version", "v1.2.3"], env, tmp_path)

    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert {k: result[k] for k in ("target", "type", "operation", "ok", "status_code", "id", "url", "error")} == {
        "target": "db", "type": "deploybot", "operation": "deploy", "ok": True, "status_code": 200, "id": "345",
        "url": httpserver.url_for(PREFIX + "/deployments/345"), "error": None}
    assert result["remote_status"] == "queued"
    key = result["event_key"]
    assert len(key) == 16
    (post,) = received(httpserver, "POST")
    assert post.headers["X-Api-Token"] == CANARY
    assert post.headers["Accept"] == "application/json"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["User-Agent"].startswith("shipmark/")
    assert post.query_string == b""
    assert post.get_json() == {"environment_id": 12, "deployed_version": SHA,
                               "comment": f"v1.2.3 (shipmark {key})"}
    httpserver.check_assertions()


def test_rerun_is_already_recorded(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    # The first run tells us the event key; a re-run finds it and sends no POST.
    args = ["deploy", "--json", "-t", "db", "--commit", SHA, "--version", "v1.2.3", "--dry-run"]
    key = json.loads(shipmark(args, env, tmp_path).stdout)[0]["event_key"]
    assert httpserver.log == []
    expect_lookup(httpserver, [deployment(340, "success", f"v1.2.3 (shipmark {key})")])

    proc = shipmark(args[:-1], env, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["id"] == "340"
    assert "already recorded" in proc.stderr
    assert received(httpserver, "POST") == []


def test_deploy_to_a_named_environment(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    httpserver.expect_oneshot_request(PREFIX + "/environments", query_string="limit=50").respond_with_json(
        {"meta": {"next": None}, "entries": [{"id": 12, "name": "production", "repository_id": 7},
                                             {"id": 13, "name": "staging", "repository_id": 7}]})
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="GET",
                                      query_string="environment_id=13&limit=50").respond_with_json(page([]))
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        deployment(346, "pending"))

    proc = shipmark(["deploy", "-t", "db", "-e", "staging", "--commit", SHA,
                     "--param", "deploy_from_scratch=true"], env, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "ok db: deploy (id 346" in proc.stderr
    body = received(httpserver, "POST")[0].get_json()
    assert (body["environment_id"], body["deploy_from_scratch"]) == (13, True)
    httpserver.check_assertions()


def test_deployment_list_two_pages(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    httpserver.expect_oneshot_request(PREFIX + "/environments", query_string="limit=50").respond_with_json(
        {"meta": {"next": None}, "entries": [{"id": 12, "name": "production", "repository_id": 7}]})
    httpserver.expect_oneshot_request(PREFIX + "/deployments", query_string="limit=50").respond_with_json(
        page([deployment(9, "success"), deployment(8, "failed")], next_after=8))
    httpserver.expect_oneshot_request(PREFIX + "/deployments", query_string="limit=50&after=8").respond_with_json(
        page([deployment(7, "pending")]))

    proc = shipmark(["deployment", "list", "--json", "-t", "db", "--limit", "0"], env, tmp_path)

    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert [(i["id"], i["status"], i["environment"], i["commit"]) for i in result["items"]] == [
        ("9", "success", "production", SHA), ("8", "failure", "production", SHA),
        ("7", "in_progress", "production", SHA)]
    httpserver.check_assertions()

    # The human table, with --limit cutting the listing short (the second page is not needed).
    httpserver.clear()
    httpserver.expect_oneshot_request(PREFIX + "/environments").respond_with_json({"meta": {}, "entries": []})
    httpserver.expect_oneshot_request(PREFIX + "/deployments", query_string="limit=50").respond_with_json(
        page([deployment(9, "success"), deployment(8, "failed")], next_after=8))
    proc = shipmark(["deployment", "list", "-t", "db", "--limit", "1"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert lines[1].split() == ["db", "9", "success", SHA, "12", SHA[:12], "2024-05-01T12:30:05Z"]
    assert len(lines) == 2


def test_422_is_shown_in_one_line(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    expect_lookup(httpserver)
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        {"message": "Deployed version was not found in the repository."}, status=422)

    proc = shipmark(["deploy", "-t", "db", "--commit", SHA], env, tmp_path)

    assert proc.returncode == 1
    assert one_error_line(proc.stderr) == ("shipmark: error: db: deploy failed: HTTP 422 (the service rejected the "
                                           "data): Deployed version was not found in the repository.")


def test_read_only_token(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    expect_lookup(httpserver)
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        {"message": "Forbidden."}, status=403)

    proc = shipmark(["deploy", "--json", "-t", "db", "--commit", SHA], env, tmp_path)

    assert proc.returncode == 1
    assert "the API token is read-only" in one_error_line(proc.stderr)
    assert json.loads(proc.stdout)[0]["status_code"] == 403


def test_wait_until_success(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    expect_lookup(httpserver)
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        deployment(345, "waiting"))
    httpserver.expect_oneshot_request(PREFIX + "/deployments/345").respond_with_json(deployment(345, "pending"))
    httpserver.expect_oneshot_request(PREFIX + "/deployments/345").respond_with_json(deployment(345, "success"))

    proc = shipmark(["deploy", "--json", "-t", "db", "--commit", SHA, "--wait", "--wait-timeout", "30"],
                    env, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "waiting (" in proc.stderr and "db: in_progress" in proc.stderr
    (result,) = json.loads(proc.stdout)
    assert (result["ok"], result["remote_status"]) == (True, "success")
    httpserver.check_assertions()


def test_wait_until_failed_exits_3(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    expect_lookup(httpserver)
    httpserver.expect_oneshot_request(PREFIX + "/deployments", method="POST").respond_with_json(
        deployment(345, "waiting"))
    httpserver.expect_oneshot_request(PREFIX + "/deployments/345").respond_with_json(deployment(345, "failed"))

    proc = shipmark(["deploy", "--json", "-t", "db", "--commit", SHA, "--wait"], env, tmp_path)

    assert proc.returncode == 3, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert (result["ok"], result["remote_status"], result["error"]) == (False, "failure", "the deployment ended failed")


def test_status_deploybot_cannot_trigger(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    proc = shipmark(["deployment", "start", "-t", "db", "--commit", SHA], env, tmp_path)
    assert proc.returncode == 2
    assert "deploybot runs deployments itself, so `deployment start` cannot report one" in \
        one_error_line(proc.stderr)
    proc = shipmark(["deploy", "--status", "failure", "-t", "db", "--commit", SHA], env, tmp_path)
    assert proc.returncode == 2
    assert "DeployBot only triggers deployments, so status 'failure' cannot be recorded" in \
        one_error_line(proc.stderr)
    assert httpserver.log == []


def test_dry_run_sends_nothing(httpserver: HTTPServer, env: Dict[str, str], tmp_path: Path) -> None:
    proc = shipmark(["deploy", "-t", "db", "--commit", SHA, "--version", "v1.2.3", "--dry-run"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"[dry-run] db: POST {httpserver.url_for(PREFIX + '/deployments')}" in proc.stderr
    assert "X-Api-Token: ***" in proc.stderr
    assert httpserver.log == []


def test_config_file_and_online_check(httpserver: HTTPServer, tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  db: {{type: deploybot, url: '{httpserver.url_for('/api/v1')}', token: '${{DEPLOYBOT_TOKEN}}', "
        "environment_id: 12}\n", encoding="utf-8")
    httpserver.expect_oneshot_request(PREFIX + "/environments/12").respond_with_json(
        {"id": 12, "name": "production", "repository_id": 7})

    proc = shipmark(["check", "--online"], {"DEPLOYBOT_TOKEN": CANARY}, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "authenticated; environment 12 (production)" in proc.stderr
    assert httpserver.log[0][0].headers["X-Api-Token"] == CANARY
