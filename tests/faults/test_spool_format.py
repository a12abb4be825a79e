"""Spool entries written by shipmark 0.1.0 are still resent, once, by this version.

0.1.0 wrote entries without a format version or an integrity tag, and kept
BuildMaster's template, pipeline and force as fields of the request itself. The
entries below are written by hand exactly as 0.1.0 wrote them (one JSON object per
line, keys sorted), then flushed through the installed CLI against a fake service.
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
from tests.faults.conftest import FakeReleaseBits, Project, creates_are_checked

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
def test_a_0_1_0_spool_entry_is_flushed_and_delivered_once(fake: FakeReleaseBits, project: Project,
                                                            state: str) -> None:
    project.spool.parent.mkdir(parents=True, exist_ok=True)
    project.spool.write_text(json.dumps(entry_as_0_1_0_wrote_it(state), sort_keys=True, ensure_ascii=False) + "\n")

    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "1 delivered, 0 still waiting" in flushed.stderr
    assert fake.methods() == ["GET", "POST"] and creates_are_checked(fake.requests())
    (record,) = fake.created()
    assert record["version"] == "v1.2.3" and record["commit_sha"] == SHA
    assert record["meta_data"]["shipmark_event_key"] == EVENT_KEY
    assert project.spooled() == []

    again = project.run("flush")  # nothing is left to send twice
    assert again.returncode == 0 and len(fake.created()) == 1 and fake.methods() == ["GET", "POST"]
