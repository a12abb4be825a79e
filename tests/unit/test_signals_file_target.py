"""The file target answers every read the tour uses: lists and the online check (real console script)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

from tests.conftest import run_cli


def configure(tmp_path: Path, path: str = "events.jsonl") -> None:
    (tmp_path / "shipmark.yml").write_text(f"targets:\n  log: {{type: file, path: '{path}'}}\n")


def ok(tmp_path: Path, *args: str) -> None:
    proc = run_cli(list(args), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# -- item 5: check --online for the file target ---------------------------------------------

def test_issue12_item5_check_online_probes_the_file_path_without_writing(tmp_path: Path) -> None:
    configure(tmp_path, "out/sub/events.jsonl")
    proc = run_cli(["check", "--online"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ok log: check: out/sub/events.jsonl can be created (directory . is writable)" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing written, not even the directory
    (tmp_path / "events.jsonl").write_text("")
    configure(tmp_path)
    proc = run_cli(["check", "--online", "--json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["message"] == "events.jsonl is writable"
    assert (tmp_path / "events.jsonl").read_text() == ""


def test_issue12_item5_check_online_fails_when_the_path_is_a_directory_or_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").mkdir()
    configure(tmp_path)
    proc = run_cli(["check", "--online"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "log: check failed: events.jsonl is a directory, not a file to append to" in proc.stderr
    (tmp_path / "plain").write_text("x")
    configure(tmp_path, "plain/events.jsonl")
    proc = run_cli(["check", "--online"], cwd=tmp_path)
    assert proc.returncode == 1
    assert "log: check failed: cannot create plain/events.jsonl: plain is not a directory" in proc.stderr


# -- item 8: the file target lists its own lines ---------------------------------------------

def list_json(tmp_path: Path, *args: str) -> List[dict]:
    proc = run_cli([*args, "--json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["ok"] is True and result["target"] == "log"
    return result["items"]


def test_issue12_item8_file_target_lists_deployments_releases_and_builds(tmp_path: Path) -> None:
    configure(tmp_path)
    ok(tmp_path, "deploy", "-e", "staging", "--version", "1.0", "--commit", "a" * 40)
    ok(tmp_path, "deploy", "-e", "production", "--version", "1.0", "--param", "ticket=OPS-1")
    ok(tmp_path, "deploy", "-e", "production", "--version", "1.1", "--status", "failure")
    ok(tmp_path, "release", "create", "--version", "1.1")
    ok(tmp_path, "build", "create", "--version", "1.1", "--build", "7")
    (tmp_path / "events.jsonl").open("a").write('{"cut off\n')

    items = list_json(tmp_path, "deployment", "list")
    assert [(i["version"], i["environment"], i["status"]) for i in items] == [
        ("1.1", "production", "failure"), ("1.0", "production", "success"), ("1.0", "staging", "success")]
    assert items[2]["commit"] == "a" * 40 and items[2]["raw"]["kind"] == "deployment"
    assert items[0]["id"] == items[0]["raw"]["event_key"] and items[0]["created_at"] == items[0]["raw"]["finished_at"]
    assert [i["version"] for i in list_json(tmp_path, "deployment", "list", "-e", "production")] == ["1.1", "1.0"]
    assert [i["status"] for i in list_json(tmp_path, "deployment", "list", "--version", "1.0", "--limit", "1")] == [
        "success"]
    assert [i["environment"] for i in list_json(tmp_path, "deployment", "list", "--param", "ticket=OPS-1")] == [
        "production"]
    assert [i["version"] for i in list_json(tmp_path, "release", "list")] == ["1.1"]
    (build,) = list_json(tmp_path, "build", "list", "--version", "1.1")
    assert build["build"] == "7"

    proc = run_cli(["build", "list"], cwd=tmp_path)
    assert proc.returncode == 0
    assert "ok log: build list: skipped 1 line that is not a JSON object (1 entry)" in proc.stderr


def test_issue12_item8_a_missing_file_lists_nothing_and_says_so(tmp_path: Path) -> None:
    configure(tmp_path)
    proc = run_cli(["deployment", "list"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "ok log: deployment list: events.jsonl does not exist yet: nothing recorded (0 entries)" in proc.stderr
