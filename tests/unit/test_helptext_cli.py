"""Issue 12, items 10, 13 and 14 (broken pipe): --json on errors, CI status words, one-line usage errors."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from tests.conftest import SHA, run_cli, shipmark_bin


def file_target(tmp_path: Path) -> Dict[str, str]:
    return {"SHIPMARK_TARGET_LOG_TYPE": "file", "SHIPMARK_TARGET_LOG_PATH": str(tmp_path / "events.jsonl")}


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("shipmark: error: "), stderr
    return lines[0][len("shipmark: error: "):]


# -- item 13: the CI systems' status words --------------------------------------------

@pytest.mark.parametrize("word, recorded", [
    ("failed", "failure"), ("canceled", "cancelled"), ("canceling", "cancelled"), ("running", "in_progress"),
    ("SUCCESS", "success"), ("FAILURE", "failure"), ("UNSTABLE", "success"), ("ABORTED", "cancelled"),
    ("NOT_BUILT", "skipped"), ("Succeeded", "success"), ("SucceededWithIssues", "success"), ("Failed", "failure"),
    ("Canceled", "cancelled"), ("cancelled", "cancelled"), ("failure", "failure"), ("Skipped", "skipped"),
])
def test_issue12_item13_ci_status_words_are_recorded_as_shipmark_statuses(tmp_path: Path, word: str,
                                                                           recorded: str) -> None:
    proc = run_cli(["deploy", "--status", word, "--commit", SHA, "-e", "prod", "--version", "1.0"],
                   env=file_target(tmp_path))
    assert proc.returncode == 0, proc.stderr
    (event,) = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert event["status"] == recorded


@pytest.mark.parametrize("word", ["running", "pending", "in_progress", "QUEUED"])
def test_issue12_item13_deployment_finish_still_refuses_non_final_statuses(tmp_path: Path, word: str) -> None:
    proc = run_cli(["deployment", "finish", "--status", word, "--commit", SHA], env=file_target(tmp_path))
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == (
        f"--status {word!r}: `deployment finish` takes a final status: expected one of success, failure, "
        "cancelled, skipped (see shipmark deployment finish --help)")
    assert not (tmp_path / "events.jsonl").exists()


@pytest.mark.parametrize("args, message", [
    (["deploy", "--status", "exploded"],
     "--status 'exploded': expected one of queued, in_progress, success, failure, cancelled, skipped "
     "or a CI system's word for one (see shipmark deploy --help)"),
    (["deployment", "get"], "Missing option '--id' (see shipmark deployment get --help)"),
    (["deploy", "--timeout", "soon"], "--timeout 'soon' is not a valid float range (see shipmark deploy --help)"),
    (["deployment", "frobnicate"], "No such command 'frobnicate' (see shipmark deployment --help)"),
    (["--frobnicate"], "No such option '--frobnicate' (see shipmark --help)"),
])
def test_issue12_item13_usage_errors_are_one_line_with_the_fix(args: List[str], message: str) -> None:
    proc = run_cli(args)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == message
    assert "Usage:" not in proc.stderr and "Try " not in proc.stderr and proc.stdout == ""


# -- item 10: --json answers in JSON whatever happened ------------------------------------

def failed_object(error: str, operation) -> dict:
    return {"target": None, "type": None, "operation": operation, "ok": False, "status_code": None, "id": None,
            "url": None, "error": error, "event_key": None, "skipped": False}


@pytest.mark.parametrize("args, operation, status, error", [
    (["deploy", "--status", "exploded", "--json"], "deploy", 2,
     "--status 'exploded': expected one of queued, in_progress, success, failure, cancelled, skipped "
     "or a CI system's word for one (see shipmark deploy --help)"),
    (["deployment", "get", "--json"], "deployment_get", 2, "Missing option '--id' (see shipmark deployment get --help)"),
    (["deployment", "list", "--json"], "deployment_list", 2,
     "no target configured: add one under `targets:` in shipmark.yml, or set SHIPMARK_TARGET_<NAME>_TYPE "
     "(and SHIPMARK_TARGET_<NAME>_<KEY> for its keys)"),
    (["release", "cancel", "--json"], "release_cancel", 2, "`release cancel` names the release with --version"),
    (["flush", "--json", "--config", "nowhere.yml"], "flush", 2, "--config: config file not found: nowhere.yml"),
    (["check", "--json", "--config", "nowhere.yml"], "check", 2, "--config: config file not found: nowhere.yml"),
    (["build", "list", "--json", "--no-such-flag"], "build_list", 2,
     "No such option '--no-such-flag' (see shipmark build list --help)"),
])
def test_issue12_item10_event_commands_print_a_json_array_on_errors(tmp_path: Path, args: List[str], operation: str,
                                                                    status: int, error: str) -> None:
    proc = run_cli(args, cwd=tmp_path)
    assert proc.returncode == status, proc.stderr
    assert json.loads(proc.stdout) == [failed_object(error, operation)]
    assert one_error_line(proc.stderr) == error


def test_issue12_item10_config_error_with_json_is_a_json_array(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  x:\n    type: nosuchtype\n")
    proc = run_cli(["deploy", "--json", "--commit", SHA], cwd=tmp_path)
    assert proc.returncode == 2
    (answer,) = json.loads(proc.stdout)
    assert answer["ok"] is False and answer["target"] is None and answer["operation"] == "deploy"
    assert answer["error"] == one_error_line(proc.stderr)


@pytest.mark.parametrize("args", [["context", "--json", "--explain"], ["targets", "--json", "--config", "nowhere.yml"],
                                  ["targets", "--json", "--frobnicate"]])
def test_issue12_item10_context_and_targets_print_their_error_object(tmp_path: Path, args: List[str]) -> None:
    proc = run_cli(args, cwd=tmp_path)
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == {"ok": False, "error": one_error_line(proc.stderr)}


# -- item 14: a reader that goes away -----------------------------------------------------

# `shipmark context` names the config it would load on stderr: that line, and nothing else.
NO_CONFIG_LINE = "config: no shipmark.yml or .shipmark.yml in the working directory; SHIPMARK_TARGET_* variables only\n"


def test_issue12_item14_closed_pipe_on_stdout_ends_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is already gone: the first write fails with EPIPE
    try:
        proc = subprocess.run(shipmark_bin() + ["context"], stdout=write_end, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL, timeout=60, cwd=tmp_path)
    finally:
        os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == NO_CONFIG_LINE


def test_issue12_item14_context_piped_into_head_exits_quietly(tmp_path: Path) -> None:
    script = f"{' '.join(shipmark_bin())} context | head -1; echo \"status=${{PIPESTATUS[0]}}\""
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    first, status = proc.stdout.splitlines()
    assert first.startswith("ci_name ") and status in ("status=0", "status=141")
    assert proc.stderr == NO_CONFIG_LINE
