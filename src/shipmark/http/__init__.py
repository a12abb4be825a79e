"""The one HTTP layer every backend uses.

- ``client``: HttpClient, one per target: session, send, the retry loop inside the budget;
- ``session``: the requests.Session per thread (auth, proxies, CA, redirects);
- ``budget``: the command's time budget, backoff, Retry-After;
- ``errors``: the server's error body read into a message, status hints;
- ``network``: failures without an answer (refused, reset, timeouts) classified;
- ``response``: HttpResponse, what backends read;
- ``resend``: resending a spooled event that may already be recorded.

Names are imported on first use: ``budget``, ``errors`` and ``response`` need no
HTTP library, so reading DEFAULT_BUDGET or default_error_message does not load requests.
"""
from __future__ import annotations

from shipmark.lazy import lazy_attributes

_HOMES = {
    "HttpClient": "shipmark.http.client",
    "USER_AGENT": "shipmark.http.client",
    "Budget": "shipmark.http.budget",
    "DEFAULT_BUDGET": "shipmark.http.budget",
    "backoff": "shipmark.http.budget",
    "parse_retry_after": "shipmark.http.budget",
    "HttpResponse": "shipmark.http.response",
    "describe_body": "shipmark.http.errors",
    "default_error_message": "shipmark.http.errors",
    "UncertainResend": "shipmark.http.resend",
    "ApiError": "shipmark.errors",
    "MASK": "shipmark.redact",
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_attributes(__name__, _HOMES, globals())
