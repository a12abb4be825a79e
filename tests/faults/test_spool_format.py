"""Unsigned spool entries (shipmark 0.1.0's, and format 2's) are quarantined, never resent.

0.1.0 wrote entries without a format version or an integrity tag; format 2 had room
for a tag but left it null. Nothing tells such an entry from one planted by another
process running as the same user, so for a target that has a secret it is moved to
the quarantine file next to the spool, once, with a message saying where, and nothing
is sent. The entries below are written by hand exactly as 0.1.0 wrote them (one JSON
object per line, keys sorted), then flushed through the installed CLI against a fake
service.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any, Dict

import pytest

from tests.conftest import SHA
from tests.faults.conftest import FakeReleaseBits, Project, warnings

EVENT_KEY = "7f2f6d465b1ed688"  # what 0.1.0 computed for this event and the target "rb"


def entry_as_0_1_0_wrote_it(state: str) -> Dict[str, Any]:
    context = {key: None for key in (
        "actor", "branch", "build", "build_url", "ci_name", "commit", "environment", "job", "job_url",
        "pipeline_id", "pr", "pr_base_branch", "pr_base_sha", "pr_head_branch", "pr_head_sha",
        "pr_merge_base_sha", "pr_merge_ref", "repository_url", "slug", "source", "stage", "tag")}
    context.update(ci_name="github_actions", is_ci=True, is_pr=False, commit=SHA, branch="main",
                   build="9876543210", pipeline_id="9876543210", job="deploy", slug="acme/shop",
                   build_url="https://github.com/acme/shop/actions/runs/9876543210",
                   repository_url="https://github.com/acme/shop.git", actor="octo-dev", source="env")
    event = {"branch": "main", "commit": SHA, "context": context, "environment": "production",
             "event_key": EVENT_KEY, "finished_at": "2026-11-20T09:14:01.285423Z", "host": None,
             "kind": "deployment", "meta": {}, "name": None, "operation": "deploy", "started_at": None,
             "status": "success", "tag": None, "version": "v1.2.3"}
    request = {"build": None, "command": "deploy", "dry_run": False, "environment_explicit": True,
               "event": event, "force": False, "id": None, "limit": 100, "operation": "deploy", "params": {},
               "pipeline": None, "reason": None, "template": None}
    entry = {"attempts": 1, "error": "could not reach http://127.0.0.1:9: connection refused",
             "event_key": EVENT_KEY, "may_have_landed": False, "owner": None, "request": request,
             "spooled_at": "2026-11-20T09:14:01+00:00", "state": "failed", "target": "rb",
             "type": "releasebits", "updated_at": "2026-11-20T09:14:02+00:00"}
    if state == "pending":  # the process delivering it was killed
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        entry.update(attempts=0, error="", state="pending", updated_at=entry["spooled_at"],
                     owner={"pid": dead.pid, "host": socket.gethostname(), "start": None, "since": time.time()})
    return entry


@pytest.mark.parametrize("state", ["failed", "pending"])
@pytest.mark.parametrize("written_by", ["0.1.0", "format 2"])
def test_an_unsigned_spool_entry_is_quarantined_once_and_not_sent(fake: FakeReleaseBits, project: Project,
                                                                  state: str, written_by: str) -> None:
    old = entry_as_0_1_0_wrote_it(state)
    if written_by == "format 2":
        old.update(v=2, sig=None)
    project.spool.parent.mkdir(parents=True, exist_ok=True)
    project.spool.write_text(json.dumps(old, sort_keys=True, ensure_ascii=False) + "\n")

    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    quarantine = project.spool.with_name(project.spool.name + ".quarantine")
    unsigned = "it is unsigned (written by shipmark 0.1.0)" if written_by == "0.1.0" else "it is unsigned"
    assert warnings(flushed.stderr) == [
        f"shipmark: warning: spool: not sending deploy version 'v1.2.3' to 'production' (event '{EVENT_KEY}') "
        f"for 'rb': {unsigned}; moved to {quarantine}"]
    assert "0 delivered, 0 still waiting" in flushed.stderr
    assert fake.requests() == [] and project.spooled() == []
    (kept,) = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert kept["request"] == old["request"] and kept["why"] == unsigned
    assert oct(quarantine.stat().st_mode & 0o777) == "0o600"

    again = project.run("deploy", "--version", "v2", "-e", "production", "--commit", SHA)  # said once
    assert again.returncode == 0 and warnings(again.stderr) == [] and "spool" not in again.stderr
    assert [r["version"] for r in fake.created()] == ["v2"]
