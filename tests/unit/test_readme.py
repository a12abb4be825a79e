"""The README's promises: the two first commands, and wrapper snippets that are the tested ones."""
from __future__ import annotations

import re
from pathlib import Path

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


def test_readme_wrapper_snippets_are_the_tested_ones() -> None:
    """tests/wrappers run the snippets of docs/wrappers.md; the README's copies must not drift."""
    docs = dict(SNIPPET.findall((ROOT / "docs" / "wrappers.md").read_text()))
    readme = SNIPPET.findall((ROOT / "README.md").read_text())
    assert {name for name, _ in readme} == {"github-lifecycle", "gitlab", "jenkins"}
    for name, text in readme:
        assert text == docs[name], f"README snippet {name!r} differs from docs/wrappers.md"
