"""The README's promises: the two first commands, and wrapper snippets that are the tested ones."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\s*```[a-z]*\n(.*?)```", re.S)


def test_readme_opens_with_run_and_test_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks[0].strip() == "pip install . && shipmark deploy -e staging --dry-run"
    assert blocks[1].strip() == "pip install -e '.[test]' && python -m pytest"


def test_ci_run_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -q -e ".[test]"' in script
    assert "\npython -m pytest\n" in script


def test_readme_wrapper_snippets_are_the_tested_ones() -> None:
    """tests/wrappers run the snippets of docs/wrappers.md; the README's copies must not drift."""
    docs = dict(SNIPPET.findall((ROOT / "docs" / "wrappers.md").read_text()))
    readme = SNIPPET.findall((ROOT / "README.md").read_text())
    assert {name for name, _ in readme} == {"github-lifecycle", "gitlab", "jenkins"}
    for name, text in readme:
        assert text == docs[name], f"README snippet {name!r} differs from docs/wrappers.md"
