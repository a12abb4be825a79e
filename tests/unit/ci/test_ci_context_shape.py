"""The object's shape: 24 keys in order, booleans, never an empty string."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipmark.ci import detect_context
from shipmark.models import Context

CONTRACT_KEYS = [
    "ci_name", "is_ci", "commit", "branch", "tag", "is_pr", "pr", "pr_head_branch",
    "pr_base_branch", "pr_merge_ref", "pr_head_sha", "pr_base_sha", "pr_merge_base_sha",
    "build", "build_url", "pipeline_id", "job", "job_url", "slug", "repository_url",
    "stage", "environment", "actor", "source",
]  # fmt: skip


def test_key_list_and_order():
    assert list(Context().as_dict()) == CONTRACT_KEYS
    assert len(CONTRACT_KEYS) == 24


def test_detected_context_has_the_contract_keys_in_order(detect):
    ctx, _ = detect({"GITHUB_ACTIONS": "true"})
    assert list(json.loads(json.dumps(ctx.as_dict()))) == CONTRACT_KEYS


# Variables the providers read, plus overrides and detection switches; every
# variable of every provider case file joins them, so a new provider is covered.
BASE_VARIABLES = [
    "CI", "GITEA_ACTIONS", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL",
    "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_HEAD_REF",
    "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID", "GITHUB_JOB", "JOB_CHECK_RUN_ID", "GITHUB_ACTOR",
    "CI_COMMIT_SHA", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_COMMIT_TAG",
    "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_PROJECT_URL",
    "CI_PIPELINE_ID", "CI_JOB_ID", "CI_PROJECT_PATH", "CI_PROJECT_NAMESPACE", "CI_PROJECT_NAME",
    "CI_REPOSITORY_URL", "CI_ENVIRONMENT_NAME",
    "GIT_COMMIT", "GIT_BRANCH", "GIT_LOCAL_BRANCH", "BRANCH_NAME", "TAG_NAME", "CHANGE_ID",
    "CHANGE_BRANCH", "ghprbPullId", "GIT_URL", "BUILD_URL", "BUILD_NUMBER",
    "SHIPMARK_BRANCH", "SHIPMARK_TAG",
]  # fmt: skip


def _case_file_variables():
    names = set()
    for path in sorted((Path(__file__).resolve().parents[2] / "ci_cases").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names.update((data.get("defaults") or {}).get("env", {}))
        for case in data["cases"]:
            names.update(case.get("env") or {})
    return names


VARIABLES = BASE_VARIABLES + sorted(_case_file_variables() - set(BASE_VARIABLES))
TRICKY_VALUES = [
    "", " ", "false", "False", "true", "main", "origin/", "refs/heads/", "refs/tags/", "refs/pull/1/merge",
    "tags/", "HEAD", "/", "//", ".git", "https://", "https://u:p@/", "https://h/", "git@h:", "#", "PR-1",
    "0", "12", "$(X)", "${X}", "%X%", "gh-readonly-queue/", "0123456789abcdef0123456789abcdef01234567",
]  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(VARIABLES), st.sampled_from(TRICKY_VALUES), max_size=12))
def test_no_value_is_ever_an_empty_string(empty_dir, env):
    ctx = detect_context(env=env, cwd=str(empty_dir), warn=lambda _message: None)
    data = ctx.as_dict()
    assert isinstance(data["is_ci"], bool) and isinstance(data["is_pr"], bool)
    for key, value in data.items():
        if key not in ("is_ci", "is_pr"):
            assert value is None or (isinstance(value, str) and value.strip() == value and value != "")
    assert (data["source"] is None) == (data["commit"] is None)
    if not data["is_pr"]:
        assert all(data[key] is None for key in CONTRACT_KEYS if key.startswith("pr"))


def test_defaults_read_the_process_environment_cwd_and_stderr(git_repo, monkeypatch, capsys):
    for name in ("GITHUB_ACTIONS", "GITHUB_ACTION", "GITEA_ACTIONS", "GITLAB_CI", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JENKINS_URL", "http://jenkins.example.com/")
    monkeypatch.delenv("GIT_COMMIT", raising=False)
    monkeypatch.delenv("SHIPMARK_COMMIT", raising=False)
    monkeypatch.chdir(git_repo.path)
    ctx = detect_context()
    assert ctx.ci_name == "jenkins"
    assert ctx.commit == git_repo.head
    assert "from git" in capsys.readouterr().err  # the default warn prints notes to stderr


def test_importing_the_package_stays_light():
    code = "import sys, shipmark.ci; print('requests' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "False"
