"""ReleaseBits end to end: the installed CLI against a local HTTP server (real sockets)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

CREATE_PATH = "/components/web/deployments/"
LIST_PATH = "/components/web/deployments"
RECORD_ID = "44b6a0d3-b7a0-4f26-b976-5fce52bfc4b9"


def env_for(httpserver: HTTPServer, tmp_path: Path, **extra: str) -> Dict[str, str]:
    env = {
        "SHIPMARK_TARGET_RB_TYPE": "releasebits",
        "SHIPMARK_TARGET_RB_URL": httpserver.url_for("/"),
        "SHIPMARK_TARGET_RB_TOKEN": CANARY,
        "SHIPMARK_TARGET_RB_COMPONENT": "web",
        "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl"),
    }
    env.update(extra)
    return env


DEPLOY_ARGS = ["deploy", "--json", "--timeout", "5", "--version", "v1.2.3", "-e", "production",
               "--host", "web-1", "--commit", SHA, "--branch", "main", "--name", "Funky",
               "--finished-at", "2024-05-01T12:30:00.123Z", "--meta", "owner=team-a"]


def received(httpserver: HTTPServer, method: str):
    return [req for req, _resp in httpserver.log if req.method == method]


def test_deploy_json_records_the_deployment(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(LIST_PATH, method="GET").respond_with_json([])
    httpserver.expect_request(CREATE_PATH, method="POST").respond_with_json({"id": RECORD_ID}, status=201)
    proc = run_cli(DEPLOY_ARGS, env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["target"] == "rb" and result["type"] == "releasebits" and result["operation"] == "deploy"
    assert result["ok"] is True and result["status_code"] == 201 and result["id"] == RECORD_ID
    assert result["url"] == httpserver.url_for(LIST_PATH)
    assert result["error"] is None and result["skipped"] is False
    assert len(result["event_key"]) == 16

    (post,) = received(httpserver, "POST")
    assert post.headers["Authorization"] == f"Bearer {CANARY}"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["User-Agent"].startswith("shipmark/")
    assert post.query_string == b""
    body = json.loads(post.get_data())
    assert body == {
        "version": "v1.2.3", "result": "success", "stage": "production", "host": "web-1",
        "finished_at": "2024-05-01T12:30:00.123Z", "commit_sha": SHA, "code_name": "Funky", "branch": "main",
        "meta_data": {"owner": "team-a", "shipmark_event_key": result["event_key"]},
    }
    httpserver.check_assertions()


def test_rerun_of_the_same_job_is_already_recorded(httpserver: HTTPServer, tmp_path: Path):
    posted = []

    def create(request):
        posted.append(json.loads(request.get_data()))
        return Response(json.dumps({"id": RECORD_ID}), status=201, content_type="application/json")

    def listing(_request):
        records = [{"id": RECORD_ID, "version": "v1.2.3", "result": "success", "meta_data": body["meta_data"]}
                   for body in posted]
        return Response(json.dumps(records), content_type="application/json")

    httpserver.expect_request(LIST_PATH, method="GET").respond_with_handler(listing)
    httpserver.expect_request(CREATE_PATH, method="POST").respond_with_handler(create)
    env = env_for(httpserver, tmp_path)
    first = run_cli(DEPLOY_ARGS, env=env, cwd=tmp_path)
    second = run_cli(DEPLOY_ARGS, env=env, cwd=tmp_path)
    assert_no_canary(first.stdout, first.stderr, second.stdout, second.stderr)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert len(posted) == 1
    (again,) = json.loads(second.stdout)
    assert again["ok"] and again["id"] == RECORD_ID
    assert again["event_key"] == json.loads(first.stdout)[0]["event_key"]
    assert "already recorded" in second.stderr


def test_list_follows_two_pages(httpserver: HTTPServer, tmp_path: Path):
    page2 = httpserver.url_for(LIST_PATH) + "?page=2"
    first = [{"id": "a", "version": "v1", "result": "success", "stage": "production",
              "finished_at": "2024-05-01T10:00:00.000Z", "commit_sha": SHA}]
    second = [{"id": "b", "version": "v2", "result": "failure", "stage": "production",
               "finished_at": "2024-05-02T10:00:00.000Z", "commit_sha": SHA},
              {"id": "c", "version": "v2", "result": "success", "stage": "staging",
               "finished_at": "2024-05-03T10:00:00.000Z"}]
    httpserver.expect_request(LIST_PATH, query_string="page=2").respond_with_json(second)
    httpserver.expect_request(LIST_PATH, query_string="").respond_with_json(
        first, headers={"Link": f'<{page2}>; rel="next"'})
    proc = run_cli(["deployment", "list", "--json", "--timeout", "5", "-e", "production", "--limit", "0"],
                   env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] and result["operation"] == "deployment_list"
    assert [(i["id"], i["status"], i["environment"]) for i in result["items"]] == [
        ("b", "failure", "production"), ("a", "success", "production")]
    assert [req.query_string for req, _ in httpserver.log] == [b"", b"page=2"]
    assert all(req.headers["Authorization"] == f"Bearer {CANARY}" for req, _ in httpserver.log)

    table = run_cli(["deployment", "list", "--timeout", "5", "--limit", "1"],
                    env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(table.stdout, table.stderr)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT",
                                                    "COMMIT", "CREATED_AT"]
    assert table.stdout.splitlines()[1].split()[:2] == ["rb", "a"]  # one entry, no second page needed


def test_a_rejected_deploy_exits_1_with_the_server_message_on_one_line(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(LIST_PATH, method="GET").respond_with_json([])
    httpserver.expect_request(CREATE_PATH, method="POST").respond_with_json(
        {"message": "version must look like v1.2.3"}, status=422)
    proc = run_cli(["deploy", "--timeout", "5", "--version", "1.2.3", "--commit", SHA],
                   env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("shipmark: error:")]
    assert errors == ["shipmark: error: rb: deploy failed: HTTP 422 (the service rejected the data): "
                      "version must look like v1.2.3"]
    assert len(received(httpserver, "POST")) == 1


def test_a_bad_token_exits_1_and_explains(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(LIST_PATH, method="GET").respond_with_data("Unauthorized", status=401)
    proc = run_cli(["check", "--online", "--timeout", "5"], env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 1
    assert "HTTP 401 (authentication failed: check the token): Unauthorized (use a ReleaseBits API token" \
        in proc.stderr
    assert received(httpserver, "POST") == []


def test_check_online_probes_with_one_get(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(LIST_PATH, method="GET").respond_with_json([{"id": "a"}, {"id": "b"}])
    proc = run_cli(["check", "--online", "--timeout", "5"], env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert "authenticated; component 'web': 2 deployment(s)" in proc.stderr
    assert len(httpserver.log) == 1


def test_wait_has_nothing_to_wait_for_and_exits_0(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request(LIST_PATH, method="GET").respond_with_json([])
    httpserver.expect_request(CREATE_PATH, method="POST").respond_with_json({"id": RECORD_ID}, status=201)
    proc = run_cli(["deploy", "--wait", "--wait-timeout", "5", "--timeout", "5", "--version", "v1",
                    "--commit", SHA, "--status", "failure"], env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert "--wait: releasebits has no remote state to wait for" in proc.stderr
    assert [req.method for req, _ in httpserver.log] == ["GET", "POST"]  # no polling


def test_deployment_start_skips_releasebits_or_fails_when_named(httpserver: HTTPServer, tmp_path: Path):
    env = env_for(httpserver, tmp_path)
    skipped = run_cli(["deployment", "start", "--timeout", "5", "--version", "v1", "--commit", SHA],
                      env=env, cwd=tmp_path)
    named = run_cli(["deployment", "start", "-t", "rb", "--timeout", "5", "--version", "v1", "--commit", SHA],
                    env=env, cwd=tmp_path)
    assert_no_canary(skipped.stdout, skipped.stderr, named.stdout, named.stderr)
    assert skipped.returncode == 0, skipped.stderr
    assert "skipped: status 'in_progress' cannot be represented by releasebits" in skipped.stderr
    assert named.returncode == 2
    assert "status 'in_progress' cannot be represented by releasebits" in named.stderr
    assert httpserver.log == []


def test_dry_run_sends_nothing_and_masks_the_token(httpserver: HTTPServer, tmp_path: Path):
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  rb: {{type: releasebits, component: web, url: '{httpserver.url_for('/')}', token: '${{RB_TOKEN}}'}}\n"
    )
    proc = run_cli(["deploy", "--dry-run", "--timeout", "5", "--version", "v1", "--commit", SHA],
                   env={"RB_TOKEN": CANARY, "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl")}, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    assert f"[dry-run] rb: POST {httpserver.url_for(CREATE_PATH)}" in proc.stderr
    assert "Authorization: Bearer ***" in proc.stderr
    assert '"shipmark_event_key": ' in proc.stderr
    assert httpserver.log == []


def test_a_post_that_landed_behind_a_503_is_confirmed_not_duplicated(httpserver: HTTPServer, tmp_path: Path):
    stored = []

    def create(request):
        # The record is stored, but the proxy in front answers 503: the client cannot know.
        stored.append({"id": RECORD_ID, "meta_data": json.loads(request.get_data())["meta_data"]})
        return Response("upstream went away", status=503, content_type="text/plain")

    httpserver.expect_request(LIST_PATH, method="GET").respond_with_handler(
        lambda _request: Response(json.dumps(stored), content_type="application/json"))
    httpserver.expect_request(CREATE_PATH, method="POST").respond_with_handler(create)
    proc = run_cli(DEPLOY_ARGS, env=env_for(httpserver, tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] and result["id"] == RECORD_ID
    assert [req.method for req, _ in httpserver.log] == ["GET", "POST", "GET"]
    assert "recorded (confirmed after a retry)" in proc.stderr
