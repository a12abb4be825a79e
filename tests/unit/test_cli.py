"""The CLI contract: commands, output streams, exit codes, the embedded default, CI outputs."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
from click.testing import CliRunner

from shipmark import __version__
from shipmark.cli import cli
from shipmark.models import RESULT_KEYS
from tests.conftest import CANARY, HEAD_SHA, SHA, assert_no_canary, run_cli

MERGE_SHA = "1111111111111111111111111111111111111111"


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()


def invoke(args: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None):
    r = runner()
    if cwd is None:
        return r.invoke(cli, list(args), env=env or {}, catch_exceptions=False)
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return r.invoke(cli, list(args), env=env or {}, catch_exceptions=False)
    finally:
        os.chdir(old)


def github_push_env(**extra: str) -> Dict[str, str]:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA, "GITHUB_REF": "refs/heads/main",
           "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch", "GITHUB_EVENT_NAME": "push",
           "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_RUN_ID": "42", "GITHUB_JOB": "deploy", "GITHUB_ACTOR": "octo"}
    env.update(extra)
    return env


def file_config(tmp_path: Path, name: str = "out") -> Path:
    (tmp_path / "shipmark.yml").write_text(
        f"defaults:\n  environment: production\ntargets:\n  {name}: {{type: file, path: events.jsonl}}\n")
    return tmp_path / "events.jsonl"


def test_version_flag() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"shipmark {__version__}"


def test_help_lists_every_command_group() -> None:
    out = invoke(["--help"]).stdout
    for command in ("context", "deploy", "deployment", "release", "build", "targets", "check", "flush"):
        assert f"\n  {command} " in out
    sub = invoke(["deployment", "--help"]).stdout
    for command in ("start", "finish", "update", "list", "retry", "get", "create"):
        assert f"\n  {command} " in sub
    assert "Exit status: 0 delivered" in invoke(["deploy", "--help"]).stdout


def test_embedded_default_prints_the_event(tmp_path: Path) -> None:
    result = invoke(["deploy", "--dry-run", "-e", "production"], env=github_push_env(), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["environment"] == "production"
    assert event["status"] == "success"
    assert event["commit"] == SHA
    assert event["version"] == SHA[:7]  # no tag: the short sha
    assert event["branch"] == "main"
    assert event["context"]["ci_name"] == "github_actions"
    assert len(event["event_key"]) == 16
    assert "no targets configured" in result.stderr


def test_embedded_default_json_is_a_result_array(tmp_path: Path) -> None:
    result = invoke(["deploy", "--dry-run", "-e", "staging", "--json", "--host", "a", "--host", "b"],
                    env=github_push_env(), cwd=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["host"] for d in data] == ["a", "b"]
    assert all(d["ok"] and d["target"] == "default" and d["event"]["environment"] == "staging" for d in data)


def test_tag_is_the_default_version(tmp_path: Path) -> None:
    env = github_push_env(GITHUB_REF="refs/tags/v2.0.0", GITHUB_REF_NAME="v2.0.0", GITHUB_REF_TYPE="tag")
    event = json.loads(invoke(["deploy", "--dry-run"], env=env, cwd=tmp_path).stdout)
    assert (event["version"], event["tag"]) == ("v2.0.0", "v2.0.0")


def test_version_after_the_subcommand_is_the_event_version(tmp_path: Path) -> None:
    event = json.loads(invoke(["deploy", "--dry-run", "--version", "v9.9.9"], env=github_push_env(), cwd=tmp_path).stdout)
    assert event["version"] == "v9.9.9"
    env = github_push_env(SHIPMARK_VERSION="from-env")
    assert json.loads(invoke(["deploy", "--dry-run"], env=env, cwd=tmp_path).stdout)["version"] == "from-env"
    assert json.loads(invoke(["deploy", "--dry-run", "--version", "flag"], env=env, cwd=tmp_path).stdout)["version"] == "flag"


def test_environment_precedence(tmp_path: Path) -> None:
    file_config(tmp_path)
    (tmp_path / "shipmark.yml").write_text("defaults:\n  environment: from-file\n")
    assert json.loads(invoke(["deploy", "--dry-run"], env=github_push_env(), cwd=tmp_path).stdout)["environment"] == "from-file"
    env = github_push_env(SHIPMARK_ENVIRONMENT="from-env")
    assert json.loads(invoke(["deploy", "--dry-run"], env=env, cwd=tmp_path).stdout)["environment"] == "from-env"
    assert json.loads(invoke(["deploy", "--dry-run", "-e", "flag"], env=env, cwd=tmp_path).stdout)["environment"] == "flag"


def test_pull_request_events_carry_the_head_sha(tmp_path: Path) -> None:
    payload = {"number": 412, "pull_request": {
        "number": 412, "head": {"sha": HEAD_SHA, "ref": "feature/login"},
        "base": {"sha": SHA, "ref": "main"}, "title": 'fix "head": {"sha": "deadbeef"}'}}
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(payload))
    env = github_push_env(GITHUB_EVENT_NAME="pull_request", GITHUB_SHA=MERGE_SHA, GITHUB_REF="refs/pull/412/merge",
                          GITHUB_REF_NAME="412/merge", GITHUB_HEAD_REF="feature/login", GITHUB_BASE_REF="main",
                          GITHUB_EVENT_PATH=str(event_path))
    context = json.loads(invoke(["context", "--json"], env=env, cwd=tmp_path).stdout)
    assert context["commit"] == MERGE_SHA
    assert context["pr_head_sha"] == HEAD_SHA
    assert context["pr"] == "412"
    event = json.loads(invoke(["deploy", "--dry-run", "-e", "preview"], env=env, cwd=tmp_path).stdout)
    assert event["commit"] == HEAD_SHA
    assert event["branch"] == "feature/login"


def test_context_json_has_the_contract_keys_in_order(tmp_path: Path) -> None:
    data = json.loads(invoke(["context", "--json"], env=github_push_env(), cwd=tmp_path).stdout)
    assert list(data) == ["ci_name", "is_ci", "commit", "branch", "tag", "is_pr", "pr", "pr_head_branch",
                          "pr_base_branch", "pr_merge_ref", "pr_head_sha", "pr_base_sha", "pr_merge_base_sha",
                          "build", "build_url", "pipeline_id", "job", "job_url", "slug", "repository_url",
                          "stage", "environment", "actor", "source"]
    assert "" not in data.values()


def test_file_target_json_results_and_events(tmp_path: Path) -> None:
    events = file_config(tmp_path)
    result = invoke(["deploy", "--json", "--host", "web-1", "--meta", "ticket=OPS-1", "--name", "Funky"],
                    env=github_push_env(), cwd=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data[0])[:len(RESULT_KEYS)] == list(RESULT_KEYS)
    assert data[0]["target"] == "out" and data[0]["type"] == "file" and data[0]["operation"] == "deploy"
    assert data[0]["url"] == events.resolve().as_uri()
    written = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(written) == 1
    assert written[0]["host"] == "web-1" and written[0]["meta"] == {"ticket": "OPS-1"}
    assert written[0]["event_key"] == data[0]["event_key"]
    assert "ok out [web-1]: deploy" in result.stderr


def test_event_key_is_stable_across_reruns_and_varies_with_inputs(tmp_path: Path) -> None:
    file_config(tmp_path)

    def key(*args: str, **env: str) -> str:
        out = invoke(["deploy", "--dry-run", "--json", *args], env=github_push_env(**env), cwd=tmp_path)
        return json.loads(out.stdout)[0]["event_key"]

    first = key()
    assert key(GITHUB_RUN_ATTEMPT="2") == first  # a re-run is the same event
    assert key("--finished-at", "2020-01-01T00:00:00Z") == first  # times do not change identity
    assert len({first, key("--host", "h"), key("--status", "failure"), key("-e", "staging"),
                key("--version", "v2")}) == 5


@pytest.mark.parametrize("args, message", [
    (["deploy", "--meta", "novalue"], "--meta 'novalue': expected KEY=VALUE"),
    (["deploy", "--param", "=x"], "--param '=x': expected KEY=VALUE"),
    (["deploy", "--started-at", "yesterday"], "--started-at 'yesterday': not an ISO 8601 timestamp"),
    (["deploy", "--version", "v 1"], "--version 'v 1': must be non-empty with no whitespace"),
    (["deploy", "--started-at", "2024-01-02T00:00:00Z", "--finished-at", "2024-01-01T00:00:00Z"],
     "--finished-at is before --started-at"),
    (["deploy", "--commit", "not-a-sha"], "--commit 'not-a-sha': expected a hex commit sha"),
    (["deploy", "-t", "ghost"], "--target 'ghost': no such target (configured: out)"),
    (["deployment", "get", "--id", "7", "-t", "out"], "deployment get is not supported by file"),
    (["deployment", "finish", "--status", "in_progress"], "`deployment finish` takes a final status"),
    (["release", "cancel"], "`release cancel` names the release with --version"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args, message: str) -> None:
    file_config(tmp_path)
    result = invoke(args, env=github_push_env(GITHUB_ACTIONS=""), cwd=tmp_path)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_status_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(["deploy", "--status", "done"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "--status 'done': expected one of" in result.stderr


def test_config_error_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  x: {type: file, path: a, colour: red}\n")
    result = invoke(["deploy"], cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("shipmark: error: shipmark.yml: target 'x': key 'colour': unknown key")
    assert "Traceback" not in result.stderr


def test_default_target_selection_skips_unsupported(tmp_path: Path) -> None:
    file_config(tmp_path)
    result = invoke(["deployment", "get", "--id", "7"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "no configured target supports deployment get" in result.stderr


def test_targets_command_masks_tokens(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  out: {type: file, path: e.jsonl, token: '${TOK}'}\n")
    result = invoke(["targets", "--json"], env={"TOK": CANARY}, cwd=tmp_path)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data[0]["name"] == "out" and data[0]["token"] == "***" and "deploy" in data[0]["operations"]
    assert_no_canary(result.stdout, result.stderr)


def test_check_validates_config(tmp_path: Path) -> None:
    file_config(tmp_path)
    result = invoke(["check"], cwd=tmp_path)
    assert result.exit_code == 0
    assert "config OK" in result.stderr and "1 target: out" in result.stderr


def test_github_outputs_summary_and_masks(tmp_path: Path) -> None:
    file_config(tmp_path)
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  out: {type: file, path: events.jsonl, token: '${TOK}'}\n")
    out_file, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = github_push_env(GITHUB_OUTPUT=str(out_file), GITHUB_STEP_SUMMARY=str(summary), TOK=CANARY)
    result = invoke(["deploy", "-e", "prod"], env=env, cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == f"::add-mask::{CANARY}"
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    assert outputs["ok"] == "true"
    assert json.loads(outputs["results"])[0]["target"] == "out"
    assert outputs["out-url"].startswith("file://")
    assert "| out | deploy | ok |" in summary.read_text()
    assert_no_canary(result.stdout, result.stderr, out_file.read_text(), summary.read_text())


def test_dotenv_report(tmp_path: Path) -> None:
    file_config(tmp_path, name="my-sink")
    dotenv = tmp_path / "shipmark.env"
    result = invoke(["deploy"], env={"SHIPMARK_DOTENV": str(dotenv)}, cwd=tmp_path)
    assert result.exit_code == 0
    lines = dotenv.read_text().splitlines()
    assert lines[0] == "SHIPMARK_OK=true"
    assert lines[1].startswith("SHIPMARK_MY_SINK_URL=file://")


def test_installed_console_script_end_to_end(tmp_path: Path) -> None:
    events = file_config(tmp_path)
    proc = run_cli(["deploy", "--json", "-e", "staging"], env={"SHIPMARK_COMMIT": SHA}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["ok"] is True
    assert json.loads(events.read_text())["environment"] == "staging"
    version = run_cli(["--version"])
    assert version.stdout.strip() == f"shipmark {__version__}"
    bad = run_cli(["deploy", "--meta", "oops"], cwd=tmp_path)
    assert bad.returncode == 2 and "expected KEY=VALUE" in bad.stderr and "Traceback" not in bad.stderr


def test_importing_the_cli_loads_nothing_heavy() -> None:
    """`shipmark --version` runs in every pipeline: the CLI module must not import HTTP or YAML stacks."""
    import subprocess
    import sys

    probe = ("import sys, shipmark.cli; "
             "print(','.join(m for m in ('requests', 'urllib3', 'yaml', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


HEAVY = ("requests", "urllib3", "yaml", "pydantic", "pydantic_core", "charset_normalizer")


@pytest.mark.parametrize("argv, expected", [
    (["--version"], []),
    (["context", "--json"], []),  # dataclasses, no pydantic: it runs in every pipeline
    (["deploy", "-e", "staging", "--dry-run"], ["pydantic", "pydantic_core"]),  # config validation, no HTTP
])
def test_light_commands_import_only_what_they_need(tmp_path: Path, argv: List[str], expected: List[str]) -> None:
    """The regression guard for start-up time (benchmarks/run.py has the timings): modules, not seconds."""
    import subprocess
    import sys

    probe = ("import sys\nfrom shipmark.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             f"print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPMARK_", "GITHUB_"))}
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=60)
    loaded = out.stderr.strip().splitlines()[-1]
    assert loaded == "LOADED=" + ",".join(expected), out.stderr


def test_params_can_be_scoped_to_one_target(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  a: {type: file, path: a.jsonl}\n  b: {type: file, path: b.jsonl}\n")
    result = invoke(["deploy", "--param", "a.only_a=1", "--param", "both=2", "--param", "x.y=3"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    a = json.loads((tmp_path / "a.jsonl").read_text())
    b = json.loads((tmp_path / "b.jsonl").read_text())
    assert a["options"] == {"only_a": "1", "both": "2", "x.y": "3"}
    assert b["options"] == {"both": "2", "x.y": "3"}


def test_deployment_finish_does_not_trigger_a_deployment_service(tmp_path: Path) -> None:
    """DeployBot runs deployments itself: `deployment finish` skips it unless named, then exits 2; no request."""
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  log: {type: file, path: e.jsonl}\n"
        "  db: {type: deploybot, url: 'http://127.0.0.1:9', token: tok-123456, environment_id: 1}\n")
    result = invoke(["deployment", "finish", "--json"], env=github_push_env(GITHUB_ACTIONS=""), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    data = {r["target"]: r for r in json.loads(result.stdout)}
    assert data["log"]["ok"] and not data["log"]["skipped"]
    assert data["db"]["skipped"] and "`deployment finish` cannot report one" in data["db"]["message"]
    named = invoke(["deployment", "finish", "-t", "db"], env=github_push_env(GITHUB_ACTIONS=""), cwd=tmp_path)
    assert named.exit_code == 2 and "deploybot runs deployments itself" in named.stderr


@pytest.mark.parametrize("text, expected", [
    ("2024-05-01T12:30:00Z", "2024-05-01T12:30:00.000Z"),
    ("2024-05-01T14:30:00+02:00", "2024-05-01T12:30:00.000Z"),
    ("2024-03-04T09:31:20.5100000Z", "2024-03-04T09:31:20.510Z"),
    ("2024-05-01 12:30:00", "2024-05-01T12:30:00.000Z"),
])
def test_timestamps_are_read_leniently_and_stored_in_utc(tmp_path: Path, text: str, expected: str) -> None:
    event = json.loads(invoke(["deploy", "--dry-run", "--started-at", text], env=github_push_env(), cwd=tmp_path).stdout)
    from shipmark.models import parse_iso8601, utc_iso

    assert utc_iso(parse_iso8601(event["started_at"])) == expected


@pytest.mark.parametrize("command, option, text", [
    (["deploy"], "--build NUMBER", "BuildMaster: build to deploy (default: the newest of the release)."),
    (["release", "create"], "--template NAME", "BuildMaster: create from this release template."),
    (["release", "create"], "--pipeline NAME", "BuildMaster: pipeline (overrides the target's)."),
    (["build", "deploy"], "--force", "Deploy even if the stage's requirements are not met."),
])
def test_backend_declared_options_are_in_the_help_of_their_commands(command: List[str], option: str,
                                                                   text: str) -> None:
    out = invoke([*command, "--help"]).stdout
    assert f"  {option} " in out and " ".join(text.split()) in " ".join(out.split())
    # Before the shared options, as when each command declared them itself.
    assert out.index(option) < out.index("-e, --environment")
    if command == ["deploy"]:  # declared for `deploy` only, as before
        assert "--build" not in invoke(["deployment", "create", "--help"]).stdout


def test_backend_declared_options_reach_the_request(tmp_path: Path) -> None:
    events = file_config(tmp_path)
    for args in (["deploy", "--build", "7"], ["release", "create", "--template", "T", "--pipeline", "P"],
                 ["build", "deploy", "--force"], ["build", "deploy"]):
        result = invoke([*args, "--version", "v1"], cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
    written = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(w["operation"], w.get("options")) for w in written] == [
        ("deploy", {"build": "7"}), ("release_create", {"template": "T", "pipeline": "P"}),
        ("build_deploy", {"force": True}), ("build_deploy", None)]
    refused = invoke(["deploy", "--force"], cwd=tmp_path)
    assert refused.exit_code == 2 and "No such option" in refused.stderr and "--force" in refused.stderr


@pytest.mark.parametrize("argv, backends", [
    (["deploy", "-e", "staging", "--dry-run"], ["file"]),  # only the configured backend
    (["deploy", "-e", "staging", "--dry-run", "--build", "3"], ["aviator", "beanstalk", "buildmaster", "deploybot",
                                                                "file", "github", "releasebits",
                                                                "webhook"]),  # a declared option
])
def test_backends_are_imported_only_for_their_config_or_their_options(tmp_path: Path, argv: List[str],
                                                                     backends: List[str]) -> None:
    import subprocess
    import sys

    file_config(tmp_path)
    # A backend is a module the registry names; the shared pieces beside them (base, params, ...) do not count.
    probe = ("import sys\nfrom shipmark.cli import main\nfrom shipmark.targets import TARGET_TYPES\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "modules = {spec.partition(':')[0] for spec in TARGET_TYPES.values()}\n"
             "print('BACKENDS=' + ','.join(sorted(m.rsplit('.', 1)[1] for m in sys.modules "
             "if m in modules)), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPMARK_", "GITHUB_"))}
    env["SHIPMARK_SPOOL"] = str(tmp_path / "spool.jsonl")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=60)
    assert out.stderr.strip().splitlines()[-1] == "BACKENDS=" + ",".join(backends), out.stderr


def test_every_delivering_command_maps_to_one_operation_of_the_table() -> None:
    import click

    from shipmark.app import operation_for
    from shipmark.cli.declared import BackendOptionsCommand
    from shipmark.operations import OPERATIONS

    def walk(group: click.Group, prefix: str = ""):
        for name in group.list_commands(None):
            command = group.get_command(None, name)
            if isinstance(command, click.Group):
                yield from walk(command, f"{prefix}{name} ")
            elif isinstance(command, BackendOptionsCommand):
                yield f"{prefix}{name}"

    mapped = {words: operation_for(words) for words in walk(cli)}
    assert mapped["deploy"] == mapped["deployment create"] == mapped["deployment finish"] == "deploy"
    assert mapped["build deploy"] == "build_deploy" and mapped["release list"] == "release_list"
    # Every operation of the table has its own command, named by the table's words.
    assert set(mapped.values()) == set(OPERATIONS) - {"discover"}
    assert all(mapped[OPERATIONS[op].words] == op for op in mapped.values())
