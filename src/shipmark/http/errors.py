"""Reading an error answer: the server's own message from its body, a hint for the status,
and whether the failure is transient or may have reached the server.

Needs no HTTP library: backends import ``default_error_message`` to build their own parsers.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

from shipmark.errors import ApiError
from shipmark.redact import redact, redact_auth_text

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
NOT_PROCESSED_STATUSES = frozenset({408, 429})  # the server says it did nothing: safe to resend
_ERROR_TEXT_LIMIT = 500

# (status, body text, content type) -> the message to show.
ErrorParser = Callable[[int, str, str], str]


def host_of(url: Optional[str]) -> str:
    """scheme://host[:port] of a URL: what errors name (never a path, query or credentials)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the target"
    return f"{parts.scheme}://{parts.hostname}{':' + str(port) if port else ''}"


def shorten(text: str, limit: int = _ERROR_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def describe_body(text: str, content_type: str = "") -> str:
    """A short, printable account of a body that is not what we expected."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if _looks_html(stripped, content_type):
        return "an HTML page instead of JSON (wrong URL, or a proxy/login page?)"
    if stripped[0] in "[{":
        return "a truncated or invalid JSON body: " + shorten(stripped, 200)
    return "not JSON: " + shorten(stripped, 200)


def _looks_html(stripped: str, content_type: str) -> bool:
    return "html" in content_type.lower() or stripped[:15].lower().startswith(("<!doctype", "<html"))


def default_error_message(status: int, text: str, content_type: str) -> str:
    """Find the server's message in the usual JSON shapes, else show the body as text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        msg = _message_from_json(data)
        if msg:
            return shorten(msg)
    if not stripped:
        return "no error message in the response"
    if _looks_html(stripped, content_type):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", stripped)
        found = " ".join(title.group(1).split()) if title else ""
        return "the server sent an HTML error page" + (f" ({shorten(found, 120)})" if found else "")
    return shorten(stripped)


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
            return shorten(json.dumps(data))
    if isinstance(data, list) and data:
        return "; ".join(str(v) for v in data)
    return None


def status_hint(status: int) -> str:
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


def status_error(resp: Any, text: str, error_parser: ErrorParser, retry_safe: bool) -> ApiError:
    """The ApiError for a non-2xx answer (``resp``: status_code, headers, url).

    ``retry_safe``: the request may be sent again (a read, or an idempotent write).
    """
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
        parsed = error_parser(status, text, content_type)
    except Exception:  # a backend's parser must not turn an error into a crash
        parsed = default_error_message(status, text, content_type)
    message = redact_auth_text(parsed or default_error_message(status, text, content_type))
    transient = status in TRANSIENT_STATUSES
    # 408/429 were not processed; a 5xx on a write may have been.
    landed = transient and status not in NOT_PROCESSED_STATUSES and not retry_safe
    return ApiError(
        f"HTTP {status} ({status_hint(status)}): {message}",
        status_code=status,
        transient=transient,
        may_have_landed=landed,
        url=resp.url,
        server_message=message,
    )
