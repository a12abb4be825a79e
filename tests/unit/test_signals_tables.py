"""Tables lose no information (through the real console script)."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tests.unit.test_signals_file_target import configure, ok


# -- item 11: tables lose no information --------------------------------------------------

def test_issue12_item11_builds_show_their_number(tmp_path: Path) -> None:
    configure(tmp_path)
    ok(tmp_path, "build", "create", "--version", "1.1", "--build", "7")
    proc = run_cli(["build", "list"], cwd=tmp_path)
    header, row = proc.stdout.splitlines()
    assert header.split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT", "BUILD"]
    assert row.split()[-1] == "7"


def test_issue12_item11_per_host_deployments_get_a_host_column(tmp_path: Path) -> None:
    configure(tmp_path)
    ok(tmp_path, "deploy", "-e", "production", "--version", "2.0", "--host", "web-1", "--host", "web-2")
    proc = run_cli(["deployment", "list"], cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert lines[0].split()[-1] == "HOST"
    assert sorted(line.split()[-1] for line in lines[1:]) == ["web-1", "web-2"]
    single = run_cli(["deployment", "list", "--param", "host=web-1"], cwd=tmp_path)
    assert "HOST" not in single.stdout  # one host: nothing to tell apart


def test_issue12_item11_tables_wrap_to_the_terminal_and_keep_every_column(tmp_path: Path) -> None:
    configure(tmp_path)
    proc = run_cli(["targets"], env={"COLUMNS": "60"}, cwd=tmp_path)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "URL", "OPERATIONS"]
    assert all(len(line) <= 60 for line in lines), lines
    shown = " ".join(line[line.index("deploy"):] if i == 1 else line.strip() for i, line in enumerate(lines) if i)
    assert shown.split() == ["deploy", "deployment_update", "deployment_list", "release_create", "release_list",
                             "release_cancel", "release_restore", "build_create", "build_list", "build_deploy",
                             "build_reject"]
    assert "..." not in proc.stdout
    wide = run_cli(["targets"], cwd=tmp_path)  # not a terminal: one line per row, nothing cut
    assert len(wide.stdout.splitlines()) == 2 and "build_reject" in wide.stdout
