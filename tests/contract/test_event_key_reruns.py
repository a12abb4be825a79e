"""What a re-run finds: the same event is "already recorded", a new commit or another target is not.

ReleaseBits, DeployBot and Beanstalk find earlier records by the event key shipmark
wrote into them. A key that ignored the commit would turn a new commit released under
an unchanged --version into a silent no-op; one that ignored the target would let a
second target on the same service take the first target's record for its own.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import HEAD_SHA, SHA, assert_no_canary, run_cli
from tests.contract.fake_services import BACKENDS, Backend, FakeServices, target_env

WITH_LOOKUP = [b for b in BACKENDS if b.target in ("rb", "db", "bs")]


def deploy(services: FakeServices, tmp_path: Path, backend: Backend, commit: str,
           target: str = "") -> Dict[str, Any]:
    command = backend.command() + ["--commit", commit]
    if target:
        command[command.index(backend.target)] = target
    env = target_env(services.url, tmp_path, backend.target + "2")
    proc = run_cli(command, env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True, result
    return result


@pytest.mark.parametrize("backend", WITH_LOOKUP, ids=[b.id for b in WITH_LOOKUP])
def test_a_new_commit_under_the_same_version_is_sent_and_a_rerun_is_not(httpserver: HTTPServer, tmp_path: Path,
                                                                         backend: Backend) -> None:
    services = FakeServices(httpserver)
    first = deploy(services, tmp_path, backend, SHA)
    assert first.get("message") != "already recorded"
    assert len(backend.payloads(services, tmp_path)) == 1

    new_commit = deploy(services, tmp_path, backend, HEAD_SHA)
    assert new_commit.get("message") != "already recorded"
    assert new_commit["event_key"] != first["event_key"]
    writes = backend.payloads(services, tmp_path)
    assert [backend.commit_of(w) for w in writes] == [SHA, HEAD_SHA]
    assert [backend.version_of(w) for w in writes] == [backend.version, backend.version]

    rerun = deploy(services, tmp_path, backend, SHA)  # the first job again: the lookup finds it
    assert rerun["message"] == "already recorded" and rerun["event_key"] == first["event_key"]
    assert len(backend.payloads(services, tmp_path)) == 2


@pytest.mark.parametrize("backend", WITH_LOOKUP, ids=[b.id for b in WITH_LOOKUP])
def test_a_second_target_on_the_same_service_records_its_own_event(httpserver: HTTPServer, tmp_path: Path,
                                                                    backend: Backend) -> None:
    services = FakeServices(httpserver)
    first = deploy(services, tmp_path, backend, SHA)
    second = deploy(services, tmp_path, backend, SHA, target=backend.target + "2")
    assert second["target"] == backend.target + "2"
    assert second.get("message") != "already recorded"
    assert second["event_key"] != first["event_key"]
    assert len(backend.payloads(services, tmp_path)) == 2


def test_each_operation_on_one_target_has_its_own_key(tmp_path: Path) -> None:
    """`deploy` and `deployment update` of the same version are two events, not a re-run of one."""
    env = target_env("http://127.0.0.1:9", tmp_path)
    common = ["-t", "out", "--version", "1.2.3", "-e", "production", "--commit", SHA, "--json"]
    keys = []
    for command in (["deploy"], ["deployment", "update"], ["deploy"]):
        proc = run_cli(command + common, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        keys.append(json.loads(proc.stdout)[0]["event_key"])
    assert keys[0] != keys[1] and keys[0] == keys[2]
    written = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [(r["operation"], r["event_key"]) for r in written] == [
        ("deploy", keys[0]), ("deployment_update", keys[1]), ("deploy", keys[0])]
