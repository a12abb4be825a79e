"""Nothing is lost, nothing is doubled, when shipmark is killed.

- SIGKILL during delivery: the event was journaled (state "pending") before it
  was sent, so the spool holds it; `shipmark flush` looks it up by event_key and
  sends it only if the killed attempt did not land: exactly one record.
- SIGKILL during a spool write: write-then-rename leaves the old or the new
  file, never a half line, and the next writer removes the temp file.
- Two flushes at once: entries are claimed under a lock, each is sent once.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, List

import pytest

from tests.conftest import _LEAKY_PREFIXES, CANARY, SHA, assert_no_canary, shipmark_bin
from tests.faults.conftest import FakeReleaseBits, Project, creates_are_checked, rb_target, spool_failed, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def spawn(project: Project, args: List[str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES) and k != "CI"}
    env.update(project.env)
    return subprocess.Popen(shipmark_bin() + args, env=env, cwd=str(project.root), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def deploy_args(version: str = "v1.2.3", budget: str = "30") -> List[str]:
    return ["deploy", "--version", version, "-e", "production", "--commit", SHA, "--timeout", budget]


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)  # reaped: its pid is gone, so its spool entries are free to claim
    out, err = proc.communicate()
    assert_no_canary(out, err)


@pytest.mark.parametrize("landed", [False, True], ids=["killed-before-it-landed", "killed-after-it-landed"])
def test_kill_during_delivery_then_flush_delivers_exactly_once(fake: FakeReleaseBits, project: Project,
                                                                landed: bool) -> None:
    fake.fail("hang", land=landed)
    proc = spawn(project, deploy_args())
    assert wait_for(fake.got_post.is_set), "the POST never arrived"
    kill(proc)
    assert proc.returncode == -signal.SIGKILL

    # The journal entry survived the kill, whole.
    raw = project.spool.read_text()
    assert raw.endswith("\n") and len(raw.splitlines()) == 1
    (entry,) = project.spooled()
    assert entry["state"] == "pending" and entry["owner"]["pid"] == proc.pid
    assert entry["target"] == "rb" and entry["request"]["event"]["version"] == "v1.2.3"
    assert not list(project.spool.parent.glob("*.tmp"))

    fake.heal()
    fake.reset_log()
    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "1 delivered, 0 still waiting" in flushed.stderr
    assert fake.methods() == (["GET"] if landed else ["GET", "POST"])
    assert len(fake.created()) == 1
    assert project.spooled() == []

    # And the job's re-run is a no-op.
    fake.reset_log()
    rerun = project.run(*deploy_args(budget="5"))
    assert rerun.returncode == 0 and "already recorded" in rerun.stderr
    assert fake.methods() == ["GET"] and len(fake.created()) == 1


def test_kill_then_the_next_command_resends_first(fake: FakeReleaseBits, project: Project) -> None:
    fake.fail("hang")
    proc = spawn(project, deploy_args("v1"))
    assert wait_for(fake.got_post.is_set)
    kill(proc)
    fake.heal()
    nxt = project.run(*deploy_args("v2", budget="5"))
    assert nxt.returncode == 0, nxt.stderr
    assert "spool: resent 1 earlier event(s); 0 still waiting" in nxt.stderr
    assert [r["version"] for r in fake.created()] == ["v1", "v2"]
    assert creates_are_checked(fake.requests()) and project.spooled() == []


def test_an_entry_owned_by_a_live_process_is_left_alone(fake: FakeReleaseBits, project: Project) -> None:
    fake.fail("hang")
    proc = spawn(project, deploy_args())
    try:
        assert wait_for(fake.got_post.is_set)
        flushed = project.run("flush", "--timeout", "2")
        assert flushed.returncode == 0
        assert "0 delivered, 0 still waiting" in flushed.stderr
        assert len(fake.posts()) == 1  # the live process's POST only
        (entry,) = project.spooled()
        assert entry["owner"]["pid"] == proc.pid
    finally:
        kill(proc)


def test_kill_during_spool_writes_never_corrupts_it(tmp_path: Path) -> None:
    spool_file = tmp_path / "spool.jsonl"
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from shipmark import spool
        path = Path({str(spool_file)!r})
        big = {{"operation": "deploy", "event": {{"kind": "deployment", "operation": "deploy",
                                                 "meta": {{"blob": "x" * 20000}}}}}}
        i = 0
        print("ready", flush=True)
        while True:
            i += 1
            entry = spool.make_entry("t%d" % (i % 7), None, big, "key%d" % (i % 7))
            spool.journal(path, [entry])
            spool.settle_all(path, [spool.Settlement(spool.entry_id(entry), delivered=False, error="error %d" % i)])
            if i % 3 == 0:
                spool.remove(path, ["t%d:deploy:key%d" % (i % 5, i % 5)])
    """)
    for round_ in range(8):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.05 + 0.03 * round_)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        if spool_file.exists():
            text = spool_file.read_text()
            assert text == "" or text.endswith("\n")
            entries = [json.loads(line) for line in text.splitlines()]  # every line is whole JSON
            ids = [f"{e['target']}:deploy:{e['event_key']}" for e in entries]
            assert len(ids) == len(set(ids)) <= 7
    # A temp file left by a killed writer is cleaned up by the next write.
    spool_failed(spool_file, "t", {"operation": "deploy"}, "k", "e")
    assert not list(tmp_path.glob("*.tmp"))


def test_two_flushes_at_once_send_each_entry_once(fake: FakeReleaseBits, project: Project) -> None:
    for n in range(6):
        request = {"operation": "deploy", "event": {
            "kind": "deployment", "operation": "deploy", "version": f"v{n}", "environment": "production",
            "status": "success", "commit": SHA, "event_key": f"key{n}"}}
        spool_failed(project.spool, "rb", request, f"key{n}", "HTTP 503", target_type="releasebits",
                     may_have_landed=True, secrets=[CANARY])
    fake.latency = 0.1
    first, second = spawn(project, ["flush"]), spawn(project, ["flush"])
    outs = [p.communicate(timeout=60) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    for out, err in outs:
        assert_no_canary(out, err)
    assert sorted(r["version"] for r in fake.created()) == [f"v{n}" for n in range(6)]
    assert len(fake.posts()) == 6
    assert project.spooled() == []


def test_flush_keeps_entries_for_targets_it_does_not_know(fake: FakeReleaseBits, tmp_path: Path) -> None:
    project = Project(tmp_path, {"rb": rb_target(fake.url)})
    request = {"operation": "deploy", "event": {"kind": "deployment", "operation": "deploy", "version": "v1",
                                                "event_key": "k1"}}
    spool_failed(project.spool, "gone", request, "k1", "HTTP 503", target_type="releasebits")
    spool_failed(project.spool, "rb", request, "k1", "HTTP 503", target_type="deploybot")
    flushed = project.run("flush")
    assert flushed.returncode == 0
    assert "spool: target 'gone' is not configured here; it is kept (`shipmark flush --drop gone`" in flushed.stderr
    assert "spool: target 'rb' is now a releasebits target, the entry was for 'deploybot'; it is kept" \
        in flushed.stderr
    entries: Dict[str, dict] = {e["target"]: e for e in project.spooled()}
    assert set(entries) == {"gone", "rb"} and all(e["owner"] is None for e in entries.values())
    assert fake.requests() == []
