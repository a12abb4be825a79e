"""An operation a named target cannot do exits 2 on every path, before anything is sent.

Named with -t, a target that cannot do what was asked is a usage error (exit 2), whichever
command asked: an event command, a list, a read or retry by --id, `check --online`,
`targets --discover`. Unnamed, such a target is skipped instead (exit 0).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SHA, assert_no_canary, run_cli
from tests.contract.fake_services import target_env

EVENT = ["--version", "1.2.3", "--commit", SHA, "--timeout", "5"]

CASES = [
    pytest.param(["release", "create", "-t", "rb", *EVENT], "release create is not supported by releasebits",
                 id="release-create"),
    pytest.param(["release", "cancel", "-t", "db", *EVENT], "release cancel is not supported by deploybot",
                 id="release-cancel"),
    pytest.param(["build", "create", "-t", "bs", *EVENT], "build create is not supported by beanstalk",
                 id="build-create"),
    pytest.param(["build", "deploy", "-t", "av", *EVENT], "build deploy is not supported by aviator",
                 id="build-deploy"),
    pytest.param(["deployment", "update", "-t", "rb", *EVENT], "deployment update is not supported by releasebits",
                 id="deployment-update"),
    pytest.param(["deploy", "-t", "rb", "--status", "queued", *EVENT],
                 "status 'queued' cannot be represented by releasebits", id="deploy-status"),
    pytest.param(["deploy", "-t", "db", "--host", "web-1", *EVENT], "--host cannot be expressed",
                 id="deploy-host"),
    pytest.param(["deployment", "start", "-t", "bm", *EVENT], "buildmaster runs deployments itself",
                 id="deployment-start"),
    pytest.param(["deployment", "get", "--id", "7", "-t", "rb", "--timeout", "5"],
                 "deployment get is not supported by releasebits", id="deployment-get"),
    pytest.param(["deployment", "retry", "--id", "7", "-t", "out", "--timeout", "5"],
                 "deployment retry is not supported by file", id="deployment-retry"),
    pytest.param(["release", "list", "-t", "rb", "--timeout", "5"], "release list is not supported by releasebits",
                 id="release-list-releasebits"),
    pytest.param(["release", "list", "-t", "db", "--timeout", "5"], "release list is not supported by deploybot",
                 id="release-list"),
    pytest.param(["build", "list", "-t", "av", "--timeout", "5"], "build list is not supported by aviator",
                 id="build-list"),
    pytest.param(["targets", "out", "--discover", "--timeout", "5"], "targets --discover is not supported by file",
                 id="targets-discover"),
]


@pytest.mark.parametrize("args, message", CASES)
def test_a_named_target_that_cannot_do_it_exits_2_and_sends_nothing(httpserver: HTTPServer, tmp_path: Path,
                                                                     args: List[str], message: str) -> None:
    proc = run_cli(args, env=target_env(httpserver.url_for("/"), tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert httpserver.log == []
    assert not (tmp_path / "events.jsonl").exists()


def test_unsupported_outweighs_another_target_failing(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Exit 2 (fix the command) wins over exit 1 (a target rejected the request)."""
    httpserver.expect_request("/api/v1/deployments/7", method="GET").respond_with_json(
        {"message": "invalid token"}, status=401)
    proc = run_cli(["deployment", "get", "--id", "7", "-t", "out", "-t", "db", "--json", "--timeout", "5"],
                   env=target_env(httpserver.url_for("/"), tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 2, proc.stderr
    results = {r["target"]: r for r in json.loads(proc.stdout)}
    assert results["out"]["ok"] is False and results["out"]["error"] == "deployment get is not supported by file"
    assert results["db"]["ok"] is False and results["db"]["status_code"] == 401


def test_unnamed_targets_that_cannot_do_it_are_skipped(httpserver: HTTPServer, tmp_path: Path) -> None:
    """The other side: without -t, a target that cannot record the event is skipped and the command exits 0."""
    proc = run_cli(["deploy", "--status", "queued", "-e", "production", "--json", *EVENT],
                   env=target_env(httpserver.url_for("/"), tmp_path), cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    results = {r["target"]: r for r in json.loads(proc.stdout)}
    assert results.pop("out")["skipped"] is False  # the file target records any status
    assert sorted(results) == ["av", "bm", "bs", "db", "rb"]
    assert all(r["ok"] is True and r["skipped"] is True and r["message"] for r in results.values()), results
    assert httpserver.log == []
