"""A ${VAR} in a URL's host cannot send the request (and its token) to another host."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli
from tests.faults.conftest import FakeReleaseBits

EVENT = ["--version", "v1.2.3", "-e", "production", "--commit", SHA]


def test_issue13_item5_a_variable_cannot_move_the_host(tmp_path: Path, fake: FakeReleaseBits) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  preview: {type: releasebits, url: 'http://${BRANCH}.preview.example.com', allow_insecure: true,"
        " component: web, token: '${RB_TOKEN}'}\n")
    branch = f"127.0.0.1:{fake.port}#"
    proc = run_cli(["deploy", *EVENT], env={"BRANCH": branch, "RB_TOKEN": CANARY}, cwd=tmp_path)
    assert fake.requests() == []
    assert proc.returncode == 2, proc.stderr
    assert ("shipmark.yml: target 'preview': key 'url': the value of BRANCH would change the URL's host"
            in proc.stderr)
    assert branch not in proc.stderr
    assert_no_canary(proc.stdout, proc.stderr)


@pytest.mark.parametrize("value", ["evil.example@good", "good.example/x", "good.example?x", "a b", "a\tb"])
def test_issue13_item5_every_host_mover_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  p: {type: releasebits, url: 'https://${HOST}:8443/api', component: web, token: t0ken-x}\n")
    proc = run_cli(["deploy", "--dry-run", *EVENT], env={"HOST": value}, cwd=tmp_path)
    assert proc.returncode == 2 and "the value of HOST would change the URL's host" in proc.stderr
    assert value not in proc.stderr


def test_issue13_item5_plain_hosts_and_whole_url_variables_still_work(tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  a: {type: releasebits, url: 'https://${BRANCH}.preview.example.com/api?x=${Q}', component: web,"
        " token: t0ken-x}\n"
        "  b: {type: releasebits, url: '${RB_URL}', component: web, token: t0ken-x}\n")
    env = {"BRANCH": "feature-1", "Q": "a/b?c", "RB_URL": "https://rb.example.com/v1/"}
    proc = run_cli(["deploy", "--dry-run", "--json", *EVENT], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "https://feature-1.preview.example.com/api" in proc.stderr and "https://rb.example.com/v1/" in proc.stderr
    bad = run_cli(["deploy", "--dry-run", *EVENT], env={**env, "RB_URL": "https://rb.example.com@evil.example/"},
                  cwd=tmp_path)
    assert bad.returncode == 2 and "the value of RB_URL would change the URL's host" in bad.stderr
