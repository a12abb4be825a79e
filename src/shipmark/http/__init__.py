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

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value
