"""DeployBot as data for the contract test: it runs deployments itself; the event key rides in `comment`."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import (Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario, Sent, Write,
                                         TOKEN_REFERENCE)

PREFIX = "/api/v1"  # the configured url is the account base, without /api/v1
DEPLOYMENTS = PREFIX + "/deployments"


def page(entries: List[Dict[str, Any]], next_after: Optional[int] = None) -> Dict[str, Any]:
    return {"meta": {"next": next_after, "next_uri": None if next_after is None else f"/deployments?after={next_after}",
                     "total": 3},
            "entries": entries}


def deployment(ident: int, state: str, comment: str = "by hand") -> Dict[str, Any]:
    return {"id": ident, "repository_id": 7, "environment_id": 12, "user_id": 3, "deployed_version": SHA,
            "comment": comment, "state": state, "created_at": "2024/05/01 12:30:05 +0000", "deployed_at": None}


def lookup(entries: Optional[List[Dict[str, Any]]] = None, environment_id: int = 12) -> Exchange:
    """The re-run check: the environment's newest deployments, searched for the event key."""
    return Exchange("GET", DEPLOYMENTS, query=f"environment_id={environment_id}&limit=50",
                    reply=Reply(json=page(entries or [])))


def create(answer: Any, status: int = 200) -> Exchange:
    return Exchange("POST", DEPLOYMENTS, reply=Reply(json=answer, status=status))


def poll(state: str) -> Exchange:
    return Exchange("GET", DEPLOYMENTS + "/345", reply=Reply(json=deployment(345, state)))


DEPLOY_ARGS = ["deploy", "-t", "db", "--commit", SHA, "--version", "v1.2.3"]

DEPLOY = Write(
    operation="deploy",
    argv=DEPLOY_ARGS,
    before=[lookup()],
    create=create(deployment(345, "waiting")),
    sent=Sent("POST", DEPLOYMENTS,
              headers={"X-Api-Token": CANARY, "Accept": "application/json", "Content-Type": "application/json"},
              body=lambda key: {"environment_id": 12, "deployed_version": SHA,
                                "comment": f"v1.2.3 (shipmark {key})"}),
    result={"target": "db", "type": "deploybot", "operation": "deploy", "ok": True, "status_code": 200,
            "id": "345", "url": "{server}" + DEPLOYMENTS + "/345", "error": None, "remote_status": "queued"},
    line="ok db: deploy (id 345, {server}%s/345, state queued)" % DEPLOYMENTS,
    rerun=Rerun(
        exchanges=lambda key: [lookup([deployment(340, "success", f"v1.2.3 (shipmark {key})")])],
        line="ok db: deploy: already recorded (id 340, {server}%s/340, state success)" % DEPLOYMENTS,
        result={"ok": True, "id": "340"}),
    dry_run_shows=["[dry-run] db: POST {server}" + DEPLOYMENTS],
)

ENVIRONMENTS = Exchange("GET", PREFIX + "/environments", query="limit=50", reply=Reply(json={
    "meta": {"next": None}, "entries": [{"id": 12, "name": "production", "repository_id": 7},
                                        {"id": 13, "name": "staging", "repository_id": 7}]}))


def _named_environment(run: Run) -> None:
    body = run.requests[-1].get_json()
    assert (body["environment_id"], body["deploy_from_scratch"]) == (13, True)


def _three_entries(run: Run) -> None:
    (result,) = run.results
    assert [(i["id"], i["status"], i["environment"], i["commit"]) for i in result["items"]] == [
        ("9", "success", "production", SHA), ("8", "failure", "production", SHA),
        ("7", "in_progress", "production", SHA)]


def _table_of_one(run: Run) -> None:
    lines = run.proc.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert lines[1].split() == ["db", "9", "success", SHA, "12", SHA[:12], "2024-05-01T12:30:05Z"]
    assert len(lines) == 2


FIRST_PAGE = Exchange("GET", DEPLOYMENTS, query="limit=50",
                      reply=Reply(json=page([deployment(9, "success"), deployment(8, "failed")], next_after=8)))

BACKEND = Backend(
    type="deploybot",
    name="db",
    settings={"environment_id": "12"},
    auth=("X-Api-Token", CANARY),
    writes=[DEPLOY],
    unsupported=["release create", "build create"],
    refusals=[
        Refusal(["deployment", "start", "-t", "db", "--commit", SHA],
                "deploybot runs deployments itself, so `deployment start` cannot report one"),
        Refusal(["deploy", "--status", "failure", "-t", "db", "--commit", SHA],
                "DeployBot only triggers deployments, so status 'failure' cannot be recorded"),
    ],
    scenarios=[
        Scenario("deploy to an environment named by -e, with a --param",
                 argv=["deploy", "-t", "db", "-e", "staging", "--commit", SHA, "--param", "deploy_from_scratch=true"],
                 exchanges=[ENVIRONMENTS, lookup(environment_id=13), create(deployment(346, "pending"))],
                 stderr=["ok db: deploy (id 346"], check=_named_environment),
        Scenario("list follows the cursor to a second page",
                 argv=["deployment", "list", "--json", "-t", "db", "--limit", "0"],
                 exchanges=[ENVIRONMENTS, FIRST_PAGE,
                            Exchange("GET", DEPLOYMENTS, query="limit=50&after=8",
                                     reply=Reply(json=page([deployment(7, "pending")])))],
                 check=_three_entries),
        Scenario("the table with --limit 1 needs no second page",
                 argv=["deployment", "list", "-t", "db", "--limit", "1"],
                 exchanges=[Exchange("GET", PREFIX + "/environments", reply=Reply(json={"meta": {}, "entries": []})),
                            FIRST_PAGE],
                 check=_table_of_one),
        Scenario("a 422 is shown on one line",
                 argv=["deploy", "-t", "db", "--commit", SHA],
                 exchanges=[lookup(), create({"message": "Deployed version was not found in the repository."}, 422)],
                 exit_code=1,
                 error_line="shipmark: error: db: deploy failed: HTTP 422 (the service rejected the data): "
                            "Deployed version was not found in the repository."),
        Scenario("a read-only token is named as the cause",
                 argv=["deploy", "--json", "-t", "db", "--commit", SHA],
                 exchanges=[lookup(), create({"message": "Forbidden."}, 403)],
                 exit_code=1, error_has="the API token is read-only", result={"status_code": 403}),
        Scenario("--wait follows the deployment to success",
                 argv=["deploy", "--json", "-t", "db", "--commit", SHA, "--wait", "--wait-timeout", "30"],
                 exchanges=[lookup(), create(deployment(345, "waiting")), poll("pending"), poll("success")],
                 stderr=["waiting (", "db: in_progress"], result={"ok": True, "remote_status": "success"}),
        Scenario("--wait on a failed deployment exits 3",
                 argv=["deploy", "--json", "-t", "db", "--commit", SHA, "--wait"],
                 exchanges=[lookup(), create(deployment(345, "waiting")), poll("failed")],
                 exit_code=3,
                 result={"ok": False, "remote_status": "failure", "error": "the deployment failed (state: failed)"}),
        Scenario("check --online from a config file whose url ends in /api/v1",
                 argv=["check", "--online"],
                 config=lambda url: (f"targets:\n  db: {{type: deploybot, url: '{url}api/v1', "
                                     f"token: '{TOKEN_REFERENCE}', environment_id: 12}}\n"),
                 exchanges=[Exchange("GET", PREFIX + "/environments/12",
                                     reply=Reply(json={"id": 12, "name": "production", "repository_id": 7}))],
                 stderr=["authenticated; environment 12 (production)"]),
    ],
)
