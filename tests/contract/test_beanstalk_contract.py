"""Beanstalk end to end: the installed CLI against a local HTTP server (real sockets)."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, List

from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

AUTH = "Basic " + base64.b64encode(f"ci:{CANARY}".encode()).decode()


def bs_env(httpserver: HTTPServer, tmp_path: Path) -> Dict[str, str]:
    env = {
        # run_cli drops SHIPMARK_* from the test process: keep the spool private to this test.
        "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl"),
        "SHIPMARK_TARGET_BS_TYPE": "beanstalk",
        "SHIPMARK_TARGET_BS_URL": httpserver.url_for("/"),
        "SHIPMARK_TARGET_BS_USERNAME": "ci",
        "SHIPMARK_TARGET_BS_TOKEN": CANARY,
        "SHIPMARK_TARGET_BS_REPOSITORY": "67",
        "SHIPMARK_TARGET_BS_ENVIRONMENT_ID": "3",
    }
    return env


def release(release_id: int, state: str, comment: str = "by hand") -> Dict[str, Any]:
    return {"release": {"id": release_id, "state": state, "revision": SHA, "comment": comment,
                        "environment_name": "Production", "environment_id": 3, "repository_id": 67,
                        "created_at": "2024/05/01 14:30:00 +0200"}}


DEPLOY = ["deploy", "-t", "bs", "--commit", SHA, "--version", "v1.2.3", "--timeout", "5"]


def expect_deploy(httpserver: HTTPServer, state: str = "new") -> None:
    httpserver.expect_oneshot_request("/api/67/releases.json", method="GET",
                                      query_string={"per_page": "50"}).respond_with_json([release(1, "success")])
    httpserver.expect_oneshot_request("/api/67/releases.json", method="POST",
                                      query_string={"environment_id": "3"},
                                      headers={"Authorization": AUTH, "Content-Type": "application/json"},
                                      ).respond_with_json(release(183, state), status=201)


def received(httpserver: HTTPServer, method: str) -> List[Any]:
    return [req for req, _resp in httpserver.log if req.method == method]


def test_deploy_json(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver)
    proc = run_cli(DEPLOY + ["--json"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    httpserver.check_assertions()
    (result,) = json.loads(proc.stdout)
    base = httpserver.url_for("/api")
    assert {k: result[k] for k in ("target", "type", "operation", "ok", "id", "url", "status_code")} == {
        "target": "bs", "type": "beanstalk", "operation": "deploy", "ok": True, "id": "183",
        "url": f"{base}/67/releases/183.json", "status_code": 201}
    assert result["remote_status"] == "queued" and len(result["event_key"]) == 16
    (post,) = received(httpserver, "POST")
    assert post.headers["User-Agent"].startswith("shipmark/")
    body = post.get_json()
    assert body == {"release": {"revision": SHA,
                                "comment": f"v1.2.3 [shipmark {result['event_key']}]"}}


def test_rerun_is_already_recorded(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver)
    first = run_cli(DEPLOY + ["--json"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    key = json.loads(first.stdout)[0]["event_key"]
    httpserver.clear()
    httpserver.expect_oneshot_request("/api/67/releases.json", method="GET").respond_with_json(
        [release(183, "success", comment=f"v1.2.3 [shipmark {key}]")])
    again = run_cli(DEPLOY, env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(first.stdout, first.stderr, again.stdout, again.stderr)
    assert again.returncode == 0, again.stderr
    assert "already recorded" in again.stderr and "id 183" in again.stderr
    assert received(httpserver, "POST") == []


def test_list_two_pages(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_oneshot_request("/api/67/releases.json", method="GET",
                                      query_string={"page": "1", "per_page": "50"}).respond_with_json(
        [release(i, "success") for i in range(1, 51)])
    httpserver.expect_oneshot_request("/api/67/releases.json", method="GET",
                                      query_string={"page": "2", "per_page": "50"}).respond_with_json(
        [release(51, "failed"), release(52, "waiting")])
    proc = run_cli(["deployment", "list", "-t", "bs", "--limit", "0", "--json", "--timeout", "5"],
                   env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    httpserver.check_assertions()
    (result,) = json.loads(proc.stdout)
    items = result["items"]
    assert len(items) == 52
    assert [(i["id"], i["status"]) for i in items[-2:]] == [("51", "failure"), ("52", "queued")]
    assert items[0]["created_at"] == "2024-05-01T12:30:00Z"


def test_list_table(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/67/releases.json", method="GET").respond_with_json(
        [release(7, "pending", comment="v9.9.9 [shipmark k] https://ci/7")])
    proc = run_cli(["deployment", "list", "-t", "bs", "--timeout", "5"], env=bs_env(httpserver, tmp_path),
                   cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    row = proc.stdout.splitlines()[1].split()
    assert row[:6] == ["bs", "7", "in_progress", "v9.9.9", "Production", SHA[:12]]


def test_rejected_deploy_exits_1_with_the_server_message(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/67/releases.json", method="GET").respond_with_json([])
    httpserver.expect_request("/api/67/releases.json", method="POST").respond_with_json(
        {"errors": ["Revision can't be blank", "Server can't be blank"]}, status=422)
    proc = run_cli(DEPLOY, env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "Revision can't be blank" in line]
    assert lines == ["shipmark: error: bs: deploy failed: HTTP 422 (the service rejected the data): "
                     "Revision can't be blank; Server can't be blank"]


def test_bad_token_exits_1_redacted(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/67/releases/5.json").respond_with_data(
        f"HTTP Basic: Access denied for {AUTH}", status=401, content_type="text/html")
    proc = run_cli(["deployment", "get", "-t", "bs", "--id", "5", "--timeout", "5"],
                   env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 1
    assert AUTH.split()[1] not in proc.stderr
    assert "HTTP 401 (authentication failed: check the token): HTTP Basic: Access denied for" in proc.stderr


def test_wait_until_success(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver)
    # Oneshot handlers answer in the order they were added: pending first, then success.
    httpserver.expect_oneshot_request("/api/67/releases/183.json", method="GET").respond_with_json(
        release(183, "pending"))
    httpserver.expect_oneshot_request("/api/67/releases/183.json", method="GET").respond_with_json(
        release(183, "success"))
    proc = run_cli(DEPLOY + ["--wait", "--wait-timeout", "30", "--json"], env=bs_env(httpserver, tmp_path),
                   cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    httpserver.check_assertions()
    (result,) = json.loads(proc.stdout)
    assert result["ok"] and result["remote_status"] == "success"
    assert "waiting" in proc.stderr and "bs: in_progress" in proc.stderr


def test_wait_until_failed_exits_3(httpserver: HTTPServer, tmp_path: Path):
    expect_deploy(httpserver)
    httpserver.expect_request("/api/67/releases/183.json", method="GET").respond_with_json(
        release(183, "failed"))
    proc = run_cli(DEPLOY + ["--wait", "--json"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 3, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert not result["ok"] and result["error"] == "the deployment ended failed"


def test_retry_not_retryable(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/67/releases/183/retry.json", method="PUT").respond_with_data("", status=422)
    proc = run_cli(["deployment", "retry", "-t", "bs", "--id", "183", "--timeout", "5"],
                   env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 1
    assert "release 183 not retryable: only failed releases can be retried" in proc.stderr


def test_environment_by_name_from_a_config_file(httpserver: HTTPServer, tmp_path: Path):
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  bs: {{type: beanstalk, url: '{httpserver.url_for('/')}', username: ci, token: '${{BS_TOKEN}}',"
        " repository: web}\n")
    httpserver.expect_request("/api/web/server_environments.json").respond_with_json(
        [{"server_environment": {"id": 41, "name": "Staging"}}])
    httpserver.expect_request("/api/web/releases.json", method="GET").respond_with_json([])
    httpserver.expect_request("/api/web/releases.json", method="POST",
                              query_string={"environment_id": "41"}).respond_with_json(release(9, "new"))
    env = {"BS_TOKEN": CANARY, "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl")}
    proc = run_cli(DEPLOY + ["-e", "staging", "--param", "do_not_notify=true"], env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (post,) = received(httpserver, "POST")
    assert post.get_json()["release"]["do_not_notify"] is True


def test_dry_run_sends_nothing(httpserver: HTTPServer, tmp_path: Path):
    proc = run_cli(DEPLOY + ["--dry-run"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert httpserver.log == []
    assert "POST " + httpserver.url_for("/api/67/releases.json") + "?environment_id=3" in proc.stderr
    assert "Authorization: Basic ***" in proc.stderr


def test_unsupported_status_exits_2_before_sending(httpserver: HTTPServer, tmp_path: Path):
    proc = run_cli(DEPLOY + ["--status", "cancelled"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 2
    assert "status 'cancelled' cannot be represented by beanstalk" in proc.stderr
    assert httpserver.log == []


def test_check_online(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/api/67/server_environments.json").respond_with_json(
        [{"server_environment": {"id": 3, "name": "Production"}}])
    proc = run_cli(["check", "--online", "--timeout", "5"], env=bs_env(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert "authenticated; repository 67 has 1 environment(s)" in proc.stderr
