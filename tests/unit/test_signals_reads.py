"""A read that failed is an error, never an empty answer (through the real console script)."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Dict

from pytest_httpserver import HTTPServer

from tests.conftest import CANARY, run_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- item 3: a read that failed is an error, never an empty answer ---------------------------

def deploybot_env(url: str) -> Dict[str, str]:
    return {"SHIPMARK_TARGET_DB_TYPE": "deploybot", "SHIPMARK_TARGET_DB_URL": url,
            "SHIPMARK_TARGET_DB_TOKEN": CANARY}


def test_issue12_item3_an_unreachable_service_fails_the_list(tmp_path: Path) -> None:
    env = deploybot_env(f"http://127.0.0.1:{closed_port()}/")
    proc = run_cli(["deployment", "list", "--timeout", "2"], env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "shipmark: error: db: deployment list failed: " in proc.stderr
    assert "warning" not in proc.stderr and "spool" not in proc.stderr
    discover = run_cli(["targets", "--discover", "db", "--timeout", "2"], env=env, cwd=tmp_path)
    assert discover.returncode == 1 and "db: targets --discover failed" in discover.stderr


def test_issue12_item3_a_5xx_after_retries_fails_the_list(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/v1/deployments").respond_with_data("busy", status=503)
    httpserver.expect_request("/api/v1/environments").respond_with_data("busy", status=503)
    proc = run_cli(["deployment", "list", "--json", "--timeout", "3"], env=deploybot_env(httpserver.url_for("/")),
                   cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is False and result["transient"] is True and "503" in result["error"]


def test_issue12_item3_an_object_where_a_list_belongs_is_an_error(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/releases").respond_with_json({"releaseNumber": "1.0"})
    env = {"SHIPMARK_TARGET_BM_TYPE": "buildmaster", "SHIPMARK_TARGET_BM_URL": httpserver.url_for("/"),
           "SHIPMARK_TARGET_BM_TOKEN": CANARY, "SHIPMARK_TARGET_BM_APPLICATION": "web"}
    proc = run_cli(["release", "list"], env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "expected a JSON array, got dict" in proc.stderr
    assert "entr" not in proc.stderr
