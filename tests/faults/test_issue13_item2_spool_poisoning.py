"""The spool cannot be poisoned by another process running as the same OS user.

Every command resends what the spool holds, with the token it has now. Another job
on a shared build agent (same user, no access to our token) can read and write the
default spool. These tests perform that attack through the installed console script
against a fake service and assert that nothing reaches the service and that the
user is told why: a tampered entry, planted entries asking for a forced build deploy
or a release cancel, and a spool others can write.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.conftest import CANARY, SHA, make_request
from tests.faults.conftest import COMPONENT, FakeReleaseBits, Project, errors, rb_target, warnings

# Run as the attacker: the same user and spool, but no token in the environment.
ATTACKER = r"""
import hashlib, hmac, json, sys
path, action = sys.argv[1], sys.argv[2]
lines = [json.loads(line) for line in open(path) if line.strip()]
if action == "tamper":  # point a waiting event at another environment, keep its signature
    for entry in lines:
        if entry["event_key"] == sys.argv[3]:
            entry["request"]["event"]["environment"] = "production-eu"
else:  # plant new entries, signed with whatever the attacker has
    lines.extend(json.loads(sys.argv[3]))
open(path, "w").write("".join(json.dumps(e) + "\n" for e in lines))
"""


def attack(spool: Path, action: str, arg: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RB_TOKEN", "BM_TOKEN")}
    subprocess.run([sys.executable, "-c", ATTACKER, str(spool), action, arg], env=env, check=True)


def quarantine_of(project: Project) -> Path:
    return project.spool.with_name(project.spool.name + ".quarantine")


def quarantined(project: Project) -> List[Dict[str, Any]]:
    path = quarantine_of(project)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_tampered_entry_is_quarantined_and_the_untouched_one_delivered(fake: FakeReleaseBits,
                                                                         project: Project) -> None:
    fake.fail("status", status=503, times=-1)
    for version in ("v1", "v2"):
        assert project.deploy(version=version, timeout_budget="1.5").returncode == 0
    waiting = {e["request"]["event"]["version"]: e for e in project.spooled()}
    assert set(waiting) == {"v1", "v2"} and all(len(e["sig"]) == 64 for e in waiting.values())
    attack(project.spool, "tamper", waiting["v2"]["event_key"])
    fake.heal()
    fake.reset_log()

    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    key = waiting["v2"]["event_key"]
    assert warnings(flushed.stderr) == [
        f"shipmark: warning: spool: not sending deploy version 'v2' to 'production-eu' (event '{key}') for 'rb': "
        f"its signature does not match the target's current secrets; moved to {quarantine_of(project)}"]
    assert [(r["version"], r["stage"]) for r in fake.created()] == [("v1", "production")]
    assert project.spooled() == []
    (moved,) = quarantined(project)
    assert moved["request"]["event"]["environment"] == "production-eu"


def planted(operation: str, signed_as: str, **fields: Any) -> Dict[str, Any]:
    """An entry for target bm as shipmark would write it, signed as the attacker can."""
    from shipmark import spool

    request = make_request(operation, target="bm", **fields)
    entry = spool.make_entry("bm", "buildmaster", request.to_json_dict(), request.event.event_key, state="failed")
    if signed_as == "another key":
        from shipmark.spool_trust import signature, signing_key

        entry["sig"] = signature(entry, signing_key(["the-attackers-own-token"]))
    if signed_as == "format 2":  # what the format before signing wrote: a null signature
        entry.update(v=2, sig=None)
    if signed_as == "0.1.0":
        entry.pop("v")
        entry.pop("sig")
    return entry


@pytest.mark.parametrize("signed_as", ["another key", "format 2", "0.1.0"])
def test_planted_release_cancel_and_forced_build_deploy_are_never_sent(fake: FakeReleaseBits, tmp_path: Path,
                                                                       signed_as: str) -> None:
    bm = {"type": "buildmaster", "url": fake.url, "token": "${BM_TOKEN}", "application": 42}
    project = Project(tmp_path, {"rb": rb_target(fake.url), "bm": bm}, env={"BM_TOKEN": CANARY + "-bm"})
    project.spool.parent.mkdir(parents=True)
    project.spool.touch(mode=0o600)
    attack(project.spool, "plant", json.dumps([
        planted("release_cancel", signed_as, version="2.0", reason="planted"),
        planted("build_deploy", signed_as, version="2.0", build="7", environment="Production", force=True),
    ]))

    # Today's command still delivers today's event; the planted entries reach nobody.
    proc = project.deploy("-t", "rb")
    assert proc.returncode == 0, proc.stderr
    assert [s.path.split("?")[0] for s in fake.requests("POST")] == [f"/components/{COMPONENT}/deployments/"]
    assert [s for s in fake.requests() if "/components/" not in s.path] == []
    told = warnings(proc.stderr)
    assert len(told) == 2 and not errors(proc.stderr)
    assert "not sending release cancel version '2.0'" in told[0]
    assert "not sending build deploy version '2.0' to 'Production'" in told[1]
    assert all(f"for 'bm': it is unsigned" in line or "its signature does not match" in line for line in told)
    assert all(line.endswith(f"moved to {quarantine_of(project)}") for line in told)
    assert project.spooled() == [] and len(quarantined(project)) == 2

    again = project.deploy("-t", "rb", version="v2")  # reported once: the spool is clean now
    assert again.returncode == 0 and warnings(again.stderr) == []


@pytest.mark.parametrize("loose", ["directory", "file"])
def test_a_spool_others_can_write_is_refused(fake: FakeReleaseBits, project: Project, loose: str) -> None:
    fake.fail("status", status=503, times=-1)
    assert project.deploy(version="v1", timeout_budget="1.5").returncode == 0
    (waiting,) = project.spooled()
    fake.heal()
    fake.reset_log()
    where = project.spool.parent if loose == "directory" else project.spool
    where.chmod(0o770 if loose == "directory" else 0o660)
    before = project.spool.read_bytes()

    proc = project.deploy(version="v2")
    assert proc.returncode == 0, proc.stderr
    # Today's event is delivered; the waiting one is not read, nothing is written to the spool.
    assert [r["version"] for r in fake.created()] == ["v2"]
    assert project.spool.read_bytes() == before
    (refused,) = warnings(proc.stderr)
    assert refused.startswith(f"shipmark: warning: spool: not using {project.spool}: the spool {loose} {where} "
                              "is writable by group, so another account could plant events")
    assert "set SHIPMARK_SPOOL to a file in a directory only you can write" in refused

    flushed = project.run("flush")
    assert flushed.returncode == 0 and len(fake.posts()) == 1
    assert warnings(flushed.stderr) == [refused]
    assert project.spool.read_bytes() == before

    where.chmod(0o700 if loose == "directory" else 0o600)  # fixed as the message says: resent
    assert project.run("flush").returncode == 0
    assert [r["version"] for r in fake.created()] == ["v2", "v1"] and project.spooled() == []
    assert waiting["event_key"] == fake.created()[1]["meta_data"]["shipmark_event_key"]


def test_a_write_with_the_jobs_github_token_is_retried_then_reported_lost(fake: FakeReleaseBits,
                                                                          project: Project) -> None:
    fake.fail("status", status=503, times=-1, body={"message": "maintenance"})
    proc = project.deploy(timeout_budget="3", env={"GITHUB_TOKEN": CANARY})
    assert proc.returncode == 0, proc.stderr
    # Tried again at the end of the run (each try is a lookup and a create), then given up.
    assert fake.methods().count("POST") >= 2 and fake.created() == []
    lost = [line for line in warnings(proc.stderr) if "is lost" in line]
    assert len(lost) == 1 and lost[0].startswith("shipmark: warning: spool: rb: deploy (event ")
    assert "failed again when retried at the end of this run" in lost[0]
    assert "its token is this job's GITHUB_TOKEN, which no later run can use" in lost[0]
    assert "saved to the spool" not in proc.stderr
    assert project.spooled() == [] and not quarantine_of(project).exists()
