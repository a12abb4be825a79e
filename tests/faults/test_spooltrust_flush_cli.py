"""`shipmark flush` tells the truth: a dry run says what it would resend, spool lines carry
the shipmark prefix, a waiting entry nobody can resend is mentioned once and can end
(`flush --drop TARGET`, or the expiry age). All through the installed console script.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict

from tests.conftest import CANARY, SHA
from tests.faults.conftest import FakeReleaseBits, Project, rb_target, spool_failed, warnings


def request_for(version: str, key: str) -> Dict[str, Any]:
    return {"operation": "deploy", "event": {"kind": "deployment", "operation": "deploy", "version": version,
                                             "environment": "production", "status": "success", "commit": SHA,
                                             "event_key": key}}


def spool_lines(text: str) -> list:
    return [line for line in text.splitlines() if "spool" in line]


def spooled_by_an_outage(fake: FakeReleaseBits, project: Project, version: str) -> str:
    """Let a deploy fail and spool its event; the outage then ends. Returns the event key."""
    fake.fail("status", status=503, times=-1)
    assert project.deploy(version=version, timeout_budget="1.5").returncode == 0
    fake.heal()
    fake.reset_log()
    (entry,) = [e for e in project.spooled() if e["request"]["event"]["version"] == version]
    return entry["event_key"]


def test_flush_dry_run_says_what_it_would_resend_and_sends_nothing(fake: FakeReleaseBits, project: Project) -> None:
    key = spooled_by_an_outage(fake, project, "v1.2.3")
    before = project.spool.read_bytes()

    dry = project.run("flush", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.splitlines() == [
        f"shipmark: spool: would resend to 'rb': deploy v1.2.3 to production (event {key})",
        f"shipmark: spool: {project.spool}: dry run, nothing sent; 1 would be resent"]
    assert "delivered" not in dry.stderr
    assert fake.requests() == [] and project.spool.read_bytes() == before

    as_json = project.run("flush", "--dry-run", "--json")
    (result,) = json.loads(as_json.stdout)
    assert result["target"] == "rb" and result["event_key"] == key and result["operation"] == "deploy"
    assert result["message"] == f"dry run: would resend deploy v1.2.3 to production (event {key})"
    assert fake.requests() == [] and project.spool.read_bytes() == before


def test_every_spool_line_carries_the_shipmark_prefix(fake: FakeReleaseBits, project: Project) -> None:
    spooled_by_an_outage(fake, project, "v1")
    resent = project.deploy(version="v2")  # resends the waiting event first
    assert resent.returncode == 0, resent.stderr
    lines = spool_lines(resent.stderr)
    assert lines[0].startswith("shipmark: spool: ok rb: deploy (id ")
    assert lines[1:] == ["shipmark: spool: resent 1 earlier event(s); 0 still waiting"]
    spooled_by_an_outage(fake, project, "v3")
    flushed = project.run("flush")
    lines = spool_lines(flushed.stderr)
    assert len(lines) == 2 and all(line.startswith("shipmark: spool: ") for line in lines)
    assert lines[1] == f"shipmark: spool: {project.spool}: 1 delivered, 0 still waiting"


def test_an_entry_for_a_target_no_longer_configured_is_mentioned_once_and_can_be_dropped(
        fake: FakeReleaseBits, tmp_path: Path) -> None:
    project = Project(tmp_path, {"rb": rb_target(fake.url)})
    for key in ("k1", "k2"):
        spool_failed(project.spool, "gone", request_for("v1", key), key, "HTTP 503", target_type="releasebits")
    first = project.deploy(version="v1")
    assert first.returncode == 0, first.stderr
    assert warnings(first.stderr) == [
        "shipmark: warning: spool: target 'gone' is not configured here; its 2 entries are kept "
        "(`shipmark flush --drop gone` removes them, else they expire 7 days after they were spooled)"]
    for _ in range(2):  # not again on every command
        later = project.deploy(version="v2")
        assert later.returncode == 0 and warnings(later.stderr) == [] and "spool" not in later.stderr

    dropped = project.run("flush", "--drop", "gone", "--dry-run")
    assert dropped.stderr.splitlines() == ["shipmark: spool: would drop 2 entries for target 'gone'"]
    assert len(project.spooled()) == 2
    as_json = project.run("flush", "--drop", "gone", "--drop", "never-spooled", "--dry-run", "--json")
    assert json.loads(as_json.stdout) == [
        {"target": "gone", "type": None, "operation": "flush", "ok": True, "status_code": None, "id": None,
         "url": None, "error": None, "event_key": None, "skipped": False, "message": "would drop 2 entries"},
        {"target": "never-spooled", "type": None, "operation": "flush", "ok": True, "status_code": None,
         "id": None, "url": None, "error": None, "event_key": None, "skipped": False,
         "message": "would drop 0 entries"}]
    dropped = project.run("flush", "--drop", "gone")
    assert dropped.returncode == 0
    assert dropped.stderr.splitlines() == ["shipmark: spool: dropped 2 entries for target 'gone'"]
    assert project.spooled() == [] and [r["version"] for r in fake.created()] == ["v1", "v2"]


def test_entries_expire_after_seven_days_with_a_note(fake: FakeReleaseBits, project: Project) -> None:
    from shipmark import spool
    from shipmark.spool_trust import sign, signing_key

    spool_failed(project.spool, "rb", request_for("v-old", "k-old"), "k-old", "HTTP 503",
                 target_type="releasebits", secrets=[CANARY])
    spool_failed(project.spool, "gone", request_for("v-gone", "k-gone"), "k-gone", "HTTP 503",
                 target_type="releasebits")
    eight_days_ago = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat(timespec="seconds")
    entries = [dict(e, spooled_at=eight_days_ago) for e in project.spooled()]
    sign(entries[0], signing_key([CANARY]))  # written by the token holder: only its age is against it
    with spool._locked(project.spool):
        spool._write(project.spool, entries)

    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert warnings(flushed.stderr) == [
        "shipmark: warning: spool: dropped deploy version 'v-old' to 'production' (event 'k-old') for 'rb': "
        "not delivered within 7 days of being spooled",
        "shipmark: warning: spool: dropped deploy version 'v-gone' to 'production' (event 'k-gone') for 'gone': "
        "not delivered within 7 days of being spooled"]
    assert fake.requests() == [] and project.spooled() == []
