"""Wording people read (through the real console script): rounded durations, counted nouns."""
from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import CANARY, run_cli


def test_issue12_item14_durations_are_rounded(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        env = {"SHIPMARK_TARGET_DB_TYPE": "deploybot", "SHIPMARK_TARGET_DB_URL": url, "SHIPMARK_TARGET_DB_TOKEN": CANARY}
        proc = run_cli(["deployment", "list", "--timeout", "2.4888"], env=env, cwd=tmp_path)
    assert "did not answer within 2.5s" in proc.stderr
    assert "2.4888" not in proc.stderr


def test_issue12_item14_one_target_is_singular(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text("targets:\n  out: {type: file, path: events.jsonl}\n")
    proc = run_cli(["check"], cwd=tmp_path)
    assert proc.returncode == 0
    assert "config OK" in proc.stderr and ": 1 target: out" in proc.stderr and "(s)" not in proc.stderr


def test_issue12_item14_wording_helpers() -> None:
    from shipmark.wording import count, seconds

    assert [count(n, "entry") for n in (0, 1, 2)] == ["0 entries", "1 entry", "2 entries"]
    assert count(1, "repository") == "1 repository" and count(3, "day") == "3 days"
    assert [seconds(v) for v in (2.4888, 0.04, 1.0, 27.51, 600)] == ["2.5s", "0.04s", "1s", "28s", "600s"]
