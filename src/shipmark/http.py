"""The one HTTP layer every backend uses.

- a requests.Session per target with connect/read timeouts, a User-Agent naming
  shipmark, the target's auth, and no redirects on writes;
- urllib3 Retry for connection errors, 429 and 5xx: idempotent methods always,
  POST only when the request was certainly not processed (connect errors, 429);
  Retry-After honoured up to a cap; everything inside one time budget;
- error parsing into ApiError (status, the server's message, never a secret);
- --dry-run: print the request (secrets masked) and send nothing;
- -v: one redacted log line per request.
"""
from __future__ import annotations

import json as jsonlib
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shipmark import __version__
from shipmark.errors import ApiError
from shipmark.redact import MASK, redact, redact_auth_text, redact_headers

USER_AGENT = f"shipmark/{__version__} (+https://pypi.org/project/shipmark/)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEFAULT_BUDGET = 30.0
RETRY_AFTER_CAP = 10.0
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_ERROR_TEXT_LIMIT = 500


class Budget:
    """A deadline shared by every request of one command."""

    def __init__(self, seconds: float = DEFAULT_BUDGET):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


class BudgetRetry(Retry):
    """urllib3 Retry that stops at the budget, caps Retry-After and retries a POST on 429."""

    budget: Optional[Budget] = None
    extra_methods: frozenset = frozenset()

    def new(self, **kw: Any) -> "BudgetRetry":
        new = super().new(**kw)
        new.budget = self.budget
        new.extra_methods = self.extra_methods
        return new

    def _is_method_retryable(self, method: str) -> bool:
        return method.upper() in IDEMPOTENT or method.upper() in self.extra_methods

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and self.total:  # 429 means "not processed": safe for any method
            return self._budget_allows()
        return super().is_retry(method, status_code, has_retry_after) and self._budget_allows()

    def _budget_allows(self) -> bool:
        return self.budget is None or self.budget.remaining() > 1.0

    def get_retry_after(self, response: Any) -> Optional[float]:
        value = super().get_retry_after(response)
        if value is None:
            return None
        limit = RETRY_AFTER_CAP
        if self.budget is not None:
            limit = min(limit, max(0.0, self.budget.remaining() - 1.0))
        return min(value, limit)

    def get_backoff_time(self) -> float:
        value = super().get_backoff_time()
        if self.budget is not None:
            value = min(value, max(0.0, self.budget.remaining() - 1.0))
        return value


class HttpResponse:
    """The parts of a response backends read. ``dry_run`` responses carry nothing."""

    def __init__(self, status_code: Optional[int], text: str = "", headers: Optional[Mapping[str, str]] = None,
                 url: str = "", dry_run: bool = False):
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers or {})
        self.url = url
        self.dry_run = dry_run

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a readable ApiError."""
        if self.dry_run:
            return None
        if not self.text.strip():
            return None
        try:
            return jsonlib.loads(self.text)
        except ValueError:
            raise ApiError(
                f"unexpected response from {redact(self.url)} (HTTP {self.status_code}): "
                f"{describe_body(self.text, self.headers.get('Content-Type', ''))}",
                status_code=self.status_code,
            ) from None


def describe_body(text: str, content_type: str = "") -> str:
    """A short, printable account of a body that is not what we expected."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if "html" in content_type.lower() or stripped[:15].lower().startswith(("<!doctype", "<html")):
        return "an HTML page instead of JSON (wrong URL, or a proxy/login page?)"
    if stripped[0] in "[{":
        return "a truncated or invalid JSON body: " + _shorten(stripped)
    return "not JSON: " + _shorten(stripped)


def _shorten(text: str, limit: int = _ERROR_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def default_error_message(status: int, text: str, content_type: str) -> str:
    """Find the server's message in the usual JSON shapes, else show the body as text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = jsonlib.loads(stripped)
        except ValueError:
            data = None
        msg = _message_from_json(data)
        if msg:
            return msg
    if not stripped:
        return "no error message in the response"
    if "html" in content_type.lower() or stripped[:15].lower().startswith(("<!doctype", "<html")):
        return "the server sent an HTML error page"
    return _shorten(stripped)


def _message_from_json(data: Any) -> Optional[str]:
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "error_description", "errors"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, list) and value:
                return "; ".join(str(v) for v in value)
            if isinstance(value, dict):
                inner = _message_from_json(value)
                if inner:
                    return inner
        if data:
            return _shorten(jsonlib.dumps(data))
    if isinstance(data, list) and data:
        return "; ".join(str(v) for v in data)
    return None


def _status_hint(status: int) -> str:
    return {
        401: "authentication failed: check the token",
        403: "forbidden: the token lacks permission for this",
        404: "not found",
        422: "the service rejected the data",
        429: "rate limited",
    }.get(status, "server error" if status >= 500 else "request rejected")


ErrorParser = Callable[[int, str, str], str]
Printer = Callable[[str], None]


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
    ):
        self.base_url = base_url.rstrip("/")
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
        self._retries = retries
        self._local = threading.local()

    # A Session is not thread-safe; fan-out runs one per thread.
    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self._headers)
            if self._basic_auth:
                session.auth = self._basic_auth
            session.trust_env = True  # honour HTTPS_PROXY / NO_PROXY like every CI tool
            retry = BudgetRetry(
                total=self._retries,
                connect=self._retries,
                read=self._retries,
                status=self._retries,
                other=0,
                backoff_factor=0.5,
                backoff_jitter=0.5,
                backoff_max=8.0,
                status_forcelist=sorted(TRANSIENT_STATUSES),
                allowed_methods=None,  # decided by _is_method_retryable
                respect_retry_after_header=True,
                raise_on_status=False,
                raise_on_redirect=False,
            )
            retry.budget = self.budget
            retry.extra_methods = self._retry_methods
            adapter = HTTPAdapter(max_retries=retry, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + ("" if path.startswith("/") else "/") + path

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
        """Send one request; non-2xx (unless listed in ``ok``) raises ApiError."""
        method = method.upper()
        url = self.url(path)
        prepared = requests.Request(
            method, url, params=_clean(params), json=json, data=_clean(data), headers=dict(headers or {})
        )
        if self.dry_run:
            self._print_dry_run(prepared)
            return HttpResponse(None, url=url, dry_run=True)
        remaining = self.budget.remaining()
        if remaining <= 0:
            raise ApiError(f"gave up: the time budget of {self.budget.seconds:g}s is spent", transient=True, url=url)
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        started = time.monotonic()
        try:
            resp = self.session.send(
                self.session.prepare_request(prepared),
                timeout=timeout,
                allow_redirects=method in ("GET", "HEAD"),
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(method, url, exc) from None
        elapsed = time.monotonic() - started
        if self.log:
            self.log(f"{method} {redact(url)} -> {resp.status_code} ({elapsed:.2f}s)")
        return self._check(method, resp, frozenset(ok))

    def _check(self, method: str, resp: requests.Response, ok: frozenset) -> HttpResponse:
        content_type = resp.headers.get("Content-Type", "")
        text = _decode(resp)
        out = HttpResponse(resp.status_code, text, resp.headers, resp.url)
        if 200 <= resp.status_code < 300 or resp.status_code in ok:
            return out
        if 300 <= resp.status_code < 400:
            location = resp.headers.get("Location", "?")
            raise ApiError(
                f"HTTP {resp.status_code}: the server redirects to {redact(location)}; "
                "shipmark does not follow redirects on writes: fix the target's url",
                status_code=resp.status_code,
                url=resp.url,
            )
        status = resp.status_code
        message = redact_auth_text(self.error_parser(status, text, content_type))
        transient = status in TRANSIENT_STATUSES
        # 429 was not processed; a 5xx on a write may have been.
        landed = transient and status != 429 and method not in IDEMPOTENT
        raise ApiError(
            f"HTTP {status} ({_status_hint(status)}): {message}",
            status_code=status,
            transient=transient,
            may_have_landed=landed,
            url=resp.url,
        )

    def _transport_error(self, method: str, url: str, exc: Exception) -> ApiError:
        where = redact(_host_of(url))
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ApiError(f"could not connect to {where}: timed out", transient=True, url=url)
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return ApiError(
                f"{where} did not answer within {self.read_timeout:g}s", transient=True,
                may_have_landed=method not in IDEMPOTENT, url=url,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return ApiError(f"TLS error talking to {where}: {_reason(exc)}", url=url)
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _reason(exc)
            before_send = any(s in reason for s in (
                "NewConnectionError", "Connection refused", "Name or service not known",
                "nodename nor servname", "Failed to resolve", "No route to host", "Max retries exceeded",
            )) and "RemoteDisconnected" not in reason and "reset" not in reason.lower()
            return ApiError(
                f"could not reach {where}: {_short_reason(reason)}", transient=True,
                may_have_landed=(not before_send) and method not in IDEMPOTENT, url=url,
            )
        if isinstance(exc, requests.exceptions.RetryError):
            return ApiError(f"{where}: gave up after retries: {_short_reason(_reason(exc))}", transient=True, url=url)
        return ApiError(f"request to {where} failed: {_short_reason(_reason(exc))}", transient=True,
                        may_have_landed=method not in IDEMPOTENT, url=url)

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


def _decode(resp: requests.Response) -> str:
    try:
        return resp.content.decode(resp.encoding or "utf-8", "replace")
    except (LookupError, requests.exceptions.RequestException):
        return resp.content.decode("utf-8", "replace") if resp.content else ""


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


def _reason(exc: Exception) -> str:
    return redact(str(exc))


def _short_reason(reason: str) -> str:
    for marker, text in (
        ("Connection refused", "connection refused"),
        ("Connection reset", "connection reset by peer"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("Failed to resolve", "host name not found"),
        ("Name or service not known", "host name not found"),
        ("timed out", "timed out"),
        ("too many 429", "rate limited (HTTP 429) until the time budget ran out"),
        ("too many 5", "server errors (HTTP 5xx) until the time budget ran out"),
    ):
        if marker in reason:
            return text
    return _shorten(reason, 200)


__all__ = ["Budget", "HttpClient", "HttpResponse", "ApiError", "MASK", "USER_AGENT", "describe_body"]
