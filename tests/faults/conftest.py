"""Fault injection: a fake ReleaseBits on a real loopback socket, scripted per request.

The fake keeps deployment records like the service does (``POST
/components/{c}/deployments/`` adds one and answers 201 {"id"}, ``GET
/components/{c}/deployments`` lists them) and can be told to misbehave on the
next matching request(s): answer a status, reset the connection, hang, send
HTML or a cut-off body. A fault can "land" (the record is created before the
fault), which is what makes a blind resend a duplicate.

Tests run the real CLI in a subprocess (tests.conftest.run_cli) and assert the
exit status, what was printed, and exactly what the server received.
"""
from __future__ import annotations

import json
import socket
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

COMPONENT = "web"


@dataclass
class Seen:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body.decode() or "null")


@dataclass
class Fault:
    """What to do instead of answering normally.

    kind: status | reset | hang | close | truncate | trickle | raw
    land: create the record first (the request "reached the service")
    """

    kind: str
    method: str = "POST"
    status: int = 503
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    land: bool = False
    times: int = 1  # -1 = every matching request
    path: Optional[str] = None  # only requests whose path starts with this
    component: Optional[str] = None  # only this component


class FakeReleaseBits:
    def __init__(self, token: str = CANARY):
        self.token = token
        self.records: Dict[str, List[Dict[str, Any]]] = {}
        self.seen: List[Seen] = []
        self.faults: List[Fault] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # set to let hanging handlers go
        self.got_post = threading.Event()
        self.latency = 0.0
        self.echo_secrets = False  # error bodies repeat the credentials and URL we were sent
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k: v for k, v in self.headers.items()}, body, time.monotonic())
                with fake.lock:
                    fake.seen.append(seen)
                    fault = fake._take_fault(seen)
                if self.command == "POST":
                    fake.got_post.set()
                if fake.latency:
                    time.sleep(fake.latency)
                fake._serve(self, seen, fault)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    # -- scripting -------------------------------------------------------------
    def fail(self, kind: str = "status", **kw: Any) -> "FakeReleaseBits":
        with self.lock:
            self.faults.append(Fault(kind=kind, **kw))
        return self

    def heal(self) -> None:
        """Stop every fault and let hanging requests go."""
        with self.lock:
            self.faults.clear()
        self.release.set()

    def _take_fault(self, seen: Seen) -> Optional[Fault]:
        for fault in self.faults:
            if fault.method != "*" and fault.method != seen.method:
                continue
            if fault.path and not seen.path.startswith(fault.path):
                continue
            if fault.component and f"/components/{fault.component}/" not in seen.path + "/":
                continue
            if fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
            return fault
        return None

    # -- what happened -----------------------------------------------------------
    def requests(self, method: Optional[str] = None) -> List[Seen]:
        with self.lock:
            return [s for s in self.seen if method is None or s.method == method]

    def posts(self, component: Optional[str] = None) -> List[Seen]:
        return [s for s in self.requests("POST") if component is None or f"/components/{component}/" in s.path]

    def created(self, component: str = COMPONENT) -> List[Dict[str, Any]]:
        with self.lock:
            return list(self.records.get(component, []))

    def methods(self) -> List[str]:
        return [s.method for s in self.requests()]

    def reset_log(self) -> None:
        with self.lock:
            self.seen.clear()
        self.got_post.clear()

    # -- the service -------------------------------------------------------------
    def _component(self, path: str) -> Optional[str]:
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "components" and parts[2] == "deployments":
            return parts[1]
        return None

    def _create(self, seen: Seen) -> Optional[str]:
        component = self._component(seen.path)
        if component is None:
            return None
        record = dict(seen.json() or {})
        record["id"] = str(uuid.uuid4())
        with self.lock:
            self.records.setdefault(component, []).append(record)
        return record["id"]

    def _serve(self, h: BaseHTTPRequestHandler, seen: Seen, fault: Optional[Fault]) -> None:
        if fault is not None:
            if fault.land and seen.method == "POST":
                self._create(seen)
            if fault.kind == "status":
                body = fault.body
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body if body is not None else {"message": f"injected {fault.status}"})
                ctype = fault.headers.get("Content-Type", "application/json")
                return _send(h, fault.status, body, {**fault.headers, "Content-Type": ctype})
            if fault.kind == "reset":
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.close_connection = True
                h.connection.close()
                return
            if fault.kind == "close":  # close without a word
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "hang":
                self.release.wait(60)
                h.close_connection = True
                return
            if fault.kind == "truncate":
                status = fault.status if fault.status != 503 else 201
                data = b'{"id": "cut-off-'
                h.wfile.write(f"HTTP/1.1 {status} Created\r\nContent-Type: application/json\r\n"
                              f"Content-Length: 100\r\n\r\n".encode() + data)
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "trickle":  # headers at once, then a byte every 0.3 s until released
                h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
                h.wfile.flush()
                try:
                    while not self.release.wait(0.3):
                        h.wfile.write(b" ")
                        h.wfile.flush()
                except OSError:
                    pass
                h.close_connection = True
                return
            if fault.kind == "raw":  # fault.body: the exact bytes to write, then close
                h.wfile.write(fault.body if isinstance(fault.body, bytes) else str(fault.body).encode())
                h.wfile.flush()
                h.close_connection = True
                return
            raise AssertionError(f"unknown fault {fault.kind}")
        # Normal service.
        echo = ""
        if self.echo_secrets:
            sent = seen.headers.get("Authorization") or seen.headers.get("X-Api-Token") or \
                seen.headers.get("X-ApiKey") or ""
            echo = f" (you sent Authorization: {sent} to {h.headers.get('Host')}{seen.path}?access_token={sent[7:]})"
        if seen.headers.get("Authorization") != f"Bearer {self.token}":
            return _send(h, 401, json.dumps({"message": "invalid token" + echo}))
        component = self._component(seen.path)
        if component is None:
            return _send(h, 404, json.dumps({"message": "no such route" + echo}))
        if seen.method == "GET":
            return _send(h, 200, json.dumps(self.created(component)))
        if seen.method == "POST":
            if not seen.path.split("?")[0].endswith("/"):
                return _send(h, 301, "", {"Location": seen.path + "/"})
            record_id = self._create(seen)
            return _send(h, 201, json.dumps({"id": record_id}))
        return _send(h, 405, json.dumps({"message": "method not allowed"}))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
    data = body.encode() if isinstance(body, str) else (body or b"")
    h.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Type", "application/json")
    for name, value in headers.items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def free_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def fake() -> FakeReleaseBits:
    server = FakeReleaseBits()
    yield server
    server.close()


class Project:
    """A working directory with a shipmark.yml, a private spool and helpers to run the CLI."""

    def __init__(self, root: Path, targets: Dict[str, Dict[str, Any]], env: Optional[Dict[str, str]] = None):
        self.root = root
        self.spool = root / "spool" / "shipmark-spool.jsonl"
        self.env = {"RB_TOKEN": CANARY, "SHIPMARK_SPOOL": str(self.spool), "HOME": str(root / "home"),
                    "XDG_CACHE_HOME": str(root / "cache")}
        self.env.update(env or {})
        self.write(targets)

    def write(self, targets: Dict[str, Dict[str, Any]], extra: str = "") -> None:
        lines = ["targets:"]
        for name, body in targets.items():
            cells = ", ".join(f"{k}: {json.dumps(v)}" for k, v in body.items())
            lines.append(f"  {name}: {{{cells}}}")
        (self.root / "shipmark.yml").write_text("\n".join(lines) + "\n" + extra)

    def run(self, *args: str, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = run_cli(list(args), env={**self.env, **(env or {})}, cwd=self.root, timeout=timeout)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert_no_canary(proc.stdout, proc.stderr)
        return proc

    def deploy(self, *extra: str, version: str = "v1.2.3", timeout_budget: str = "3",
               env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        return self.run("deploy", "--version", version, "-e", "production", "--commit", SHA,
                        "--timeout", timeout_budget, *extra, env=env)

    def spooled(self) -> List[Dict[str, Any]]:
        if not self.spool.exists():
            return []
        return [json.loads(line) for line in self.spool.read_text().splitlines() if line.strip()]


def rb_target(url: str, component: str = COMPONENT, **extra: Any) -> Dict[str, Any]:
    return {"type": "releasebits", "url": url, "component": component, "token": "${RB_TOKEN}", **extra}


@pytest.fixture
def project(tmp_path: Path, fake: FakeReleaseBits) -> Project:
    return Project(tmp_path, {"rb": rb_target(fake.url)})


def lines(text: str, prefix: str = "") -> List[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def warnings(text: str) -> List[str]:
    return lines(text, "shipmark: warning:")


def errors(text: str) -> List[str]:
    return lines(text, "shipmark: error:")


def creates_are_checked(seen: Sequence[Seen]) -> bool:
    """Every POST is preceded by a GET lookup since the previous POST (no blind resend)."""
    last = None
    for s in seen:
        if s.method == "POST":
            if last != "GET":
                return False
        last = s.method
    return True


def spool_failed(path: Path, target: str, request: Dict[str, Any], event_key: str, error: str, *,
                 target_type: Optional[str] = None, may_have_landed: bool = False,
                 secrets: Sequence[str] = ()) -> None:
    """Leave an entry as a failed delivery does: journaled before sending, then settled as not delivered.

    ``secrets``: the target's secret values, which sign the entry (none: unsigned).
    """
    from shipmark import spool

    signed = {}
    if secrets:
        from shipmark.spool_trust import signing_key

        signed["key"] = signing_key(secrets)
    entry = spool.make_entry(target, target_type, request, event_key, **signed)
    spool.journal(path, [entry])
    spool.settle_all(path, [spool.Settlement(spool.entry_id(entry), delivered=False, error=error,
                                             may_have_landed=may_have_landed)])


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
