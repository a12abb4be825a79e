"""On a pull request build every backend records the PR's head commit, not GitHub's merge commit.

GitHub runs `pull_request` workflows on a merge commit (GITHUB_SHA) that exists only for
that run; the commit a reviewer pushed is the event payload's pull_request.head.sha.
Each backend carries the commit in a field of its own, so each is checked here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import HEAD_SHA, assert_no_canary, run_cli
from tests.contract.fake_services import (BACKENDS, MERGE_SHA, Backend, FakeServices, pull_request_env,
                                          target_env)

WITH_COMMIT = [b for b in BACKENDS if b.commit_of is not None]


def deliver(services: FakeServices, tmp_path: Path, backend: Backend):
    env = {**target_env(services.url, tmp_path), **pull_request_env(tmp_path)}
    proc = run_cli(backend.command(), env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["target"] == backend.target, result
    return result


@pytest.mark.parametrize("backend", WITH_COMMIT, ids=[b.id for b in WITH_COMMIT])
def test_every_backend_sends_the_pr_head_sha(httpserver: HTTPServer, tmp_path: Path, backend: Backend) -> None:
    services = FakeServices(httpserver)
    deliver(services, tmp_path, backend)
    (write,) = backend.payloads(services, tmp_path)
    assert backend.commit_of(write) == HEAD_SHA
    if backend.write is not None:  # the file target also keeps the CI context, merge commit included
        assert MERGE_SHA not in write.raw and MERGE_SHA[:7] not in write.raw


BUILDMASTER = [b for b in BACKENDS if b.target == "bm"]


@pytest.mark.parametrize("backend", BUILDMASTER, ids=[b.id for b in BUILDMASTER])
def test_buildmaster_traces_the_pr_head_sha_through_the_event_key(httpserver: HTTPServer, tmp_path: Path,
                                                                  backend: Backend) -> None:
    """BuildMaster takes no commit field: the commit reaches it only inside $ShipmarkEventKey."""
    services = FakeServices(httpserver)
    result = deliver(services, tmp_path, backend)
    (write,) = backend.payloads(services, tmp_path)
    assert write.body["$ShipmarkEventKey"] == result["event_key"]
    assert MERGE_SHA not in write.raw

    def key_of(commit: str) -> str:  # the same command with the commit given outright, sending nothing
        env = {**target_env(services.url, tmp_path), **pull_request_env(tmp_path)}
        proc = run_cli(backend.command() + ["--commit", commit, "--dry-run"], env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)[0]["event_key"]

    assert result["event_key"] == key_of(HEAD_SHA) != key_of(MERGE_SHA)
