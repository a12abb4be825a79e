"""Bad input: one readable line, exit 2 (ours) or 1 (the remote's), never a traceback.

Remote garbage (HTML, non-JSON, cut-off bodies) is in test_fault_matrix; this
file covers what the user gives shipmark: config, environment, flags.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

GOOD = 'targets:\n  rb: {type: releasebits, url: "http://127.0.0.1:9", component: web, token: "${RB_TOKEN}"}\n'
EVENT = ["--version", "v1", "--commit", SHA, "--dry-run"]

CONFIG_CASES = {
    "malformed yaml": ("targets:\n  rb: {type: releasebits\n", "line"),
    "tab indentation": ("targets:\n\trb: {}\n", "shipmark.yml"),
    "top level list": ("- a\n- b\n", "the top level must be a mapping"),
    "unknown top key": ("targetz: {}\n", "targetz"),
    "unknown target type": ('targets:\n  rb: {type: releasebitz, token: x}\n', "unknown target type 'releasebitz'"),
    "missing type": ('targets:\n  rb: {component: web}\n', "key 'type' is missing"),
    "unknown key": ('targets:\n  rb: {type: releasebits, component: web, token: "${RB_TOKEN}", stage: x}\n',
                    "key 'stage': unknown key (valid keys:"),
    "missing variable": ('targets:\n  rb: {type: releasebits, component: web, token: "${NOPE_TOKEN}"}\n',
                         "NOPE_TOKEN is not set"),
    "non-https url": ('targets:\n  rb: {type: releasebits, url: "http://example.com", component: web,'
                      ' token: "${RB_TOKEN}"}\n', "must be https"),
    "not a url": ('targets:\n  rb: {type: releasebits, url: "ftp:/x", component: web, token: "${RB_TOKEN}"}\n',
                  "not an http(s) URL"),
    "target not a mapping": ("targets:\n  rb: 3\n", "must be a mapping"),
    "bad timeout": ('defaults: {timeout: -1}\n', "timeout"),
}


def run(tmp_path: Path, args: List[str], config: Optional[str] = GOOD, env: Optional[Dict[str, str]] = None):
    if config is not None:
        (tmp_path / "shipmark.yml").write_text(config)
    base = {"RB_TOKEN": CANARY, "SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl")}
    proc = run_cli(args, env={**base, **(env or {})}, cwd=tmp_path, timeout=30)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert_no_canary(proc.stdout, proc.stderr)
    return proc


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_config_problems_exit_2_with_one_line(tmp_path: Path, name: str) -> None:
    text, expected = CONFIG_CASES[name]
    proc = run(tmp_path, ["deploy", *EVENT], config=text)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert line.startswith("shipmark: error: ") and expected in line, line


@pytest.mark.parametrize("args,expected", [
    (["--meta", "novalue"], "--meta 'novalue': expected KEY=VALUE"),
    (["--started-at", "yesterday"], "--started-at 'yesterday': not an ISO 8601 timestamp"),
    (["--finished-at", "2024-13-45T99:00:00Z"], "--finished-at"),
    (["--status", "exploded"], "--status 'exploded': expected one of queued, in_progress, success, failure"),
    (["--version", "v1 2"], "must be non-empty with no whitespace"),
    (["--version", ""], "must be non-empty"),
    (["--commit", "not-a-sha"], "expected a hex commit sha"),
    (["--timeout", "-3"], "--timeout"),
    (["--timeout", "soon"], "--timeout"),
    (["-t", "nope"], "--target 'nope': no such target"),
    (["--no-such-flag"], "No such option"),
])
def test_flag_problems_exit_2_with_a_readable_message(tmp_path: Path, args: List[str], expected: str) -> None:
    proc = run(tmp_path, ["deploy", "--commit", SHA, "--dry-run", *args] if "--commit" not in args
               else ["deploy", "--dry-run", *args])
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr


@pytest.mark.parametrize("env,expected", [
    ({"SHIPMARK_TIMEOUT": "soon"}, "SHIPMARK_TIMEOUT='soon': expected a number of seconds"),
    ({"SHIPMARK_TARGET_X_URL": "https://x"}, "SHIPMARK_TARGET_X_URL: no target of that name"),
    ({"SHIPMARK_TARGET_RB_COMPONENT": ""}, None),  # empty values are ignored
    ({"SHIPMARK_VERSION": "has space"}, "SHIPMARK_VERSION 'has space': must be non-empty with no whitespace"),
])
def test_environment_problems(tmp_path: Path, env: Dict[str, str], expected: Optional[str]) -> None:
    proc = run(tmp_path, ["deploy", "--commit", SHA, "--dry-run"], env=env)
    if expected is None:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 2, proc.stderr
        assert expected in one_line(proc.stderr)


def test_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    proc = run(tmp_path, ["deploy", "--config", "nowhere.yml"], config=None)
    assert proc.returncode == 2 and "config file not found: nowhere.yml" in one_line(proc.stderr)


def test_unreadable_spool_never_breaks_a_command(tmp_path: Path) -> None:
    # A spool path that is a directory: delivery goes on, the problem is one warning.
    (tmp_path / "spool.jsonl").mkdir()
    proc = run(tmp_path, ["deploy", "--version", "v1", "--commit", SHA, "-t", "log"],
               config='targets:\n  log: {type: file, path: events.jsonl}\n')
    assert proc.returncode == 0, proc.stderr
    assert "spool: could not write" in proc.stderr
    assert (tmp_path / "events.jsonl").exists()


def test_a_damaged_spool_line_does_not_block_the_others(tmp_path: Path) -> None:
    import json

    spool = tmp_path / "spool.jsonl"
    from datetime import datetime, timezone

    good = {"target": "log", "type": "file", "event_key": "k", "state": "failed", "owner": None,
            "spooled_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "request": {"operation": "deploy", "event": {"kind": "deployment", "operation": "deploy",
                                                         "version": "v1", "event_key": "k"}}}
    spool.write_text('{"target": "log", "request": {"operation": "dep\n' + json.dumps(good) + "\nnot json\n")
    proc = run(tmp_path, ["flush"], config='targets:\n  log: {type: file, path: events.jsonl}\n')
    assert proc.returncode == 0, proc.stderr
    assert "1 delivered" in proc.stderr
    assert json.loads((tmp_path / "events.jsonl").read_text())["version"] == "v1"
