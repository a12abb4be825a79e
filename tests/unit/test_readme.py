"""The README's promises: the two first commands, and wrapper snippets that are the tested ones."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Tuple

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\s*```[a-z]*\n(.*?)```", re.S)


def test_readme_opens_with_run_and_test_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks[0].strip() == "pip install . && shipmark deploy -e staging --dry-run"
    # The test command is CI's own script (it installs the wrapper tools), then the fast variant.
    assert blocks[1].strip() == "bash .ci/run"
    assert blocks[2].strip() == "pip install -e '.[test]' && python -m pytest -m \"not wrappers\""


def test_ci_run_installs_the_tools_and_runs_the_whole_suite() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -q -e ".[test]"' in script
    assert "bash tests/wrappers/install-tools.sh" in script
    assert "\npython -m pytest\n" in script


# README snippets tested here rather than copied from docs/wrappers.md.
README_ONLY = {"tour-config"}


def snippets(path: Path) -> Dict[str, str]:
    """The code blocks of a document marked `<!-- snippet: NAME -->`, by name."""
    return dict(SNIPPET.findall(path.read_text()))


def test_readme_wrapper_snippets_are_the_tested_ones() -> None:
    """tests/wrappers run the snippets of docs/wrappers.md; the README's copies must not drift."""
    docs = snippets(ROOT / "docs" / "wrappers.md")
    readme = SNIPPET.findall((ROOT / "README.md").read_text())
    assert {name for name, _ in readme} == {"config", "github-lifecycle", "gitlab", "jenkins"} | README_ONLY
    for name, text in readme:
        if name not in README_ONLY:
            assert text == docs[name], f"README snippet {name!r} differs from docs/wrappers.md"


TOUR_TOKENS = {name: "tour-token-5e1b" for name in (
    "RELEASEBITS_TOKEN", "DEPLOYBOT_TOKEN", "BUILDMASTER_API_KEY", "BEANSTALK_TOKEN", "AVIATOR_TOKEN")}


def deploy_outcomes(tmp_path: Path, *args: str) -> Dict[str, Tuple[bool, bool, str]]:
    """target -> (ok, skipped, why) of `shipmark deploy --dry-run --json` with the tour config."""
    (tmp_path / "shipmark.yml").write_text(snippets(ROOT / "README.md")["tour-config"])
    proc = run_cli(["deploy", "-e", "staging", "--dry-run", "--json", *args], cwd=tmp_path, env=TOUR_TOKENS)
    assert proc.returncode == 0, proc.stderr
    return {r["target"]: (r["ok"], r["skipped"], r.get("message") or r["error"] or "") for r in json.loads(proc.stdout)}


def test_tour_config_deploy_does_what_the_readme_says(tmp_path: Path) -> None:
    """A normal version: rb, bm and log record it, db and bs need a commit, av skips it."""
    outcome = deploy_outcomes(tmp_path, "--version", "1.4.0")
    assert list(outcome) == ["rb", "db", "bm", "bs", "av", "log"]
    assert {name for name, (ok, skipped, _) in outcome.items() if ok and not skipped} == {"rb", "bm", "log"}
    assert {name for name, (_, skipped, _) in outcome.items() if skipped} == {"db", "bs", "av"}
    assert "commit" in outcome["db"][2] and "commit" in outcome["bs"][2]
    assert "release candidate" in outcome["av"][2]
    # A release candidate with its commit: every target takes it.
    outcome = deploy_outcomes(tmp_path, "--version", "1.4.0-rc1", "--commit", "a" * 40)
    assert all(ok and not skipped for ok, skipped, _ in outcome.values()), outcome
