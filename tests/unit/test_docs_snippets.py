"""Snippets in the docs work as written: every sample config loads, and the file target's
console session prints what its page shows.

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
