"""GitHub Deployments as data for the contract test: a deployment, then its status."""
from __future__ import annotations

import hashlib

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario, Sent, Write

REPO = "/repos/acme/shop"
CREATE_PATH = f"{REPO}/deployments"
STATUS_PATH = f"{REPO}/deployments/7/statuses"
DEPLOYMENT_URL = "{server}" + f"{REPO}/deployments/7"
LOOKUP_QUERY = {"sha": SHA, "environment": "production", "per_page": "100"}
HEADERS = {"Authorization": f"Bearer {CANARY}", "Accept": "application/vnd.github+json",
           "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"}
# Start and finish of one deployment share it: (target, commit, environment, version, host).
LIFECYCLE_KEY = hashlib.sha256("\x1f".join(["gh", SHA, "production", "v1.2.3", "web-1"]).encode()).hexdigest()[:16]

DEPLOY = Write(
    operation="deploy",
    argv=["deploy", "--version", "v1.2.3", "-e", "production", "--host", "web-1", "--commit", SHA],
    before=[Exchange("GET", CREATE_PATH, query=LOOKUP_QUERY, reply=Reply(json=[])),
            Exchange("POST", CREATE_PATH, reply=Reply(json={"id": 7, "url": DEPLOYMENT_URL}, status=201))],
    create=Exchange("POST", STATUS_PATH, reply=Reply(json={"id": 70, "state": "success"}, status=201)),
    sent=Sent("POST", STATUS_PATH, headers=HEADERS,
              body=lambda _key: {"state": "success", "auto_inactive": True}),
    result={"target": "gh", "type": "github", "operation": "deploy", "ok": True, "status_code": 201, "id": "7",
            "url": DEPLOYMENT_URL, "error": None, "skipped": False, "remote_status": "success"},
    line=f"ok gh [web-1]: deploy (id 7, {DEPLOYMENT_URL}, state success)",
    rerun=Rerun(
        exchanges=lambda key: [
            Exchange("GET", CREATE_PATH, query=LOOKUP_QUERY, reply=Reply(json=[
                {"id": 7, "url": DEPLOYMENT_URL, "sha": SHA, "environment": "production",
                 "payload": {"shipmark": {"event_key": key, "lifecycle_key": LIFECYCLE_KEY}}}])),
            Exchange("GET", STATUS_PATH, query={"per_page": "1"}, reply=Reply(json=[{"id": 70, "state": "success"}]))],
        line=f"ok gh [web-1]: deploy: already recorded (id 7, {DEPLOYMENT_URL}, state success)",
        result={"ok": True, "id": "7"}),
    dry_run_shows=["[dry-run] gh: POST {server}" + CREATE_PATH, '"required_contexts": []', '"lifecycle_key": '],
)


def _paged(run: Run) -> None:
    (result,) = run.results
    assert [(i["id"], i["status"]) for i in result["items"]] == [("2", "in_progress"), ("1", "success")]
    assert [r.query_string for r in run.requests if r.path == CREATE_PATH] == [b"per_page=100", b"per_page=100&page=2"]


def _status_of(number: int, state: str) -> Exchange:
    return Exchange("GET", f"{REPO}/deployments/{number}/statuses", query={"per_page": "1"},
                    reply=Reply(json=[{"state": state}]))


BACKEND = Backend(
    type="github",
    name="gh",
    settings={"repository": "acme/shop"},
    auth=("Authorization", f"Bearer {CANARY}"),
    writes=[DEPLOY],
    unsupported=["release create", "build create"],
    refusals=[
        Refusal(["deployment", "finish", "--status", "skipped", "--commit", SHA],
                "skipped: status 'skipped' cannot be represented by github", exit_code=0),
        Refusal(["deployment", "finish", "--status", "skipped", "-t", "gh", "--commit", SHA],
                "status 'skipped' cannot be represented by github"),
    ],
    scenarios=[
        Scenario("list follows the Link header and reads each deployment's latest status",
                 argv=["deployment", "list", "--json"],
                 exchanges=[Exchange("GET", CREATE_PATH, query="per_page=100", reply=Reply(
                                json=[{"id": 2, "sha": SHA, "environment": "production"}],
                                headers={"Link": '<{server}%s?per_page=100&page=2>; rel="next"' % CREATE_PATH})),
                            Exchange("GET", CREATE_PATH, query="per_page=100&page=2",
                                     reply=Reply(json=[{"id": 1, "sha": SHA, "environment": "production"}])),
                            _status_of(2, "in_progress"), _status_of(1, "success")],
                 check=_paged),
        Scenario("check --online reads the repository",
                 argv=["check", "--online"],
                 exchanges=[Exchange("GET", REPO, reply=Reply(json={"full_name": "acme/shop",
                                                                    "visibility": "private"}))],
                 stderr=["authenticated; repository 'acme/shop' is readable (private)"]),
        Scenario("a secondary rate limit (403 + retry-after) is waited out",
                 argv=["deploy", "--version", "v1", "--commit", SHA],
                 exchanges=[Exchange("GET", CREATE_PATH, reply=Reply(
                                json={"message": "You have exceeded a secondary rate limit"}, status=403,
                                headers={"retry-after": "0"})),
                            Exchange("GET", CREATE_PATH, reply=Reply(json=[])),
                            Exchange("POST", CREATE_PATH, reply=Reply(json={"id": 7}, status=201)),
                            Exchange("POST", STATUS_PATH, reply=Reply(json={}, status=201))],
                 result={}),
    ],
)
