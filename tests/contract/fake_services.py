"""One local HTTP server standing in for every backend's service, and the CI environments to run under.

Tests that must hold for every backend (the version that wins, the commit a PR build
records, what a re-run finds) run the real CLI once per backend against this server.
Each fake answers only the routes those commands use, keeps every write it receives
and answers the event-key lookups from them, as the real services would.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence
from urllib.parse import parse_qsl, unquote

from pytest_httpserver import HTTPServer
from werkzeug import Request as WsgiRequest
from werkzeug import Response

from tests.conftest import CANARY, HEAD_SHA, SHA

MERGE_SHA = "1111111111111111111111111111111111111111"
BASE_SHA = "2222222222222222222222222222222222222222"
TAG = "v9.9.9-rc9"  # RC-shaped so that Aviator could take it too: a backend preferring it must show it


@dataclass
class Write:
    """One write a fake service received: method, path, query and the parsed body."""

    method: str
    path: str
    query: Dict[str, str]
    body: Any
    raw: str


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


class FakeServices:
    """ReleaseBits, DeployBot, Beanstalk, BuildMaster and Aviator behind one server."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.writes: List[Write] = []
        self.reads: List[str] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/")

    def writes_to(self, method: str, path_prefix: str) -> List[Write]:
        return [w for w in self.writes if w.method == method and w.path.startswith(path_prefix)]

    # -- routing -----------------------------------------------------------
    def _handle(self, request: WsgiRequest) -> Response:
        path, method = request.path, request.method
        if method == "GET":
            self.reads.append(path)
            return self._read(path)
        raw = request.get_data(as_text=True)
        if (request.content_type or "").startswith("application/x-www-form-urlencoded"):
            body: Any = dict(parse_qsl(raw, keep_blank_values=True))
        else:
            body = json.loads(raw) if raw.strip() else None
        write = Write(method, path, dict(request.args.items()), body, raw)
        self.writes.append(write)
        return self._write(write)

    def _read(self, path: str) -> Response:
        if path == "/components/web/deployments":  # ReleaseBits: a bare array of records
            return _json([{"id": f"rec-{i}", "version": w.body["version"], "result": w.body["result"],
                           "meta_data": w.body["meta_data"]}
                          for i, w in enumerate(self.writes_to("POST", "/components/web/deployments/"))])
        if path == "/api/v1/deployments":  # DeployBot: newest first in a meta/entries envelope
            entries = [self._deploybot(i, w) for i, w in enumerate(self.writes_to("POST", "/api/v1/deployments"))]
            return _json({"meta": {"next": None, "total": len(entries)}, "entries": entries[::-1]})
        if path == "/api/v1/environments":
            return _json({"meta": {"next": None, "total": 1},
                          "entries": [{"id": 12, "name": "production", "repository_id": 7}]})
        if path == "/api/67/releases.json":  # Beanstalk: wrapped objects, newest first
            return _json([{"release": self._beanstalk(i, w)}
                          for i, w in enumerate(self.writes_to("POST", "/api/67/releases.json"))][::-1])
        if path == "/api/67/server_environments.json":
            return _json([{"server_environment": {"id": 3, "name": "production"}}])
        if path.startswith("/api/releases"):  # BuildMaster lookups: nothing recorded before
            return _json([])
        return Response("no such route", status=404)

    def _write(self, write: Write) -> Response:
        path = write.path
        if path == "/components/web/deployments/":
            return _json({"id": f"rec-{len(self.writes_to('POST', path)) - 1}"}, 201)
        if path == "/api/v1/deployments":
            return _json(self._deploybot(len(self.writes_to("POST", path)) - 1, write), 201)
        if path == "/api/67/releases.json":
            return _json({"release": self._beanstalk(len(self.writes_to("POST", path)) - 1, write)}, 201)
        if path == "/api/releases/builds/deploy":
            return _json([{"id": 91, "status": "pending", "pipelineStageName": write.body.get("toStage"),
                           "releaseNumber": write.body.get("releaseNumber"),
                           "buildNumber": write.body.get("buildNumber")}])
        if path == "/api/releases/create":
            return _json({"id": 5, "releaseNumber": write.body.get("releaseNumber"), "status": "active"})
        if path == "/api/releases/builds/create":
            return _json({"id": 8, "buildNumber": write.body.get("buildNumber"),
                          "releaseNumber": write.body.get("releaseNumber")})
        if path.startswith("/api/releases/web/"):  # Aviator: PATCH a status, POST a release candidate
            return Response("", status=200 if write.method == "PATCH" else 201)
        return Response("no such route", status=404)

    @staticmethod
    def _deploybot(index: int, write: Write) -> Dict[str, Any]:
        return {"id": 300 + index, "environment_id": write.body["environment_id"], "state": "success",
                "deployed_version": write.body["deployed_version"], "comment": write.body["comment"],
                "created_at": "2024/05/01 12:30:05 +0000"}

    @staticmethod
    def _beanstalk(index: int, write: Write) -> Dict[str, Any]:
        release = write.body["release"]
        return {"id": 180 + index, "state": "success", "revision": release["revision"],
                "comment": release["comment"], "environment_id": 3, "environment_name": "production"}


# -- targets -------------------------------------------------------------------

def _target_vars(name: str, **keys: str) -> Dict[str, str]:
    return {f"SHIPMARK_TARGET_{name.upper()}_{key.upper()}": value for key, value in keys.items()}


def target_env(url: str, tmp_path: Path, *extra_names: str) -> Dict[str, str]:
    """One target of every type (rb, db, bs, bm, av, out); ``extra_names`` add more of a type
    (``rb2`` is a second ReleaseBits target on the same component, and likewise db2, bs2)."""
    kinds = {
        "rb": dict(type="releasebits", url=url, token=CANARY, component="web"),
        "db": dict(type="deploybot", url=url, token=CANARY, environment_id="12"),
        "bs": dict(type="beanstalk", url=url, token=CANARY, username="ci", repository="67", environment_id="3"),
        "bm": dict(type="buildmaster", url=url, token=CANARY, application="Web", pipeline="Standard"),
        "av": dict(type="aviator", url=url, token=CANARY, project="web", repository="acme/web"),
        "out": dict(type="file", path=str(tmp_path / "events.jsonl")),
    }
    env = {"SHIPMARK_SPOOL": str(tmp_path / "spool.jsonl")}
    for name, keys in kinds.items():
        env.update(_target_vars(name, **keys))
    for name in extra_names:
        env.update(_target_vars(name, **kinds[name.rstrip("0123456789")]))
    return env


# -- CI environments -------------------------------------------------------------

def github_env(**extra: str) -> Dict[str, str]:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_RUN_ID": "42", "GITHUB_JOB": "deploy", "GITHUB_ACTOR": "octo"}
    env.update(extra)
    return env


def tag_push_env() -> Dict[str, str]:
    """A push of the tag TAG at commit SHA."""
    return github_env(GITHUB_EVENT_NAME="push", GITHUB_SHA=SHA, GITHUB_REF=f"refs/tags/{TAG}",
                      GITHUB_REF_NAME=TAG, GITHUB_REF_TYPE="tag")


def pull_request_env(tmp_path: Path) -> Dict[str, str]:
    """A pull_request build: GitHub checks out the merge commit MERGE_SHA; the PR's head is HEAD_SHA."""
    payload = {"pull_request": {"number": 7, "head": {"sha": HEAD_SHA, "ref": "feature"},
                                "base": {"sha": BASE_SHA, "ref": "main"}}}
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return github_env(GITHUB_EVENT_NAME="pull_request", GITHUB_SHA=MERGE_SHA, GITHUB_REF="refs/pull/7/merge",
                      GITHUB_REF_NAME="7/merge", GITHUB_REF_TYPE="branch", GITHUB_HEAD_REF="feature",
                      GITHUB_BASE_REF="main", GITHUB_EVENT_PATH=str(event))


# -- what each backend's write carries --------------------------------------------

@dataclass
class Backend:
    """One command for one target, and where its write carries the version and the commit."""

    id: str
    target: str
    args: Sequence[str]
    version: str
    write: Optional[tuple]  # (method, path prefix); None for the file target
    version_of: Callable[[Write], Optional[str]]
    commit_of: Optional[Callable[[Write], Optional[str]]]  # None: the commit is sent nowhere

    def command(self, version: Optional[str] = None) -> List[str]:
        return [*self.args, "-t", self.target, "--version", version or self.version, "--json", "--timeout", "5"]

    def payloads(self, services: FakeServices, tmp_path: Path) -> List[Write]:
        if self.write is None:  # the file target appends one JSON line per event
            events = tmp_path / "events.jsonl"
            lines = events.read_text().splitlines() if events.exists() else []
            return [Write("APPEND", str(events), {}, json.loads(line), line) for line in lines]
        return services.writes_to(*self.write)


def _comment_version(comment: str) -> str:
    return comment.split()[0]


BACKENDS = [
    Backend("releasebits-deploy", "rb", ["deploy", "-e", "production"], "1.2.3",
            ("POST", "/components/web/deployments/"),
            lambda w: w.body["version"], lambda w: w.body["commit_sha"]),
    Backend("deploybot-deploy", "db", ["deploy", "-e", "production"], "1.2.3", ("POST", "/api/v1/deployments"),
            lambda w: _comment_version(w.body["comment"]), lambda w: w.body["deployed_version"]),
    Backend("beanstalk-deploy", "bs", ["deploy", "-e", "production"], "1.2.3", ("POST", "/api/67/releases.json"),
            lambda w: _comment_version(w.body["release"]["comment"]), lambda w: w.body["release"]["revision"]),
    Backend("buildmaster-deploy", "bm", ["deploy", "-e", "production", "--build", "7"], "1.2.3",
            ("POST", "/api/releases/builds/deploy"), lambda w: w.body["releaseNumber"], None),
    Backend("buildmaster-release-create", "bm", ["release", "create"], "1.2.3", ("POST", "/api/releases/create"),
            lambda w: w.body["releaseNumber"], None),
    Backend("buildmaster-build-create", "bm", ["build", "create", "--build", "7"], "1.2.3",
            ("POST", "/api/releases/builds/create"), lambda w: w.body["releaseNumber"], None),
    Backend("aviator-deploy", "av", ["deploy", "-e", "production"], "1.2.3-rc1",
            ("PATCH", "/api/releases/web/environments/production/deployments"),
            lambda w: w.body["release_candidate_version"], None),
    Backend("aviator-release-create", "av", ["release", "create"], "1.2.3-rc1",
            ("POST", "/api/releases/web/releases/"),
            lambda w: unquote(w.path.rsplit("/", 1)[1]), lambda w: w.body["commit"]),
    Backend("file-deploy", "out", ["deploy", "-e", "production"], "1.2.3", None,
            lambda w: w.body["version"], lambda w: w.body["commit"]),
]
