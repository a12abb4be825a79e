"""A service's text (an id, an error message) never becomes a workflow command or a second line.

A compromised or hostile service answers with line breaks followed by GitHub workflow
commands; none of them may reach stderr, stdout, $GITHUB_OUTPUT, the step summary or
the dotenv report as a line of its own.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli
from tests.faults.conftest import FakeReleaseBits

EVENT = ["--version", "v1.2.3", "-e", "production", "--commit", SHA]
REPO = Path(__file__).resolve().parents[2]


def command_lines(*texts: str) -> List[str]:
    return [line for text in texts for line in (text or "").splitlines() if line.lstrip().startswith("::")]


INJECTED = "7\n::set-output name=x::y\n::add-mask::production\r##[error]boom\x1b[2J"


@pytest.mark.parametrize("json_mode", [False, True])
def test_issue13_item4_server_text_stays_on_its_line(tmp_path: Path, fake: FakeReleaseBits, json_mode: bool) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  rb: {{type: releasebits, url: '{fake.url}', component: web, token: '${{RB_TOKEN}}'}}\n"
        f"  bad: {{type: releasebits, url: '{fake.url}', component: api, token: '${{RB_TOKEN}}'}}\n")
    fake.fail("status", method="POST", component="web", status=201, body={"id": INJECTED})
    fake.fail("status", method="POST", component="api", status=422, body={"message": INJECTED})
    files = {name: tmp_path / name for name in ("output", "summary", "report.env")}
    env = {"RB_TOKEN": CANARY, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(files["output"]),
           "GITHUB_STEP_SUMMARY": str(files["summary"]), "SHIPMARK_DOTENV": str(files["report.env"])}
    proc = run_cli(["deploy", *EVENT, *(["--json"] if json_mode else [])], env=env, cwd=tmp_path)
    assert len(fake.posts()) == 2, proc.stderr
    written = [f.read_text() for f in files.values()]
    ours = ("::add-mask::" + CANARY, "::warning title=shipmark::", "::error title=shipmark::")
    strays = [line for line in command_lines(proc.stdout, proc.stderr, *written) if not line.startswith(ours)]
    assert strays == [], proc.stderr
    for line in command_lines(proc.stderr):  # shipmark's own annotations carry the text escaped
        assert "\n" not in line and "\x1b" not in line
    assert "\x1b" not in proc.stderr + proc.stdout + "".join(written)
    output = files["output"].read_text().splitlines()
    assert "rb-id=7 ::set-output name=x::y ::add-mask::production ##[error]boom [2J" in output
    assert "SHIPMARK_RB_ID=7 ::set-output name=x::y ::add-mask::production ##[error]boom [2J" in \
        files["report.env"].read_text().splitlines()
    assert_no_canary(proc.stdout, proc.stderr, *written)


def test_issue13_item4_action_failure_message_stays_one_annotation() -> None:
    """actions/_shared/run.sh fail(): its message is escaped like any workflow-command data."""
    script = (f"eval \"$(sed -n '/^fail() {{/,/^}}/p' {REPO / 'actions/_shared/run.sh'})\"; "
              "fail \"$(printf 'bad%%1\\n::add-mask::x\\r::set-output name=a::b')\"")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == "::error title=shipmark action::bad%251%0A::add-mask::x%0D::set-output name=a::b\n"
