"""The canary token never appears in anything shipmark prints or writes.

Every command path runs through the installed CLI with the canary as the token
of every target: success, -v request logs, --dry-run, --json, -q, transient and
permanent errors (with a server that echoes the credentials back in its error
bodies), config errors, --debug tracebacks, flush, and GitHub Actions mode
(where the token must be announced with ::add-mask:: before anything else, and
must not reach $GITHUB_OUTPUT or the step summary). The fake service accepts
only "Bearer <canary>", so a successful delivery proves the token was really sent.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli
from tests.faults.conftest import FakeReleaseBits, free_port, spool_failed

EVENT = ["--version", "v1.2.3", "-e", "production", "--commit", SHA]
REFUSED = free_port()


def config(url: str) -> str:
    return (
        "targets:\n"
        f'  rb: {{type: releasebits, url: "{url}", component: web, token: "${{RB_TOKEN}}"}}\n'
        f'  down: {{type: releasebits, url: "http://127.0.0.1:{REFUSED}", component: web, token: "${{RB_TOKEN}}"}}\n'
        '  log: {type: file, path: events.jsonl}\n'
    )


ALL_TYPES = (
    "targets:\n"
    '  rb: {type: releasebits, url: "http://127.0.0.1:9", component: web, token: "${RB_TOKEN}"}\n'
    '  db: {type: deploybot, url: "http://127.0.0.1:9", token: "${RB_TOKEN}", environment_id: 12}\n'
    '  bm: {type: buildmaster, url: "http://127.0.0.1:9", token: "${RB_TOKEN}", application: Web, pipeline: Web}\n'
    '  bs: {type: beanstalk, url: "http://127.0.0.1:9", username: ci, token: "${RB_TOKEN}", repository: 67,'
    ' environment_id: 3}\n'
    '  av: {type: aviator, url: "http://127.0.0.1:9", token: "${RB_TOKEN}", project: web, repository: acme/web}\n'
)

# Every command path: (id, args). Budgets are short: "down" refuses connections.
COMMANDS: List[Sequence[str]] = [
    ("context", ["context"]),
    ("context-json", ["context", "--json"]),
    ("targets", ["targets"]),
    ("targets-json", ["targets", "--json"]),
    ("targets-one", ["targets", "rb", "--json"]),
    ("targets-discover", ["targets", "rb", "--discover", "--timeout", "2"]),
    ("check", ["check"]),
    ("check-json", ["check", "--json"]),
    ("check-online", ["check", "--online", "-v", "--timeout", "1.5"]),
    ("check-online-json", ["check", "--online", "--json", "-t", "rb"]),
    ("deploy", ["deploy", *EVENT, "-t", "rb"]),
    ("deploy-verbose", ["deploy", *EVENT, "-t", "rb", "-v"]),
    ("deploy-json", ["deploy", *EVENT, "-t", "rb", "--json", "-v"]),
    ("deploy-quiet", ["deploy", *EVENT, "-t", "rb", "-q"]),
    ("deploy-dry-run", ["deploy", *EVENT, "--dry-run"]),
    ("deploy-dry-run-all", ["deploy", *EVENT, "--dry-run", "-v", "--json", "--meta", "k=v"]),
    ("deploy-transient", ["deploy", *EVENT, "-t", "down", "-v", "--timeout", "1"]),
    ("deploy-transient-json", ["deploy", *EVENT, "-t", "down", "--json", "--timeout", "1", "--fail-on-error"]),
    ("deploy-all", ["deploy", *EVENT, "-v", "--timeout", "1", "--json"]),
    ("deploy-debug", ["deploy", *EVENT, "-t", "rb", "--debug", "--status", "in_progress"]),
    ("deployment-start", ["deployment", "start", *EVENT, "-v"]),
    ("deployment-finish", ["deployment", "finish", *EVENT, "-t", "rb", "--json"]),
    ("deployment-update", ["deployment", "update", *EVENT, "--id", "1", "-t", "rb"]),
    ("deployment-get", ["deployment", "get", "--id", "1", "-t", "rb", "-v"]),
    ("deployment-list", ["deployment", "list", "-t", "rb", "-v"]),
    ("deployment-list-json", ["deployment", "list", "--json"]),
    ("deployment-retry", ["deployment", "retry", "--id", "1", "-t", "rb"]),
    ("release-create", ["release", "create", *EVENT, "-v", "--json"]),
    ("release-list", ["release", "list", "-t", "rb"]),
    ("release-cancel", ["release", "cancel", *EVENT, "-t", "log"]),
    ("release-restore", ["release", "restore", *EVENT, "-t", "rb"]),
    ("build-create", ["build", "create", *EVENT, "--dry-run", "-v"]),
    ("build-list", ["build", "list", "--json", "-t", "rb"]),
    ("build-deploy", ["build", "deploy", *EVENT, "-t", "rb"]),
    ("build-reject", ["build", "reject", *EVENT, "-t", "log", "--json"]),
    ("flush", ["flush", "-v", "--timeout", "1"]),
    ("flush-json", ["flush", "--json", "--timeout", "1"]),
    ("flush-dry-run", ["flush", "--dry-run", "-v"]),
    ("bad-flag", ["deploy", "--meta", "novalue"]),
    ("bad-status", ["deploy", "--status", "weird"]),
    ("unknown-target", ["deploy", *EVENT, "-t", "nope"]),
    ("help", ["deploy", "--help"]),
]


@pytest.fixture(scope="module")
def echo_server():
    server = FakeReleaseBits()
    server.echo_secrets = True
    yield server
    server.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, echo_server: FakeReleaseBits) -> Path:
    root = tmp_path_factory.mktemp("canary")
    (root / "shipmark.yml").write_text(config(echo_server.url))
    return root


def env_for(root: Path, spool_dir: Path = None, **extra: str) -> Dict[str, str]:
    # A spool per case: otherwise every command would first resend what the "down" cases spooled.
    return {"RB_TOKEN": CANARY, "SHIPMARK_SPOOL": str((spool_dir or root) / "spool.jsonl"), "HOME": str(root),
            "SHIPMARK_DOTENV": str(root / "report.env"), "SHIPMARK_TIMEOUT": "3", **extra}


def files_under(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name,args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_no_command_path_prints_the_token(workdir: Path, tmp_path: Path, name: str, args: Sequence[str]) -> None:
    if name.startswith("flush"):
        prefill_spool(tmp_path / "spool.jsonl")
    proc = run_cli(list(args), env=env_for(workdir, tmp_path), cwd=workdir, timeout=60)
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr or name == "deploy-debug"
    assert_no_canary(proc.stdout, proc.stderr)
    # Nor in any file: spool, dotenv report, the file target's events.
    assert CANARY not in files_under(workdir) + files_under(tmp_path)


def prefill_spool(path: Path) -> None:
    """One event waiting for the healthy target, one for the unreachable one."""
    for target, version in (("rb", "v-spooled"), ("down", "v-down")):
        request = {"operation": "deploy", "event": {
            "kind": "deployment", "operation": "deploy", "version": version, "environment": "production",
            "status": "success", "commit": SHA, "event_key": f"key-{target}"}}
        spool_failed(path, target, request, f"key-{target}", "HTTP 503", target_type="releasebits",
                     secrets=[CANARY])


def test_the_token_was_really_used(workdir: Path, tmp_path: Path, echo_server: FakeReleaseBits) -> None:
    proc = run_cli(["deploy", *EVENT, "-t", "rb", "--version", "v9"], env=env_for(workdir, tmp_path), cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert any(s.headers.get("Authorization") == f"Bearer {CANARY}" for s in echo_server.requests())


def test_servers_echoing_the_credentials_are_redacted(workdir: Path, tmp_path: Path, echo_server: FakeReleaseBits) -> None:
    echo_server.token = "a-different-token"  # now every request is a 401 that echoes what we sent
    try:
        for args in (["deploy", *EVENT, "-t", "rb", "-v", "--json"], ["deployment", "list", "-t", "rb", "--debug"],
                     ["check", "--online", "-t", "rb"]):
            proc = run_cli(args, env=env_for(workdir, tmp_path), cwd=workdir)
            assert proc.returncode == 1, proc.stderr
            assert "401" in proc.stderr and "you sent" in proc.stderr + proc.stdout
            assert_no_canary(proc.stdout, proc.stderr)
    finally:
        echo_server.token = CANARY


def test_dry_run_of_every_backend_masks_its_credentials(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(ALL_TYPES)
    import base64

    shown = ""
    for args in (["deploy", *EVENT, "--dry-run", "-v"], ["release", "create", *EVENT, "--dry-run", "--json"],
                 ["build", "create", *EVENT, "--dry-run"], ["deployment", "start", *EVENT, "--dry-run"]):
        proc = run_cli(args, env=env_for(tmp_path), cwd=tmp_path)
        assert proc.returncode in (0, 2), proc.stderr
        assert "Traceback" not in proc.stderr
        assert_no_canary(proc.stdout, proc.stderr)
        # The Basic auth form of the canary (Beanstalk) is a secret too.
        assert base64.b64encode(f"ci:{CANARY}".encode()).decode() not in proc.stdout + proc.stderr
        shown += proc.stderr
    for masked in ("Authorization: Bearer ***", "X-Api-Token: ***", "Authorization: Basic ***"):
        assert masked in shown


def test_config_errors_never_echo_the_token(tmp_path: Path) -> None:
    cases = {
        "unknown key": 'targets:\n  rb: {type: releasebits, component: web, token: "${RB_TOKEN}", colour: red}\n',
        "http url": 'targets:\n  rb: {type: releasebits, url: "http://example.com", component: web,'
                    ' token: "${RB_TOKEN}"}\n',
        "bad type": 'targets:\n  rb: {type: releasebits, component: [1], token: "${RB_TOKEN}"}\n',
        "token in the url": f'targets:\n  rb: {{type: releasebits, component: web, token: "{CANARY}",'
                                  f' url: "{CANARY}"}}\n',
    }
    for what, text in cases.items():
        (tmp_path / "shipmark.yml").write_text(text)
        for extra in ([], ["--debug"], ["--json"]):
            proc = run_cli(["deploy", *EVENT, *extra], env=env_for(tmp_path), cwd=tmp_path)
            assert proc.returncode == 2, (what, proc.stderr)
            assert_no_canary(proc.stdout, proc.stderr)


def test_env_defined_target_token_is_redacted(tmp_path: Path, fake: FakeReleaseBits) -> None:
    env = env_for(tmp_path, SHIPMARK_TARGET_RB_TYPE="releasebits", SHIPMARK_TARGET_RB_URL=fake.url,
                  SHIPMARK_TARGET_RB_COMPONENT="web", SHIPMARK_TARGET_RB_TOKEN=CANARY)
    for args in (["targets", "--json"], ["deploy", *EVENT, "-v", "--json"], ["deploy", *EVENT, "--dry-run"]):
        proc = run_cli(args, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert_no_canary(proc.stdout, proc.stderr)
    assert len(fake.created()) == 1


def test_github_actions_masks_first_and_writes_no_secret(workdir: Path, tmp_path: Path) -> None:
    out, summary = tmp_path / "gh-output", tmp_path / "gh-summary"
    env = env_for(workdir, tmp_path, GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(out),
                  GITHUB_STEP_SUMMARY=str(summary))
    for args in (["deploy", *EVENT, "-v", "--version", "v7"], ["deploy", *EVENT, "-t", "down", "--timeout", "1"],
                 ["deploy", *EVENT, "--dry-run", "-t", "rb"], ["deploy", *EVENT, "-t", "rb", "--status", "queued"]):
        proc = run_cli(args, env=env, cwd=workdir)
        assert proc.returncode in (0, 2), proc.stderr
        first = proc.stderr.splitlines()[0]
        assert first == f"::add-mask::{CANARY}", proc.stderr
        assert_no_canary(proc.stdout, proc.stderr)
    assert "ok=true" in out.read_text()
    assert CANARY not in out.read_text() + summary.read_text()
    assert json.loads(out.read_text().split("results=", 1)[1].splitlines()[0])
