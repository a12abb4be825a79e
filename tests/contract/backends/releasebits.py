"""ReleaseBits as data for the contract test: records only, one bare JSON array per component."""
from __future__ import annotations

import json

from werkzeug import Response

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import (Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario, Sent, Write)

CREATE_PATH = "/components/web/deployments/"  # the POST has a trailing slash, the GET none
LIST_PATH = "/components/web/deployments"
RECORD_ID = "44b6a0d3-b7a0-4f26-b976-5fce52bfc4b9"
NO_RECORDS = Exchange("GET", LIST_PATH, reply=Reply(json=[]))

DEPLOY = Write(
    operation="deploy",
    argv=["deploy", "--version", "v1.2.3", "-e", "production", "--host", "web-1", "--commit", SHA,
          "--branch", "main", "--name", "Funky", "--finished-at", "2024-05-01T12:30:00.123Z",
          "--meta", "owner=team-a"],
    before=[NO_RECORDS],
    create=Exchange("POST", CREATE_PATH, reply=Reply(json={"id": RECORD_ID}, status=201)),
    sent=Sent("POST", CREATE_PATH,
              headers={"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"},
              body=lambda key: {
                  "version": "v1.2.3", "result": "success", "stage": "production", "host": "web-1",
                  "finished_at": "2024-05-01T12:30:00.123Z", "commit_sha": SHA, "code_name": "Funky",
                  "branch": "main", "meta_data": {"owner": "team-a", "shipmark_event_key": key}}),
    result={"target": "rb", "type": "releasebits", "operation": "deploy", "ok": True, "status_code": 201,
            "id": RECORD_ID, "url": "{server}" + LIST_PATH, "error": None, "skipped": False},
    line=f"ok rb [web-1]: deploy (id {RECORD_ID}, {{server}}{LIST_PATH})",
    rerun=Rerun(
        # The record the first run made, found by the event key in meta_data.
        exchanges=lambda key: [Exchange("GET", LIST_PATH, reply=Reply(json=[
            {"id": RECORD_ID, "version": "v1.2.3", "result": "success",
             "meta_data": {"owner": "team-a", "shipmark_event_key": key}}]))],
        line=f"ok rb [web-1]: deploy: already recorded (id {RECORD_ID}, {{server}}{LIST_PATH})",
        result={"ok": True, "id": RECORD_ID}),
    dry_run_shows=["[dry-run] rb: POST {server}" + CREATE_PATH, "Authorization: Bearer ***",
                   '"shipmark_event_key": '],
)


def _landed_behind_a_503() -> Scenario:
    stored = []

    def create(request):
        # The record is stored, but the proxy in front answers 503: the client cannot know.
        stored[:] = [{"id": RECORD_ID, "meta_data": json.loads(request.get_data())["meta_data"]}]
        return Response("upstream went away", status=503, content_type="text/plain")

    def listing(_request):
        return Response(json.dumps(stored), content_type="application/json")

    return Scenario(
        "a POST that landed behind a 503 is confirmed, not duplicated",
        argv=DEPLOY.argv + ["--json"],
        exchanges=[Exchange("GET", LIST_PATH, reply=Reply(handler=listing)),
                   Exchange("POST", CREATE_PATH, reply=Reply(handler=create)),
                   Exchange("GET", LIST_PATH, reply=Reply(handler=listing))],
        stderr=["recorded (confirmed after a retry)"],
        result={"ok": True, "id": RECORD_ID})


def _two_pages(run: Run) -> None:
    (result,) = run.results
    assert result["ok"] and result["operation"] == "deployment_list"
    assert [(i["id"], i["status"], i["environment"]) for i in result["items"]] == [
        ("b", "failure", "production"), ("a", "success", "production")]
    assert [r.query_string for r in run.requests] == [b"", b"page=2"]


def _table_of_one(run: Run) -> None:
    lines = run.proc.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert lines[1].split()[:2] == ["rb", "a"]


PAGE_1 = [{"id": "a", "version": "v1", "result": "success", "stage": "production",
           "finished_at": "2024-05-01T10:00:00.000Z", "commit_sha": SHA}]
PAGE_2 = [{"id": "b", "version": "v2", "result": "failure", "stage": "production",
           "finished_at": "2024-05-02T10:00:00.000Z", "commit_sha": SHA},
          {"id": "c", "version": "v2", "result": "success", "stage": "staging",
           "finished_at": "2024-05-03T10:00:00.000Z"}]
FIRST_PAGE = Exchange("GET", LIST_PATH, query="", reply=Reply(
    json=PAGE_1, headers={"Link": '<{server}%s?page=2>; rel="next"' % LIST_PATH}))

BACKEND = Backend(
    type="releasebits",
    name="rb",
    settings={"component": "web"},
    auth=("Authorization", f"Bearer {CANARY}"),
    writes=[DEPLOY],
    unsupported=["release create", "build create"],
    refusals=[
        # A record is written once the deployment is over: "started" has no word.
        Refusal(["deployment", "start", "--version", "v1", "--commit", SHA],
                "skipped: status 'in_progress' cannot be represented by releasebits", exit_code=0),
        Refusal(["deployment", "start", "-t", "rb", "--version", "v1", "--commit", SHA],
                "status 'in_progress' cannot be represented by releasebits"),
    ],
    scenarios=[
        Scenario("list follows the Link header to a second page",
                 argv=["deployment", "list", "--json", "-e", "production", "--limit", "0"],
                 exchanges=[FIRST_PAGE, Exchange("GET", LIST_PATH, query="page=2", reply=Reply(json=PAGE_2))],
                 check=_two_pages),
        Scenario("the table with --limit 1 needs no second page",
                 argv=["deployment", "list", "--limit", "1"], exchanges=[FIRST_PAGE], check=_table_of_one),
        Scenario("a rejected deploy exits 1 with the server's message on one line",
                 argv=["deploy", "--version", "1.2.3", "--commit", SHA],
                 exchanges=[NO_RECORDS, Exchange("POST", CREATE_PATH, reply=Reply(
                     json={"message": "version must look like v1.2.3"}, status=422))],
                 exit_code=1,
                 error_line="shipmark: error: rb: deploy failed: HTTP 422 (the service rejected the data): "
                            "version must look like v1.2.3"),
        Scenario("a bad token exits 1 and explains",
                 argv=["check", "--online"],
                 exchanges=[Exchange("GET", LIST_PATH, reply=Reply(text="Unauthorized", status=401))],
                 exit_code=1,
                 stderr=["HTTP 401 (authentication failed: check the token): Unauthorized "
                         "(use a ReleaseBits API token"]),
        Scenario("check --online probes with one GET",
                 argv=["check", "--online"],
                 exchanges=[Exchange("GET", LIST_PATH, reply=Reply(json=[{"id": "a"}, {"id": "b"}]))],
                 stderr=["authenticated; component 'web': 2 deployments"]),
        Scenario("--wait has nothing to wait for and does not poll",
                 argv=["deploy", "--wait", "--wait-timeout", "5", "--version", "v1", "--commit", SHA,
                       "--status", "failure"],
                 exchanges=[NO_RECORDS, Exchange("POST", CREATE_PATH, reply=Reply(json={"id": RECORD_ID},
                                                                                  status=201))],
                 stderr=["--wait: releasebits has no remote state to wait for"]),
        _landed_behind_a_503(),
    ],
)
