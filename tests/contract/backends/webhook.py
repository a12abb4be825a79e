"""The webhook target as data for the contract test: one POST per event, no lookup.

A receiver offers no lookup, so a re-run POSTs the same event again (same event key, in
X-Shipmark-Event-Key) and the receiver dedupes by it. The contract runs the shipmark
format with a token (sent as a Bearer header); signatures and the CDEvents format are
covered in tests/unit/test_webhook_target.py.
"""
from __future__ import annotations

from typing import Any, Dict

from shipmark.models import Event, Status
from tests.conftest import CANARY, SHA
from tests.contract.fake_service import Backend, Exchange, Reply, Rerun, Scenario, Sent, Write

NAME = "hook"
FINISHED = "2024-05-01T12:30:00Z"
AUTH = {"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"}
NO_CONTEXT = {key: None for key in ("actor", "branch", "build", "build_url", "ci_name", "commit", "environment", "job",
                                    "job_url", "pipeline_id", "pr", "pr_base_branch", "pr_base_sha",
                                    "pr_head_branch", "pr_head_sha", "pr_merge_base_sha", "pr_merge_ref",
                                    "repository_url", "slug", "source", "stage", "tag")}
NO_CONTEXT.update(is_ci=False, is_pr=False)


def key(kind: str, operation: str, **fields: Any) -> str:
    return Event(kind=kind, operation=operation, commit=SHA, status=Status.SUCCESS, **fields).key_for(NAME)


def body(event_key: str, kind: str, operation: str, command: str, **fields: Any) -> Dict[str, Any]:
    """The whole shipmark-format body, outside CI (an empty context)."""
    record = {"branch": None, "command": command, "commit": SHA, "context": NO_CONTEXT, "environment": None,
              "event_key": event_key, "finished_at": FINISHED, "host": None, "kind": kind, "meta": {}, "name": None,
              "operation": operation, "started_at": None, "status": "success", "tag": None, "version": None}
    record.update(fields)
    return record


def write(operation: str, argv: list, kind: str, command: str, **fields: Any) -> Write:
    event_key = key(kind, operation, **fields)
    expected = body(event_key, kind, operation, command, **fields)
    headers = {**AUTH, "X-Shipmark-Event-Key": event_key}
    post = Exchange("POST", "/", headers=headers, json=expected, reply=Reply(text="", status=202))
    line = f"ok {NAME}: {command} (id {event_key}, {{server}}/)"
    return Write(
        operation=operation,
        argv=list(argv) + ["--commit", SHA, "--finished-at", FINISHED],
        before=[],
        create=post,
        sent=Sent("POST", "/", headers=headers, body=lambda _key: expected),
        result={"target": NAME, "type": "webhook", "operation": operation, "ok": True, "status_code": 202,
                "id": event_key, "url": "{server}/"},
        line=line,
        # No lookup: the same event is POSTed again, and the receiver dedupes by its key.
        rerun=Rerun(exchanges=lambda _key: [post], creates_again=True, line=line,
                    result={"ok": True, "id": event_key, "status_code": 202}),
        dry_run_shows=["POST {server}/", f"X-Shipmark-Event-Key: {event_key}", '"command":"' + command + '"'],
    )


WRITES = [
    write("deploy", ["deploy", "-e", "production", "--version", "1.4.0"], "deployment", "deploy",
          environment="production", version="1.4.0"),
    write("release_create", ["release", "create", "--version", "2.0.0"], "release", "release create",
          version="2.0.0"),
    write("build_create", ["build", "create", "--version", "2.0.0"], "build", "build create", version="2.0.0"),
]

BACKEND = Backend(
    type="webhook",
    name=NAME,
    settings={},
    auth=("Authorization", f"Bearer {CANARY}"),
    writes=WRITES,
    unsupported=[],
    scenarios=[
        Scenario("a 4xx is permanent: one readable line, exit 1, not retried",
                 argv=["deploy", "-e", "production", "--version", "1.4.0"],
                 exchanges=[Exchange("POST", "/", reply=Reply(json={"error": "unknown environment"}, status=422))],
                 exit_code=1, error_has="HTTP 422"),
        Scenario("a 500 is retried (receivers dedupe by the event key) and the next 2xx counts",
                 argv=["deploy", "-e", "production", "--version", "1.4.0", "--json"],
                 exchanges=[Exchange("POST", "/", reply=Reply(text="oops", status=500)),
                            Exchange("POST", "/", reply=Reply(text="", status=204))],
                 result={"ok": True, "status_code": 204}),
    ],
)
