"""How a backend's data module describes its fake service, and the runner that drives the
installed CLI against it (pytest-httpserver, real sockets).

A backend module under tests/contract/backends/ says, as data: how its target is
configured, which writes it supports and the exact request each must send, what the
service answers to a re-run, what --dry-run prints, which operations it refuses, and a
few scenarios of its own (paging, --wait, errors, `check --online`). The contract test
applies the same assertions to every backend.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response

from tests.conftest import CANARY, assert_no_canary, run_cli

# A config file reads the token from this variable, as a CI job would pass it.
TOKEN_VARIABLE = "SERVICE_TOKEN"
TOKEN_REFERENCE = "${%s}" % TOKEN_VARIABLE


@dataclass(frozen=True)
class Reply:
    """How the fake service answers one request."""

    json: Any = None
    status: int = 200
    text: Optional[str] = None  # a non-JSON body (sent as text/plain unless content_type says otherwise)
    content_type: Optional[str] = None
    headers: Mapping[str, str] = field(default_factory=dict)
    handler: Optional[Callable[[WerkzeugRequest], Response]] = None  # computes the answer instead

    def register(self, expectation, server: HTTPServer) -> None:
        headers = expand(dict(self.headers), server)
        if self.handler is not None:
            expectation.respond_with_handler(self.handler)
        elif self.text is not None:
            expectation.respond_with_data(expand(self.text, server), status=self.status, headers=headers,
                                          content_type=self.content_type or "text/plain")
        else:
            expectation.respond_with_json(expand(self.json, server), status=self.status, headers=headers)


@dataclass(frozen=True)
class Exchange:
    """One request the service must receive (in this order, exactly once) and its answer."""

    method: str
    path: str
    query: Union[None, str, Mapping[str, str]] = None  # None: any query string
    reply: Reply = Reply(json={})
    headers: Mapping[str, str] = field(default_factory=dict)  # must be present with these values
    json: Any = None  # the JSON body it must carry (None: not checked)

    def label(self) -> Tuple[str, str]:
        return self.method, self.path


@dataclass(frozen=True)
class Sent:
    """The exact request a write sends: method, path, query, headers and body."""

    method: str
    path: str
    headers: Mapping[str, str]  # exact values, the auth header included
    body: Callable[[str], Any]  # the event key -> the body the service must receive
    query: bytes = b""
    form: bool = False  # the body is application/x-www-form-urlencoded, not JSON


@dataclass(frozen=True)
class Rerun:
    """What a re-run of the same CI job meets at the service, and what shipmark then does.

    Backends that can find a record by its event key send no second create. One that
    cannot (Aviator) sends again: ``creates_again`` says so and ``exchanges`` give the
    service's answer to it.
    """

    exchanges: Callable[[str], Sequence[Exchange]]  # the event key -> what the service answers
    line: str  # the human line the re-run prints, exact ({server} = the fake's base URL)
    result: Mapping[str, Any] = field(default_factory=dict)  # fields of the JSON result
    exit_code: int = 0
    creates_again: bool = False


@dataclass(frozen=True)
class Write:
    """One write operation a backend supports, from the CLI to the request on the wire."""

    operation: str  # shipmark's name for it (deploy, release_create, build_create)
    argv: Sequence[str]  # the command, without --json, --dry-run and --timeout
    before: Sequence[Exchange]  # what the first run reads before it creates (lookups), in order
    create: Exchange  # the create request and the service's answer
    sent: Sent
    result: Mapping[str, Any]  # fields of the JSON result ({server} expanded in str values)
    line: str  # the human "ok ..." line, exact
    rerun: Rerun
    dry_run_shows: Sequence[str]  # what --dry-run prints instead of sending (substrings)


@dataclass
class Run:
    """One CLI run against the fake service: the process and what the service received."""

    proc: Any
    server: HTTPServer

    @property
    def requests(self) -> List[WerkzeugRequest]:
        return [request for request, _response in self.server.log]

    @property
    def results(self) -> List[Dict[str, Any]]:
        return json.loads(self.proc.stdout)

    def url(self, path: str = "/") -> str:
        return self.server.url_for(path)


@dataclass(frozen=True)
class Scenario:
    """A backend's own behaviour (paging, --wait, errors, probes), checked by one runner."""

    name: str
    argv: Sequence[str]
    exchanges: Sequence[Exchange] = ()
    exit_code: int = 0
    stderr: Sequence[str] = ()  # substrings of stderr ({server} expanded)
    error_line: Optional[str] = None  # the only "shipmark: error:" line, exact
    error_has: Optional[str] = None  # ... or a part of it
    result: Mapping[str, Any] = field(default_factory=dict)  # fields of the (only) JSON result
    check: Optional[Callable[[Run], None]] = None  # what the data above cannot say
    config: Optional[Callable[[str], str]] = None  # shipmark.yml for the server's base URL, else the env


@dataclass(frozen=True)
class Refusal:
    """A command refused before anything is sent."""

    argv: Sequence[str]
    message: str  # a substring of the error (or skip) line
    exit_code: int = 2


@dataclass(frozen=True)
class Backend:
    type: str
    name: str  # the target's name in the tests
    settings: Mapping[str, str]  # target fields other than type, url and token
    auth: Tuple[str, str]  # the header every request carries, and its exact value
    writes: Sequence[Write]
    unsupported: Sequence[str]  # CLI words of the writes it does not support
    refusals: Sequence[Refusal] = ()
    scenarios: Sequence[Scenario] = ()

    def env(self, server: HTTPServer) -> Dict[str, str]:
        """The target wholly from SHIPMARK_TARGET_<NAME>_* variables."""
        prefix = f"SHIPMARK_TARGET_{self.name.upper()}_"
        fields = {"type": self.type, "url": server.url_for("/"), "token": CANARY, **self.settings}
        return {prefix + key.upper(): value for key, value in fields.items()}

    def config_file(self, server: HTTPServer) -> str:
        """The same target as a shipmark.yml (JSON is YAML), the token read from the environment."""
        fields = {"type": self.type, "url": server.url_for("/"), "token": TOKEN_REFERENCE,
                  **self.settings}
        return json.dumps({"targets": {self.name: fields}})


def expand(value: Any, server: HTTPServer) -> Any:
    """{server} in strings (and inside lists and dicts) -> the fake service's base URL."""
    if isinstance(value, str):
        return value.replace("{server}", server.url_for("/").rstrip("/"))
    if isinstance(value, list):
        return [expand(v, server) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, server) for k, v in value.items()}
    return value


def serve(server: HTTPServer, exchanges: Sequence[Exchange]) -> None:
    for exchange in exchanges:
        kwargs: Dict[str, Any] = {"method": exchange.method, "headers": dict(exchange.headers)}
        if exchange.query is not None:
            kwargs["query_string"] = exchange.query
        if exchange.json is not None:
            kwargs["json"] = exchange.json
        exchange.reply.register(server.expect_oneshot_request(exchange.path, **kwargs), server)


def run(backend: Backend, server: HTTPServer, tmp_path: Path, argv: Sequence[str],
        config: Optional[Callable[[str], str]] = None) -> Run:
    """The installed CLI with the target from the env (or from ``config``), the canary checked."""
    if config is None:
        env = backend.env(server)
    else:
        (tmp_path / "shipmark.yml").write_text(config(server.url_for("/")), encoding="utf-8")
        env = {TOKEN_VARIABLE: CANARY}
    proc = run_cli(list(argv) + ["--timeout", "5"], env=env, cwd=tmp_path)
    assert_no_canary(proc.stdout, proc.stderr)
    return Run(proc, server)


def assert_received(backend: Backend, run_: Run, exchanges: Sequence[Exchange]) -> None:
    """Exactly these requests, in this order, each matched, each authenticated, each from shipmark."""
    run_.server.check_assertions()  # no request went unanswered (a wrong path, query or header)
    assert [(r.method, r.path) for r in run_.requests] == [e.label() for e in exchanges], run_.proc.stderr
    header, value = backend.auth
    for request in run_.requests:
        assert request.headers.get(header) == value, f"{request.method} {request.path}: {header}"
        assert request.headers["User-Agent"].startswith("shipmark/")


def form_of(request: WerkzeugRequest) -> Dict[str, str]:
    pairs = parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
    assert len(pairs) == len({k for k, _ in pairs}), "a key sent twice"
    return dict(pairs)


def body_of(request: WerkzeugRequest, form: bool = False) -> Any:
    return form_of(request) if form else json.loads(request.get_data())


def error_lines(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith("shipmark: error:")]


def subset(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> Dict[str, Any]:
    """The keys of ``expected`` taken from ``actual`` (one comparison shows every difference)."""
    return {key: actual.get(key, "<missing>") for key in expected}
