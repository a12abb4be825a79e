"""Issue 12, item 12: every command's help has examples and only the options it uses, each described."""
from __future__ import annotations

import re
from typing import Dict, List

import click
import pytest

from shipmark.cli import cli
from tests.conftest import run_cli


def commands() -> Dict[str, click.Command]:
    found: Dict[str, click.Command] = {}

    def walk(group: click.Group, words: List[str]) -> None:
        for name in group.list_commands(None):
            command = group.get_command(None, name)
            if isinstance(command, click.Group):
                walk(command, words + [name])
            else:
                found[" ".join(words + [name])] = command
    walk(cli, [])
    return found


def help_of(words: str, columns: str = "200") -> str:
    proc = run_cli([*words.split(), "--help"], env={"COLUMNS": columns})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def options_in(help_text: str) -> Dict[str, str]:
    """{'--flag': its description} from the Options section of a --help."""
    section = help_text.split("\nOptions:\n", 1)[1]
    found = {}
    lines = section.splitlines()
    for at, line in enumerate(lines):
        match = re.match(r"^  (-\w, )?(--[\w-]+)(?: [A-Z0-9=\[\]|_a-z.]+)?(?:\s{2,}(.*))?$", line)
        if match:
            text = match.group(3) or ""
            if not text and at + 1 < len(lines) and lines[at + 1].startswith(" " * 8):
                text = lines[at + 1]  # a long metavar pushes the description to the next line
            found[match.group(2)] = text.strip()
    return found


@pytest.mark.parametrize("words", sorted(commands()))
def test_issue12_item12_every_command_has_examples_and_described_options(words: str) -> None:
    text = help_of(words)
    examples = text.split("Examples:\n", 1)[1].split("\n\n")[0].splitlines()
    assert examples and all(line.strip().startswith(f"shipmark {words}") for line in examples), text
    options = options_in(text)
    assert "--help" in options
    assert all(options.values()), {flag: help for flag, help in options.items() if not help}


@pytest.mark.parametrize("words, absent, present", [
    ("deployment start", ["--finished-at", "--wait", "--wait-timeout", "--status"], ["--started-at", "--host"]),
    # When a release was made or a build finished is recorded by the file and webhook targets.
    ("release create", ["--host", "--wait", "--wait-timeout", "--started-at"], ["--version", "--finished-at"]),
    ("release cancel", ["--host", "--wait"], ["--reason"]),
    ("build create", ["--host", "--wait", "--started-at"], ["--build", "--finished-at"]),
    ("build deploy", ["--host"], ["--wait", "--wait-timeout"]),
    ("deployment update", ["--wait"], ["--id", "--status"]),
    ("deployment list", ["--fail-on-error", "--wait", "--host"], ["--limit", "--param", "--timeout"]),
    ("deployment get", ["--fail-on-error", "--host"], ["--wait", "--wait-timeout"]),
    ("deployment retry", ["--host"], ["--wait", "--fail-on-error"]),
])
def test_issue12_item12_commands_offer_only_the_options_they_use(words: str, absent: List[str],
                                                                 present: List[str]) -> None:
    options = options_in(help_of(words))
    assert not set(absent) & set(options), sorted(set(absent) & set(options))
    assert set(present) <= set(options)


def test_issue12_item12_option_texts_and_epilogs() -> None:
    finish = help_of("deployment finish")
    assert "--status [success|failure|cancelled|skipped]" in finish
    assert "--status [queued|in_progress|success|failure|cancelled|skipped]" in help_of("deploy")
    assert options_in(help_of("deployment get"))["--wait-timeout"].startswith("Give up waiting after this long")
    for words in ("check", "flush", "targets", "deploy", "release list"):
        assert options_in(help_of(words))["--timeout"].startswith("Total time budget"), words
    for words in ("deployment list", "release list", "build list", "deployment get"):
        text = help_of(words)
        assert "vendor outages are tolerated" not in text and "Exit status: 0 read, 1 a target could not" in text
    assert "vendor outages are tolerated unless --fail-on-error" in help_of("release create")


def test_issue12_item12_top_level_help_shows_whole_summaries() -> None:
    text = " ".join(help_of("", columns="80").split())
    assert "check Validate the configuration; --online also probes each target's credentials." in text
    assert "targets Show the configured targets (secrets redacted), or --discover a service's ids." in text
    assert "..." not in help_of("deployment", columns="80").split("Commands:")[1]
