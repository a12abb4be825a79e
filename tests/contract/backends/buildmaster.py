"""BuildMaster as data for the contract test: form-encoded writes, re-runs found by natural keys."""
from __future__ import annotations

from typing import Any, Dict

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import (TOKEN_REFERENCE, Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario,
                                         Sent, Write, form_of)

FORM = "application/x-www-form-urlencoded"
RELEASES = "/api/releases"
BUILDS = "/api/releases/builds"
DEPLOYMENTS = "/api/releases/builds/deployments"
DEPLOY_PATH = "/api/releases/builds/deploy"
HEADERS = {"X-ApiKey": CANARY, "Content-Type": FORM}


def deployment(id_: int, status: str, **extra: Any) -> Dict[str, Any]:
    data = {"id": id_, "status": status, "pipelineStageName": "Integration", "releaseNumber": "1.2",
            "buildNumber": "7", "createdOn": "2024-03-04T09:31:20.5100000Z", "canceledOn": None}
    data.update(extra)
    return data


def deployments_of_build_7(answer: Any) -> Exchange:
    """The re-run check before a deploy: this build's deployments to this stage."""
    return Exchange("GET", DEPLOYMENTS, reply=Reply(json=answer), query={
        "applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7", "pipelineStageName": "Integration"})


def deploy(answer: Any) -> Exchange:
    return Exchange("POST", DEPLOY_PATH, query="", reply=Reply(json=answer))


def poll(id_: int, state: str) -> Exchange:
    return Exchange("GET", DEPLOYMENTS, query={"deploymentId": str(id_)}, reply=Reply(json=[deployment(id_, state)]))


DEPLOY_ARGS = ["deploy", "--version", "1.2", "--build", "7", "-e", "Integration"]
RELEASE = {"id": 12, "releaseNumber": "2.0", "status": "active", "applicationId": 42}
BUILD = {"id": 8, "buildNumber": "7", "status": "active", "releaseNumber": "1.2"}
RELEASE_LOOKUP = {"applicationName": "Web", "releaseNumber": "2.0"}
BUILD_LOOKUP = {"applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7"}

WRITES = [
    Write(
        operation="deploy",
        argv=DEPLOY_ARGS,
        before=[deployments_of_build_7([])],
        create=deploy([deployment(91, "pending")]),
        sent=Sent("POST", DEPLOY_PATH, headers=HEADERS, form=True, body=lambda key: {
            "applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7", "toStage": "Integration",
            "$ShipmarkEventKey": key}),
        result={"target": "bm", "type": "buildmaster", "operation": "deploy", "ok": True, "status_code": 200,
                "error": None, "id": "91", "url": "{server}%s?deploymentId=91" % DEPLOYMENTS,
                "remote_status": "queued", "message": "deploying: build 7 to Integration (pending)"},
        line="ok bm: deploy: deploying: build 7 to Integration (pending) "
             "(id 91, {server}%s?deploymentId=91, state queued)" % DEPLOYMENTS,
        rerun=Rerun(
            # Found by release, build and stage: BuildMaster gives no variables back.
            exchanges=lambda _key: [deployments_of_build_7([deployment(95, "succeeded")])],
            line="ok bm: deploy: already deployed: build 7 to Integration (succeeded) "
                 "(id 95, {server}%s?deploymentId=95, state success)" % DEPLOYMENTS,
            result={"id": "95", "message": "already deployed: build 7 to Integration (succeeded)"}),
        dry_run_shows=["POST {server}" + DEPLOY_PATH, "buildNumber=7"],
    ),
    Write(
        operation="release_create",
        argv=["release", "create", "--version", "2.0", "--name", "Spring"],
        before=[Exchange("GET", RELEASES, query=RELEASE_LOOKUP, reply=Reply(json=[]))],
        create=Exchange("POST", "/api/releases/create", reply=Reply(json=RELEASE)),
        sent=Sent("POST", "/api/releases/create", headers=HEADERS, form=True, body=lambda key: {
            "applicationName": "Web", "releaseNumber": "2.0", "pipelineName": "Standard", "releaseName": "Spring",
            "$ShipmarkEventKey": key}),
        result={"operation": "release_create", "ok": True, "status_code": 200, "id": "12",
                "url": "{server}%s?releaseId=12" % RELEASES, "message": "created: release 2.0 (active)"},
        line="ok bm: release create: created: release 2.0 (active) (id 12, {server}%s?releaseId=12)" % RELEASES,
        rerun=Rerun(
            exchanges=lambda _key: [Exchange("GET", RELEASES, query=RELEASE_LOOKUP, reply=Reply(json=[RELEASE]))],
            line="ok bm: release create: already exists: release 2.0 (active) (id 12, {server}%s?releaseId=12)"
                 % RELEASES,
            result={"id": "12", "message": "already exists: release 2.0 (active)"}),
        dry_run_shows=["POST {server}/api/releases/create", "pipelineName=Standard"],
    ),
    Write(
        operation="build_create",
        argv=["build", "create", "--version", "1.2", "--build", "7"],
        before=[Exchange("GET", BUILDS, query=BUILD_LOOKUP, reply=Reply(json=[]))],
        create=Exchange("POST", "/api/releases/builds/create", reply=Reply(json=BUILD)),
        sent=Sent("POST", "/api/releases/builds/create", headers=HEADERS, form=True, body=lambda key: {
            "applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7", "$ShipmarkEventKey": key}),
        result={"operation": "build_create", "ok": True, "status_code": 200, "id": "8",
                "url": "{server}%s?buildId=8" % BUILDS, "message": "created: build 7 of release 1.2"},
        line="ok bm: build create: created: build 7 of release 1.2 (id 8, {server}%s?buildId=8)" % BUILDS,
        rerun=Rerun(
            exchanges=lambda _key: [Exchange("GET", BUILDS, query=BUILD_LOOKUP, reply=Reply(json=[BUILD]))],
            line="ok bm: build create: already exists: build 7 of release 1.2 (id 8, {server}%s?buildId=8)"
                 % BUILDS,
            result={"id": "8", "message": "already exists: build 7 of release 1.2"}),
        dry_run_shows=["POST {server}/api/releases/builds/create", "buildNumber=7"],
    ),
]


def _forced_with_a_variable(run: Run) -> None:
    (result,) = run.results
    post = run.requests[-1]
    assert post.headers["Content-Type"] == FORM and post.query_string == b""
    assert form_of(post) == {"applicationName": "Web", "releaseNumber": "1.2", "buildNumber": "7",
                             "toStage": "Integration", "force": "true", "$Notes": "from CI",
                             "$ShipmarkEventKey": result["event_key"]}
    assert len(result["event_key"]) == 16


def _newest_build_deployed(run: Run) -> None:
    assert form_of(run.requests[-1])["buildNumber"] == "7"


def _created_from_the_template(run: Run) -> None:
    (created,) = run.results
    post = run.requests[-1]
    assert post.headers["Content-Type"] == FORM and post.query_string == b""
    assert form_of(post) == {"applicationId": "42", "releaseNumber": "2.0", "template": "Std",
                             "releaseName": "Spring", "$ShipmarkEventKey": created["event_key"]}


def _one_line_with_the_servers_text(run: Run) -> None:
    lines = [line for line in run.proc.stderr.splitlines() if "Invalid pipeline name" in line]
    assert len(lines) == 1
    assert "bm" in lines[0] and lines[0].rstrip().endswith("Invalid pipeline name: Standard")


def _newest_two_builds(run: Run) -> None:
    (result,) = run.results
    assert [(i["id"], i["build"], i["created_at"]) for i in result["items"]] == [
        ("3", "3", "2024-03-03T09:00:00.000Z"), ("2", "2", "2024-03-02T09:00:00.000Z")]


def _cancelled_first(run: Run) -> None:
    rows = [line.split() for line in run.proc.stdout.splitlines()[1:]]
    assert [(r[1], r[2]) for r in rows] == [("2", "cancelled"), ("1", "success")]


def _config_with_template(url: str) -> str:
    return (f"targets:\n  bm: {{type: buildmaster, url: '{url}', token: '{TOKEN_REFERENCE}', application: 42,\n"
            "        release_template: Std}\n")


RELEASE_BY_ID = {"applicationId": "42", "releaseNumber": "2.0"}
RELEASE_ARGS = ["release", "create", "--version", "2.0", "--name", "Spring", "--json"]

BACKEND = Backend(
    type="buildmaster",
    name="bm",
    settings={"application": "Web", "pipeline": "Standard"},
    auth=("X-ApiKey", CANARY),
    writes=WRITES,
    unsupported=[],
    refusals=[Refusal(["deployment", "start", "-t", "bm", "--version", "1.2", "--commit", SHA],
                      "buildmaster runs deployments itself, so `deployment start` cannot report one")],
    scenarios=[
        Scenario("build deploy with --force and a $variable",
                 argv=["build", "deploy", "--version", "1.2", "--build", "7", "-e", "Integration", "--force",
                       "--param", "$Notes=from CI", "--json"],
                 exchanges=[deployments_of_build_7([]), deploy([deployment(91, "pending")])],
                 result={"target": "bm", "type": "buildmaster", "operation": "build_deploy", "ok": True,
                         "status_code": 200, "error": None, "id": "91",
                         "url": "{server}%s?deploymentId=91" % DEPLOYMENTS, "remote_status": "queued"},
                 check=_forced_with_a_variable),
        Scenario("deploy without --build takes the newest active build (a single-object answer)",
                 argv=["deploy", "--version", "1.2", "-e", "Integration"],
                 exchanges=[Exchange("GET", BUILDS, query={"applicationName": "Web", "releaseNumber": "1.2"},
                                     reply=Reply(json=[{"id": 5, "buildNumber": "6", "status": "deployed"},
                                                       {"id": 8, "buildNumber": "7", "status": "active"},
                                                       {"id": 9, "buildNumber": "8", "status": "rejected"}])),
                            deployments_of_build_7([]), deploy(deployment(92, "executing"))],
                 stderr=["deploying: build 7 to Integration (executing)"], check=_newest_build_deployed),
        Scenario("--wait follows the deployment to success",
                 argv=DEPLOY_ARGS + ["--wait", "--wait-timeout", "30", "--json"],
                 exchanges=[deployments_of_build_7([]), deploy([deployment(93, "pending")]),
                            poll(93, "executing"), poll(93, "succeeded")],
                 stderr=["waiting"], result={"ok": True, "remote_status": "success"}),
        Scenario("--wait on a failed deployment exits 3",
                 argv=DEPLOY_ARGS + ["--wait", "--wait-timeout", "30", "--json"],
                 exchanges=[deployments_of_build_7([]), deploy([deployment(94, "executing")]), poll(94, "failed")],
                 exit_code=3,
                 result={"ok": False, "remote_status": "failure", "error": "the deployment failed (state: failed)"}),
        Scenario("release create from a config file with a release template",
                 argv=RELEASE_ARGS, config=_config_with_template,
                 exchanges=[Exchange("GET", RELEASES, query=RELEASE_BY_ID, reply=Reply(json=[])),
                            Exchange("POST", "/api/releases/create-from-template", reply=Reply(json=RELEASE))],
                 result={"id": "12", "message": "created: release 2.0 (active)"}, check=_created_from_the_template),
        Scenario("release create from a config file finds the release on a re-run",
                 argv=RELEASE_ARGS, config=_config_with_template,
                 exchanges=[Exchange("GET", RELEASES, query=RELEASE_BY_ID, reply=Reply(json=[RELEASE]))],
                 result={"id": "12", "message": "already exists: release 2.0 (active)"}),
        Scenario("a 400 exits 1 with the server's text on one line",
                 argv=["release", "create", "--version", "2.0"],
                 exchanges=[Exchange("GET", RELEASES, reply=Reply(json=[])),
                            Exchange("POST", "/api/releases/create", reply=Reply(
                                text="Invalid pipeline name: Standard", status=400))],
                 exit_code=1,
                 error_line="shipmark: error: bm: release create failed: HTTP 400 (bad request): "
                            "Invalid pipeline name: Standard",
                 check=_one_line_with_the_servers_text),
        Scenario("check --online with a bad key explains the 403",
                 argv=["check", "--online"],
                 exchanges=[Exchange("GET", RELEASES, reply=Reply(text="", status=403))],
                 exit_code=1,
                 stderr=["the API key is missing, unknown or lacks Release & Build Deployment access"]),
        Scenario("build list does not page: --limit keeps the newest",
                 argv=["build", "list", "--version", "1.2", "--limit", "2", "--json"],
                 exchanges=[Exchange("GET", BUILDS, query={"applicationName": "Web", "releaseNumber": "1.2"},
                                     reply=Reply(json=[
                                         {"id": i, "buildNumber": str(i), "status": "active", "releaseNumber": "1.2",
                                          "furthestStage": "Integration", "createdOn": f"2024-03-0{i}T09:00:00"}
                                         for i in (1, 3, 2)]))],
                 check=_newest_two_builds),
        Scenario("the deployment table shows a cancelled deployment as cancelled",
                 argv=["deployment", "list", "-e", "Integration"],
                 exchanges=[Exchange("GET", DEPLOYMENTS,
                                     query={"applicationName": "Web", "pipelineStageName": "Integration"},
                                     reply=Reply(json=[deployment(1, "succeeded"),
                                                       deployment(2, "executing", canceledOn="2024-03-04T10:00:00")]))],
                 check=_cancelled_first),
    ],
)
