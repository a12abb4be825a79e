"""The failure policy under real faults, through the installed CLI.

Each case asserts the exit status, what was printed (one line per target, no
traceback, no token) and exactly what the fake service received: every create
(POST) after the first is preceded by an event_key lookup (GET), and the
service never holds two records of one event.
"""
from __future__ import annotations

import time

import pytest

from tests.conftest import SHA
from tests.faults.conftest import (COMPONENT, FakeReleaseBits, Project, creates_are_checked, errors, free_port,
                                   rb_target, warnings)


def one_record(fake: FakeReleaseBits, component: str = COMPONENT) -> dict:
    records = fake.created(component)
    assert len(records) == 1, records
    return records[0]


def assert_delivered_once(fake: FakeReleaseBits, component: str = COMPONENT, checked: bool = True) -> None:
    record = one_record(fake, component)
    assert record["version"] == "v1.2.3" and record["commit_sha"] == SHA
    assert record["meta_data"]["shipmark_event_key"]
    if checked:
        assert creates_are_checked(fake.requests())


# -- transient: retried, then delivered ---------------------------------------------------

def test_503_then_success_is_retried_after_a_lookup(fake, project: Project) -> None:
    fake.fail("status", status=503)
    proc = project.deploy()
    assert proc.returncode == 0, proc.stderr
    assert fake.methods() == ["GET", "POST", "GET", "POST"]  # lookup, 503, lookup finds nothing, resend
    assert_delivered_once(fake)
    assert "ok rb: deploy" in proc.stderr and not warnings(proc.stderr)
    assert project.spooled() == []


def test_503_that_landed_is_confirmed_by_the_lookup_not_resent(fake, project: Project) -> None:
    # A proxy answered 503 although the service had recorded it: a blind resend would duplicate.
    fake.fail("status", status=503, land=True)
    proc = project.deploy("--json")
    assert proc.returncode == 0, proc.stderr
    assert fake.methods() == ["GET", "POST", "GET"]
    assert_delivered_once(fake)
    assert "recorded (confirmed after a retry)" in proc.stdout
    assert project.spooled() == []


def test_persistent_503_warns_once_exits_0_and_spools(fake, project: Project) -> None:
    fake.fail("status", status=503, times=-1, body={"message": "maintenance"})
    started = time.monotonic()
    proc = project.deploy(timeout_budget="2")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 2 + 3
    assert fake.created() == []
    assert len(fake.posts()) >= 1 and creates_are_checked(fake.requests())
    (warning,) = warnings(proc.stderr)
    assert "rb: deploy failed: HTTP 503 (server error): maintenance" in warning
    assert "saved to the spool" in warning and not errors(proc.stderr)
    (entry,) = project.spooled()
    assert entry["state"] == "failed" and entry["target"] == "rb" and entry["owner"] is None

    # The outage ends: `shipmark flush` delivers it exactly once, and a second flush has nothing to do.
    fake.heal()
    fake.reset_log()
    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "1 delivered, 0 still waiting" in flushed.stderr
    assert fake.methods() == ["GET", "POST"]
    assert_delivered_once(fake)
    assert project.spooled() == [] and not project.spool.exists()
    again = project.run("flush")
    assert again.returncode == 0 and len(fake.posts()) == 1


@pytest.mark.parametrize("how", ["flag", "required"])
def test_persistent_503_fails_the_job_when_asked(fake, tmp_path, how: str) -> None:
    fake.fail("status", status=503, times=-1)
    extra = {"required": True} if how == "required" else {}
    project = Project(tmp_path, {"rb": rb_target(fake.url, **extra)})
    proc = project.deploy(*(["--fail-on-error"] if how == "flag" else []), timeout_budget="1.5")
    assert proc.returncode == 1, proc.stderr
    (error,) = errors(proc.stderr)
    assert "HTTP 503" in error and "saved to the spool" in error
    assert len(project.spooled()) == 1 and fake.created() == []


def test_429_with_retry_after_is_honoured(fake, project: Project) -> None:
    fake.fail("status", status=429, headers={"Retry-After": "1"}, body={"message": "slow down"})
    proc = project.deploy("-v")
    assert proc.returncode == 0, proc.stderr
    posts = fake.posts()
    assert len(posts) == 2  # 429 means "not processed": resent without a second lookup
    assert fake.methods() == ["GET", "POST", "POST"]
    assert posts[1].at - posts[0].at >= 0.9
    assert "retrying in 1.0s" in proc.stderr
    assert_delivered_once(fake, checked=False)


def test_429_with_a_long_retry_after_gives_up_at_once_within_the_budget(fake, project: Project) -> None:
    fake.fail("status", status=429, headers={"Retry-After": "120"}, times=-1)
    started = time.monotonic()
    proc = project.deploy(timeout_budget="3")
    assert time.monotonic() - started < 3
    assert proc.returncode == 0
    (warning,) = warnings(proc.stderr)
    assert "HTTP 429 (rate limited)" in warning and "Retry-After 10s is beyond the remaining time budget" in warning
    assert len(fake.posts()) == 1 and len(project.spooled()) == 1


@pytest.mark.parametrize("landed", [False, True])
def test_connection_reset_after_sending_is_checked_before_resending(fake, project: Project, landed: bool) -> None:
    fake.fail("reset", land=landed)
    proc = project.deploy()
    assert proc.returncode == 0, proc.stderr
    assert fake.methods() == (["GET", "POST", "GET"] if landed else ["GET", "POST", "GET", "POST"])
    assert_delivered_once(fake)
    assert project.spooled() == []


def test_connection_closed_without_an_answer_is_transient(fake, project: Project) -> None:
    fake.fail("close", times=-1)
    proc = project.deploy(timeout_budget="2")
    assert proc.returncode == 0
    (warning,) = warnings(proc.stderr)
    assert "closed the connection without answering" in warning
    assert creates_are_checked(fake.requests()) and len(project.spooled()) == 1


def test_refused_port_warns_spools_and_stays_within_the_budget(tmp_path) -> None:
    project = Project(tmp_path, {"rb": rb_target(f"http://127.0.0.1:{free_port()}")})
    started = time.monotonic()
    proc = project.deploy(timeout_budget="2")
    assert time.monotonic() - started < 2 + 2
    assert proc.returncode == 0
    (warning,) = warnings(proc.stderr)
    assert "connection refused" in warning and "saved to the spool" in warning
    (entry,) = project.spooled()
    assert entry["may_have_landed"] is False
    failing = project.deploy("--fail-on-error", timeout_budget="1")
    assert failing.returncode == 1 and "connection refused" in errors(failing.stderr)[0]
    assert len(project.spooled()) == 1  # the same event is kept once


@pytest.mark.parametrize("landed", [False, True])
def test_hang_past_the_read_timeout_is_bounded_then_flush_delivers_once(fake, project: Project,
                                                                         landed: bool) -> None:
    fake.fail("hang", land=landed)
    started = time.monotonic()
    proc = project.deploy(timeout_budget="2")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert 1.9 <= elapsed < 2 + 3
    (warning,) = warnings(proc.stderr)
    assert "did not answer within 2s" in warning and "saved to the spool" in warning
    assert len(fake.posts()) == 1
    (entry,) = project.spooled()
    assert entry["may_have_landed"] is True

    fake.heal()
    fake.reset_log()
    flushed = project.run("flush")
    assert flushed.returncode == 0, flushed.stderr
    assert fake.methods() == (["GET"] if landed else ["GET", "POST"])
    assert_delivered_once(fake)
    assert project.spooled() == []
    if landed:
        assert "already recorded" in flushed.stderr


def test_a_server_that_hangs_on_everything_cannot_hold_the_job(fake, project: Project) -> None:
    fake.fail("hang", method="*", times=-1)
    started = time.monotonic()
    proc = project.deploy(timeout_budget="1.5")
    assert time.monotonic() - started < 1.5 + 3
    assert proc.returncode == 0 and len(warnings(proc.stderr)) == 1
    assert fake.posts() == []  # the lookup never answered, so nothing was sent blind
    assert len(project.spooled()) == 1


def test_trickling_body_cannot_hold_the_job(fake, project: Project) -> None:
    # Headers at once, then a byte every 0.3 s: no socket read ever times out.
    fake.fail("trickle", method="GET")
    started = time.monotonic()
    proc = project.deploy(timeout_budget="1.5")
    assert time.monotonic() - started < 1.5 + 3
    assert proc.returncode == 0
    (warning,) = warnings(proc.stderr)
    assert "did not finish its answer within the time budget" in warning
    assert fake.posts() == [] and len(project.spooled()) == 1


# -- bad answers: one readable line, exit 1 ----------------------------------------------

def test_html_page_instead_of_json_is_one_readable_error(fake, project: Project) -> None:
    fake.fail("status", status=200, body="<!DOCTYPE html><html><title>Sign in</title></html>",
              headers={"Content-Type": "text/html"})
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "an HTML page instead of JSON" in error
    assert len(fake.posts()) == 1 and project.spooled() == []


def test_html_502_from_a_proxy_is_transient(fake, project: Project) -> None:
    fake.fail("status", status=502, times=-1, body="<html><head><title>502 Bad Gateway</title></head></html>",
              headers={"Content-Type": "text/html"})
    proc = project.deploy(timeout_budget="1.5")
    assert proc.returncode == 0
    (warning,) = warnings(proc.stderr)
    assert "HTTP 502 (server error): the server sent an HTML error page (502 Bad Gateway)" in warning


def test_garbage_body_on_the_lookup_is_one_readable_error(fake, project: Project) -> None:
    fake.fail("status", method="GET", status=200, body="\x00\x01 garbage ]]", headers={"Content-Type": "text/plain"})
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "not JSON" in error and fake.posts() == []


def test_truncated_body_is_one_readable_error(fake, project: Project) -> None:
    fake.fail("truncate", status=201, land=True)
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "the response was cut off (got 16 of 100 bytes)" in error
    assert len(fake.posts()) == 1 and len(fake.created()) == 1
    # The record did land: a re-run finds it instead of recording it again.
    fake.reset_log()
    rerun = project.deploy()
    assert rerun.returncode == 0 and "already recorded" in rerun.stderr and fake.posts() == []


def test_redirect_on_a_write_is_not_followed(fake, project: Project) -> None:
    fake.fail("status", status=301, headers={"Location": "http://127.0.0.1:1/elsewhere?token=abc"}, body="")
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "HTTP 301: the server redirects to http://127.0.0.1:1/elsewhere?token=***" in error
    assert len(fake.posts()) == 1 and fake.created() == []


# -- permanent: exit 1 with the server's message, never retried --------------------------------

def test_401_is_permanent_with_the_servers_message(fake, project: Project) -> None:
    fake.token = "another-token"
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "HTTP 401 (authentication failed: check the token): invalid token" in error
    assert fake.methods() == ["GET"] and project.spooled() == []


def test_403_read_only_key_is_permanent(fake, project: Project) -> None:
    fake.fail("status", status=403, body={"message": "this token is read-only"})
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "HTTP 403 (forbidden: the token lacks permission for this): this token is read-only" in error
    assert fake.methods() == ["GET", "POST"] and fake.created() == [] and project.spooled() == []


def test_404_unknown_component_is_permanent(fake, project: Project) -> None:
    fake.fail("status", method="GET", status=404, body={"message": "component not found"})
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "HTTP 404 (not found): component not found" in error
    assert fake.posts() == []


@pytest.mark.parametrize("status,body,shown", [
    (422, {"errors": ["version is invalid", "stage is too long"]},
     "HTTP 422 (the service rejected the data): version is invalid; stage is too long"),
    (400, "started_at: not a date", "HTTP 400 (bad request): started_at: not a date"),
])
def test_validation_errors_are_permanent_and_not_retried(fake, project: Project, status, body, shown) -> None:
    fake.fail("status", status=status, body=body, headers={} if isinstance(body, dict) else {"Content-Type": "text/plain"})
    proc = project.deploy("--json")
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert shown in error
    assert len(fake.posts()) == 1 and fake.created() == [] and project.spooled() == []
    import json

    (result,) = json.loads(proc.stdout)
    assert result["ok"] is False and result["status_code"] == status and shown in result["error"]


# -- one of three targets fails ------------------------------------------------------------

def three(tmp_path, fake: FakeReleaseBits, **second) -> Project:
    return Project(tmp_path, {"rb1": rb_target(fake.url, component="one"),
                              "rb2": rb_target(fake.url, component="two", **second),
                              "rb3": rb_target(fake.url, component="three")})


def test_partial_transient_failure_of_one_of_three_targets(fake, tmp_path) -> None:
    fake.fail("status", status=503, times=-1, component="two")
    project = three(tmp_path, fake)
    proc = project.deploy("--json", timeout_budget="2")
    assert proc.returncode == 0, proc.stderr
    import json

    results = {r["target"]: r for r in json.loads(proc.stdout)}
    assert [results[n]["ok"] for n in ("rb1", "rb2", "rb3")] == [True, False, True]
    assert results["rb2"].get("spooled") is True and results["rb2"].get("transient") is True
    assert len(warnings(proc.stderr)) == 1 and "rb2: deploy failed: HTTP 503" in warnings(proc.stderr)[0]
    assert sum(line.startswith("ok rb") for line in proc.stderr.splitlines()) == 2
    assert len(fake.created("one")) == 1 and len(fake.created("three")) == 1 and fake.created("two") == []
    assert [e["target"] for e in project.spooled()] == ["rb2"]

    # Next command: the spooled event goes out first (auto-flush), the new one after it.
    fake.heal()
    fake.reset_log()
    nxt = project.deploy(version="v1.2.4")
    assert nxt.returncode == 0, nxt.stderr
    assert "spool: resent 1 earlier event(s); 0 still waiting" in nxt.stderr
    assert [r["version"] for r in fake.created("two")] == ["v1.2.3", "v1.2.4"]
    assert [r["version"] for r in fake.created("one")] == ["v1.2.3", "v1.2.4"]
    assert project.spooled() == []


def test_partial_failure_with_a_required_target_exits_1(fake, tmp_path) -> None:
    fake.fail("status", status=503, times=-1, component="two")
    project = three(tmp_path, fake, required=True)
    proc = project.deploy(timeout_budget="1.5")
    assert proc.returncode == 1
    assert len(errors(proc.stderr)) == 1 and "rb2" in errors(proc.stderr)[0]
    assert len(fake.created("one")) == 1 and len(fake.created("three")) == 1


def test_partial_permanent_failure_exits_1_and_the_others_are_recorded(fake, tmp_path) -> None:
    fake.fail("status", status=422, component="two", body={"message": "stage unknown"})
    project = three(tmp_path, fake)
    proc = project.deploy()
    assert proc.returncode == 1
    (error,) = errors(proc.stderr)
    assert "rb2: deploy failed: HTTP 422 (the service rejected the data): stage unknown" in error
    assert len(fake.created("one")) == 1 and len(fake.created("three")) == 1 and fake.created("two") == []
    assert project.spooled() == []


# -- idempotent re-runs --------------------------------------------------------------------

def test_rerunning_the_same_job_records_nothing_new(fake, project: Project) -> None:
    first = project.deploy("--json")
    assert first.returncode == 0
    fake.reset_log()
    second = project.deploy("--json")
    assert second.returncode == 0, second.stderr
    assert fake.methods() == ["GET"]
    assert "already recorded" in second.stderr
    assert_delivered_once(fake)
    import json

    assert json.loads(first.stdout)[0]["id"] == json.loads(second.stdout)[0]["id"]


def test_one_event_per_host_each_recorded_once(fake, project: Project) -> None:
    fake.fail("status", status=503, land=True)
    proc = project.deploy("--host", "web-1", "--host", "web-2")
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["host"] for r in fake.created()) == ["web-1", "web-2"]
    rerun = project.deploy("--host", "web-1", "--host", "web-2")
    assert rerun.returncode == 0 and len(fake.created()) == 2
