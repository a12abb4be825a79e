"""Static checks of the wrappers: zizmor, actionlint, check-jsonschema, shellcheck, yamllint.

Each check also covers every workflow example of README.md and docs/, and every shell script the
wrappers run: actions/_shared/run.sh and install.sh, the GitLab template's scripts and the
Jenkins step's `sh` script.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import List

import pytest
import yaml

from wrapper_support import HERE, NODE_BIN, REPO, clean_env, make_repo, run, snippet, tool, version

from tests.support.doc_workflows import workflow_examples

pytestmark = pytest.mark.wrappers

ACTIONS = ["action.yml"] + sorted(str(p.relative_to(REPO)) for p in (REPO / "actions").glob("*/action.yml"))
TEST_WORKFLOWS = sorted(str(p.relative_to(REPO)) for p in (HERE / "github" / "workflows").glob("*.yml"))
STUB_ACTIONS = sorted(str(p.relative_to(REPO)) for p in (HERE / "github" / "stubs").glob("*/action.yml"))
GITHUB_SNIPPETS = ("github-deploy", "github-lifecycle", "github-release")


def tools_env():
    """PATH with the Python and npm tool directories first (actionlint runs shellcheck)."""
    return clean_env(PATH=os.pathsep.join([str(Path(sys.executable).parent), str(NODE_BIN), os.environ["PATH"]]))


def snippet_workflows(dest: Path) -> List[str]:
    """Every workflow example of README.md and docs/ (the tested snippets among them)."""
    folder = dest / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    examples = workflow_examples()
    assert {body for _, body in examples} >= {snippet(name) for name in GITHUB_SNIPPETS}
    for where, body in examples:
        (folder / (re.sub(r"[^\w-]+", "-", where) + ".yml")).write_text(body)
    return sorted(str(p) for p in folder.glob("*.yml"))


class GitLabLoader(yaml.SafeLoader):
    """YAML loader that keeps GitLab's `!reference [job, key]` tags as lists."""


GitLabLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))


def gitlab_documents():
    text = (REPO / "gitlab-ci" / "shipmark.yml").read_text()
    header, body = text.split("\n---\n")
    return header + "\n", body


def test_zizmor_finds_nothing():
    proc = run([tool("zizmor"), "--offline", "--no-progress", *ACTIONS, *TEST_WORKFLOWS, *STUB_ACTIONS],
               cwd=REPO, env=tools_env(), check=False)
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout


def test_zizmor_finds_nothing_in_the_docs_snippets(tmp_path):
    snippet_workflows(tmp_path)
    proc = run([tool("zizmor"), "--offline", "--no-progress", "--persona", "pedantic", "--config",
                str(HERE / "zizmor-docs.yml"), str(tmp_path)], cwd=REPO, env=tools_env(), check=False)
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout


def test_actionlint(tmp_path):
    """Test workflows and docs snippets (with `uses:` pointed at a copy of the actions)."""
    repo = make_repo(tmp_path / "repo")
    workflows = snippet_workflows(repo)
    for path in workflows:
        text = Path(path).read_text()
        Path(path).write_text(re.sub(r"shipmark/shipmark(?:/(actions/\w+))?@v[0-9.]+",
                                     lambda m: "./" + (m.group(1) or ""), text))
    run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *workflows], cwd=repo, env=tools_env())
    run([tool("actionlint"), "-shellcheck", tool("shellcheck"), *TEST_WORKFLOWS], cwd=REPO, env=tools_env())


def test_check_jsonschema_github(tmp_path):
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", *ACTIONS, *STUB_ACTIONS],
        cwd=REPO, env=tools_env())
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *TEST_WORKFLOWS,
         *snippet_workflows(tmp_path)], cwd=REPO, env=tools_env())


def test_check_jsonschema_gitlab(tmp_path):
    """The template's two documents (spec header, jobs) and the docs pipeline."""
    header, body = gitlab_documents()
    (tmp_path / "spec.yml").write_text(header)
    (tmp_path / "jobs.yml").write_text(body)
    (tmp_path / "pipeline.yml").write_text(snippet("gitlab"))
    run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci",
         str(tmp_path / "spec.yml"), str(tmp_path / "jobs.yml"), str(tmp_path / "pipeline.yml")],
        cwd=REPO, env=tools_env())


def test_shellcheck_every_script(tmp_path):
    scripts = [REPO / "actions" / "_shared" / "install.sh", HERE / "install-tools.sh"]

    # GitLab: every script line of the template, in order, as one POSIX sh script.
    _, body = gitlab_documents()
    jobs = yaml.load(body, Loader=GitLabLoader)
    lines = [line for job in jobs.values() for key in ("before_script", "script", "after_script")
             for line in job.get(key, []) if isinstance(line, str)]
    gitlab = tmp_path / "gitlab-template.sh"
    gitlab.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n")
    scripts.append(gitlab)

    # Jenkins: what `sh` runs, SCRIPT_HEAD + the installer resource + SCRIPT_BODY (single-quoted
    # Groovy strings: only \\ is an escape, and \ before a line break joins lines).
    groovy = (REPO / "jenkins" / "vars" / "shipmark.groovy").read_text()
    head, body = (re.search(r"String %s = '''\\\n(.*?)'''" % name, groovy, re.S)
                  for name in ("SCRIPT_HEAD", "SCRIPT_BODY"))
    assert head and body, "SCRIPT_HEAD or SCRIPT_BODY not found in shipmark.groovy"
    installer = (REPO / "jenkins" / "resources" / "shipmark" / "install.sh").read_text()
    jenkins = tmp_path / "jenkins-step.sh"
    unescape = lambda text: text.replace("\\\\", "\\")  # noqa: E731
    jenkins.write_text(unescape(head.group(1)) + installer + unescape(body.group(1)))
    scripts.append(jenkins)

    run([tool("shellcheck"), "--severity=style", *map(str, scripts)], cwd=REPO, env=tools_env())
    # run.sh and wheel-cache.sh source install.sh (which sources installer/install.sh): checked
    # with what they source, so that shellcheck sees what it defines.
    run([tool("shellcheck"), "--severity=style", "--external-sources", "actions/_shared/run.sh",
         "actions/_shared/wheel-cache.sh"], cwd=REPO, env=tools_env())
    # The unescaped Jenkins script really is what sh receives (checked by the harness too).
    assert jenkins.read_text().startswith("#!/bin/sh\nset -eu\n")


def test_yamllint(tmp_path):
    run([tool("yamllint"), "--strict", "-c", str(HERE / "yamllint.yml"), "action.yml", "actions", "gitlab-ci",
         "tests/wrappers/github", "tests/wrappers/zizmor-docs.yml", "tests/wrappers/yamllint.yml",
         *snippet_workflows(tmp_path)], cwd=REPO, env=tools_env())


def test_wrappers_default_to_this_release():
    """The GitLab and Jenkins defaults install the version being released; docs name its tag."""
    pinned = f"shipmark=={version()}"
    header, _ = gitlab_documents()
    assert yaml.safe_load(header)["spec"]["inputs"]["package"]["default"] == pinned
    assert f"@Field final String DEFAULT_PACKAGE = '{pinned}'" in \
        (REPO / "jenkins" / "vars" / "shipmark.groovy").read_text()
    docs = (REPO / "docs" / "wrappers.md").read_text()
    named = set(re.findall(r"(?:@v|ref: v|shipmark==)(\d+\.\d+\.\d+)", docs))
    assert named == {version()}, named
