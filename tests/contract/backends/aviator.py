"""Aviator as data for the contract test: status PATCHes and release candidates, with no lookup.

Aviator keeps no free-form field on its records, so shipmark cannot find an earlier run's
record: a re-run sends again. A status PATCH is idempotent (the same state again); a
release candidate created twice is refused by the service, and the error says the RC may
come from an earlier run.
"""
from __future__ import annotations

import re
from typing import Any, Dict

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import (TOKEN_REFERENCE, Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario,
                                         Sent, Write)

PROJECT = "web"
RC = "1.4.0-rc1"
DEPLOYMENTS = f"/api/releases/{PROJECT}/environments/production/deployments"
RELEASE_PATH = f"/api/releases/{PROJECT}/releases/{RC}"
AUTH = {"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"}
SUCCESS = {"release_candidate_version": RC, "status": "success"}
RELEASE_BODY = {"repo": "acme/web", "commit": SHA, "trigger_build_workflow": False}


def deployment(i: int, status: str, version: str = RC) -> Dict[str, Any]:
    return {"id": i, "status": status, "actor": "octo", "environment_name": "production",
            "release_version": "1.4.0", "release_candidate_version": version,
            "deploy_start_at": "2024-05-01T12:30:00Z", "deploy_end_at": None, "error_message": None}


def patch(body: Any) -> Exchange:
    return Exchange("PATCH", DEPLOYMENTS, headers=AUTH, json=body, reply=Reply(text=""))


def listing(page: int, answer: Any) -> Exchange:
    return Exchange("GET", DEPLOYMENTS, headers=AUTH, query={"page": str(page), "per_page": "100"},
                    reply=Reply(json=answer))


TRIGGER = Exchange("POST", DEPLOYMENTS, headers=AUTH, json={"release_candidate_version": RC},
                   reply=Reply(text="", status=201))
DEPLOY_LINE = f"ok av: deploy (id {RC}@production, {{server}}{DEPLOYMENTS}, state success)"
RC_EXISTS = "Release candidate already exists"

WRITES = [
    Write(
        operation="deploy",
        argv=["deploy", "-e", "production", "--version", RC],
        before=[],
        create=patch(SUCCESS),
        sent=Sent("PATCH", DEPLOYMENTS, headers=AUTH, body=lambda _key: SUCCESS),
        result={"target": "av", "type": "aviator", "operation": "deploy", "ok": True, "status_code": 200,
                "id": f"{RC}@production", "url": "{server}" + DEPLOYMENTS},
        line=DEPLOY_LINE,
        # No lookup; the PATCH sets the same state again, and the re-run reports it the same way.
        rerun=Rerun(exchanges=lambda _key: [patch(SUCCESS)], creates_again=True, line=DEPLOY_LINE,
                    result={"ok": True, "id": f"{RC}@production", "status_code": 200}),
        dry_run_shows=["PATCH {server}" + DEPLOYMENTS],
    ),
    Write(
        operation="release_create",
        argv=["release", "create", "--version", RC, "--commit", SHA],
        before=[],
        create=Exchange("POST", RELEASE_PATH, headers=AUTH, json=RELEASE_BODY, reply=Reply(text="", status=201)),
        sent=Sent("POST", RELEASE_PATH, headers=AUTH, body=lambda _key: RELEASE_BODY),
        result={"operation": "release_create", "ok": True, "id": RC, "status_code": 201,
                "url": "{server}" + RELEASE_PATH},
        line=f"ok av: release create (id {RC}, {{server}}{RELEASE_PATH})",
        # No lookup: the POST goes again, the service refuses the duplicate, and the error says why.
        rerun=Rerun(
            exchanges=lambda _key: [Exchange("POST", RELEASE_PATH, headers=AUTH, json=RELEASE_BODY,
                                             reply=Reply(json={"error": RC_EXISTS}, status=409))],
            creates_again=True, exit_code=1,
            line=f"shipmark: error: av: release create failed: HTTP 409 (conflict): {RC_EXISTS} (release "
                 f"candidate {RC} may come from an earlier run of this job; Aviator offers no lookup to confirm it)",
            result={"ok": False, "status_code": 409}),
        dry_run_shows=["POST {server}" + RELEASE_PATH],
    ),
]


def _in_progress_sent(run: Run) -> None:
    assert run.requests[0].get_json() == {"release_candidate_version": RC, "status": "in_progress"}


def _one_readable_line(run: Run) -> None:
    errors = [line for line in run.proc.stderr.splitlines() if "Release environment not found" in line]
    assert len(errors) == 1
    assert re.fullmatch(r"shipmark: error: av: deploy failed: HTTP 404 \([^()]+\): Release environment not found",
                        errors[0]), errors


def _two_pages(run: Run) -> None:
    items = run.results[0]["items"]
    assert len(items) == 102
    assert items[0]["id"] == "200" and items[0]["status"] == "success" and items[0]["version"] == RC
    assert [i["status"] for i in items[-2:]] == ["cancelled", "failure"]
    assert [r.args.get("page") for r in run.requests] == ["1", "2"]


def _table_of_three(run: Run) -> None:
    rows = run.proc.stdout.strip().splitlines()
    assert rows[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert len(rows) == 4 and rows[1].split()[:3] == ["av", "0", "queued"]


def probe(status: int, error: str) -> Exchange:
    return Exchange("GET", f"/api/releases/{PROJECT}/environments/shipmark-probe/deployments", headers=AUTH,
                    query={"per_page": "1"}, reply=Reply(json={"error": error}, status=status))


TRIGGERED = ["deploy", "-e", "production", "--version", RC, "--param", "trigger_workflow=true", "--wait"]

BACKEND = Backend(
    type="aviator",
    name="av",
    settings={"project": PROJECT, "repository": "acme/web"},
    auth=("Authorization", f"Bearer {CANARY}"),
    writes=WRITES,
    unsupported=["build create"],
    refusals=[Refusal(["deploy", "-t", "av", "-e", "production", "--version", "1.4.0"],
                      "'1.4.0' is not an Aviator release candidate version")],
    scenarios=[
        Scenario("deployment start sends in_progress, from a config file",
                 argv=["deployment", "start", "-e", "production", "--version", RC],
                 config=lambda url: (f"targets:\n  av: {{type: aviator, url: '{url}', token: '{TOKEN_REFERENCE}', "
                                     f"project: {PROJECT}}}\n"),
                 exchanges=[patch({"release_candidate_version": RC, "status": "in_progress"})],
                 check=_in_progress_sent),
        Scenario("an error is one readable line and exit 1",
                 argv=["deploy", "-e", "production", "--version", RC],
                 exchanges=[Exchange("PATCH", DEPLOYMENTS, reply=Reply(
                     json={"error": "Release environment not found"}, status=404))],
                 exit_code=1, check=_one_readable_line),
        Scenario("list follows page numbers to a short page",
                 argv=["deployment", "list", "-e", "production", "--limit", "0", "--json"],
                 exchanges=[listing(1, [deployment(i, "success") for i in range(200, 100, -1)]),
                            listing(2, [deployment(100, "canceled"), deployment(99, "error")])],
                 check=_two_pages),
        Scenario("the table with --limit 3 reads one page",
                 argv=["deployment", "list", "-e", "production", "--limit", "3"],
                 exchanges=[listing(1, [deployment(i, "pending") for i in range(100)])],
                 check=_table_of_three),
        Scenario("--wait follows a triggered deployment to success",
                 argv=TRIGGERED + ["--wait-timeout", "30", "--json"],
                 exchanges=[TRIGGER,
                            Exchange("GET", DEPLOYMENTS, reply=Reply(
                                json=[deployment(7, "in_progress"), deployment(6, "failure")])),
                            listing(1, [deployment(7, "success"), deployment(6, "failure")])],
                 stderr=["waiting"], result={"ok": True, "remote_status": "success"}),
        Scenario("--wait on a failed deployment exits 3",
                 argv=TRIGGERED + ["--json"],
                 exchanges=[TRIGGER, Exchange("GET", DEPLOYMENTS, reply=Reply(json=[deployment(7, "error")]))],
                 exit_code=3, result={"ok": False, "error": "the deployment failed (state: error)"}),
        # The probe reads an environment that does not exist: a 404 naming it proves the token and project.
        Scenario("check --online: an unknown environment means authenticated",
                 argv=["check", "--online"], exchanges=[probe(404, "Release environment not found")],
                 stderr=["authenticated; project 'web' found"]),
        Scenario("check --online: a 401 fails with the server's words",
                 argv=["check", "--online"], exchanges=[probe(401, "Invalid API token")],
                 exit_code=1, stderr=["check failed: HTTP 401 (", "Invalid API token"]),
    ],
)
