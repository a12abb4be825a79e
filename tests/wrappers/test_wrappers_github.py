"""The GitHub actions (action.yml, actions/*) run under act against a fake ReleaseBits API.

act runs each workflow on this host (`-P ubuntu-latest=-self-hosted`) in a scratch git
repository holding a copy of the project, so `uses: ./` is the action under test. act
cannot download actions here: actions/checkout of the local repository is built in, and
actions/setup-python and actions/cache (named by the composite actions) are mapped to local
stubs; the cache stub restores a directory the test pre-filled.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from wrapper_support import (CONFIG, DEPLOY_SH, HERE, QUOTED_ARGS, QUOTED_COMMAND_LINE, assert_quoted_args_event,
                             clean_env, make_repo, recorded_events, run, sample_config_env, snippet, tool,
                             index_was_tried, unreachable_index)

pytestmark = pytest.mark.wrappers

SETUP_PYTHON = "actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c"
CACHE = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830"
WORKFLOWS = HERE / "github" / "workflows"
TOKEN = "rb-secret-token-5d9e"
BM_KEY = "bm-secret-key-02ac"
SAMPLE_SECRETS = {"RELEASEBITS_TOKEN": TOKEN, "BUILDMASTER_API_KEY": BM_KEY}
PLAIN_TOKEN = "plain-token-not-a-secret-71c2"


class ActRun:
    def __init__(self, proc, entries: List[dict]):
        self.returncode = proc.returncode
        self.entries = entries
        self.log = "\n".join(str(e.get("msg", "")).rstrip("\n") for e in entries)

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"ActRun(returncode={self.returncode}, log=...)\n{self.log[-8000:]}"


@pytest.fixture(scope="module")
def act_home(tmp_path_factory) -> Path:
    """Shared by every act run of this module (act's own action cache). Each job still builds
    its own shipmark virtualenv, as on a real runner."""
    return tmp_path_factory.mktemp("act")


def localize(workflow: str) -> str:
    """Point the docs' `uses: shipmark/shipmark...@vX` at the working tree."""
    return re.sub(r"shipmark/shipmark(?:/(actions/\w+))?@v[0-9.]+", lambda m: "./" + (m.group(1) or ""), workflow)


def act(repo: Path, workflow: str, home: Path, *, event: Optional[dict] = None, env: Dict[str, str] = None,
        secrets: Dict[str, str] = None, variables: Dict[str, str] = None) -> ActRun:
    cmd = [tool("act"), "push", "-W", workflow, "-P", "ubuntu-latest=-self-hosted", "--json",
           "--no-cache-server", "--action-cache-path", str(home / "act-cache"),
           "--local-repository", f"{SETUP_PYTHON}={HERE / 'github' / 'stubs' / 'setup-python'}",
           "--local-repository", f"{CACHE}={HERE / 'github' / 'stubs' / 'cache'}"]
    if event is not None:
        event_file = repo.parent / f"{repo.name}-event.json"
        event_file.write_text(json.dumps(event))
        cmd += ["-e", str(event_file)]
    for flag, values in (("--env", env), ("-s", secrets), ("--var", variables)):
        for key, value in (values or {}).items():
            cmd += [flag, f"{key}={value}"]
    proc = run(cmd, cwd=repo, env=clean_env(), timeout=400, check=False)
    entries = []
    for line in proc.stdout.splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            entries.append({"msg": line})
    return ActRun(proc, entries)


def test_deploy_snippet_records_and_exposes_outputs(tmp_path, act_home, releasebits):
    repo = make_repo(tmp_path / "repo", {".github/workflows/deploy.yml": localize(snippet("github-deploy"))})
    result = act(repo, ".github/workflows/deploy.yml", act_home, secrets={"RELEASEBITS_TOKEN": TOKEN},
                 env={"SHIPMARK_TARGET_RB_URL": releasebits.url})
    assert result.returncode == 0, result
    posts = releasebits.posts()
    assert len(posts) == 1, releasebits.requests
    post = posts[0]
    assert post["path"] == "/components/web/deployments/"
    assert post["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert post["json"]["stage"] == "production"
    assert post["json"]["result"] == "success"
    assert post["json"]["meta_data"]["run_id"] and post["json"]["meta_data"]["note"] == "first deploy"
    assert f"recorded=true ReleaseBits deployment {post['answer_id']}" in result.log, result
    assert TOKEN not in result.log


def test_outputs_summary_masking_and_python_version(tmp_path, act_home, releasebits):
    repo = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    out.mkdir()
    result = act(repo, str(WORKFLOWS / "outputs.yml"), act_home, env={"OUT_DIR": str(out)},
                 variables={"RB_URL": releasebits.url, "PLAIN_TOKEN": PLAIN_TOKEN})
    assert result.returncode == 0, result
    assert "setup-python stub: asked for 3.11" in result.log, result

    (post,) = releasebits.posts()
    assert post["headers"]["Authorization"] == f"Bearer {PLAIN_TOKEN}"
    assert post["json"]["stage"] == "staging" and post["json"]["version"] == "2.0.0"
    assert post["json"]["host"] == "web-1"
    assert post["json"]["meta_data"]["note"] == "hello world"

    outputs = json.loads((out / "outputs.json").read_text())
    assert outputs["OK"] == "true"
    results = json.loads(outputs["RESULTS"])
    assert [(r["target"], r["type"], r["ok"], r["id"]) for r in results] == [
        ("rb", "releasebits", True, post["answer_id"])]
    assert outputs["ID"] == outputs["RB_ID"] == post["answer_id"]
    assert outputs["URL"].startswith(releasebits.url)
    every = json.loads(outputs["ALL"])
    assert every["ok"] == "true" and every["rb-id"] == post["answer_id"]
    assert every["rb-url"] == outputs["URL"]

    # Job summary: shipmark's markdown table, as act reports it.
    summary = "\n".join(e["msg"] for e in result.entries if "Summary" in str(e.get("msg", "")))
    assert "| target | operation | result | id | link |" in summary, result
    assert f"| rb [web-1] | deploy | ok | {post['answer_id']} |" in summary, result
    # Masking: the token never shows, even echoed by a later step.
    assert PLAIN_TOKEN not in result.log, result
    assert "token=***" in result.log, result


def test_hostile_inputs_are_data_not_code(tmp_path, act_home, releasebits):
    repo = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    out.mkdir()
    result = act(repo, str(WORKFLOWS / "injection.yml"), act_home, env={"OUT_DIR": str(out)},
                 secrets={"RB_TOKEN": TOKEN}, variables={"RB_URL": releasebits.url})
    assert result.returncode == 0, result
    assert (out / "clean").exists(), result
    posts = releasebits.posts()
    assert sorted(p["json"]["host"] for p in posts) == ["`id`", "web-1"], releasebits.requests
    for post in posts:
        body = post["json"]
        assert body["stage"] == '"; touch pwned.txt; echo "'
        assert body["version"] == "$(id)"
        meta = body["meta_data"]
        assert meta["cmd"] == "$(id) && touch pwned.txt"
        assert meta["glob"] == "*"
        assert meta["quoted"] == '"; touch pwned.txt; echo "'
        assert meta["dollar"] == "${HOME}"
    assert "::error title=shipmark action::command must be shipmark subcommand words" in result.log, result
    assert "uid=" not in result.log, result
    assert not list(tmp_path.rglob("pwned.txt"))
    assert not list(act_home.rglob("pwned.txt"))


def test_args_are_split_like_a_shell_splits_words(tmp_path, act_home):
    """The same quoted string as the other wrappers' args, the same event; -e in args beats the input."""
    repo = make_repo(tmp_path / "repo")
    events_file = tmp_path / "events.jsonl"
    result = act(repo, str(WORKFLOWS / "quoting.yml"), act_home,
                 variables={"QUOTED_ARGS": QUOTED_ARGS, "EVENTS_FILE": str(events_file)})
    assert result.returncode == 0, result
    assert QUOTED_COMMAND_LINE in result.log, result
    (event,) = recorded_events(events_file)
    assert_quoted_args_event(event)


def test_rejected_delivery_fails_the_step_with_an_annotation(tmp_path, act_home, releasebits):
    releasebits.fail_with = 401
    repo = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    out.mkdir()
    result = act(repo, str(WORKFLOWS / "failure.yml"), act_home, env={"OUT_DIR": str(out)},
                 secrets={"RB_TOKEN": TOKEN}, variables={"RB_URL": releasebits.url})
    assert result.returncode == 0, result  # the step failed, continue-on-error kept the job going
    assert (out / "outcome").read_text().split() == ["failure", "false"]
    assert re.search(r"::error[^\n]*rb", result.log), result
    assert TOKEN not in result.log


def test_lifecycle_snippet_records_start_and_final_state(tmp_path, act_home, releasebits):
    repo = make_repo(tmp_path / "repo", {".github/workflows/deploy.yml": localize(snippet("github-lifecycle")),
                                         "shipmark.yml": CONFIG, "deploy.sh": DEPLOY_SH})
    for fail, final in (("0", "success"), ("1", "failure")):
        log_file = tmp_path / f"events-{final}.jsonl"
        result = act(repo, ".github/workflows/deploy.yml", act_home, secrets=SAMPLE_SECRETS,
                     env={**sample_config_env(releasebits.url, log_file), "DEPLOY_FAIL": fail})
        assert result.returncode == (0 if final == "success" else 1), result
        recorded = recorded_events(log_file)
        assert [(e["operation"], e["status"], e["environment"]) for e in recorded] == [
            ("deploy", "in_progress", "production"), ("deploy", final, "production")], result
        # The second use of the action in this job reuses the job's virtualenv.
        assert "shipmark: reusing this job's environment " in result.log, result
        # What the docs say: start is skipped by ReleaseBits and BuildMaster, loudly.
        assert "rb: deploy skipped: status 'in_progress' cannot be represented" in result.log, result
        assert "bm: deploy skipped: buildmaster runs deployments itself" in result.log, result
    # ReleaseBits keeps finished deployments only: it saw the two final states.
    assert [p["json"]["result"] for p in releasebits.posts()] == ["success", "failure"]
    assert releasebits.posts("/api/") == []


def test_release_snippet_on_a_tag(tmp_path, act_home, releasebits):
    repo = make_repo(tmp_path / "repo", {".github/workflows/release.yml": localize(snippet("github-release")),
                                         "shipmark.yml": CONFIG})
    log_file = tmp_path / "events.jsonl"
    result = act(repo, ".github/workflows/release.yml", act_home, event={"ref": "refs/tags/v1.2.3"},
                 secrets=SAMPLE_SECRETS, env=sample_config_env(releasebits.url, log_file))
    assert result.returncode == 0, result
    recorded = recorded_events(log_file)
    assert [(e["operation"], e["version"]) for e in recorded] == [
        ("release_create", "v1.2.3"), ("build_create", "v1.2.3")], result
    assert recorded[0]["name"] == "v1.2.3"
    assert recorded[0]["meta"] == {"workflow": "release"}
    assert releasebits.posts() == []  # ReleaseBits records deployments only
    # BuildMaster: the release, then its build, with the key from the secret.
    bm = releasebits.posts("/api/")
    assert [p["path"] for p in bm] == ["/api/releases/create", "/api/releases/builds/create"], releasebits.requests
    assert "releaseNumber=v1.2.3" in bm[0]["json"] and "applicationName=Web" in bm[0]["json"], bm
    assert {p["headers"]["X-ApiKey"] for p in bm} == {BM_KEY}
    assert TOKEN not in result.log and BM_KEY not in result.log


def test_job_goes_on_when_the_action_cannot_install(tmp_path, releasebits):
    """Under act: the lifecycle snippet with an unreachable index and a fresh job runs
    deploy.sh, and the job succeeds."""
    repo = make_repo(tmp_path / "repo", {".github/workflows/deploy.yml": localize(snippet("github-lifecycle")),
                                         "shipmark.yml": CONFIG, "deploy.sh": DEPLOY_SH})
    env = {key: value for key, value in unreachable_index(tmp_path).items() if key != "HOME"}
    result = act(repo, ".github/workflows/deploy.yml", tmp_path / "act", secrets=SAMPLE_SECRETS,
                 env={**sample_config_env(releasebits.url, tmp_path / "events.jsonl"), **env})
    assert result.returncode == 0, result
    assert "deploying" in result.log, result
    assert result.log.count("could not install shipmark") >= 2, result
    assert releasebits.requests == []
