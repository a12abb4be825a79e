"""Issue 12, item 9: what docs/targets/deploybot.md says about `get --wait` and list `--param` is true."""
from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import CANARY, run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "targets" / "deploybot.md"


def deploybot_env(server: HTTPServer) -> dict:
    return {"SHIPMARK_TARGET_DB_TYPE": "deploybot", "SHIPMARK_TARGET_DB_URL": server.url_for("/"),
            "SHIPMARK_TARGET_DB_TOKEN": CANARY}


def test_issue12_item9_deploybot_deployment_get_wait_polls(httpserver: HTTPServer) -> None:
    states = iter(["pending", "success"])
    httpserver.expect_request("/api/v1/deployments/41", method="GET").respond_with_handler(
        lambda _request: Response(
            json.dumps({"id": 41, "state": next(states), "environment_id": 12}), content_type="application/json"))
    proc = run_cli(["deployment", "get", "--id", "41", "--wait", "--wait-timeout", "30", "--json"],
                   env=deploybot_env(httpserver))
    assert proc.returncode == 0, proc.stderr
    assert [r.path for r, _ in httpserver.log] == ["/api/v1/deployments/41", "/api/v1/deployments/41"]
    (result,) = json.loads(proc.stdout)
    assert result["remote_status"] == "success"
    assert "deployment get --id ID` names. It polls" in " ".join(DOC.read_text().split())


def test_issue12_item9_deploybot_deployment_list_takes_param_repository_id(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/environments").respond_with_json({"meta": {"next": None}, "entries": []})
    httpserver.expect_request("/api/v1/deployments", query_string={"repository_id": "7", "limit": "50"}) \
        .respond_with_json({"meta": {"next": None}, "entries": [
            {"id": 5, "state": "success", "environment_id": 12, "deployed_version": "a" * 40}]})
    proc = run_cli(["deployment", "list", "--param", "repository_id=7", "--json"], env=deploybot_env(httpserver))
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert [item["id"] for item in result["items"]] == ["5"]
    assert "--param repository_id=N" in DOC.read_text()
