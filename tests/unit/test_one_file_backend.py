"""Adding a backend is one file plus one registry line: tests/support/memo_backend.py is only that.

It is driven here through the real command line (click's CliRunner on shipmark.cli.cli):
send, --dry-run, list, and a transient failure that goes to the spool and is flushed.
Nothing outside its file knows about it.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import pytest

from shipmark import targets
from tests.conftest import SHA
from tests.unit.test_cli import invoke

CONFIG = "targets:\n  notes: {type: memo, shelf: ops}\n"
EVENT = ["--version", "v1.4.0", "-e", "production", "--commit", SHA]


@pytest.fixture
def memo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The backend registered for one test (in a copy of the registry, which is put back afterwards)."""
    monkeypatch.setattr(targets, "TARGET_TYPES", dict(targets.TARGET_TYPES))
    import tests.support.memo_backend as module

    module = importlib.reload(module)  # registers it again, with an empty BOOK
    (tmp_path / "shipmark.yml").write_text(CONFIG)
    return module


def run(tmp_path: Path, args: Sequence[str], env: Optional[Dict[str, str]] = None):
    return invoke(list(args), env=env, cwd=tmp_path)


def test_it_is_registered_and_its_option_is_on_deploy_only(memo: Any, tmp_path: Path) -> None:
    assert targets.TARGET_TYPES["memo"] == "tests.support.memo_backend:Memo"
    assert "memo" in targets.known_types()
    help_text = run(tmp_path, ["deploy", "--help"]).stdout
    assert "--memo-note TEXT" in help_text and "memo: a note kept with the deployment." in help_text
    assert "--build NUMBER" in help_text  # BuildMaster's declaration is still there
    assert "--memo-note" not in run(tmp_path, ["deployment", "create", "--help"]).stdout
    listed = json.loads(run(tmp_path, ["targets", "--json"]).stdout)
    assert listed == [{"type": "memo", "name": "notes", "url": None, "token": None, "required": False,
                       "allow_insecure": False, "timeout": None, "shelf": "ops",
                       "operations": ["deploy", "deployment_list"]}]


def test_send_records_the_event_with_the_declared_option(memo: Any, tmp_path: Path) -> None:
    result = run(tmp_path, ["deploy", *EVENT, "--host", "web-1", "--memo-note", "after the freeze", "--json"])
    assert result.exit_code == 0, result.stderr
    assert len(memo.BOOK) == 1
    entry = memo.BOOK[0]
    out = json.loads(result.stdout)
    assert entry == {"shelf": "ops", "event_key": out[0]["event_key"], "version": "v1.4.0",
                     "environment": "production", "status": "success", "commit": SHA, "host": "web-1",
                     "note": "after the freeze"}
    assert (out[0]["target"], out[0]["type"], out[0]["operation"], out[0]["ok"], out[0]["id"]) == \
        ("notes", "memo", "deploy", True, "1")
    assert "ok notes [web-1]: deploy (id 1)" in result.stderr
    # Without the option, the backend gets no value for it.
    assert run(tmp_path, ["deploy", *EVENT, "--host", "web-2"]).exit_code == 0
    assert memo.BOOK[1]["note"] is None and memo.BOOK[1]["host"] == "web-2"


def test_dry_run_records_nothing(memo: Any, tmp_path: Path) -> None:
    result = run(tmp_path, ["deploy", *EVENT, "--memo-note", "n", "--dry-run"])
    assert result.exit_code == 0, result.stderr
    assert memo.BOOK == []
    assert "ok notes: deploy: dry run: not recorded: {'shelf': 'ops'" in result.stderr
    assert "'note': 'n'" in result.stderr


def test_list_reads_back_what_was_recorded(memo: Any, tmp_path: Path) -> None:
    for version in ("v1", "v2"):
        assert run(tmp_path, ["deploy", "--version", version, "-e", "staging", "--commit", SHA]).exit_code == 0
    table = run(tmp_path, ["deployment", "list"])
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert [line.split() for line in lines[1:]] == [["notes", "1", "success", "v1", "staging", SHA[:12]],
                                                     ["notes", "2", "success", "v2", "staging", SHA[:12]]]
    assert "ok notes: deployment list (2 entries)" in table.stderr
    listed = json.loads(run(tmp_path, ["deployment", "list", "--json"]).stdout)
    assert [item["version"] for item in listed[0]["items"]] == ["v1", "v2"]


def test_a_transient_failure_is_spooled_then_flushed_once(memo: Any, tmp_path: Path) -> None:
    memo.FAIL_NEXT[0] = 1
    failed = run(tmp_path, ["deploy", *EVENT, "--memo-note", "retry me"])
    assert failed.exit_code == 0, failed.stderr  # an outage is tolerated: warn, spool, exit 0
    assert memo.BOOK == []
    assert ("shipmark: warning: notes: deploy failed: memo shelf unreachable "
            "(saved to the spool; `shipmark flush` resends it)") in failed.stderr
    spool = Path(__import__("os").environ["SHIPMARK_SPOOL"])
    [entry] = [json.loads(line) for line in spool.read_text().splitlines() if line.strip()]
    assert (entry["target"], entry["type"]) == ("notes", "memo")
    assert entry["request"]["options"] == {"memo_note": "retry me"}  # the spool keeps declared options as they are

    flushed = run(tmp_path, ["flush"])
    assert flushed.exit_code == 0, flushed.stderr
    assert "1 delivered, 0 still waiting" in flushed.stderr
    assert [(e["note"], e["version"]) for e in memo.BOOK] == [("retry me", "v1.4.0")]
    again = run(tmp_path, ["flush"])
    assert again.exit_code == 0 and len(memo.BOOK) == 1  # nothing left to resend
