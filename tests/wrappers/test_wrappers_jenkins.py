"""The Jenkins steps (jenkins/vars/*.groovy) under a Groovy harness, plus npm-groovy-lint.

tests/wrappers/jenkins/harness.groovy stands in for Jenkins: it stubs sh, withEnv,
withCredentials, string, readJSON, error and echo, and loads the library's vars. In `unit`
mode sh is only recorded; in `exec` and `install` modes it runs the step's script for real.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from wrapper_support import (BROKEN_TARGET, CONFIG, HERE, QUOTED_ARGS, QUOTED_COMMAND_LINE, REPO,
                             assert_quoted_args_event, clean_env, file_target_env, index_was_tried, make_repo,
                             path_with_shipmark, path_without_python, path_without_shipmark, recorded, recorded_events,
                             run, sample_config_env, snippet, tool, unreachable_index, version, write_recorder)

from dist_support import local_index  # noqa: E402  (tests/release, put on sys.path by conftest)

pytestmark = pytest.mark.wrappers

HARNESS = HERE / "jenkins" / "harness.groovy"
SECRET = "harness-token-8f3a1c"  # the harness's credential store holds this for 'rb-token'
BM_SECRET = "harness-bm-key-41d7"  # and this for 'buildmaster-api-key'


def harness(mode: str, cwd: Path, **env: str):
    # SHIPMARK_SPOOL: keep shipmark's retry spool out of this machine's home directory.
    proc = run([tool("groovy"), str(HARNESS), mode], cwd=cwd, timeout=300, check=False,
               env=clean_env(SHIPMARK_JENKINS_LIBRARY=str(REPO / "jenkins"), SHIPMARK_VERSION_UNDER_TEST=version(),
                             SHIPMARK_SPOOL=str(cwd / "shipmark-spool.jsonl"), **env))
    assert proc.returncode == 0, proc.stdout[-10000:]
    assert " passed, 0 failed" in proc.stdout.splitlines()[-1], proc.stdout
    return proc


def test_steps_build_the_exact_command_and_handle_failures(tmp_path):
    """Exact sh script, environment and credential bindings; failure, abort and rethrow paths."""
    proc = harness("unit", tmp_path)
    assert proc.stdout.splitlines()[-1] == "10 passed, 0 failed"


def test_script_passes_values_as_literal_arguments(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    path = str(write_recorder(tmp_path)) + ":" + path_without_shipmark(tmp_path)
    harness("exec", tmp_path, PATH=path, RECORDER_DIR=str(recorder), WORKSPACE=str(workspace))
    argv, env = recorded(recorder)
    # --json (the step's own option) comes before the user's args, which a `--` could end.
    assert argv == [
        "deployment", "finish", "--json", "--status", "failure", "--name", "it's `id`",
        "--target", "rb", "--host", "web-1", "--host", "web-2",
        "--meta", "cmd=$(id)", "--meta", "glob=*", "--timeout", "5", "--meta", "x=$HOME",
    ]
    assert env == {"SHIPMARK_ENVIRONMENT": '"; touch pwned.txt; echo "', "SHIPMARK_VERSION": "$(id)",
                   "SHIPMARK_FAIL_ON_ERROR": "", "SHIPMARK_TOKEN": SECRET}
    assert not list(tmp_path.rglob("pwned.txt"))


def test_quoted_args_string_and_list_items_with_spaces(tmp_path):
    """A string is split like the other wrappers split it; list items are passed as they are."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    events_file = tmp_path / "events.jsonl"
    proc = harness("quoting", tmp_path, PATH=path_with_shipmark(), WORKSPACE=str(workspace), QUOTED_ARGS=QUOTED_ARGS,
                   **file_target_env(events_file))
    assert "installing" not in proc.stdout
    # The step adds --json right after the command words; the rest is what GitHub and GitLab run.
    shown = QUOTED_COMMAND_LINE.replace("shipmark deploy ", "shipmark deploy --json ")
    assert shown + "\n" in proc.stdout, proc.stdout
    assert shown + " --name 'blue green'\n" in proc.stdout, proc.stdout
    from_string, from_list = recorded_events(events_file)
    assert_quoted_args_event(from_string)
    assert_quoted_args_event(from_list)
    assert (from_string["name"], from_list["name"]) == (None, "blue green")


@pytest.mark.parametrize("source", ["wheel-with-pip", "index-with-uv"])
def test_deploy_step_installs_once_and_records_failure(tmp_path, releasebits, dist, source):
    """No shipmark on PATH: the package is installed once per build, from the built wheel with
    pip, or by name with uv from the index PIP_INDEX_URL names (a local one that alone holds
    shipmark); a failing block records failure."""
    workspace = make_repo(tmp_path / "ws")
    events_file = tmp_path / "events.jsonl"
    path = path_without_shipmark(tmp_path)
    assert shutil.which("uv", path=path) is None
    if source == "wheel-with-pip":
        package, extra = str(dist.wheel), {}
    else:
        package = f"shipmark=={version()}"
        uv_bin = tmp_path / "uv-bin"
        uv_bin.mkdir()
        (uv_bin / "uv").symlink_to(tool("uv"))
        path = f"{uv_bin}{os.pathsep}{path}"
        extra = {"PIP_INDEX_URL": local_index(dist, tmp_path / "index").as_uri(),
                 "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"}
    proc = harness(
        "install", tmp_path, PATH=path, PACKAGE=package,
        WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"), BUILD_TAG="jenkins-web-deploy-7",
        JENKINS_URL="http://127.0.0.1:9/", BUILD_NUMBER="7", JOB_NAME="web/deploy", BRANCH_NAME="main",
        SHIPMARK_TARGET_RB_TYPE="releasebits", SHIPMARK_TARGET_RB_URL=releasebits.url,
        SHIPMARK_TARGET_RB_COMPONENT="web",
        SHIPMARK_TARGET_LOG_TYPE="file", SHIPMARK_TARGET_LOG_PATH=str(events_file), **extra)
    installer = "pip" if source == "wheel-with-pip" else "uv"
    assert proc.stdout.count(f"shipmark: installing {package} into ") == 1, proc.stdout
    assert f" with {installer}\n" in proc.stdout, proc.stdout
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [(e["operation"], e["status"], e["environment"]) for e in events] == [
        ("deploy", "in_progress", "prod"), ("deploy", "failure", "prod")]
    (post,) = releasebits.posts()  # ReleaseBits records finished deployments only
    assert post["json"]["result"] == "failure" and post["json"]["stage"] == "prod"
    assert post["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in proc.stdout


# The user's deploy: leaves a mark in the workspace, fails when DEPLOY_FAIL=1.
MARKING_DEPLOY_SH = '#!/bin/sh\necho deploying >deployed.txt\n[ "${DEPLOY_FAIL:-}" != 1 ]\n'


def tracking_breaks(why: str, tmp_path: Path) -> dict:
    """Environment of an agent on which shipmark cannot record, for the reason `why`."""
    if why == "no-python3":
        return {"PATH": path_without_python(tmp_path)}
    if why == "index-unreachable":
        path = path_without_shipmark(tmp_path)
        assert shutil.which("shipmark-wrap", path=path) is None
        return {"PATH": path, **unreachable_index(tmp_path)}
    assert why == "start-exits-2"
    return {"PATH": path_with_shipmark(), **BROKEN_TARGET}


@pytest.mark.parametrize("deploy_fails", [False, True], ids=["deploy-succeeds", "deploy-fails"])
@pytest.mark.parametrize("why", ["no-python3", "index-unreachable", "start-exits-2"])
def test_deploy_block_runs_when_tracking_fails(tmp_path, why, deploy_fails):
    """Without failOnError, shipmarkDeploy warns (log and build description) and the block
    runs; the build's result is the block's own."""
    workspace = make_repo(tmp_path / "ws", {"deploy.sh": MARKING_DEPLOY_SH})
    proc = harness("guard", tmp_path, WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"),
                   PACKAGE=f"shipmark=={version()}", DEPLOY_FAIL="1" if deploy_fails else "0",
                   **tracking_breaks(why, tmp_path))
    out = proc.stdout
    assert (workspace / "deployed.txt").exists(), out
    if deploy_fails:
        assert "OUTCOME: error: script returned exit code 1\n" in out, out
    else:
        assert "OUTCOME: success\n" in out, out
    finish = "failure" if deploy_fails else "deployment finish"
    for what in ("deployment start", finish):
        assert f"echo: shipmarkDeploy: WARNING: could not record {what}: " in out, out
    assert "DESCRIPTION: shipmarkDeploy: WARNING: could not record deployment start: " in out, out
    if why == "index-unreachable":
        assert index_was_tried(tmp_path, out), out  # the install really asked the index


@pytest.mark.parametrize("why", ["no-python3", "start-exits-2"])
def test_fail_on_error_keeps_the_block_from_running(tmp_path, why):
    workspace = make_repo(tmp_path / "ws", {"deploy.sh": MARKING_DEPLOY_SH})
    proc = harness("guard", tmp_path, WORKSPACE=str(workspace), WORKSPACE_TMP=str(tmp_path / "ws@tmp"),
                   PACKAGE=f"shipmark=={version()}", FAIL_ON_ERROR="true", **tracking_breaks(why, tmp_path))
    expected = ("script returned exit code 127" if why == "no-python3"
                else "shipmark deployment start failed with exit status 2")
    assert f"OUTCOME: error: {expected}\n" in proc.stdout, proc.stdout
    assert not (workspace / "deployed.txt").exists() and "WARNING" not in proc.stdout


def test_docs_jenkinsfile(tmp_path, releasebits):
    """The Jenkinsfile of docs/wrappers.md, run with the real shipmark on PATH and a tag build."""
    workspace = make_repo(tmp_path / "ws", {"shipmark.yml": CONFIG, "deploy.sh": "#!/bin/sh\necho deploying\n"})
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text(snippet("jenkins"))
    events_file = tmp_path / "events.jsonl"
    shipmark_dir = str(Path(tool("shipmark")).parent)
    proc = harness("jenkinsfile", workspace, JENKINSFILE=str(jenkinsfile), WORKSPACE=str(workspace),
                   PATH=shipmark_dir + os.pathsep + os.environ["PATH"], TAG_NAME="v1.2.3",
                   JENKINS_URL="http://127.0.0.1:9/", BUILD_NUMBER="3", JOB_NAME="web", BUILD_TAG="jenkins-web-3",
                   **sample_config_env(releasebits.url, events_file))
    assert "installing" not in proc.stdout
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [(e["operation"], e["status"], e["environment"], e["version"]) for e in events] == [
        ("deploy", "in_progress", "production", "v1.2.3"), ("deploy", "success", "production", "v1.2.3"),
        ("release_create", "success", None, "v1.2.3")], events
    (post,) = releasebits.posts()
    assert post["json"]["result"] == "success"
    assert post["headers"]["Authorization"] == f"Bearer {SECRET}"
    # The tag's release went to BuildMaster (ReleaseBits has no releases), with its own key.
    (release,) = releasebits.posts("/api/")
    assert release["path"] == "/api/releases/create" and "releaseNumber=v1.2.3" in release["json"], release
    assert release["headers"]["X-ApiKey"] == BM_SECRET
    assert SECRET not in proc.stdout and BM_SECRET not in proc.stdout


def test_npm_groovy_lint_is_clean():
    proc = run([tool("npm-groovy-lint"), "--noserver", "--failon", "info", "--output", "txt", "jenkins/"],
               cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:]
