"""An unset ${VAR} blocks only the commands that use its target, and every missing one is named at once."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SHA, run_cli

EVENT = ["--version", "v1.2.3", "-e", "production", "--commit", SHA]
CONFIG = (
    "targets:\n"
    "  log: {type: file, path: events.jsonl}\n"
    "  rb: {type: releasebits, url: '${RB_URL}', component: web, token: '${RB_TOKEN}'}\n"
    "  db: {type: deploybot, url: 'https://acme.deploybot.com', token: '${DB_TOKEN}', environment_id: 3}\n"
)


def project(tmp_path: Path) -> Path:
    (tmp_path / "shipmark.yml").write_text(CONFIG)
    return tmp_path


def test_issue12_item2_a_target_that_is_not_used_does_not_block(tmp_path: Path) -> None:
    proc = run_cli(["deploy", "-t", "log", *EVENT], cwd=project(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "events.jsonl").read_text())["version"] == "v1.2.3"


def test_issue12_item2_every_missing_variable_in_one_message(tmp_path: Path) -> None:
    proc = run_cli(["deploy", *EVENT], env={"RB_URL": ""}, cwd=project(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "shipmark: error: shipmark.yml: target 'rb': RB_URL is empty, RB_TOKEN is not set",
        "shipmark: error: shipmark.yml: target 'db': DB_TOKEN is not set; set the missing variables "
        "(or name other targets with -t)",
    ]
    assert not (tmp_path / "events.jsonl").exists()
    named = run_cli(["deploy", "-t", "log,db", *EVENT], cwd=tmp_path)
    assert named.returncode == 2
    assert named.stderr.splitlines() == [
        "shipmark: error: shipmark.yml: target 'db': DB_TOKEN is not set; set the missing variables"]


def test_issue12_item2_targets_and_check_list_what_is_missing(tmp_path: Path) -> None:
    project(tmp_path)
    listed = run_cli(["targets"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].startswith("log ")
    assert "shipmark: warning: target 'rb' cannot be used here: RB_URL is not set, RB_TOKEN is not set" \
        in listed.stderr.splitlines()
    assert "shipmark: warning: target 'db' cannot be used here: DB_TOKEN is not set" in listed.stderr.splitlines()
    as_json = {row["name"]: row for row in json.loads(run_cli(["targets", "--json"], cwd=tmp_path).stdout)}
    assert as_json["db"] == {"name": "db", "type": "deploybot", "unresolved": ["DB_TOKEN is not set"],
                             "operations": []}
    assert "unresolved" not in as_json["log"]
    checked = run_cli(["check"], cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.splitlines() == [
        f"config OK ({tmp_path / 'shipmark.yml'}): 1 target: log",
        "shipmark: warning: target 'rb' cannot be used here: RB_URL is not set, RB_TOKEN is not set",
        "shipmark: warning: target 'db' cannot be used here: DB_TOKEN is not set",
    ]
    checked = run_cli(["check", "--json"], cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == [
        {"target": "log", "type": "file", "ok": True},
        {"target": "rb", "type": "releasebits", "ok": True, "skipped": True,
         "message": "cannot be used here: RB_URL is not set, RB_TOKEN is not set"},
        {"target": "db", "type": "deploybot", "ok": True, "skipped": True,
         "message": "cannot be used here: DB_TOKEN is not set"},
    ]


def test_issue12_item2_an_operation_the_target_cannot_do_does_not_need_it(tmp_path: Path) -> None:
    """ReleaseBits has no releases: `release create` never uses rb, so its variables do not matter."""
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  log: {type: file, path: events.jsonl}\n"
        "  rb: {type: releasebits, component: web, token: '${RB_TOKEN}'}\n")
    proc = run_cli(["release", "create", *EVENT], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_issue12_item14_config_that_is_a_directory(tmp_path: Path) -> None:
    proc = run_cli(["deploy", "--config", "/tmp", *EVENT], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("shipmark: error: --config: /tmp is a directory; name the config file itself "
                                   "(for example /tmp/shipmark.yml)")
    via_env = run_cli(["targets"], env={"SHIPMARK_CONFIG": str(tmp_path)}, cwd=tmp_path)
    assert via_env.returncode == 2 and f"SHIPMARK_CONFIG: {tmp_path} is a directory" in via_env.stderr
