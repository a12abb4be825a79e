"""Snippets in the docs work as written: every sample config loads, the file target's
console session prints what its page shows, and every workflow example passes tokens in
step-level `env:` only and gives `args` constants only.

Wrapper snippets run under their executors in tests/wrappers; the README's first two
commands are checked in test_readme.py.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from tests.conftest import run_cli
from tests.support.doc_workflows import workflow_examples

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs" / "targets").glob("*.md")) + [ROOT / "README.md", ROOT / "docs" / "wrappers.md"]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
DUMMY = "dummy-secret-value-123"


def config_snippets() -> List[Tuple[str, str]]:
    """(page#n, YAML) for every code block that is a shipmark.yml (a top-level `targets:`)."""
    found = []
    for page in PAGES:
        for n, match in enumerate(BLOCK.finditer(page.read_text())):
            kind, body = match.groups()
            if kind in ("yaml", "yml") and re.search(r"^targets:", body, re.M):
                found.append((f"{page.relative_to(ROOT)}#{n}", body))
    return found


def env_snippets() -> List[Tuple[str, Dict[str, str]]]:
    """(page#n, variables) for every shell block that defines a target with SHIPMARK_TARGET_* exports."""
    found = []
    for page in PAGES:
        for n, match in enumerate(BLOCK.finditer(page.read_text())):
            kind, body = match.groups()
            exports = re.findall(r"^export (SHIPMARK_TARGET_\w+)=(\S*)", body, re.M)
            if kind == "sh" and exports:
                # `...` and `$SECRET` stand for a CI secret: any value will do for loading.
                found.append((f"{page.relative_to(ROOT)}#{n}",
                               {name: DUMMY if value in ("...", "") or value.startswith("$") else value.strip("\"'")
                                for name, value in exports}))
    return found


CONFIGS = config_snippets()
ENVS = env_snippets()


def test_the_docs_have_sample_configs_to_check() -> None:
    # Every target page has one, plus the README's tour and the wrappers' sample.
    assert len(CONFIGS) >= len(list((ROOT / "docs" / "targets").glob("*.md"))) - 1 + 2
    assert len(ENVS) >= 5


@pytest.mark.parametrize("where, body", CONFIGS, ids=[w for w, _ in CONFIGS])
def test_every_sample_config_loads(tmp_path: Path, where: str, body: str) -> None:
    config = tmp_path / "shipmark.yml"
    config.write_text(body)
    variables = {name: DUMMY for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", body)}
    names = list(yaml.safe_load(body)["targets"])
    proc = run_cli(["check"], env=variables, cwd=tmp_path)
    assert proc.returncode == 0, f"{where}: {proc.stderr}"
    assert proc.stderr.splitlines()[-1].endswith(": " + ", ".join(names)), proc.stderr
    assert DUMMY not in proc.stdout + proc.stderr


@pytest.mark.parametrize("where, variables", ENVS, ids=[w for w, _ in ENVS])
def test_every_environment_only_target_loads(tmp_path: Path, where: str, variables: Dict[str, str]) -> None:
    proc = run_cli(["check"], env=variables, cwd=tmp_path)
    assert proc.returncode == 0, f"{where}: {proc.stderr}"
    assert "config OK (no config file): 1 target: " in proc.stderr
    assert DUMMY not in proc.stdout + proc.stderr


def test_the_file_target_page_session_prints_what_it_shows(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "targets" / "file.md").read_text()
    (config,) = [body for kind, body in BLOCK.findall(page) if kind == "yaml"]
    (session,) = [body for kind, body in BLOCK.findall(page) if kind == "console" and "$ shipmark" in body]
    (tmp_path / "shipmark.yml").write_text(config)
    commands = [line[2:].split() for line in session.splitlines() if line.startswith("$ ")]
    shown = columns([line for line in session.splitlines() if line and not line.startswith("$ ")])
    assert [c[0] for c in commands] == ["shipmark", "shipmark"]
    for command in commands[:-1]:
        done = run_cli(command[1:], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    listed = run_cli(commands[-1][1:], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    printed = columns(listed.stdout.splitlines())
    assert list(printed[0]) == list(shown[0])  # the same columns, in the same order
    # ID and CREATED_AT differ run to run (CREATED_AT keeps its shape); every other column
    # is as the page shows it (COMMIT is empty outside a repository, as on the page).
    for row in (*printed, *shown):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", row.pop("CREATED_AT")) or \
            row is printed[0] or row is shown[0]
        row.pop("ID")
    assert printed == shown


def columns(lines: List[str]) -> List[Dict[str, str]]:
    """A table's rows as {column: cell}, cut at the header's column starts (cells may be empty)."""
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    bounds = list(zip(starts, starts[1:] + [None]))
    return [{name: line[a:b].strip() for name, (a, b) in zip(names, bounds)} for line in lines]


# --- workflow examples: tokens in step-level env, `args` for constants -------------------------

TOKEN_EXPRESSION = re.compile(r"\$\{\{[^}]*\b(secrets\.|github\.token)")


def misplaced_tokens(workflow: dict) -> List[str]:
    """Where a workflow hands a token to more than the one step that needs it: anything but a
    step's `env:` (workflow or job `env:` reaches every step, `with:`/`run:` reach logs and shells)."""
    found = [f"env: {key}" for key, value in (workflow.get("env") or {}).items() if TOKEN_EXPRESSION.search(str(value))]
    for job_name, job in workflow["jobs"].items():
        for key, value in job.items():
            if key != "steps" and TOKEN_EXPRESSION.search(str(value)):
                found.append(f"jobs.{job_name}.{key}")
        for n, step in enumerate(job.get("steps", [])):
            found += [f"jobs.{job_name}.steps[{n}].{key}" for key, value in step.items()
                      if key != "env" and TOKEN_EXPRESSION.search(str(value))]
    return found


def interpolated_args(workflow: dict) -> List[str]:
    """shipmark steps whose `args` is built from an expression: args is for constants only."""
    return [f"jobs.{job_name}.steps[{n}].with.args" for job_name, job in workflow["jobs"].items()
            for n, step in enumerate(job.get("steps", []))
            if "shipmark" in str(step.get("uses", "")) and "${{" in str((step.get("with") or {}).get("args", ""))]


WORKFLOWS = workflow_examples()


def test_every_workflow_example_is_found() -> None:
    # docs/wrappers.md: deploy, lifecycle, release; README: GitHub Deployments, lifecycle.
    assert len(WORKFLOWS) >= 5, [where for where, _ in WORKFLOWS]


@pytest.mark.parametrize("where, body", WORKFLOWS, ids=[w for w, _ in WORKFLOWS])
def test_workflow_examples_pass_tokens_in_step_env_only(where: str, body: str) -> None:
    assert misplaced_tokens(yaml.safe_load(body)) == [], f"{where}: move the token into the step's env:"


@pytest.mark.parametrize("where, body", WORKFLOWS, ids=[w for w, _ in WORKFLOWS])
def test_workflow_examples_give_args_constants_only(where: str, body: str) -> None:
    assert interpolated_args(yaml.safe_load(body)) == [], f"{where}: use environment/version/name/meta instead"


def test_the_checks_catch_a_job_level_token_and_an_interpolated_args() -> None:
    workflow = yaml.safe_load("""
env: {A: "${{ secrets.A }}"}
jobs:
  deploy:
    env: {RELEASEBITS_TOKEN: "${{ secrets.RELEASEBITS_TOKEN }}"}
    steps:
      - run: echo "${{ github.token }}"
      - uses: shipmark/shipmark@v1
        with: {args: '--meta "title=${{ github.event.pull_request.title }}"'}
        env: {GH: "${{ github.token }}"}
""")
    assert misplaced_tokens(workflow) == ["env: A", "jobs.deploy.env", "jobs.deploy.steps[0].run"]
    assert interpolated_args(workflow) == ["jobs.deploy.steps[1].with.args"]


def variable_args(kind: str, body: str) -> List[str]:
    """GitLab `SHIPMARK_ARGS:` and Jenkins `args:` values of a code block that hold a variable."""
    if kind in ("yaml", "yml"):
        return [value for value in re.findall(r"SHIPMARK_ARGS:\s*(.*)", body) if "$" in value]
    if kind == "groovy":
        # The value: a quoted string or a list.
        values = re.findall(r"""\bargs:\s*('[^']*'|"[^"]*"|\[[^\]]*\])""", body)
        return [value for value in values if re.search(r"\$|env\.|params\.", value)]
    return []


def test_gitlab_and_jenkins_examples_give_args_constants_only() -> None:
    """SHIPMARK_ARGS and the Jenkins step's `args` hold no variable: values that change go
    through the typed inputs, which cannot add options."""
    found = [(page.name, value) for page in PAGES for kind, body in BLOCK.findall(page.read_text())
             for value in variable_args(kind, body)]
    assert found == []
    assert variable_args("yaml", 'deploy:\n  variables:\n    SHIPMARK_ARGS: --meta "ref=$CI_COMMIT_REF_NAME"\n')
    assert variable_args("groovy", "shipmark(command: 'deploy', args: \"--meta branch=${env.BRANCH_NAME}\")")
    assert not variable_args("groovy", "shipmark(command: 'deploy', args: ['--wait'], version: env.TAG_NAME)")
