"""The spool as a write-ahead journal, and the delivery policy around it.

Delivery is driven with small in-memory backends (registered for the test) so
every branch is reachable without a network: a service with an event_key lookup,
one without, one that never answers.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from shipmark import delivery, spool, spool_trust
from shipmark.delivery import fanout
from shipmark.delivery import Job, Options
from shipmark.errors import ApiError, ExitStatus
from shipmark.models import Result, Status
from shipmark.output import Console
from shipmark.targets import TARGET_TYPES
from shipmark.targets.base import Request, Target, TargetConfig
from tests.conftest import make_request
from tests.faults.conftest import spool_failed


# -- paths -------------------------------------------------------------------------------------

def test_spool_path_precedence(tmp_path: Path) -> None:
    assert spool.spool_path("cfg.jsonl", {"SHIPMARK_SPOOL": "/x/env.jsonl"}) == Path("/x/env.jsonl")
    assert spool.spool_path("~/cfg.jsonl", {}) == Path(os.path.expanduser("~/cfg.jsonl"))
    assert spool.spool_path(None, {"RUNNER_TEMP": "/rt"}) == Path("/rt/shipmark-spool.jsonl")
    cache = spool.spool_path(None, {"XDG_CACHE_HOME": str(tmp_path)}, cwd="/builds/acme/web")
    assert cache.parent == tmp_path / "shipmark" and cache.name.startswith("spool-web-")


def test_default_spool_is_one_per_working_directory(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    a1 = spool.spool_path(None, env, cwd="/ws/project-a")
    assert a1 == spool.spool_path(None, env, cwd="/ws/project-a")  # a re-run finds its spool
    assert a1 != spool.spool_path(None, env, cwd="/ws/project-b")  # another project does not


# -- the file --------------------------------------------------------------------------------------

def entry(target: str = "t", key: str = "k1", signing: Optional[bytes] = None, **kw: Any) -> Dict[str, Any]:
    return spool.make_entry(target, "file", {"operation": "deploy", "event": {"event_key": key}}, key,
                            key=signing, **kw)


def test_journal_then_settle_delivered_removes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    e = entry()
    spool.journal(path, [e])
    (saved,) = spool.load(path)
    assert saved["state"] == "pending" and saved["owner"]["pid"] == os.getpid()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert spool.settle_all(path, [spool.Settlement(spool.entry_id(e), delivered=True)]) == set()
    assert not path.exists() and not spool.has_entries(path)


def test_settle_failed_keeps_it_once_with_attempts(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    e = entry()
    for n in range(3):
        spool.journal(path, [e])
        eid = spool.entry_id(e)
        assert spool.settle_all(path, [spool.Settlement(eid, delivered=False, error=f"503 #{n}",
                                                        may_have_landed=(n == 0))]) == {eid}
    (saved,) = spool.load(path)
    assert saved["state"] == "failed" and saved["owner"] is None and saved["attempts"] == 3
    assert saved["error"] == "503 #2" and saved["may_have_landed"] is True  # sticky


def test_a_failed_event_is_kept_once_and_refreshed(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool_failed(path, "t", {"operation": "deploy"}, "k", "first")
    spool_failed(path, "t", {"operation": "deploy"}, "k", "second")
    spool_failed(path, "t", {"operation": "deploy"}, "other", "x")
    entries = spool.load(path)
    assert [e["error"] for e in entries] == ["second", "x"] and entries[0]["attempts"] == 2


def test_remove_keeps_what_others_added(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool_failed(path, "t", {"operation": "deploy"}, "a", "")
    spool_failed(path, "t", {"operation": "deploy"}, "b", "")
    spool.remove(path, ["t:deploy:a"])
    assert [e["event_key"] for e in spool.load(path)] == ["b"]


def test_a_failed_write_leaves_the_old_spool_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.jsonl"
    spool_failed(path, "t", {"operation": "deploy"}, "a", "")
    before = path.read_bytes()

    def crash(*_a: Any) -> None:
        raise KeyboardInterrupt  # as if killed between writing the temp file and renaming it

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        spool.journal(path, [entry(key="b")])
    assert path.read_bytes() == before and not list(tmp_path.glob("*.tmp"))


def test_leftover_temp_files_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    (tmp_path / "s.jsonl.abc123.tmp").write_text('{"half":')
    spool.journal(path, [entry(key="a")])
    assert not list(tmp_path.glob("*.tmp")) and len(spool.load(path)) == 1


def test_damaged_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"target": "t", "request": {"operation": "deploy"}, "event_key": "a"}\n{"trunc\n[1,2]\n\n')
    assert [e["event_key"] for e in spool.load(path)] == ["a"]


def test_entries_carry_a_format_version_and_a_signature_keyed_by_the_targets_secrets(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    key = spool_trust.signing_key(["token-one", "webhook-two"])
    spool.journal(path, [entry(signing=key)])
    (saved,) = spool.load(path)
    assert saved["v"] == spool.FORMAT == 3 and len(saved["sig"]) == 64
    assert spool_trust.why_untrusted(saved, key) is None
    # Every secret counts: the same token with another second secret is another key.
    assert spool_trust.why_untrusted(saved, spool_trust.signing_key(["token-one", "other"])) is not None
    assert spool_trust.why_untrusted(saved, spool_trust.signing_key(["token-one"])) is not None
    # Bookkeeping may change without breaking it; what the entry asks to send may not.
    assert spool_trust.why_untrusted(dict(saved, attempts=9, state="failed", error="x"), key) is None
    for field, value in (("target", "u"), ("type", "deploybot"), ("event_key", "k2"), ("spooled_at", "2099"),
                         ("request", {"operation": "release_cancel", "event": {"event_key": "k1"}})):
        assert spool_trust.why_untrusted(dict(saved, **{field: value}), key) == \
            "its signature does not match the target's current secrets", field


def test_a_target_without_secrets_writes_and_accepts_unsigned_entries(tmp_path: Path) -> None:
    assert spool_trust.signing_key([]) is None and spool_trust.signing_key(["", None]) is None
    unsigned = entry()
    assert unsigned["sig"] is None and spool_trust.why_untrusted(unsigned, None) is None
    assert spool_trust.why_untrusted(unsigned, b"k" * 32) == "it is unsigned"
    old = {k: v for k, v in unsigned.items() if k not in ("v", "sig")}
    assert spool_trust.why_untrusted(old, b"k" * 32) == "it is unsigned (written by shipmark 0.1.0)"


def test_a_0_1_0_entry_journaled_again_is_rewritten_in_the_current_format(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    old = {k: v for k, v in entry(state="failed").items() if k not in ("v", "sig")}  # 0.1.0 wrote neither
    old["attempts"] = 1
    with spool._locked(path):
        spool._write(path, [old])
    assert spool.entry_format(spool.load(path)[0]) == 1 and spool.readable(spool.load(path)[0])
    key = spool_trust.signing_key(["tok"])
    spool.journal(path, [entry(signing=key)])
    (saved,) = spool.load(path)
    assert saved["v"] == spool.FORMAT and spool_trust.why_untrusted(saved, key) is None
    assert saved["state"] == "pending" and saved["attempts"] == 1


def test_the_spool_is_refused_when_others_can_write_it(tmp_path: Path) -> None:
    private = tmp_path / "private"
    path = private / "s.jsonl"
    spool.journal(path, [entry()])
    assert oct(private.stat().st_mode & 0o777) == "0o700"
    for where, mode in ((path, 0o620), (path, 0o602), (private, 0o770), (private, 0o1777)):
        before = where.stat().st_mode & 0o7777
        where.chmod(mode)
        with pytest.raises(spool.UntrustedSpool, match="is writable by"):
            spool.load(path)
        where.chmod(before)
    assert len(spool.load(path)) == 1


def test_expiry_counts_from_when_the_entry_was_first_spooled() -> None:
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    fresh = entry()
    assert not spool.expired(fresh)
    assert spool.expired(fresh, now + timedelta(days=spool.EXPIRY_DAYS, seconds=1))
    assert not spool.expired(fresh, now + timedelta(days=spool.EXPIRY_DAYS - 1))
    assert spool.expired(dict(fresh, spooled_at="garbage"))


# -- owners and claims ----------------------------------------------------------------------------

def test_owner_alive_rules() -> None:
    me = spool.current_owner()
    assert spool.owner_alive(me) is False  # our own entries are not "in flight elsewhere"
    assert spool.owner_alive(None) is False and spool.owner_alive({"pid": "x"}) is False
    other_host = dict(me, host=socket.gethostname() + "-elsewhere")
    assert spool.owner_alive(other_host) is True
    assert spool.owner_alive(dict(other_host, since=time.time() - 2 * spool.FOREIGN_OWNER_TTL)) is False
    parent = dict(me, pid=os.getppid(), start=spool._process_start(os.getppid()))
    assert spool.owner_alive(parent) is True
    assert spool.owner_alive(dict(parent, start="1")) is False  # the pid was reused
    assert spool.owner_alive(dict(parent, since=time.time() - 2 * spool.OWNER_TTL)) is False


def test_claim_skips_live_owners_and_takes_dead_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = dict(entry(key="live"), owner={"pid": child.pid, "host": socket.gethostname(),
                                              "start": spool._process_start(child.pid), "since": time.time()})
        dead_proc = subprocess.Popen([sys.executable, "-c", "pass"])
        dead_proc.wait()
        dead = dict(entry(key="dead"), owner={"pid": dead_proc.pid, "host": socket.gethostname(), "start": None,
                                              "since": time.time()})
        failed = entry(key="failed", state="failed")
        with spool._locked(path):
            spool._write(path, [live, dead, failed])
        claimed = {e["event_key"]: e for e in spool.claim(path)}
        assert set(claimed) == {"dead", "failed"}
        assert claimed["dead"]["may_have_landed"] is True  # its owner died mid-send
        assert claimed["failed"]["may_have_landed"] is False
        on_disk = {e["event_key"]: e for e in spool.load(path)}
        assert on_disk["failed"]["owner"]["pid"] == os.getpid() and on_disk["failed"]["state"] == "pending"
        spool.release(path, "t:deploy:failed", error="again")
        assert spool.load(path)[2]["owner"] is None and spool.load(path)[2]["attempts"] == 1
    finally:
        child.kill()
        child.wait()


# -- delivery with in-memory backends ----------------------------------------------------------------

class MemConfig(TargetConfig):
    url_required = False


class MemService:
    """A service keeping records by event_key; scripted failures per send."""

    def __init__(self) -> None:
        self.records: Dict[str, int] = {}
        self.sends = 0
        self.lookups = 0
        self.script: List[Optional[ApiError]] = []  # one per send; None = succeed
        self.land_on_failure = False
        self.lock = threading.Lock()


SERVICE = MemService()


class WithLookup(Target):
    type = "mem-lookup"
    config_model = MemConfig
    status_map = {s: s.value for s in Status}
    supports_lookup = True
    use_lookup = True

    def deploy(self, request: Request) -> Result:
        key = request.event.event_key

        def send() -> Result:
            with SERVICE.lock:
                SERVICE.sends += 1
                failure = SERVICE.script.pop(0) if SERVICE.script else None
                if failure is None or SERVICE.land_on_failure:
                    SERVICE.records[key] = SERVICE.records.get(key, 0) + 1
            if failure is not None:
                raise ApiError(failure.message, transient=failure.transient, may_have_landed=failure.may_have_landed)
            return self.result(request, id=key)

        def lookup() -> Optional[Result]:
            with SERVICE.lock:
                SERVICE.lookups += 1
                return self.result(request, id=key) if key in SERVICE.records else None

        return self.create_once(request, send, lookup if self.use_lookup else None)


class NoLookup(WithLookup):
    type = "mem-nolookup"
    supports_lookup = False
    use_lookup = False


class LookupSometimes(WithLookup):
    """Has lookups, but not for this operation (like BuildMaster's build deploy without --build)."""

    type = "mem-sometimes"
    supports_lookup = True
    use_lookup = False


class Hangs(WithLookup):
    type = "mem-hang"

    def deploy(self, request: Request) -> Result:
        time.sleep(30)
        raise AssertionError("unreachable")


@pytest.fixture
def mem(monkeypatch) -> MemService:
    global SERVICE
    SERVICE = MemService()
    for cls in (WithLookup, NoLookup, LookupSometimes, Hangs):
        monkeypatch.setitem(TARGET_TYPES, cls.type, f"{__name__}:{cls.__name__}")
    return SERVICE


def job(type_name: str, name: str = "t", version: str = "v1", **cfg: Any) -> Job:
    config = MemConfig(type=type_name, name=name, **cfg)
    return Job(config=config, request=make_request("deploy", target=name, version=version), explicit=True)


class Settings:
    def __init__(self, *jobs: Job):
        self.targets = {j.config.name: j.config for j in jobs}


def landed(message: str = "HTTP 503 (server error): down") -> ApiError:
    return ApiError(message, transient=True, may_have_landed=True)


def refused() -> ApiError:
    return ApiError("could not reach x: connection refused", transient=True)


def run(jobs: List[Job], path: Optional[Path], **kw: Any) -> delivery.Report:
    return delivery.run(jobs, Options(spool_path=path, timeout=kw.pop("timeout", 5), **kw), Console(quiet=True))


def test_the_event_is_journaled_before_it_is_sent(tmp_path: Path, mem: MemService, monkeypatch) -> None:
    path = tmp_path / "s.jsonl"
    seen: List[List[Dict[str, Any]]] = []
    original = WithLookup.deploy

    def spy(self, request):
        seen.append(spool.load(path))
        return original(self, request)

    monkeypatch.setattr(WithLookup, "deploy", spy)
    report = run([job("mem-lookup")], path)
    assert report.exit_status == ExitStatus.OK
    (during,) = seen
    assert [e["state"] for e in during] == ["pending"]
    assert not path.exists()  # settled: delivered entries leave no trace


def test_may_have_landed_failure_is_checked_then_resent(tmp_path: Path, mem: MemService) -> None:
    mem.script = [landed()]
    report = run([job("mem-lookup")], tmp_path / "s.jsonl")
    assert report.exit_status == ExitStatus.OK
    assert mem.sends == 2 and mem.lookups == 2 and list(mem.records.values()) == [1]


def test_may_have_landed_failure_that_landed_is_not_resent(tmp_path: Path, mem: MemService) -> None:
    mem.script = [landed()]
    mem.land_on_failure = True
    report = run([job("mem-lookup")], tmp_path / "s.jsonl")
    assert report.results[0].ok and report.results[0].message == "recorded (confirmed after a retry)"
    assert mem.sends == 1 and list(mem.records.values()) == [1]


def test_without_a_lookup_a_landed_failure_is_neither_resent_nor_spooled(tmp_path: Path, mem: MemService) -> None:
    mem.script = [landed()]
    path = tmp_path / "s.jsonl"
    report = run([job("mem-nolookup")], path)
    assert report.exit_status == ExitStatus.OK  # transient: warn, exit 0
    result = report.results[0]
    assert not result.ok and result.transient and not result.spooled
    assert "not re-sent: it may have been recorded and mem-nolookup offers no way to check" in result.error
    assert mem.sends == 1 and not path.exists()


def test_without_a_lookup_a_failure_before_sending_is_spooled_and_flushed(tmp_path: Path, mem: MemService) -> None:
    mem.script = [refused()]
    path = tmp_path / "s.jsonl"
    j = job("mem-nolookup")
    report = run([j], path)
    assert report.results[0].spooled
    sent, kept, results = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console(quiet=True))
    assert (sent, kept) == (1, 0) and results[0].ok
    assert list(mem.records.values()) == [1] and not path.exists()


def test_flush_does_not_resend_an_interrupted_event_it_cannot_check(tmp_path: Path, mem: MemService,
                                                                     capsys) -> None:
    path = tmp_path / "s.jsonl"
    j = job("mem-nolookup")
    dead = dict(spool.make_entry("t", "mem-nolookup", j.request.to_json_dict(), j.request.event.event_key),
                owner={"pid": 999999999, "host": socket.gethostname(), "since": time.time()})
    with spool._locked(path):
        spool._write(path, [dead])
    sent, kept, _ = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console())
    assert (sent, kept) == (0, 0) and mem.sends == 0 and not path.exists()
    assert "may already be recorded" in capsys.readouterr().err


@pytest.mark.parametrize("type_name", ["mem-nolookup", "mem-sometimes"])
def test_an_interrupted_create_without_a_lookup_for_it_is_never_resent(tmp_path: Path, mem: MemService,
                                                                       type_name: str) -> None:
    path = tmp_path / "s.jsonl"
    j = job(type_name)
    spool_failed(path, "t", j.request.to_json_dict(), j.request.event.event_key, "timed out",
                 target_type=type_name, may_have_landed=True)
    sent, kept, results = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console(quiet=True))
    assert (sent, kept) == (0, 0) and mem.sends == 0 and not path.exists()
    assert "offers no lookup by event key for this operation" in results[0].error


def test_the_resend_check_belongs_to_its_own_job(tmp_path: Path, mem: MemService) -> None:
    """An uncertain entry refused for want of a lookup does not hold back a certain one (same target)."""
    path = tmp_path / "s.jsonl"
    uncertain, certain = job("mem-nolookup", version="a"), job("mem-nolookup", version="b")
    for j, landed_before in ((uncertain, True), (certain, False)):
        spool_failed(path, "t", j.request.to_json_dict(), j.request.event.event_key, "timed out",
                     target_type="mem-nolookup", may_have_landed=landed_before)
    sent, kept, results = delivery.flush(Settings(uncertain), Options(spool_path=path, timeout=5, concurrency=1),
                                         Console(quiet=True))
    assert (sent, kept) == (1, 0) and mem.sends == 1 and not path.exists()
    assert "offers no lookup by event key" in results[0].error and results[1].ok
    assert list(mem.records) == [certain.request.event.event_key]


def test_an_uncertain_entry_is_resent_when_nothing_was_recorded(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup")
    spool_failed(path, "t", j.request.to_json_dict(), j.request.event.event_key, "timed out",
                 target_type="mem-lookup", may_have_landed=True)
    sent, kept, _ = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console(quiet=True))
    assert (sent, kept) == (1, 0) and mem.sends == 1 and mem.lookups == 1


def test_flush_resends_an_interrupted_event_after_checking(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup")
    mem.records[j.request.event.event_key] = 1  # the killed attempt did land
    dead = dict(spool.make_entry("t", "mem-lookup", j.request.to_json_dict(), j.request.event.event_key),
                owner={"pid": 999999999, "host": socket.gethostname(), "since": time.time()})
    with spool._locked(path):
        spool._write(path, [dead])
    sent, kept, results = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console(quiet=True))
    assert (sent, kept) == (1, 0) and results[0].message == "already recorded"
    assert mem.sends == 0 and mem.records == {j.request.event.event_key: 1}


def test_flush_leaves_an_entry_of_a_newer_format_alone(tmp_path: Path, mem: MemService, capsys) -> None:
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup")
    newer = dict(spool.make_entry("t", "mem-lookup", j.request.to_json_dict(), j.request.event.event_key,
                                  state="failed"), v=spool.FORMAT + 1)
    with spool._locked(path):
        spool._write(path, [newer])
    sent, kept, results = delivery.flush(Settings(j), Options(spool_path=path, timeout=5), Console())
    assert (sent, kept, results) == (0, 0, []) and mem.sends == 0 and mem.lookups == 0
    assert "target 't' has an entry written by a newer shipmark (format 4); it is kept" in capsys.readouterr().err
    (left,) = spool.load(path)
    assert left["v"] == spool.FORMAT + 1 and left["owner"] is None and left["attempts"] == 0


def test_flush_keeps_what_still_fails_and_drops_what_is_rejected(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "s.jsonl"
    a, b = job("mem-lookup", version="a"), job("mem-lookup", version="b")
    mem.script = [refused(), refused()]
    run([a], path)
    run([b], path)
    assert len(spool.load(path)) == 2
    mem.script = [refused(), ApiError("HTTP 422: no", transient=False)]
    sent, kept, _ = delivery.flush(Settings(a), Options(spool_path=path, timeout=5), Console(quiet=True))
    assert (sent, kept) == (0, 1)
    (left,) = spool.load(path)
    assert left["state"] == "failed" and left["owner"] is None and left["attempts"] == 2


def test_a_backend_that_never_returns_cannot_hold_the_run(tmp_path: Path, mem: MemService, monkeypatch) -> None:
    monkeypatch.setattr(fanout, "DEADLINE_GRACE", 0.3)
    path = tmp_path / "s.jsonl"
    started = time.monotonic()
    report = run([job("mem-hang", name="slow"), job("mem-lookup", name="fast")], path, timeout=0.5)
    assert time.monotonic() - started < 0.5 + fanout.DEADLINE_GRACE + 1
    slow, fast = report.results
    assert fast.ok and not slow.ok and slow.transient
    assert slow.error == "no complete answer within the time budget of 0.5s"
    assert report.exit_status == ExitStatus.OK
    # It may have reached the service; the backend has a lookup, so a later flush checks first.
    assert slow.spooled
    (kept,) = spool.load(path)
    assert kept["target"] == "slow" and kept["may_have_landed"] is True and kept["owner"] is None


def test_a_hung_backend_without_lookup_is_reported_not_spooled(tmp_path: Path, mem: MemService,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(Hangs, "supports_lookup", False)
    monkeypatch.setattr(fanout, "DEADLINE_GRACE", 0.3)
    report = run([job("mem-hang")], tmp_path / "s.jsonl", timeout=0.3)
    (slow,) = report.results
    assert not slow.spooled and "offers no way to check" in slow.error


def test_a_hung_write_that_is_safe_to_repeat_is_spooled(tmp_path: Path, mem: MemService, monkeypatch) -> None:
    # No lookup, but the target declared POST safe to repeat (a webhook: receivers dedupe by event key).
    monkeypatch.setattr(Hangs, "supports_lookup", False)
    monkeypatch.setattr(Hangs, "http_options", classmethod(lambda cls, config: {"base_url": "",
                                                                               "retry_methods": ["POST"]}))
    monkeypatch.setattr(fanout, "DEADLINE_GRACE", 0.3)
    path = tmp_path / "s.jsonl"
    report = run([job("mem-hang")], path, timeout=0.3)
    (slow,) = report.results
    assert slow.spooled and slow.error == "no complete answer within the time budget of 0.3s"
    (kept,) = spool.load(path)
    assert kept["may_have_landed"] is True and kept["owner"] is None


def test_required_and_fail_on_error_make_transient_failures_fatal(tmp_path: Path, mem: MemService) -> None:
    mem.script = [refused()]
    assert run([job("mem-lookup", required=True)], tmp_path / "a").exit_status == ExitStatus.DELIVERY_FAILED
    mem.script = [refused()]
    assert run([job("mem-lookup")], tmp_path / "b", fail_on_error=True).exit_status == ExitStatus.DELIVERY_FAILED
    mem.script = [refused()]
    assert run([job("mem-lookup")], tmp_path / "c").exit_status == ExitStatus.OK


def test_dry_run_touches_no_spool(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "s.jsonl"
    mem.script = [refused()]
    run([job("mem-lookup")], path, dry_run=True)
    assert not path.exists()


def test_an_unwritable_spool_does_not_stop_delivery(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "dir-not-file"
    path.mkdir()
    report = run([job("mem-lookup")], path)
    assert report.results[0].ok and list(mem.records.values()) == [1]


def test_many_jobs_in_parallel_each_journaled_and_settled(tmp_path: Path, mem: MemService) -> None:
    path = tmp_path / "s.jsonl"
    jobs = [job("mem-lookup", name=f"t{n}") for n in range(20)]
    mem.script = [refused() if n % 4 == 0 else None for n in range(20)]
    report = run(jobs, path)
    failed = [r for r in report.results if not r.ok]
    assert len(failed) == 5 and all(r.spooled for r in failed)
    entries = spool.load(path)
    assert len(entries) == 5 and all(e["state"] == "failed" for e in entries)
    assert json.dumps(entries)  # plain JSON


def test_jobs_start_round_robin_across_targets_and_report_in_given_order(tmp_path: Path, mem: MemService,
                                                                          monkeypatch) -> None:
    started: List[str] = []
    original = WithLookup.deploy

    def deploy(self: WithLookup, request: Request) -> Result:
        started.append(f"{self.name}/{request.event.version}")
        return original(self, request)

    monkeypatch.setattr(WithLookup, "deploy", deploy)
    jobs = [job("mem-lookup", name=name, version=v) for name in ("a", "b", "c") for v in ("1", "2", "3")][:-1]
    report = run(jobs, tmp_path / "s.jsonl", concurrency=1)
    assert started == ["a/1", "b/1", "c/1", "a/2", "b/2", "c/2", "a/3", "b/3"]
    assert [(r.target, r.ok) for r in report.results] == [(j.config.name, True) for j in jobs]


def test_outcomes_reach_the_spool_in_batches(tmp_path: Path, mem: MemService, monkeypatch) -> None:
    """A slow disk (fsync) must not make 40 parallel jobs write the spool 40 times in a row."""
    path = tmp_path / "s.jsonl"
    writes: List[int] = []
    real = spool.settle_all

    def slow_settle_all(p: Path, settlements: Any) -> Any:
        writes.append(len(settlements))
        time.sleep(0.02)
        return real(p, settlements)

    monkeypatch.setattr(spool, "settle_all", slow_settle_all)
    jobs = [job("mem-lookup", name=f"t{n}") for n in range(40)]
    mem.script = [refused() if n % 10 == 0 else None for n in range(40)]
    report = run(jobs, path)
    assert sum(writes) == 40 and len(writes) < 20, writes  # every outcome once, most in shared writes
    failed = [r for r in report.results if not r.ok]
    assert len(failed) == 4 and all(r.spooled for r in failed)
    assert not any(r.spooled for r in report.results if r.ok)
    assert sorted(e["target"] for e in spool.load(path)) == sorted(r.target for r in failed)


class Polls(WithLookup):
    type = "mem-poll"
    polls = 0

    def poll(self, result: Result):
        if self.http.budget.expired():  # what a real poll's HTTP request would run into
            raise ApiError("the time budget is spent", transient=True)
        Polls.polls += 1
        return (Status.SUCCESS, "done") if Polls.polls >= 2 else (Status.IN_PROGRESS, "running")


def test_wait_polls_are_not_starved_by_the_spent_delivery_budget(tmp_path: Path, mem: MemService,
                                                                 monkeypatch) -> None:
    monkeypatch.setitem(TARGET_TYPES, "mem-poll", f"{__name__}:Polls")
    Polls.polls = 0
    report = run([job("mem-poll")], tmp_path / "s.jsonl", timeout=0.2, wait=True, wait_timeout=10)
    assert report.exit_status == ExitStatus.OK, report.results
    assert report.results[0].remote_status == "success" and Polls.polls == 2


def test_a_spool_owned_by_another_user_is_refused(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.jsonl"
    spool.journal(path, [entry()])
    monkeypatch.setattr(os, "getuid", lambda: 4242)  # as seen by another account (root stays trusted)
    if path.stat().st_uid == 0:
        os.chown(path, 4343, -1)
    with pytest.raises(spool.UntrustedSpool, match=r"the spool (directory|file) .* belongs to another user"):
        spool.load(path)


def test_a_github_token_write_is_retried_at_the_end_of_the_run(tmp_path: Path, mem: MemService) -> None:
    mem.script = [refused(), None]  # fails, then the retry at the end of the run gets through
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup", token="ghs_job_token")
    report = delivery.run([j], Options(spool_path=path, timeout=5),
                          Console(quiet=True, env={"GITHUB_TOKEN": "ghs_job_token"}))
    assert report.exit_status == ExitStatus.OK and report.results[0].ok and not report.results[0].spooled
    assert mem.sends == 2 and list(mem.records.values()) == [1] and not path.exists()


def test_a_token_that_outlives_the_job_is_spooled_not_retried(tmp_path: Path, mem: MemService) -> None:
    mem.script = [refused(), None]
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup", token="a-long-lived-token")
    report = delivery.run([j], Options(spool_path=path, timeout=5),
                          Console(quiet=True, env={"GITHUB_TOKEN": "ghs_job_token"}))
    assert report.results[0].spooled and mem.sends == 1
    (saved,) = spool.load(path)
    assert spool_trust.why_untrusted(saved, spool_trust.key_for(j.config)) is None


def test_a_flush_keeps_a_github_token_entry_for_the_next_command_of_the_job(tmp_path: Path, mem: MemService,
                                                                           capsys) -> None:
    path = tmp_path / "s.jsonl"
    j = job("mem-lookup", token="ghs_job_token")
    spool_failed(path, "t", j.request.to_json_dict(), j.request.event.event_key, "refused",
                 target_type="mem-lookup", secrets=["ghs_job_token"])
    mem.script = [refused(), None]
    sent, kept, _ = delivery.flush(Settings(j), Options(spool_path=path, timeout=5),
                                   Console(env={"GITHUB_TOKEN": "ghs_job_token"}))
    assert (sent, kept) == (0, 1) and mem.sends == 1 and len(spool.load(path)) == 1
    assert "is lost" not in capsys.readouterr().err
