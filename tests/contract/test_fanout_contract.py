"""Fan-out: 5 targets x 20 hosts in one command are delivered concurrently, once each, in stable order."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.conftest import CANARY, SHA, assert_no_canary, run_cli

TARGETS = ["rb1", "rb2", "rb3", "rb4", "rb5"]
HOSTS = [f"web-{i:02d}" for i in range(20)]


class FakeReleaseBits(ThreadingHTTPServer):
    """Answers each POST after a short delay and records how many were in flight at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.posts: List[Dict] = []
        self.auth: List[str] = []
        self.gets = 0


class Handler(BaseHTTPRequestHandler):
    server: FakeReleaseBits

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # the event_key lookup: nothing recorded yet
        with self.server.lock:
            self.server.gets += 1
        self._send(200, [])

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        time.sleep(0.15)
        with self.server.lock:
            self.server.in_flight -= 1
            self.server.posts.append({"path": self.path, **body})
            self.server.auth.append(self.headers["Authorization"])
            number = len(self.server.posts)
        self._send(201, {"id": f"id-{number}"})


@pytest.fixture
def server() -> Iterator[FakeReleaseBits]:
    srv = FakeReleaseBits()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def write_config(server: FakeReleaseBits, tmp_path: Path, targets: List[str], defaults: str = "") -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    lines = [defaults, "targets:"] + [
        f"  {name}: {{type: releasebits, url: '{url}', component: {name}, token: '${{RB_TOKEN}}'}}"
        for name in targets]
    (tmp_path / "shipmark.yml").write_text("\n".join(lines) + "\n")


def test_five_targets_twenty_hosts_deliver_concurrently_once_each(server: FakeReleaseBits, tmp_path: Path) -> None:
    write_config(server, tmp_path, TARGETS)
    args = ["deploy", "--json", "-e", "production", "--version", "v1.0.0", "--commit", SHA, "--timeout", "60"]
    for host in HOSTS:
        args += ["--host", host]

    proc = run_cli(args, env={"RB_TOKEN": CANARY}, cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    # One result per target and host, in the order given (targets, then hosts).
    assert [(r["target"], r["host"]) for r in results] == [(t, h) for t in TARGETS for h in HOSTS]
    assert all(r["ok"] and r["id"] and not r["skipped"] for r in results)
    assert len({r["event_key"] for r in results}) == 100
    # Each (component, host) was recorded exactly once, with the right token.
    assert sorted((p["path"], p["host"]) for p in server.posts) == sorted(
        (f"/components/{t}/deployments/", h) for t in TARGETS for h in HOSTS)
    assert set(server.auth) == {f"Bearer {CANARY}"}
    # One lookup of earlier records per target, shared by its 20 hosts.
    assert server.gets == len(TARGETS)
    # Concurrency, asserted on overlap rather than wall time, and bounded by the default (16).
    assert 4 <= server.max_in_flight <= 16, server.max_in_flight
    assert_no_canary(proc.stdout, proc.stderr)


@pytest.mark.parametrize("env, defaults, bound", [
    ({"SHIPMARK_CONCURRENCY": "1"}, "", 1),
    ({"SHIPMARK_CONCURRENCY": "3"}, "defaults: {concurrency: 8}", 3),  # the environment wins
    ({}, "defaults: {concurrency: 2}", 2),
])
def test_concurrency_is_bounded_by_the_setting(server: FakeReleaseBits, tmp_path: Path, env, defaults, bound) -> None:
    write_config(server, tmp_path, ["rb1", "rb2"], defaults)
    args = ["deploy", "--json", "-e", "production", "--version", "v1", "--commit", SHA]
    for host in HOSTS[:4]:
        args += ["--host", host]
    proc = run_cli(args, env={"RB_TOKEN": CANARY, **env}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(r["target"], r["host"]) for r in json.loads(proc.stdout)] == [
        (t, h) for t in ("rb1", "rb2") for h in HOSTS[:4]]
    assert len(server.posts) == 8
    # 8 posts of 0.15 s each: the bound is reached and never passed.
    assert server.max_in_flight == bound


@pytest.mark.parametrize("value", ["0", "65", "two", "-1"])
def test_a_bad_concurrency_setting_is_a_config_error(server: FakeReleaseBits, tmp_path: Path, value: str) -> None:
    write_config(server, tmp_path, ["rb1"])
    proc = run_cli(["deploy", "-e", "production", "--version", "v1", "--commit", SHA],
                   env={"RB_TOKEN": CANARY, "SHIPMARK_CONCURRENCY": value}, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"SHIPMARK_CONCURRENCY='{value}': expected a whole number from 1 to 64" in proc.stderr
    assert server.posts == [] and server.gets == 0


def test_concurrency_in_the_config_is_validated(server: FakeReleaseBits, tmp_path: Path) -> None:
    write_config(server, tmp_path, ["rb1"], "defaults: {concurrency: 0}")
    proc = run_cli(["deploy", "-e", "production", "--version", "v1", "--commit", SHA],
                   env={"RB_TOKEN": CANARY}, cwd=tmp_path)
    assert proc.returncode == 2
    assert "shipmark.yml: key 'defaults.concurrency': Input should be greater than or equal to 1" in proc.stderr


def test_check_online_probes_every_target_and_reports_each(server: FakeReleaseBits, tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    url = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n"
        f"  up: {{type: releasebits, url: '{url}', component: web, token: '${{RB_TOKEN}}'}}\n"
        f"  down: {{type: releasebits, url: 'http://127.0.0.1:{dead}', component: web, token: '${{RB_TOKEN}}'}}\n")
    proc = run_cli(["check", "--online", "--json", "--timeout", "3"], env={"RB_TOKEN": CANARY}, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    results = {r["target"]: r for r in json.loads(proc.stdout)}
    assert results["up"]["ok"] is True and results["up"]["operation"] == "check"
    assert results["down"]["ok"] is False and "connection refused" in results["down"]["error"]
    assert_no_canary(proc.stdout, proc.stderr)
