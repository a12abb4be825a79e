"""Beanstalk as data for the contract test: Basic auth, the event key rides in the release comment."""
from __future__ import annotations

import base64
from typing import Any, Dict

from tests.conftest import CANARY, SHA
from tests.contract.fake_service import (TOKEN_REFERENCE, Backend, Exchange, Refusal, Reply, Rerun, Run, Scenario,
                                         Sent, Write)

AUTH = "Basic " + base64.b64encode(f"ci:{CANARY}".encode()).decode()
RELEASES = "/api/67/releases.json"


def release(release_id: int, state: str, comment: str = "by hand") -> Dict[str, Any]:
    return {"release": {"id": release_id, "state": state, "revision": SHA, "comment": comment,
                        "environment_name": "Production", "environment_id": 3, "repository_id": 67,
                        "created_at": "2024/05/01 14:30:00 +0200"}}


def lookup(answer: Any) -> Exchange:
    """The re-run check: the newest 50 releases, searched for the event key."""
    return Exchange("GET", RELEASES, query={"per_page": "50"}, reply=Reply(json=answer))


def create(answer: Any, status: int = 201) -> Exchange:
    return Exchange("POST", RELEASES, query={"environment_id": "3"}, reply=Reply(json=answer, status=status),
                    headers={"Authorization": AUTH, "Content-Type": "application/json"})


def poll(state: str) -> Exchange:
    return Exchange("GET", "/api/67/releases/183.json", reply=Reply(json=release(183, state)))


DEPLOY_ARGS = ["deploy", "-t", "bs", "--commit", SHA, "--version", "v1.2.3"]

DEPLOY = Write(
    operation="deploy",
    argv=DEPLOY_ARGS,
    before=[lookup([release(1, "success")])],
    create=create(release(183, "new")),
    sent=Sent("POST", RELEASES, query=b"environment_id=3",
              headers={"Authorization": AUTH, "Content-Type": "application/json"},
              body=lambda key: {"release": {"revision": SHA, "comment": f"v1.2.3 [shipmark {key}]"}}),
    result={"target": "bs", "type": "beanstalk", "operation": "deploy", "ok": True, "id": "183",
            "url": "{server}/api/67/releases/183.json", "status_code": 201, "remote_status": "queued"},
    line="ok bs: deploy (id 183, {server}/api/67/releases/183.json, state queued)",
    rerun=Rerun(
        exchanges=lambda key: [lookup([release(183, "success", comment=f"v1.2.3 [shipmark {key}]")])],
        line="ok bs: deploy: already recorded (id 183, {server}/api/67/releases/183.json, state success)",
        result={"ok": True, "id": "183"}),
    dry_run_shows=["POST {server}%s?environment_id=3" % RELEASES],
)


def _two_pages(run: Run) -> None:
    items = run.results[0]["items"]
    assert len(items) == 52
    assert [(i["id"], i["status"]) for i in items[-2:]] == [("51", "failure"), ("52", "queued")]
    assert items[0]["created_at"] == "2024-05-01T12:30:00Z"


def _table_row(run: Run) -> None:
    row = run.proc.stdout.splitlines()[1].split()
    assert row[:6] == ["bs", "7", "in_progress", "v9.9.9", "Production", SHA[:12]]


def _credentials_not_echoed(run: Run) -> None:
    assert AUTH.split()[1] not in run.proc.stderr


def _do_not_notify(run: Run) -> None:
    assert run.requests[-1].get_json()["release"]["do_not_notify"] is True


BACKEND = Backend(
    type="beanstalk",
    name="bs",
    settings={"username": "ci", "repository": "67", "environment_id": "3"},
    auth=("Authorization", AUTH),
    writes=[DEPLOY],
    unsupported=["release create", "build create"],
    refusals=[Refusal(DEPLOY_ARGS + ["--status", "cancelled"],
                      "status 'cancelled' cannot be represented by beanstalk")],
    scenarios=[
        Scenario("list reads a second page after a full first one",
                 argv=["deployment", "list", "-t", "bs", "--limit", "0", "--json"],
                 exchanges=[Exchange("GET", RELEASES, query={"page": "1", "per_page": "50"},
                                     reply=Reply(json=[release(i, "success") for i in range(1, 51)])),
                            Exchange("GET", RELEASES, query={"page": "2", "per_page": "50"},
                                     reply=Reply(json=[release(51, "failed"), release(52, "waiting")]))],
                 check=_two_pages),
        Scenario("the table takes the version from the comment",
                 argv=["deployment", "list", "-t", "bs"],
                 exchanges=[Exchange("GET", RELEASES, reply=Reply(
                     json=[release(7, "pending", comment="v9.9.9 [shipmark k] https://ci/7")]))],
                 check=_table_row),
        Scenario("a rejected deploy exits 1 with the server's messages on one line",
                 argv=DEPLOY_ARGS,
                 exchanges=[lookup([]), create({"errors": ["Revision can't be blank", "Server can't be blank"]}, 422)],
                 exit_code=1,
                 error_line="shipmark: error: bs: deploy failed: HTTP 422 (the service rejected the data): "
                            "Revision can't be blank; Server can't be blank"),
        Scenario("a bad token exits 1 and the credentials the server echoes are redacted",
                 argv=["deployment", "get", "-t", "bs", "--id", "5"],
                 exchanges=[Exchange("GET", "/api/67/releases/5.json", reply=Reply(
                     text=f"HTTP Basic: Access denied for {AUTH}", status=401, content_type="text/html"))],
                 exit_code=1,
                 stderr=["HTTP 401 (authentication failed: check the token): HTTP Basic: Access denied for"],
                 check=_credentials_not_echoed),
        Scenario("--wait follows the release to success",
                 argv=DEPLOY_ARGS + ["--wait", "--wait-timeout", "30", "--json"],
                 exchanges=[lookup([release(1, "success")]), create(release(183, "new")), poll("pending"),
                            poll("success")],
                 stderr=["waiting", "bs: in_progress"], result={"ok": True, "remote_status": "success"}),
        Scenario("--wait on a failed release exits 3",
                 argv=DEPLOY_ARGS + ["--wait", "--json"],
                 exchanges=[lookup([release(1, "success")]), create(release(183, "new")), poll("failed")],
                 exit_code=3, result={"ok": False, "error": "the deployment failed (state: failed)"}),
        Scenario("retrying a release that did not fail says why not",
                 argv=["deployment", "retry", "-t", "bs", "--id", "183"],
                 exchanges=[Exchange("PUT", "/api/67/releases/183/retry.json", reply=Reply(text="", status=422))],
                 exit_code=1, stderr=["release 183 not retryable: only failed releases can be retried"]),
        Scenario("an environment named by -e, from a config file, with a --param",
                 argv=DEPLOY_ARGS + ["-e", "staging", "--param", "do_not_notify=true"],
                 config=lambda url: (f"targets:\n  bs: {{type: beanstalk, url: '{url}', username: ci, "
                                     f"token: '{TOKEN_REFERENCE}', repository: web}}\n"),
                 exchanges=[Exchange("GET", "/api/web/server_environments.json",
                                     reply=Reply(json=[{"server_environment": {"id": 41, "name": "Staging"}}])),
                            Exchange("GET", "/api/web/releases.json", reply=Reply(json=[])),
                            Exchange("POST", "/api/web/releases.json", query={"environment_id": "41"},
                                     reply=Reply(json=release(9, "new")))],
                 check=_do_not_notify),
        Scenario("check --online counts the environments",
                 argv=["check", "--online"],
                 exchanges=[Exchange("GET", "/api/67/server_environments.json",
                                     reply=Reply(json=[{"server_environment": {"id": 3, "name": "Production"}}]))],
                 stderr=["authenticated; repository 67 has 1 environment"]),
    ],
)
