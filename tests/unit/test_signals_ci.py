"""No target in CI is an error, not a green no-op; -q is quiet (through the real console script)."""
from __future__ import annotations

import json
import socket
from pathlib import Path
import pytest

from tests.conftest import CANARY, run_cli

FIX = "add one under `targets:` in shipmark.yml, or set SHIPMARK_TARGET_<NAME>_TYPE"
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7",
          "GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- item 1: no target in CI is an error, not a green no-op ------------------------------

@pytest.mark.parametrize("config", [None, "", "targets: {}\n"], ids=["no-file", "empty-file", "no-targets"])
def test_issue12_item1_no_target_in_ci_exits_2_with_the_fix(tmp_path: Path, config) -> None:
    if config is not None:
        (tmp_path / "shipmark.yml").write_text(config)
    proc = run_cli(["deploy", "-e", "production"], env={"CI": "true"}, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("shipmark: error: no target configured") and FIX in lines[0]
    assert "--dry-run" in lines[0]


def test_issue12_item1_no_target_under_github_is_an_error_annotation(tmp_path: Path) -> None:
    proc = run_cli(["deployment", "finish", "-q"], env=GITHUB, cwd=tmp_path)
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith("::error title=shipmark::no target configured") and FIX in line


def test_issue12_item1_dry_run_in_ci_and_any_run_outside_ci_print_the_event(tmp_path: Path) -> None:
    in_ci = run_cli(["deploy", "--dry-run", "-e", "staging"], env={"CI": "true"}, cwd=tmp_path)
    outside = run_cli(["deploy", "-e", "staging"], cwd=tmp_path)
    for proc in (in_ci, outside):
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["environment"] == "staging"


def test_issue12_item1_quiet_prints_nothing_but_errors(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  out: {type: file, path: events.jsonl}\n"
        f"  db: {{type: deploybot, url: 'http://127.0.0.1:{closed_port()}/', token: {CANARY}}}\n")
    # An outage of a write is only a warning (spooled): -q hides it, as it hides the ok lines.
    proc = run_cli(["deploy", "-q", "-e", "production", "--commit", "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7",
                    "--timeout", "2"], env={"CI": "true"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 1
    loud = run_cli(["deploy", "-e", "production", "--commit", "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7",
                    "--timeout", "2"], env={"CI": "true"}, cwd=tmp_path)
    assert "shipmark: warning: db: deploy failed" in loud.stderr  # what -q hid
    # Outside CI with no target, -q leaves only the event on stdout.
    (tmp_path / "shipmark.yml").unlink()
    bare = run_cli(["deploy", "-q"], cwd=tmp_path)
    assert bare.returncode == 0 and bare.stderr == "" and json.loads(bare.stdout)["operation"] == "deploy"


def test_issue12_item1_a_suppressed_config_only_warns(tmp_path: Path, capsys) -> None:
    """The hook for configs not read on purpose: Settings.discovery_suppressed turns the error into a warning."""
    from shipmark.app import App
    from shipmark.output import Console

    app = App(Console(env={"CI": "true"}), {}, env={"CI": "true"})
    app.settings.discovery_suppressed = "not read for a pull request from a fork"
    done = app.record("deploy", "deployment", "success")
    assert done.report is None and done.events
    assert "warning: no target configured (not read for a pull request from a fork)" in capsys.readouterr().err
