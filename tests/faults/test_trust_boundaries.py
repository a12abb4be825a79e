"""A config file in the checkout cannot send a token elsewhere.

Each test performs the attack through the installed CLI: the file is planted where a
pull request author could put it, the fake ReleaseBits is the attacker's server, and
the test asserts that nothing reached it and that the user is told why.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli
from tests.faults.conftest import FakeReleaseBits

EVENT = ["--version", "v1.2.3", "-e", "production", "--commit", SHA]
# The GitHub snippet in the README: a target from variables only, on the service's default URL.
ENV_TARGET = {"SHIPMARK_TARGET_RB_TYPE": "releasebits", "SHIPMARK_TARGET_RB_COMPONENT": "web",
              "SHIPMARK_TARGET_RB_TOKEN": CANARY}


def github(tmp_path: Path, event_name: str, payload: Dict, **extra: str) -> Dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_REF": "refs/pull/7/merge", **extra}


def pull_request(head: str, base: str = "acme/shop") -> Dict:
    return {"pull_request": {"number": 7, "head": {"sha": SHA, "ref": "feature", "repo": {"full_name": head}},
                             "base": {"sha": SHA, "ref": "main", "repo": {"full_name": base}}}}


def plant(checkout: Path, attacker: FakeReleaseBits) -> None:
    """What a pull request author can put in the checkout: a target of their own, fed a secret."""
    (checkout / "shipmark.yml").write_text(
        "targets:\n"
        f"  mine: {{type: releasebits, url: '{attacker.url}', component: web, token: '${{DEPLOY_SECRET}}'}}\n")


# -- item 1: a config file in the checkout ------------------------------------------------------

def test_issue13_item1_file_cannot_move_a_variable_token(tmp_path: Path, fake: FakeReleaseBits) -> None:
    (tmp_path / "shipmark.yml").write_text(f"targets:\n  rb: {{url: '{fake.url}', allow_insecure: true}}\n")
    proc = run_cli(["deploy", *EVENT], env=ENV_TARGET, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert fake.requests() == []
    assert ("shipmark.yml: target 'rb': its token comes from SHIPMARK_TARGET_RB_TOKEN but shipmark.yml sets its "
            "url, allow_insecure; a config file may not choose where that token goes: set SHIPMARK_TARGET_RB_URL "
            "and SHIPMARK_TARGET_RB_ALLOW_INSECURE too, or move the token into shipmark.yml") in proc.stderr
    assert_no_canary(proc.stdout, proc.stderr)


def test_issue13_item1_file_cannot_change_the_type_of_a_variable_token(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  rb: {type: deploybot, url: 'https://x.example', "
                                           "environment_id: 1}\n")
    env = {k: v for k, v in ENV_TARGET.items() if not k.endswith("_TYPE")}
    proc = run_cli(["deploy", "--dry-run", *EVENT], env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert "sets its url, type;" in proc.stderr and "SHIPMARK_TARGET_RB_URL and SHIPMARK_TARGET_RB_TYPE" in proc.stderr


def test_issue13_item1_variables_that_name_the_route_may_use_file_keys(tmp_path: Path, fake: FakeReleaseBits) -> None:
    """The fix the message names works: the variables set the url, the file adds harmless keys."""
    fake.token = CANARY
    (tmp_path / "shipmark.yml").write_text("targets:\n  rb: {url: 'https://elsewhere.example', timeout: 5}\n")
    env = {**ENV_TARGET, "SHIPMARK_TARGET_RB_URL": fake.url}
    proc = run_cli(["deploy", *EVENT], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(fake.posts()) == 1


@pytest.mark.parametrize("event_name, payload", [
    ("pull_request_target", pull_request("acme/shop")),
    ("pull_request", pull_request("mallory/shop")),
])
def test_issue13_item1_no_discovered_config_for_someone_elses_code(tmp_path: Path, fake: FakeReleaseBits,
                                                                    event_name: str, payload: Dict) -> None:
    plant(tmp_path, fake)
    env = github(tmp_path, event_name, payload, DEPLOY_SECRET=CANARY)
    proc = run_cli(["deploy", *EVENT], env=env, cwd=tmp_path)
    assert fake.requests() == []
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "shipmark.yml ignored" in line]
    assert len(notes) == 1 and "the code being built comes from someone else" in notes[0], proc.stderr
    assert "only --config, SHIPMARK_CONFIG and SHIPMARK_TARGET_* variables count" in notes[0]
    assert_no_canary(proc.stdout, proc.stderr)


def test_issue13_item1_variables_and_named_config_still_count_on_a_fork(tmp_path: Path,
                                                                         fake: FakeReleaseBits) -> None:
    planted = FakeReleaseBits()
    try:
        plant(tmp_path, planted)
        trusted = tmp_path / "trusted"
        trusted.mkdir()
        (trusted / "ours.yml").write_text("targets:\n  log: {type: file, path: events.jsonl}\n")
        env = github(tmp_path, "pull_request", pull_request("mallory/shop"), DEPLOY_SECRET=CANARY,
                     SHIPMARK_TARGET_RB_URL=fake.url, **ENV_TARGET)
        proc = run_cli(["deploy", *EVENT], env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert len(fake.posts()) == 1 and planted.requests() == []
        named = run_cli(["deploy", "--config", str(trusted / "ours.yml"), "-t", "log", *EVENT], env=env, cwd=tmp_path)
        assert named.returncode == 0, named.stderr
        assert (tmp_path / "events.jsonl").exists() and planted.requests() == []
    finally:
        planted.close()


def test_issue13_item1_a_same_repository_pull_request_reads_its_config(tmp_path: Path,
                                                                       fake: FakeReleaseBits) -> None:
    plant(tmp_path, fake)
    env = github(tmp_path, "pull_request", pull_request("acme/shop"), DEPLOY_SECRET=CANARY)
    proc = run_cli(["deploy", *EVENT, "-v"], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(fake.posts()) == 1
    assert f"config: {tmp_path / 'shipmark.yml'} (from the working directory)" in proc.stderr


@pytest.mark.parametrize("env, reason", [
    ({"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99",
      "CI_MERGE_REQUEST_PROJECT_ID": "12"}, "a GitLab merge request from another project (id 99)"),
    ({"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "12",
      "CI_MERGE_REQUEST_PROJECT_ID": "12"}, None),
    ({"JENKINS_URL": "https://ci.example", "CHANGE_ID": "5", "CHANGE_FORK": "mallory"},
     "a Jenkins change request from a fork (mallory)"),
    ({"JENKINS_URL": "https://ci.example", "CHANGE_ID": "5"}, None),
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push"}, None),
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target"}, "a GitHub pull_request_target run"),
    # No readable payload: treated as a fork, the safe answer.
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"},
     "a GitHub pull_request from a fork (unknown repository)"),
    ({}, None),
])
def test_issue13_item1_who_wrote_the_code(env: Dict[str, str], reason: str) -> None:
    from shipmark.ci.trust import foreign_code

    assert foreign_code(env) == reason


def test_issue13_item1_gitlab_fork_merge_request_through_the_cli(tmp_path: Path, fake: FakeReleaseBits) -> None:
    plant(tmp_path, fake)
    env = {"GITLAB_CI": "true", "CI": "true", "CI_COMMIT_SHA": SHA, "CI_MERGE_REQUEST_IID": "3",
           "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "99", "CI_MERGE_REQUEST_PROJECT_ID": "12", "DEPLOY_SECRET": CANARY}
    proc = run_cli(["deploy", *EVENT], env=env, cwd=tmp_path)
    assert fake.requests() == [] and proc.returncode == 0, proc.stderr
    assert "shipmark.yml ignored" in proc.stderr and "GitLab merge request from another project" in proc.stderr


def test_issue13_item1_every_command_says_which_config_it_read(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  log: {type: file, path: events.jsonl}\n")
    for args in (["deploy", "--dry-run", "-v", *EVENT], ["targets", "-v"], ["check", "-v"]):
        proc = run_cli(args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert f"config: {tmp_path / 'shipmark.yml'} (from the working directory)" in proc.stderr, args
    context = run_cli(["context"], cwd=tmp_path)
    assert f"config: {tmp_path / 'shipmark.yml'} (from the working directory)" in context.stderr
    assert "config:" not in context.stdout
    as_json = run_cli(["context", "--json"], cwd=tmp_path)
    assert as_json.stderr == "" and "config" not in json.loads(as_json.stdout)
