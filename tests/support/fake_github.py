"""A fake GitHub Deployments API for acme/shop (pytest-httpserver), shared by the target's tests
and the GitHub Action's run under act.

It keeps deployments and statuses as GitHub does (newest first) and checks that every request
carries the token, the media type and the API version.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import CANARY

REPO = "/repos/acme/shop"
HEADERS = {"Authorization": f"Bearer {CANARY}", "Accept": "application/vnd.github+json",
           "X-GitHub-Api-Version": "2022-11-28"}


class FakeGitHub:
    """Deployments and their statuses for acme/shop, newest first, as the REST API answers."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.deployments: List[Dict[str, Any]] = []
        self.statuses: Dict[int, List[Dict[str, Any]]] = {}
        self.log: List[Tuple[str, str, Dict[str, str], Any]] = []
        self.queued: List[Response] = []  # answers given before the normal handling (rate limits, 403s)
        self.page_size: Optional[int] = None  # list pages this long, linked by a Link header
        self.errors: List[str] = []  # what a handler found wrong (the server answers those with 500)
        server.expect_request(re.compile(".*")).respond_with_handler(self._checked)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def add(self, sha: str, environment: str, *, creator: str, payload: Any = None,
            statuses: Tuple[Dict[str, Any], ...] = ()) -> Dict[str, Any]:
        number = len(self.deployments) + 1
        deployment = {"id": number, "url": f"{self.url}{REPO}/deployments/{number}", "sha": sha, "ref": sha,
                      "task": "deploy", "environment": environment, "payload": payload or {},
                      "creator": {"login": creator}, "created_at": f"2024-05-0{number}T10:00:00Z"}
        self.deployments.insert(0, deployment)
        self.statuses[number] = list(reversed(statuses))
        return deployment

    def requests(self) -> List[Tuple[str, str, Dict[str, str], Any]]:
        return list(self.log)

    def writes(self) -> List[Tuple[str, str, Any]]:
        return [(m, p, b) for m, p, _q, b in self.log if m != "GET"]

    def _checked(self, request: Request) -> Response:
        try:
            return self.handle(request)
        except Exception as exc:
            self.errors.append(f"{request.method} {request.path}: {exc!r}")
            raise

    def handle(self, request: Request) -> Response:
        for name, value in HEADERS.items():
            assert request.headers.get(name) == value, f"{request.method} {request.path}: {name}"
        body = json.loads(request.get_data()) if request.get_data() else None
        self.log.append((request.method, request.path, dict(request.args.items()), body))
        if self.queued:
            return self.queued.pop(0)
        parts = request.path[len(REPO):].strip("/").split("/")
        if request.method == "POST" and parts == ["deployments"]:
            deployment = self.add(body["ref"], body["environment"], creator="shipmark-bot", payload=body["payload"])
            return json_response(deployment, 201)
        if request.method == "POST" and parts[0] == "deployments" and parts[2:] == ["statuses"]:
            status = dict(body, id=len(self.log))
            self.statuses[int(parts[1])].insert(0, status)
            return json_response(status, 201)
        if parts == ["deployments"]:
            found = [d for d in self.deployments
                     if request.args.get("sha") in (None, d["sha"])
                     and request.args.get("environment") in (None, d["environment"])]
            return self._page(request, found)
        if parts[0] == "deployments" and parts[2:] == ["statuses"]:
            per_page = int(request.args.get("per_page", 30))
            return json_response(self.statuses[int(parts[1])][:per_page])
        if parts[0] == "deployments" and len(parts) == 2:
            return json_response(next(d for d in self.deployments if d["id"] == int(parts[1])))
        return json_response({"message": "Not Found"}, 404)

    def _page(self, request: Request, found: List[Dict[str, Any]]) -> Response:
        size = self.page_size or int(request.args.get("per_page", 30))
        page = int(request.args.get("page", 1))
        headers = {}
        if page * size < len(found):
            query = dict(request.args.items(), page=str(page + 1))
            link = f"{self.url}{request.path}?" + "&".join(f"{k}={v}" for k, v in query.items())
            headers["Link"] = f'<{link}>; rel="next", <{link}>; rel="last"'
        return json_response(found[(page - 1) * size: page * size], headers=headers)


def json_response(data: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")
