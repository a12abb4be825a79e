"""The last redaction layer: $GITHUB_OUTPUT, the step summary and the dotenv report.

Values a service sends back (here a record id) reach these files without passing any
other redaction: a credential-shaped value that shipmark never registered as a secret
(URL user-info, a `token=` query value) must still be masked when it is written.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SHA, assert_no_canary, run_cli
from tests.contract.fake_services import github_env, target_env

SECRET = "pw-5e1f0c9a7b"


@pytest.mark.parametrize("record_id, masked", [
    pytest.param(f"https://deployer:{SECRET}@records.example/r/1", "https://***@records.example/r/1", id="userinfo"),
    pytest.param(f"rec-1?token={SECRET}", "rec-1?token=***", id="query-token"),
])
def test_server_values_are_masked_in_every_ci_file(httpserver: HTTPServer, tmp_path: Path, record_id: str,
                                                   masked: str) -> None:
    httpserver.expect_request("/components/web/deployments", method="GET").respond_with_json([])
    httpserver.expect_request("/components/web/deployments/", method="POST").respond_with_json(
        {"id": record_id}, status=201)
    output, summary, dotenv = tmp_path / "output.txt", tmp_path / "summary.md", tmp_path / "report.env"
    env = {**target_env(httpserver.url_for("/"), tmp_path),
           **github_env(GITHUB_EVENT_NAME="push", GITHUB_SHA=SHA, GITHUB_REF="refs/heads/main",
                        GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary)),
           "SHIPMARK_DOTENV": str(dotenv)}
    proc = run_cli(["deploy", "-t", "rb", "--version", "1.2.3", "-e", "production", "--timeout", "5"],
                   env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_canary(proc.stdout, proc.stderr)
    assert len(httpserver.log) == 2  # the id did come back from the service

    for path in (output, summary, dotenv):
        assert SECRET not in path.read_text(), path.name
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["rb-id"] == masked
    assert json.loads(outputs["results"])[0]["id"] == masked
    assert f"| rb | deploy | ok | {masked} |" in summary.read_text()
    assert f"SHIPMARK_RB_ID={masked}" in dotenv.read_text().splitlines()
    assert SECRET not in proc.stderr
