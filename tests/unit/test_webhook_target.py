"""The webhook target through the installed CLI, against a real local receiver (pytest-httpserver).

Checked: the exact request (method, path, query, headers, body bytes), the signature
recomputed here, the documented verification snippet run as it is written, CDEvents
validated against the vendored v0.4.1 schemas, secrets and header values masked in every
output, Retry-After honoured, and re-runs / spool resends sending the same event again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WsgiRequest
from werkzeug import Response

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "schemas" / "cdevents" / "v0.4"
SECRET = CANARY  # the signing secret is the canary: it must never be printed
TEAM = "team-value-7b1e94"  # a header value read from ${TEAM_HEADER}
CI = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242",
      "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REF": "refs/heads/main", "GITHUB_ACTOR": "octo-dev"}
BUILD_URL = "https://github.com/acme/shop/actions/runs/4242"


class Receiver:
    """Answers POST /hook with the given replies in turn (then 202) and keeps every request."""

    def __init__(self, server: HTTPServer, replies: Sequence[Response] = ()):
        self.requests: List[Dict[str, Any]] = []
        self.replies = list(replies)
        server.expect_request("/hook").respond_with_handler(self._handle)

    def _handle(self, request: WsgiRequest) -> Response:
        self.requests.append({"method": request.method, "path": request.path, "query": request.query_string,
                              "headers": dict(request.headers), "body": request.get_data(), "at": time.time()})
        return self.replies.pop(0) if self.replies else Response("", status=202)


def config(server: HTTPServer, tmp_path: Path, **keys: str) -> Path:
    body = {"type": "webhook", "url": server.url_for("/hook") + "?team=web", **keys}
    path = tmp_path / "shipmark.yml"
    path.write_text("targets:\n  hook: " + json.dumps(body) + "\n")
    return path


def shipmark(tmp_path: Path, args: Sequence[str], env: Optional[Dict[str, str]] = None):
    full = {"HOOK_SECRET": SECRET, "TEAM_HEADER": TEAM, **(env or {})}
    return run_cli(list(args), env=full, cwd=tmp_path)


def signature(secret: str, stamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed(server: HTTPServer, tmp_path: Path, **keys: str) -> Path:
    return config(server, tmp_path, secret="${HOOK_SECRET}", headers={"X-Team": "${TEAM_HEADER}"}, **keys)


# -- format: shipmark ------------------------------------------------------------------

def test_a_deploy_sends_one_signed_request_with_the_exact_body(httpserver: HTTPServer, tmp_path: Path) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path)
    before = int(time.time())

    done = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0", "--commit", SHA,
                               "--param", "ticket=OPS-7", "--json"])

    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    key = result["event_key"]
    assert {k: result[k] for k in ("target", "type", "operation", "ok", "status_code", "id", "url", "error")} == {
        "target": "hook", "type": "webhook", "operation": "deploy", "ok": True, "status_code": 202, "id": key,
        "url": httpserver.url_for("/hook") + "?team=web", "error": None}
    (sent,) = receiver.requests
    assert (sent["method"], sent["path"], sent["query"]) == ("POST", "/hook", b"team=web")
    headers = sent["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Shipmark-Event-Key"] == key
    assert headers["X-Team"] == TEAM
    stamp = headers["X-Shipmark-Timestamp"]
    assert re.fullmatch(r"[0-9]+", stamp) and before <= int(stamp) <= time.time()
    assert headers["X-Shipmark-Signature"] == signature(SECRET, stamp, sent["body"])
    assert "Authorization" not in headers
    body = json.loads(sent["body"])
    # The bytes are compact, sorted JSON: exactly what was signed.
    assert sent["body"] == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert {k: body[k] for k in ("event_key", "kind", "operation", "command", "status", "version", "environment",
                                 "commit", "options")} == {
        "event_key": key, "kind": "deployment", "operation": "deploy", "command": "deploy", "status": "success",
        "version": "1.4.0", "environment": "production", "commit": SHA, "options": {"ticket": "OPS-7"}}
    assert_no_canary(done.stdout, done.stderr)


def test_without_a_secret_requests_are_unsigned_and_a_token_is_a_bearer(httpserver: HTTPServer,
                                                                         tmp_path: Path) -> None:
    receiver = Receiver(httpserver)
    config(httpserver, tmp_path, token="${HOOK_SECRET}")

    done = shipmark(tmp_path, ["release", "create", "--version", "2.0.0", "--commit", SHA])

    assert done.returncode == 0, done.stderr
    headers = receiver.requests[0]["headers"]
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert "X-Shipmark-Signature" not in headers and "X-Shipmark-Timestamp" not in headers
    assert re.fullmatch(r"[0-9a-f]{16}", headers["X-Shipmark-Event-Key"])
    assert_no_canary(done.stdout, done.stderr)


def verify_snippet() -> str:
    """The five lines of docs/targets/webhook.md that verify a signature, as they are written."""
    doc = (ROOT / "docs" / "targets" / "webhook.md").read_text()
    match = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", doc, re.S)
    assert match, "the verification snippet is missing from docs/targets/webhook.md"
    code = match.group(1)
    assert len(code.strip().splitlines()) == 5
    return code


def test_the_documented_snippet_verifies_a_real_request(httpserver: HTTPServer, tmp_path: Path) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path)
    done = shipmark(tmp_path, ["deployment", "start", "-e", "production", "--version", "1.4.0"])
    assert done.returncode == 0, done.stderr
    namespace: Dict[str, Any] = {}
    exec(verify_snippet(), namespace)  # noqa: S102 - the documented code, run as written
    verify = namespace["verify"]
    (sent,) = receiver.requests
    headers, body = sent["headers"], sent["body"]
    stamp = int(headers["X-Shipmark-Timestamp"])

    assert verify(SECRET.encode(), headers, body) is True
    assert verify(b"another-secret", headers, body) is False
    assert verify(SECRET.encode(), headers, body.replace(b"production", b"productio2")) is False
    assert verify(SECRET.encode(), headers, body, now=stamp + 300) is True
    assert verify(SECRET.encode(), headers, body, now=stamp + 301) is False  # a replay after five minutes
    assert verify(SECRET.encode(), headers, body, now=stamp - 301) is False


# -- secrets and headers in every output ------------------------------------------------

@pytest.mark.parametrize("flags", [["--dry-run", "-v", "--json"], ["-v", "--json"]], ids=["dry-run", "sent"])
def test_header_values_and_the_secret_never_reach_the_output(httpserver: HTTPServer, tmp_path: Path,
                                                             flags: List[str]) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path, format="cdevents")

    done = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0", *flags], env=CI)

    assert done.returncode == 0, done.stderr
    assert_no_canary(done.stdout, done.stderr)
    assert_no_canary(done.stdout, done.stderr, canary=TEAM)
    if "--dry-run" in flags:
        assert receiver.requests == []
        assert "X-Team: ***" in done.stderr
        assert "X-Shipmark-Signature: ***" in done.stderr  # a dry run's signed request is not replayable
        assert "Content-Type: application/cloudevents+json" in done.stderr
        assert "dev.cdevents.service.deployed.0.2.0" in done.stderr
    else:
        assert receiver.requests[0]["headers"]["X-Team"] == TEAM
    listed = shipmark(tmp_path, ["targets", "--json"])
    assert json.loads(listed.stdout)[0]["headers"] == {"X-Team": "***"}
    assert json.loads(listed.stdout)[0]["secret"] == "***"
    assert_no_canary(listed.stdout, listed.stderr)
    assert_no_canary(listed.stdout, listed.stderr, canary=TEAM)


@pytest.mark.parametrize("keys,error", [
    ({"secret": "short"}, "key 'secret': must be at least 8 characters"),
    ({"headers": {"Content-Type": "text/plain"}}, "'Content-Type' is set by shipmark itself"),
    ({"headers": {"X-Shipmark-Event-Key": "x1234"}}, "'X-Shipmark-Event-Key' is set by shipmark itself"),
    ({"headers": {"Bad Name": "x1234"}}, "'Bad Name' is not a valid HTTP header name"),
    ({"token": "tok-12345", "headers": {"Authorization": "Basic abcd"}}, "Authorization is set from the token key"),
    ({"format": "xml"}, "key 'format'"),
])
def test_a_wrong_config_is_refused_before_sending(httpserver: HTTPServer, tmp_path: Path, keys: Dict[str, Any],
                                                  error: str) -> None:
    receiver = Receiver(httpserver)
    config(httpserver, tmp_path, **keys)
    done = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0"])
    assert done.returncode == 2, done.stderr
    assert error in done.stderr
    assert receiver.requests == []
    assert "abcd" not in done.stderr


# -- retries, re-runs and the spool -------------------------------------------------------

@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_honoured_and_the_same_event_is_sent_again(httpserver: HTTPServer, tmp_path: Path,
                                                                  status: int) -> None:
    receiver = Receiver(httpserver, [Response("busy", status=status, headers={"Retry-After": "2"})])
    signed(httpserver, tmp_path)

    done = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0", "--json"])

    assert done.returncode == 0, done.stderr
    first, second = receiver.requests
    assert second["at"] - first["at"] >= 1.9
    assert first["body"] == second["body"]
    assert first["headers"]["X-Shipmark-Event-Key"] == second["headers"]["X-Shipmark-Event-Key"]
    assert second["headers"]["X-Shipmark-Signature"] == signature(
        SECRET, second["headers"]["X-Shipmark-Timestamp"], second["body"])


def test_a_rerun_sends_the_same_event_again_for_the_receiver_to_dedupe(httpserver: HTTPServer,
                                                                       tmp_path: Path) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path)
    argv = ["deploy", "-e", "production", "--version", "1.4.0", "--commit", SHA, "--json"]

    first, again = shipmark(tmp_path, argv), shipmark(tmp_path, argv)

    assert first.returncode == again.returncode == 0, again.stderr
    one, two = receiver.requests
    assert one["headers"]["X-Shipmark-Event-Key"] == two["headers"]["X-Shipmark-Event-Key"]
    bodies = [json.loads(r["body"]) for r in (one, two)]
    for body in bodies:
        body.pop("finished_at")  # the time of the re-run; everything else is the same event
    assert bodies[0] == bodies[1]


def test_a_failed_post_is_spooled_and_resent_by_flush(httpserver: HTTPServer, tmp_path: Path) -> None:
    # A 502 after the request reached the receiver: safe to send again because receivers dedupe by key.
    receiver = Receiver(httpserver, [Response("bad gateway", status=502)] * 5)
    signed(httpserver, tmp_path)

    failed = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0", "--timeout", "3", "--json"])
    assert failed.returncode == 0, failed.stderr  # transient, target not required: spooled
    (result,) = json.loads(failed.stdout)
    assert result["ok"] is False and result.get("spooled") is True, result
    tries = len(receiver.requests)
    assert tries >= 2  # the POST was retried inside the budget

    receiver.replies.clear()
    flushed = shipmark(tmp_path, ["flush"])

    assert flushed.returncode == 0, flushed.stderr
    resent = receiver.requests[tries:]
    assert len(resent) == 1
    assert resent[0]["body"] == receiver.requests[0]["body"]
    assert resent[0]["headers"]["X-Shipmark-Event-Key"] == result["event_key"]
    assert_no_canary(failed.stdout, failed.stderr, flushed.stdout, flushed.stderr)


# -- format: cdevents ---------------------------------------------------------------------

def schema_registry() -> Any:
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text())
        # Under the URI the event schemas' relative "links/..." references resolve to.
        uri = "https://cdevents.dev/0.4.1/schema/" + ("links/" if path.parent.name == "links" else "") + path.stem
        resources.append((uri, Resource.from_contents(contents)))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


SCHEMA_FOR = {
    "dev.cdevents.service.deployed.0.2.0": "servicedeployed.json",
    "dev.cdevents.service.upgraded.0.2.0": "serviceupgraded.json",
    "dev.cdevents.service.rolledback.0.2.0": "servicerolledback.json",
    "dev.cdevents.taskrun.started.0.2.0": "taskrunstarted.json",
    "dev.cdevents.artifact.published.0.2.0": "artifactpublished.json",
    "dev.cdevents.build.finished.0.2.0": "buildfinished.json",
}


def validate(cdevent: Dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / SCHEMA_FOR[cdevent["context"]["type"]]).read_text())
    Draft202012Validator(schema, registry=schema_registry()).validate(cdevent)


CDEVENTS = [
    (["deploy", "-e", "production", "--version", "1.4.0"], "service.deployed",
     {"id": "acme/shop", "type": "service", "source": BUILD_URL,
      "content": {"environment": {"id": "production", "source": BUILD_URL}, "artifactId": "pkg:generic/acme/shop@1.4.0"}}),
    (["deployment", "finish", "-e", "production", "--version", "1.4.0+b.7", "--param", "cdevents_type=upgraded"],
     "service.upgraded",
     {"id": "acme/shop", "type": "service", "source": BUILD_URL,
      "content": {"environment": {"id": "production", "source": BUILD_URL},
                  "artifactId": "pkg:generic/acme/shop@1.4.0%2Bb.7"}}),
    (["deploy", "-e", "staging", "--version", "1.3.9", "--param", "cdevents_type=rolledback"], "service.rolledback",
     {"id": "acme/shop", "type": "service", "source": BUILD_URL,
      "content": {"environment": {"id": "staging", "source": BUILD_URL}, "artifactId": "pkg:generic/acme/shop@1.3.9"}}),
    (["deployment", "start", "-e", "production", "--version", "1.4.0"], "taskrun.started",
     {"id": "4242", "type": "taskRun", "source": BUILD_URL,
      "content": {"taskName": "deploy production", "url": BUILD_URL, "pipelineRun": {"id": "4242", "source": BUILD_URL}}}),
    (["release", "create", "--version", "2.0.0"], "artifact.published",
     {"id": "pkg:generic/acme/shop@2.0.0", "type": "artifact", "source": BUILD_URL,
      "content": {"user": "octo-dev"}}),
    (["build", "create", "--version", "2.0.0", "--build", "77"], "build.finished",
     {"id": "77", "type": "build", "source": BUILD_URL, "content": {"artifactId": "pkg:generic/acme/shop@2.0.0"}}),
]


@pytest.mark.parametrize("argv,kind,subject", CDEVENTS, ids=[f"{c[1]}-{i}" for i, c in enumerate(CDEVENTS)])
def test_cdevents_are_cloudevents_that_validate_against_the_v0_4_schemas(
        httpserver: HTTPServer, tmp_path: Path, argv: List[str], kind: str, subject: Dict[str, Any]) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path, format="cdevents")

    done = shipmark(tmp_path, argv + ["--json"], env=CI)

    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    (sent,) = receiver.requests
    assert sent["headers"]["Content-Type"] == "application/cloudevents+json"
    assert sent["headers"]["X-Shipmark-Signature"] == signature(
        SECRET, sent["headers"]["X-Shipmark-Timestamp"], sent["body"])
    cloud = json.loads(sent["body"])
    cdevent = cloud.pop("data")
    type_name = f"dev.cdevents.{kind}.0.2.0"
    assert cloud == {"specversion": "1.0", "id": result["event_key"], "source": BUILD_URL, "type": type_name,
                     "time": cdevent["context"]["timestamp"], "datacontenttype": "application/json"}
    assert {k: v for k, v in cdevent["context"].items() if k != "timestamp"} == {
        "version": "0.4.1", "id": result["event_key"], "source": BUILD_URL, "type": type_name}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", cdevent["context"]["timestamp"])
    assert cdevent["subject"] == subject
    validate(cdevent)


def test_the_schema_check_itself_can_fail() -> None:
    from jsonschema import ValidationError

    event = {"context": {"version": "0.4.1", "id": "k", "source": "/shipmark",
                         "type": "dev.cdevents.service.deployed.0.2.0", "timestamp": "2024-05-01T12:30:00Z"},
             "subject": {"id": "acme/shop", "type": "service", "content": {"environment": {"id": "production"}}}}
    with pytest.raises(ValidationError, match="artifactId"):
        validate(event)
    event["subject"]["content"]["artifactId"] = "pkg:generic/acme/shop@1"
    validate(event)
    event["context"]["links"] = [{"linkType": "SIDEWAYS"}]
    with pytest.raises(ValidationError):
        validate(event)


@pytest.mark.parametrize("argv,why", [
    (["deploy", "-e", "production", "--version", "1.4.0", "--status", "failure"],
     "CDEvents v0.4 has no event for a deployment with status 'failure'"),
    (["release", "cancel", "--version", "1.4.0"], "CDEvents v0.4 has no event for release cancel"),
    (["deploy", "--version", "1.4.0"], "a CDEvents service event needs the environment: pass -e NAME"),
    (["deploy", "-e", "production", "--version", "1.4.0", "--param", "ticket=1"], "--param ticket: unknown"),
])
def test_what_cdevents_cannot_express_is_refused_before_sending(httpserver: HTTPServer, tmp_path: Path,
                                                                argv: List[str], why: str) -> None:
    receiver = Receiver(httpserver)
    signed(httpserver, tmp_path, format="cdevents")

    named = shipmark(tmp_path, argv + ["-t", "hook"], env=CI)
    unnamed = shipmark(tmp_path, argv, env=CI)

    assert named.returncode == 2, named.stderr
    assert why in named.stderr
    assert receiver.requests == []
    if "--param" not in argv:  # a usage error is an error even without -t; the rest is a skip
        assert unnamed.returncode == 0, unnamed.stderr
        assert why in unnamed.stderr


def test_a_post_cut_off_by_the_time_budget_is_kept_and_resent(httpserver: HTTPServer, tmp_path: Path) -> None:
    # The receiver answers too late: the POST may have landed, and resending it is still safe.
    def slow(request: WsgiRequest) -> Response:
        time.sleep(3)
        return Response("", status=202)

    httpserver.expect_oneshot_request("/hook").respond_with_handler(slow)
    signed(httpserver, tmp_path)

    late = shipmark(tmp_path, ["deploy", "-e", "production", "--version", "1.4.0", "--timeout", "1", "--json"])

    (result,) = json.loads(late.stdout)
    assert result["ok"] is False and result.get("spooled") is True, late.stderr
    receiver = Receiver(httpserver)
    flushed = shipmark(tmp_path, ["flush"])
    assert flushed.returncode == 0, flushed.stderr
    (resent,) = receiver.requests
    assert resent["headers"]["X-Shipmark-Event-Key"] == result["event_key"]
