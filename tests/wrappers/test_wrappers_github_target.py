"""The README's GitHub Deployments workflow, run under act against a fake GitHub API.

`${{ github.token }}` reaches shipmark through each step's `env:`; start and finish
must leave one deployment with the statuses in_progress then success.
"""
from __future__ import annotations

import re
import subprocess

import pytest
from pytest_httpserver import HTTPServer

from test_wrappers_github import act, act_home, localize  # noqa: F401  (act_home: the shared act fixture)
from tests.conftest import CANARY
from tests.support.fake_github import FakeGitHub
from wrapper_support import DEPLOY_SH, REPO, make_repo

pytestmark = pytest.mark.wrappers


def readme_workflow(name: str) -> str:
    """The YAML block the README marks `<!-- tested: NAME -->`."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- tested: %s -->\s*```yaml\n(.*?)```" % re.escape(name), text, re.S)
    assert match, f"README.md has no block marked {name!r}"
    return match.group(1)


@pytest.fixture
def github(httpserver: HTTPServer):
    fake = FakeGitHub(httpserver)
    yield fake
    assert fake.errors == []


def test_readme_github_deployments_workflow_records_one_deployment(tmp_path, act_home, github):
    workflow = localize(readme_workflow("github-deployments"))
    assert "${{ github.token }}" in workflow and "run: ./deploy.sh" in workflow
    repo = make_repo(tmp_path / "repo", {".github/workflows/deploy.yml": workflow, "deploy.sh": DEPLOY_SH})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()

    result = act(repo, ".github/workflows/deploy.yml", act_home, secrets={"GITHUB_TOKEN": CANARY},
                 env={"SHIPMARK_TARGET_GH_URL": github.url, "SHIPMARK_TARGET_GH_REPOSITORY": "acme/shop"})

    assert result.returncode == 0, result
    assert "deploying" in result.log
    (deployment,) = github.deployments
    assert (deployment["sha"], deployment["environment"]) == (head, "production")
    creates = [w for w in github.writes() if w[1].endswith("/deployments")]
    assert len(creates) == 1 and creates[0][2]["auto_merge"] is False and creates[0][2]["required_contexts"] == []
    statuses = list(reversed(github.statuses[deployment["id"]]))
    assert [s["state"] for s in statuses] == ["in_progress", "success"]
    assert all(s["environment_url"] == "https://shop.example.com" and "/actions/runs/" in s["log_url"]
               for s in statuses)
    assert CANARY not in result.log.replace(f"::add-mask::{CANARY}", "")
