"""Issue 12, item 9: docs/cli.md is generated from the click tree and is current."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shipmark.statuses import WORDS
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
CLI_MD = REPO / "docs" / "cli.md"


def sections() -> dict:
    text = CLI_MD.read_text()
    return dict(re.findall(r"### `([^`]+)`\n\n```text\n(.*?)\n```", text, flags=re.S))


def test_issue12_item9_docs_cli_md_is_current() -> None:
    proc = subprocess.run([sys.executable, "-m", "shipmark.cli.docs", "--check"], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr + "\nregenerate with: python -m shipmark.cli.docs"


@pytest.mark.parametrize("path", ["shipmark", "shipmark deploy", "shipmark deployment finish",
                                  "shipmark release create", "shipmark build list", "shipmark check"])
def test_issue12_item9_each_section_is_the_installed_commands_help(path: str) -> None:
    proc = run_cli([*path.split()[1:], "--help"], env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert sections()[path] == proc.stdout.rstrip()


def test_issue12_item9_every_command_and_status_word_is_documented() -> None:
    documented = set(sections())
    assert {"shipmark deployment start", "shipmark targets", "shipmark flush", "shipmark context"} <= documented
    table = CLI_MD.read_text()
    for word, (status, _who) in WORDS.items():
        assert f"| `{word}` | `{status.value}` |" in table
