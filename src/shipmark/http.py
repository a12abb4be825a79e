"""The one HTTP layer every backend uses.

- a requests.Session per target (per thread) with connect/read timeouts, a
  User-Agent naming shipmark, the target's auth, and no redirects on writes;
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
- error parsing into ApiError (status, the server's message, never a secret);
- --dry-run: print the request (secrets masked), send nothing and raise NotSent;
- -v: one redacted log line per attempt.
"""
from __future__ import annotations

import contextlib
import email.utils
import json as jsonlib
import os
import random
import re
import threading
import time
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter

from shipmark import __version__
from shipmark.errors import ApiError, NotSent
from shipmark.redact import MASK, redact, redact_auth_text, redact_headers

USER_AGENT = f"shipmark/{__version__} (+https://pypi.org/project/shipmark/)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
DEFAULT_BUDGET = 30.0
RETRY_AFTER_CAP = 10.0
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0
MAX_BODY = 20 * 1024 * 1024
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
NOT_PROCESSED_STATUSES = frozenset({408, 429})  # the server says it did nothing: safe to resend
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_ERROR_TEXT_LIMIT = 500
# Time a retry needs besides its sleep: do not start one that cannot finish.
_RETRY_MARGIN = 0.25


# -- resending an event that may already be recorded ----------------------------------
# A spooled event whose earlier attempt was cut off (the process was killed, or the
# answer never came) may already be recorded. While it is resent, a write that is not
# safe to repeat (a POST) is refused until an event_key lookup has come back empty
# (create_once calls resend_checked()); idempotent writes (PUT, a PATCH the backend
# declares safe) go through. Thread-local: the fan-out runs one job per thread.
_resend = threading.local()


@contextlib.contextmanager
def uncertain_resend(active: bool = True):
    previous = getattr(_resend, "unchecked", False)
    _resend.unchecked = active
    try:
        yield
    finally:
        _resend.unchecked = previous


def resend_checked() -> None:
    """The event_key lookup found no record: sending is safe again."""
    _resend.unchecked = False


def resend_unchecked() -> bool:
    return bool(getattr(_resend, "unchecked", False))


def unverifiable_resend(what: str) -> ApiError:
    error = ApiError(f"not resent: an earlier attempt was cut off and may already be recorded, and {what} "
                     "offers no lookup by event key for this operation (resending could record it twice); "
                     "check the service and re-run the command if it is missing")
    error.unverifiable = True  # type: ignore[attr-defined]
    return error


class Budget:
    """A deadline shared by every request of one command."""

    def __init__(self, seconds: float = DEFAULT_BUDGET):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5, 1, 2, 4, 8 s (each times 0.5..1)."""
    base = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempt - 1)))
    return base * (0.5 + random.random() / 2)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds (delta-seconds or an HTTP date), capped; None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - time.time()
    return max(0.0, min(seconds, RETRY_AFTER_CAP))


class HttpResponse:
    """The parts of a response backends read."""

    def __init__(self, status_code: Optional[int], text: str = "", headers: Optional[Mapping[str, str]] = None,
                 url: str = ""):
        self.status_code = status_code
        self.text = text
        self.headers = _Headers(headers or {})
        self.url = url

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a readable ApiError."""
        if not self.text.strip():
            return None
        try:
            return jsonlib.loads(self.text)
        except ValueError:
            raise ApiError(
                f"unexpected response from {redact(_host_of(self.url))} (HTTP {self.status_code}): "
                f"{describe_body(self.text, self.headers.get('Content-Type', ''))}",
                status_code=self.status_code,
                url=self.url,
            ) from None


class _Headers(dict):
    """A plain dict with case-insensitive get (what backends read from responses)."""

    def __init__(self, headers: Mapping[str, str]):
        super().__init__(headers)
        self._lower = {str(k).lower(): v for k, v in headers.items()}

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._lower.get(str(key).lower(), default)

    def __contains__(self, key: object) -> bool:
        return str(key).lower() in self._lower

    def __getitem__(self, key: str) -> Any:
        return self._lower[str(key).lower()]


def describe_body(text: str, content_type: str = "") -> str:
    """A short, printable account of a body that is not what we expected."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if _looks_html(stripped, content_type):
        return "an HTML page instead of JSON (wrong URL, or a proxy/login page?)"
    if stripped[0] in "[{":
        return "a truncated or invalid JSON body: " + _shorten(stripped, 200)
    return "not JSON: " + _shorten(stripped, 200)


def _looks_html(stripped: str, content_type: str) -> bool:
    return "html" in content_type.lower() or stripped[:15].lower().startswith(("<!doctype", "<html"))


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
            return _shorten(msg)
    if not stripped:
        return "no error message in the response"
    if _looks_html(stripped, content_type):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", stripped)
        found = " ".join(title.group(1).split()) if title else ""
        return "the server sent an HTML error page" + (f" ({_shorten(found, 120)})" if found else "")
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
        400: "bad request",
        401: "authentication failed: check the token",
        403: "forbidden: the token lacks permission for this",
        404: "not found",
        408: "the server timed out waiting for the request",
        409: "conflict",
        422: "the service rejected the data",
        429: "rate limited",
    }.get(status, "server error" if status >= 500 else "request rejected")


ErrorParser = Callable[[int, str, str], str]
Printer = Callable[[str], None]


class _Attempt(Exception):
    """One failed attempt: the error to raise if we stop, and whether a retry is safe."""

    def __init__(self, error: ApiError, retry_safe: bool, delay: Optional[float] = None):
        super().__init__(error.message)
        self.error = error
        self.retry_safe = retry_safe
        self.delay = delay


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
        _register_userinfo(self.base_url)
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
        self._local = threading.local()

    # A Session is not thread-safe; fan-out runs one per thread.
    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = _Session()
            session.headers.update(self._headers)
            if self._basic_auth:
                session.auth = self._basic_auth
            # The environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE,
            # as every CI tool honours them) are read once here rather than by requests on
            # every request; and a ~/.netrc entry for the host must never replace the token.
            session.trust_env = False
            session.proxies = requests.utils.get_environ_proxies(self.base_url) if self.base_url else {}
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            # No urllib3 retries: request() retries itself, inside the budget.
            adapter = HTTPAdapter(max_retries=0, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
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
        if resend_unchecked() and not self.retry_safe(method):
            raise unverifiable_resend(redact(_host_of(url)))
        prepared = self.session.prepare_request(req)
        ok_codes = frozenset(ok)
        attempt = 0
        while True:
            attempt += 1
            remaining = self.budget.remaining()
            if remaining <= 0:
                raise ApiError(f"{redact(_host_of(url))}: gave up: the time budget of {self.budget.seconds:g}s "
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
                        err.message += f" (Retry-After {failed.delay:g}s is beyond the remaining time budget)"
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
            error, sent = self._transport_error(method, url, exc)
            self._log_attempt(method, url, _short_reason(_reason(exc)), started)
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
        error = self._status_error(method, resp, body)
        if error.transient:
            delay = parse_retry_after(resp.headers.get("Retry-After"))
            error.retry_after = delay  # type: ignore[attr-defined]  (create_once honours it too)
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
                else f"stopped sending its answer (no data for {self.read_timeout:g}s)"
            error = ApiError(f"{redact(_host_of(resp.url))} {timed} (HTTP {status})", status_code=status,
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
                return _decode(b"".join(chunks), resp.encoding)
            if 200 <= status < 300 and not self.retry_safe(method):
                hint = "; it was probably recorded: check before re-running"
            else:
                hint = ""
            error = ApiError(f"HTTP {status} from {redact(_host_of(resp.url))}: the response was cut off "
                             f"({detail}){hint}", status_code=status, url=resp.url)
            raise error from None
        return _decode(b"".join(chunks), resp.encoding)

    def _status_error(self, method: str, resp: requests.Response, text: str) -> ApiError:
        status = resp.status_code
        content_type = resp.headers.get("Content-Type", "")
        if 300 <= status < 400:
            location = resp.headers.get("Location", "?")
            return ApiError(
                f"HTTP {status}: the server redirects to {redact(location)}; "
                "shipmark does not follow redirects on writes: fix the target's url",
                status_code=status,
                url=resp.url,
            )
        try:
            parsed = self.error_parser(status, text, content_type)
        except Exception:  # a backend's parser must not turn an error into a crash
            parsed = default_error_message(status, text, content_type)
        message = redact_auth_text(parsed or default_error_message(status, text, content_type))
        transient = status in TRANSIENT_STATUSES
        # 408/429 were not processed; a 5xx on a write may have been.
        landed = transient and status not in NOT_PROCESSED_STATUSES and not self.retry_safe(method)
        return ApiError(
            f"HTTP {status} ({_status_hint(status)}): {message}",
            status_code=status,
            transient=transient,
            may_have_landed=landed,
            url=resp.url,
            server_message=message,
        )

    def _transport_error(self, method: str, url: str, exc: Exception) -> Tuple[ApiError, bool]:
        """(the error, whether the request may have reached the server)."""
        where = redact(_host_of(url))
        sent = not _failed_before_sending(exc)
        landed = sent and not self.retry_safe(method)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ApiError(f"could not connect to {where}: timed out", transient=True, url=url), False
        if isinstance(exc, requests.exceptions.ReadTimeout):
            read = min(self.read_timeout, self.budget.seconds)
            return ApiError(f"{where} did not answer within {read:g}s", transient=True,
                            may_have_landed=not self.retry_safe(method), url=url), True
        if isinstance(exc, requests.exceptions.SSLError):
            return ApiError(f"TLS error talking to {where}: {_short_reason(_reason(exc))}", url=url), False
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return ApiError(f"{where} redirects in a loop: fix the target's url", url=url), False
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                            requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader)):
            return ApiError(f"cannot send to {where}: {_short_reason(_reason(exc))}", url=url), False
        if isinstance(exc, requests.exceptions.ProxyError):
            # The proxy, not the service, failed: say so (host and port only, never its credentials).
            scheme = url.split(":", 1)[0].lower()
            proxy_url = self.session.proxies.get(scheme) or self.session.proxies.get("all")
            proxy = f"the proxy {_host_of(proxy_url)}" if proxy_url else "a proxy"
            return ApiError(f"could not reach {where} through {proxy} ({scheme.upper()}_PROXY): "
                            f"{_short_reason(_reason(exc))}", transient=True, may_have_landed=landed,
                            url=url), sent
        if isinstance(exc, requests.exceptions.ConnectionError):
            return ApiError(f"could not reach {where}: {_short_reason(_reason(exc))}", transient=True,
                            may_have_landed=landed, url=url), sent
        return ApiError(f"request to {where} failed: {_short_reason(_reason(exc))}", transient=True,
                        may_have_landed=landed, url=url), sent

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


class _BodyStalled(Exception):
    pass


_CREDENTIAL_HEADER_WORDS = ("auth", "token", "key", "secret", "cookie", "password")


class _Session(requests.Session):
    """requests drops only Authorization when a redirect leaves the origin; drop every credential header."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if any(word in name.lower() for word in _CREDENTIAL_HEADER_WORDS):
                    del prepared_request.headers[name]


def _register_userinfo(url: str) -> None:
    """Credentials written into a URL (https://user:secret@host) are secrets like any token."""
    from urllib.parse import unquote, urlsplit

    from shipmark import redact as redact_module

    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return
    if password:
        redact_module.register(unquote(password), username=unquote(user or ""))
        redact_module.register(password)


def _failed_before_sending(exc: Exception) -> bool:
    """True when the request certainly never reached the server (DNS, refused, connect timeout)."""
    import urllib3.exceptions as u3

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen = set()
    stack = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (u3.NewConnectionError, u3.ConnectTimeoutError, u3.NameResolutionError,
                            ConnectionRefusedError)):
            return True
        if isinstance(cur, u3.MaxRetryError):
            stack.append(cur.reason)
        stack.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
        stack.append(cur.__cause__)
        stack.append(cur.__context__)
    return False


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


def _decode(content: bytes, encoding: Optional[str]) -> str:
    if not content:
        return ""
    try:
        return content.decode(encoding or "utf-8", "replace")
    except LookupError:
        return content.decode("utf-8", "replace")


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the target"
    return f"{parts.scheme}://{parts.hostname}{':' + str(port) if port else ''}"


def _reason(exc: Exception) -> str:
    return redact(str(exc))


def _short_reason(reason: str) -> str:
    for marker, text in (
        ("Connection refused", "connection refused"),
        ("Connection reset", "connection reset by peer"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("closed connection without response", "the server closed the connection without answering"),
        ("BadStatusLine", "the server sent something that is not HTTP"),
        ("Failed to resolve", "host name not found"),
        ("Name or service not known", "host name not found"),
        ("No route to host", "no route to host"),
        ("Broken pipe", "the server closed the connection while we were sending"),
        ("timed out", "timed out"),
    ):
        if marker in reason:
            return text
    return _shorten(reason, 200)


__all__ = ["Budget", "HttpClient", "HttpResponse", "ApiError", "MASK", "USER_AGENT", "describe_body",
           "parse_retry_after", "backoff"]
