"""HttpClient: send one request for one target, retrying what is safe inside the time budget.

- an explicit retry loop (not urllib3's) so every attempt, sleep and read is
  bounded by the command's time budget:
    * failures before the request left (connection refused, connect timeout,
      DNS) and 408/429 ("not processed") are retried for every method;
    * read timeouts, resets after sending and 5xx are retried only for
      idempotent methods (and those a backend declares safe, ``retry_methods``);
      for a create the backend's ``create_once`` looks the record up first;
  with exponential backoff and jitter, Retry-After honoured up to a cap;
- the body is read in pieces against the budget, so a server trickling bytes
  cannot hold a command; a cut-off body is one readable error;
- --dry-run: print the request (secrets masked), send nothing and raise NotSent;
- -v: one redacted log line per attempt.
"""
from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import requests

from shipmark import __version__
from shipmark.errors import ApiError, NotSent
from shipmark.http.budget import Budget, backoff, parse_retry_after
from shipmark.http.errors import (NOT_PROCESSED_STATUSES, TRANSIENT_STATUSES, ErrorParser, default_error_message,
                                  host_of, status_error)
from shipmark.http.network import short_reason, transport_error
from shipmark.http.resend import UncertainResend
from shipmark.http.response import HttpResponse, decode
from shipmark.http.session import new_session, register_userinfo
from shipmark.redact import redact, redact_headers
from shipmark.wording import seconds as duration

USER_AGENT = f"shipmark/{__version__} (+https://pypi.org/project/shipmark/)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
MAX_BODY = 20 * 1024 * 1024
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Time a retry needs besides its sleep: do not start one that cannot finish.
_RETRY_MARGIN = 0.25

Printer = Callable[[str], None]
# (status, headers) -> seconds to wait when the answer is a rate limit the status code does not
# say (GitHub answers some with 403), else None. Such a request was not processed: retried like a 429.
Throttle = Callable[[int, Mapping[str, str]], Optional[float]]


class _Attempt(Exception):
    """One failed attempt: the error to raise if we stop, and whether a retry is safe."""

    def __init__(self, error: ApiError, retry_safe: bool, delay: Optional[float] = None):
        super().__init__(error.message)
        self.error = error
        self.retry_safe = retry_safe
        self.delay = delay


class _BodyStalled(Exception):
    pass


class HttpClient:
    """HTTP for one target: base URL, auth headers or Basic auth, timeouts, retries, budget."""

    def __init__(
        self,
        base_url: str,
        *,
        target: str,
        headers: Optional[Mapping[str, str]] = None,
        basic_auth: Optional[Tuple[str, str]] = None,
        budget: Optional[Budget] = None,
        read_timeout: float = READ_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        dry_run: bool = False,
        log: Optional[Printer] = None,
        show_request: Optional[Printer] = None,
        error_parser: Optional[ErrorParser] = None,
        retry_methods: Iterable[str] = (),
        retries: int = 4,
        throttled: Optional[Throttle] = None,
    ):
        self.base_url = base_url.rstrip("/")
        register_userinfo(self.base_url)
        self.target = target
        self.budget = budget or Budget()
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.dry_run = dry_run
        self.log = log
        self.show_request = show_request
        self.error_parser = error_parser or default_error_message
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._headers.update(headers or {})
        self._basic_auth = basic_auth
        self._retry_methods = frozenset(m.upper() for m in retry_methods)
        self.retries = max(0, retries)
        self.throttled = throttled
        self._local = threading.local()
        # Set on the client of a job resending an uncertain spooled event (see for_resend).
        self.resend: Optional[UncertainResend] = None

    def for_resend(self, resend: UncertainResend) -> "HttpClient":
        """This client for one job whose writes wait for an empty event_key lookup
        (sessions, budget and settings shared with the target's own client)."""
        client = copy.copy(self)
        client.resend = resend
        return client

    # A Session is not thread-safe; fan-out runs one per thread.
    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = new_session(self.base_url, self._headers, self._basic_auth)
            self._local.session = session
        return session

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def retry_safe(self, method: str) -> bool:
        """May a request that reached the server be sent again?"""
        method = method.upper()
        return method in IDEMPOTENT or method in self._retry_methods

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json: Any = None,
        data: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        ok: Iterable[int] = (),
    ) -> HttpResponse:
        """Send one request (retrying what is safe); non-2xx (unless listed in ``ok``) raises ApiError.

        In a dry run the request is printed and not sent: NotSent is raised instead.
        """
        method = method.upper()
        url = self.url(path)
        req = requests.Request(
            method, url, params=_clean(params), json=json, data=_clean(data), headers=dict(headers or {})
        )
        if self.dry_run:
            self._print_dry_run(req)
            raise NotSent()
        if self.resend is not None and self.resend.unchecked and not self.retry_safe(method):
            raise self.resend.refusal(redact(host_of(url)))
        prepared = self.session.prepare_request(req)
        ok_codes = frozenset(ok)
        attempt = 0
        while True:
            attempt += 1
            remaining = self.budget.remaining()
            if remaining <= 0:
                raise ApiError(f"{redact(host_of(url))}: gave up: the time budget of {duration(self.budget.seconds)} "
                               "is spent", transient=True, url=url)
            try:
                return self._attempt(method, prepared.copy(), ok_codes, remaining)
            except _Attempt as failed:
                err = failed.error
                if not failed.retry_safe or attempt > self.retries:
                    raise err from None
                delay = failed.delay if failed.delay is not None else backoff(attempt)
                if delay + _RETRY_MARGIN >= self.budget.remaining():
                    if failed.delay is not None:
                        err.message += f" (Retry-After {duration(failed.delay)} is beyond the remaining time budget)"
                    raise err from None
                if self.log:
                    self.log(f"  retrying in {delay:.1f}s (attempt {attempt + 1} of {self.retries + 1})")
                time.sleep(delay)

    def _attempt(self, method: str, prepared: requests.PreparedRequest, ok: frozenset,
                 remaining: float) -> HttpResponse:
        url = prepared.url or ""
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        started = time.monotonic()
        try:
            resp = self.session.send(prepared, timeout=timeout, stream=True,
                                     allow_redirects=method in ("GET", "HEAD"))
        except requests.exceptions.RequestException as exc:
            error, sent = transport_error(exc, url, retry_safe=self.retry_safe(method),
                                          read_seconds=min(self.read_timeout, self.budget.seconds),
                                          proxies=self.session.proxies)
            self._log_attempt(method, url, short_reason(exc), started)
            raise _Attempt(error, retry_safe=error.transient and (not sent or self.retry_safe(method))) from None
        try:
            body = self._read_body(method, resp)
        except (_Attempt, ApiError) as exc:
            self._log_attempt(method, url, f"{resp.status_code}, {exc}", started)
            raise
        finally:
            resp.close()
        self._log_attempt(method, url, str(resp.status_code), started)
        out = HttpResponse(resp.status_code, body, resp.headers, resp.url)
        status = resp.status_code
        if 200 <= status < 300 or status in ok:
            return out
        error = status_error(resp, body, self.error_parser, self.retry_safe(method))
        wait = self.throttled(status, resp.headers) if self.throttled is not None else None
        if wait is not None:
            error.transient, error.may_have_landed, error.retry_after = True, False, wait
            raise _Attempt(error, retry_safe=True, delay=wait)
        if error.transient:
            delay = parse_retry_after(resp.headers.get("Retry-After"))
            error.retry_after = delay
            safe = status in NOT_PROCESSED_STATUSES or self.retry_safe(method)
            raise _Attempt(error, retry_safe=safe, delay=delay)
        raise error

    def _log_attempt(self, method: str, url: str, outcome: str, started: float) -> None:
        if self.log:
            self.log(f"{method} {redact(url)} -> {outcome} ({time.monotonic() - started:.2f}s)")

    def _read_body(self, method: str, resp: requests.Response) -> str:
        """The whole body, read against the budget; cut-off or stalled bodies become ApiError."""
        import urllib3.exceptions as u3

        chunks = []
        size = 0
        raw = resp.raw
        status = resp.status_code
        try:
            while True:
                if self.budget.expired():
                    raise _BodyStalled()
                chunk = raw.read1(65536, decode_content=True) if hasattr(raw, "read1") else raw.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    break
        except (_BodyStalled, u3.ReadTimeoutError, TimeoutError) as exc:
            timed = "did not finish its answer within the time budget" if isinstance(exc, _BodyStalled) \
                else f"stopped sending its answer (no data for {duration(self.read_timeout)})"
            error = ApiError(f"{redact(host_of(resp.url))} {timed} (HTTP {status})", status_code=status,
                             transient=True, may_have_landed=not self.retry_safe(method), url=resp.url)
            raise _Attempt(error, retry_safe=self.retry_safe(method)) from None
        except (u3.ProtocolError, u3.DecodeError, requests.exceptions.RequestException, OSError) as exc:
            got = sum(len(c) for c in chunks)
            expected = resp.headers.get("Content-Length")
            detail = f"got {got} of {expected} bytes" if expected else f"after {got} bytes"
            if isinstance(exc, u3.DecodeError):
                detail = "the body could not be decoded"
            if status in TRANSIENT_STATUSES:
                # The status line is what matters: a 503 with a broken body is still a 503.
                return decode(b"".join(chunks), resp.encoding)
            if 200 <= status < 300 and not self.retry_safe(method):
                hint = "; it was probably recorded: check before re-running"
            else:
                hint = ""
            error = ApiError(f"HTTP {status} from {redact(host_of(resp.url))}: the response was cut off "
                             f"({detail}){hint}", status_code=status, url=resp.url)
            raise error from None
        return decode(b"".join(chunks), resp.encoding)

    def _print_dry_run(self, req: requests.Request) -> None:
        prepared = self.session.prepare_request(req)
        lines = [f"{prepared.method} {redact(prepared.url)}"]
        for name, value in redact_headers(prepared.headers.items()):
            lines.append(f"  {name}: {value}")
        body = prepared.body
        if body:
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            lines.append("  " + redact(body))
        if self.show_request:
            self.show_request("\n".join(lines))


def _clean(values: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """Drop None values; booleans become 'true'/'false' as form/query APIs expect."""
    if values is None:
        return None
    out: Dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
