"""shipmark.http: retries inside the budget, what is safe to resend, readable errors, no secrets.

Real loopback sockets: pytest-httpserver for ordinary answers, a tiny raw
socket server for resets, hangs, trickles and cut-off bodies.
"""
from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from typing import Callable, List, Optional

import pytest
from werkzeug.wrappers import Response

from shipmark import redact
from shipmark.errors import ApiError, NotSent
from shipmark.http import Budget, HttpClient, HttpResponse, describe_body, parse_retry_after
from tests.conftest import CANARY


def client(url: str, *, budget: float = 5.0, log: Optional[List[str]] = None, **kw) -> HttpClient:
    return HttpClient(url, target="t", budget=Budget(budget), read_timeout=min(15.0, budget),
                      log=log.append if log is not None else None, **kw)


class RawServer:
    """Accepts connections and hands each to ``handler(conn, request_bytes)``."""

    def __init__(self, handler: Callable[[socket.socket, bytes], None]):
        self.handler = handler
        self.requests: List[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(rest) < length:
                rest += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + rest)
            self.handler(conn, data)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def raw():
    servers: List[RawServer] = []

    def make(handler):
        server = RawServer(handler)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def reset(conn: socket.socket, _data: bytes) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def hang(conn: socket.socket, _data: bytes) -> None:
    time.sleep(30)


def refused_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


# -- retries ----------------------------------------------------------------------------

def test_get_is_retried_on_503_until_it_succeeds(httpserver) -> None:
    answers = iter([Response("busy", 503), Response("busy", 502), Response('{"ok": true}', 200)])
    httpserver.expect_request("/x").respond_with_handler(lambda _req: next(answers))
    log: List[str] = []
    resp = client(httpserver.url_for(""), log=log).request("GET", "/x")
    assert resp.json() == {"ok": True}
    assert len(httpserver.log) == 3
    assert [line.split(" -> ")[1].split(" ")[0] for line in log if " -> " in line] == ["503", "502", "200"]
    assert sum("retrying in" in line for line in log) == 2


def test_post_is_not_resent_after_a_5xx(httpserver) -> None:
    httpserver.expect_request("/x", method="POST").respond_with_json({"message": "oops"}, status=500)
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for("")).request("POST", "/x", json={"a": 1})
    assert len(httpserver.log) == 1
    err = exc.value
    assert err.transient and err.may_have_landed and err.status_code == 500
    assert err.message == "HTTP 500 (server error): oops"


def test_post_declared_safe_is_resent_after_a_5xx(httpserver) -> None:
    answers = iter([Response("busy", 503), Response("{}", 200)])
    httpserver.expect_request("/x", method="PATCH").respond_with_handler(lambda _req: next(answers))
    resp = client(httpserver.url_for(""), retry_methods=["PATCH"]).request("PATCH", "/x", json={})
    assert resp.status_code == 200 and len(httpserver.log) == 2


@pytest.mark.parametrize("status", [429, 408])
def test_not_processed_statuses_are_resent_for_a_post_honouring_retry_after(httpserver, status: int) -> None:
    answers = iter([Response("slow down", status, headers={"Retry-After": "1"}), Response('{"id": 1}', 201)])
    httpserver.expect_request("/x", method="POST").respond_with_handler(lambda _req: next(answers))
    started = time.monotonic()
    resp = client(httpserver.url_for("")).request("POST", "/x", json={})
    assert resp.status_code == 201 and len(httpserver.log) == 2
    assert time.monotonic() - started >= 0.95


def test_retry_after_beyond_the_budget_gives_up_at_once(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for(""), budget=4).request("GET", "/x")
    assert time.monotonic() - started < 1
    assert "Retry-After 10s is beyond the remaining time budget" in exc.value.message  # capped at 10 s
    assert exc.value.transient and not exc.value.may_have_landed


def test_retries_stop_at_the_budget(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_data("busy", status=503)
    started = time.monotonic()
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for(""), budget=1.5).request("GET", "/x")
    assert time.monotonic() - started < 2.5
    assert exc.value.transient and 1 <= len(httpserver.log) <= 3


def test_retries_stop_at_the_attempt_limit(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_data("busy", status=503)
    with pytest.raises(ApiError):
        client(httpserver.url_for(""), budget=60, retries=1).request("GET", "/x")
    assert len(httpserver.log) == 2


def test_spent_budget_sends_nothing(httpserver) -> None:
    http = client(httpserver.url_for(""), budget=0.001)
    time.sleep(0.01)
    with pytest.raises(ApiError, match="the time budget of 0.001s is spent") as exc:
        http.request("GET", "/x")
    assert exc.value.transient and httpserver.log == []


@pytest.mark.parametrize("value,expected", [
    ("2", 2.0), (" 7 ", 7.0), ("0", 0.0), ("99999", 10.0), ("1.5", 1.5), ("soon", None), ("", None), (None, None),
])
def test_parse_retry_after(value, expected) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    import email.utils

    soon = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 <= parse_retry_after(soon) <= 5.0
    past = email.utils.formatdate(time.time() - 50, usegmt=True)
    assert parse_retry_after(past) == 0.0


# -- transport failures -------------------------------------------------------------------

def test_connection_refused_is_retried_for_any_method_and_never_landed() -> None:
    log: List[str] = []
    started = time.monotonic()
    with pytest.raises(ApiError) as exc:
        client(refused_url(), budget=2, log=log).request("POST", "/x", json={})
    assert time.monotonic() - started < 3
    err = exc.value
    assert "connection refused" in err.message and err.transient and not err.may_have_landed
    assert sum(" -> connection refused" in line for line in log) >= 2


def test_reset_after_sending_a_post_may_have_landed_and_is_not_resent(raw) -> None:
    server = raw(reset)
    with pytest.raises(ApiError) as exc:
        client(server.url).request("POST", "/x", json={})
    assert exc.value.transient and exc.value.may_have_landed
    assert "connection reset by peer" in exc.value.message
    assert len(server.requests) == 1


def test_reset_on_a_get_is_retried(raw) -> None:
    server = raw(reset)
    with pytest.raises(ApiError) as exc:
        client(server.url, budget=1.5).request("GET", "/x")
    assert not exc.value.may_have_landed and len(server.requests) >= 2


def test_read_timeout_is_bounded_by_the_budget(raw) -> None:
    server = raw(hang)
    started = time.monotonic()
    with pytest.raises(ApiError) as exc:
        client(server.url, budget=1).request("POST", "/x", json={})
    assert 0.9 <= time.monotonic() - started < 2.5
    assert exc.value.message.endswith("did not answer within 1s")
    assert exc.value.transient and exc.value.may_have_landed
    started = time.monotonic()
    with pytest.raises(ApiError):
        client(server.url, budget=1).request("GET", "/x")  # retried, but not past the budget
    assert time.monotonic() - started < 2.5


def test_a_trickling_body_is_bounded_by_the_budget(raw) -> None:
    def trickle(conn, _data):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            time.sleep(0.2)
            conn.sendall(b" ")

    server = raw(trickle)
    started = time.monotonic()
    with pytest.raises(ApiError, match="did not finish its answer within the time budget") as exc:
        client(server.url, budget=1).request("GET", "/x")
    assert time.monotonic() - started < 2.5
    assert exc.value.transient


def cut_off(status: bytes):
    def handler(conn, _data):
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"id")
    return handler


def test_a_cut_off_2xx_body_is_one_permanent_error(raw) -> None:
    server = raw(cut_off(b"201 Created"))
    with pytest.raises(ApiError) as exc:
        client(server.url).request("POST", "/x", json={})
    err = exc.value
    assert not err.transient and err.status_code == 201
    assert "the response was cut off (got 4 of 50 bytes); it was probably recorded" in err.message


def test_a_cut_off_503_body_is_still_a_503(raw) -> None:
    server = raw(cut_off(b"503 Service Unavailable"))
    with pytest.raises(ApiError) as exc:
        client(server.url).request("POST", "/x", json={})
    assert exc.value.transient and exc.value.status_code == 503


def test_not_http_at_all(raw) -> None:
    server = raw(lambda conn, _d: conn.sendall(b"SSH-2.0-OpenSSH_9.0\r\n"))
    with pytest.raises(ApiError) as exc:
        client(server.url, budget=1).request("GET", "/x")
    assert exc.value.transient and "Traceback" not in exc.value.message


# -- answers ---------------------------------------------------------------------------------

def test_redirects_are_not_followed_on_writes(httpserver) -> None:
    httpserver.expect_request("/x", method="POST").respond_with_data(
        "", status=307, headers={"Location": "https://elsewhere.example/x?access_token=abcdef"})
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for("")).request("POST", "/x", json={})
    assert exc.value.message == ("HTTP 307: the server redirects to https://elsewhere.example/x?access_token=***; "
                                 "shipmark does not follow redirects on writes: fix the target's url")
    assert len(httpserver.log) == 1


def test_redirects_are_followed_on_reads(httpserver) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_json([1])
    assert client(httpserver.url_for("")).request("GET", "/old").json() == [1]


def test_ok_statuses_are_returned(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_json({"message": "gone"}, status=404)
    assert client(httpserver.url_for("")).request("GET", "/x", ok=[404]).status_code == 404


def test_gzip_bodies_are_decoded(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_data(gzip.compress(b'{"id": 7}'),
                                                      headers={"Content-Encoding": "gzip"},
                                                      content_type="application/json")
    assert client(httpserver.url_for("")).request("GET", "/x").json() == {"id": 7}


def test_response_headers_are_case_insensitive(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_data("[]", headers={"X-Thing": "1"})
    resp = client(httpserver.url_for("")).request("GET", "/x")
    assert resp.headers.get("x-thing") == "1" and "X-THING" in resp.headers and resp.headers["x-Thing"] == "1"


@pytest.mark.parametrize("body,ctype,shown", [
    ('{"message": "bad version"}', "application/json", "bad version"),
    ('{"errors": ["a", "b"]}', "application/json", "a; b"),
    ('{"error": {"detail": "deep"}}', "application/json", "deep"),
    ("<html><title>Oops</title></html>", "text/html", "the server sent an HTML error page (Oops)"),
    ("", "text/plain", "no error message in the response"),
    ("x" * 2000, "text/plain", "x" * 500 + "..."),
])
def test_error_messages_are_one_readable_line(httpserver, body, ctype, shown) -> None:
    httpserver.expect_request("/x").respond_with_data(body, status=422, content_type=ctype)
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for("")).request("GET", "/x")
    assert exc.value.message == f"HTTP 422 (the service rejected the data): {shown}"
    assert not exc.value.transient


def test_a_failing_error_parser_falls_back_to_the_default(httpserver) -> None:
    def broken(status, text, ctype):
        raise KeyError("bug")

    httpserver.expect_request("/x").respond_with_json({"message": "nope"}, status=400)
    with pytest.raises(ApiError, match=r"^HTTP 400 \(bad request\): nope$"):
        client(httpserver.url_for(""), error_parser=broken).request("GET", "/x")


@pytest.mark.parametrize("text,ctype,expected", [
    ("<!DOCTYPE html><p>login</p>", "", "an HTML page instead of JSON (wrong URL, or a proxy/login page?)"),
    ('{"id": ', "application/json", 'a truncated or invalid JSON body: {"id":'),
    ("hello", "text/plain", "not JSON: hello"),
])
def test_non_json_success_bodies(text, ctype, expected) -> None:
    assert describe_body(text, ctype) == expected
    with pytest.raises(ApiError, match="unexpected response from https://x.example:8443 \\(HTTP 200\\)"):
        HttpResponse(200, text, {"Content-Type": ctype}, url="https://x.example:8443/a?token=zzz").json()


# -- secrets ---------------------------------------------------------------------------------------

def test_dry_run_sends_nothing_and_masks_every_secret(httpserver) -> None:
    redact.register(CANARY)
    shown: List[str] = []
    http = HttpClient(httpserver.url_for(""), target="t", dry_run=True, show_request=shown.append,
                      headers={"Authorization": f"Bearer {CANARY}", "X-Api-Token": CANARY})
    with pytest.raises(NotSent):
        http.request("POST", "/x", params={"access_token": "q-secret", "page": 1},
                     json={"note": f"token {CANARY}", "password": "hunter22"})
    assert httpserver.log == []
    (text,) = shown
    assert CANARY not in text and "q-secret" not in text and "hunter22" not in text
    assert "Authorization: Bearer ***" in text and "X-Api-Token: ***" in text
    assert "access_token=***&page=1" in text and '"password": "***"' in text


def test_dry_run_masks_a_form_body(httpserver) -> None:
    shown: List[str] = []
    http = HttpClient(httpserver.url_for(""), target="t", dry_run=True, show_request=shown.append)
    with pytest.raises(NotSent):
        http.request("POST", "/x", data={"key": "form-secret", "releaseNumber": "1.2"})
    assert "form-secret" not in shown[0] and "key=***&releaseNumber=1.2" in shown[0]


def test_basic_auth_is_masked_in_dry_run(httpserver) -> None:
    redact.register(CANARY, username="ci")
    shown: List[str] = []
    with pytest.raises(NotSent):
        HttpClient(httpserver.url_for(""), target="t", dry_run=True, show_request=shown.append,
                   basic_auth=("ci", CANARY)).request("GET", "/x")
    assert "Authorization: Basic ***" in shown[0]
    import base64

    assert base64.b64encode(f"ci:{CANARY}".encode()).decode() not in shown[0]


def test_url_userinfo_is_registered_as_a_secret() -> None:
    HttpClient("https://ci:pa%24%24word9@example.com", target="t")
    assert redact.redact("pa$$word9 and pa%24%24word9") == "*** and ***"


def test_server_echoing_the_token_is_redacted(httpserver) -> None:
    redact.register(CANARY)
    httpserver.expect_request("/x").respond_with_json(
        {"message": f"token {CANARY} rejected; Authorization: Bearer {CANARY}; see /x?access_token={CANARY}"},
        status=401)
    log: List[str] = []
    with pytest.raises(ApiError) as exc:
        client(httpserver.url_for(""), log=log, headers={"Authorization": f"Bearer {CANARY}"}).request(
            "GET", f"/x?token={CANARY}")
    assert CANARY not in exc.value.message and CANARY not in "\n".join(log)
    assert "Authorization: Bearer ***" in exc.value.message
    assert not exc.value.transient  # 401 is never retried
    assert len(httpserver.log) == 1


def test_verbose_log_is_redacted(httpserver) -> None:
    httpserver.expect_request("/x").respond_with_json([])
    log: List[str] = []
    client(httpserver.url_for(""), log=log).request("GET", "/x", params={"token": "abcdefgh", "a": "b"})
    assert len(log) == 1 and "token=***&a=b -> 200" in log[0] and "abcdefgh" not in log[0]


def test_transport_errors_name_the_host_not_the_path_or_query() -> None:
    with pytest.raises(ApiError) as exc:
        client(refused_url(), budget=0.5).request("GET", "/x?access_token=zzzz")
    assert "zzzz" not in exc.value.message and "/x" not in exc.value.message


def test_session_per_thread() -> None:
    http = client("https://example.com")
    sessions = []
    threads = [threading.Thread(target=lambda: sessions.append(http.session)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in sessions}) == 3 and sessions[0].headers["User-Agent"].startswith("shipmark/")


def test_json_error_body_shapes_are_stable() -> None:
    from shipmark.http import default_error_message

    assert default_error_message(500, json.dumps({"foo": "bar"}), "application/json") == '{"foo": "bar"}'
    assert default_error_message(500, "[1, 2]", "application/json") == "1; 2"


def test_an_unchecked_resend_refuses_writes_that_are_not_safe_to_repeat(httpserver) -> None:
    from shipmark.http import UncertainResend

    httpserver.expect_request("/x").respond_with_json({})
    target_client = client(httpserver.url_for(""), retry_methods=["PATCH"])
    resend = UncertainResend()
    http = target_client.for_resend(resend)  # the one job resending an uncertain spooled event
    with pytest.raises(ApiError) as exc:
        http.request("POST", "/x", json={})
    assert exc.value.unverifiable and not exc.value.transient
    assert "may already be recorded" in exc.value.message
    for method in ("GET", "PUT", "PATCH"):  # reads and idempotent writes go through
        http.request(method, "/x")
    resend.checked()  # what create_once does when the event_key lookup finds nothing
    http.request("POST", "/x", json={})
    # The other jobs of the target keep its own client: nothing of this resend leaks to them.
    assert target_client.resend is None and http.session is target_client.session
    assert [req.method for req, _resp in httpserver.log] == ["GET", "PUT", "PATCH", "POST"]


def test_credentials_do_not_follow_a_redirect_to_another_origin(raw) -> None:
    seen: List[str] = []

    def elsewhere(conn, data):
        seen.append(data.decode())
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")

    other = raw(elsewhere)
    location = other.url.replace("127.0.0.1", "localhost") + "/x"
    redirect = raw(lambda conn, _d: conn.sendall(
        f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()))
    http = client(redirect.url, headers={"X-Api-Token": "s1", "X-ApiKey": "s2", "Authorization": "Bearer s3",
                                         "X-Trace": "kept"})
    assert http.request("GET", "/a").json() == []
    (request,) = seen
    assert "s1" not in request and "s2" not in request and "s3" not in request and "X-Trace: kept" in request


def test_same_origin_redirects_keep_the_credentials(httpserver) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=302, headers={"Location": "/new"})
    httpserver.expect_request("/new", headers={"X-Api-Token": "s1"}).respond_with_json([])
    assert client(httpserver.url_for(""), headers={"X-Api-Token": "s1"}).request("GET", "/old").json() == []


def test_a_redirect_loop_is_one_permanent_error(httpserver) -> None:
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(ApiError, match="redirects in a loop") as exc:
        client(httpserver.url_for("")).request("GET", "/loop")
    assert not exc.value.transient


# -- the environment: proxies, CA bundle, netrc ---------------------------------------------

class _RecordingProxy:
    """A plain-HTTP forward proxy stand-in: records the absolute request line, answers itself."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        lines: List[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                lines.append(f"{self.command} {self.path} auth={self.headers.get('Authorization')}")
                body = b'{"id": "via-proxy"}'
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.lines = lines
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_http_proxy_from_the_environment_is_used(monkeypatch) -> None:
    proxy = _RecordingProxy()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        http = client("http://rb.example.invalid/api", headers={"Authorization": f"Bearer {CANARY}"})
        resp = http.request("POST", "/deployments", json={"a": 1})
    finally:
        proxy.close()
    assert resp.status_code == 201 and resp.json() == {"id": "via-proxy"}
    assert proxy.lines == [f"POST http://rb.example.invalid/api/deployments auth=Bearer {CANARY}"]


def test_no_proxy_bypasses_the_proxy(httpserver, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    httpserver.expect_request("/ping", method="GET").respond_with_json({"ok": True})
    assert client(httpserver.url_for("")).request("GET", "/ping").json() == {"ok": True}


def test_ca_bundle_from_the_environment_is_used(monkeypatch) -> None:
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-ca.pem")
    assert client("https://rb.example.invalid").session.verify == "/etc/ssl/corp-ca.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert client("https://rb.example.invalid").session.verify is True


def test_a_netrc_entry_never_replaces_the_token(httpserver, tmp_path, monkeypatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password from-netrc\nmachine localhost login x password y\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    httpserver.expect_request("/d", method="POST", headers={"Authorization": f"Bearer {CANARY}"}) \
        .respond_with_json({"id": 1}, status=201)
    http = client(httpserver.url_for(""), headers={"Authorization": f"Bearer {CANARY}"})
    assert http.request("POST", "/d", json={}).status_code == 201


def test_a_dead_proxy_is_named_without_its_credentials(monkeypatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://ci:{CANARY}@127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(ApiError) as err:
        client("http://rb.example.invalid", budget=2.0).request("GET", "/x")
    message = err.value.message
    assert message.startswith(f"could not reach http://rb.example.invalid through the proxy "
                              f"http://127.0.0.1:{dead} (HTTP_PROXY): "), message
    assert err.value.transient and CANARY not in message
