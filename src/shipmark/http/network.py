"""Classifying a request that failed without an HTTP answer: what to tell the user,
whether it is transient, and whether it may have reached the server."""
from __future__ import annotations

from typing import Mapping, Tuple

import requests

from shipmark.errors import ApiError
from shipmark.http.errors import host_of, shorten
from shipmark.redact import redact
from shipmark.wording import seconds as duration


def transport_error(exc: Exception, url: str, *, retry_safe: bool, read_seconds: float,
                    proxies: Mapping[str, str]) -> Tuple[ApiError, bool]:
    """(the error, whether the request may have reached the server).

    ``retry_safe``: the request may be sent again; ``read_seconds``: the read timeout
    that applied; ``proxies``: the session's, to name a proxy that failed.
    """
    where = redact(host_of(url))
    sent = not failed_before_sending(exc)
    landed = sent and not retry_safe
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ApiError(f"could not connect to {where}: timed out", transient=True, url=url), False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return ApiError(f"{where} did not answer within {duration(read_seconds)}", transient=True,
                        may_have_landed=not retry_safe, url=url), True
    if isinstance(exc, requests.exceptions.SSLError):
        return ApiError(f"TLS error talking to {where}: {short_reason(exc)}", url=url), False
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return ApiError(f"{where} redirects in a loop: fix the target's url", url=url), False
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader)):
        return ApiError(f"cannot send to {where}: {short_reason(exc)}", url=url), False
    if isinstance(exc, requests.exceptions.ProxyError):
        # The proxy, not the service, failed: say so (host and port only, never its credentials).
        scheme = url.split(":", 1)[0].lower()
        proxy_url = proxies.get(scheme) or proxies.get("all")
        proxy = f"the proxy {host_of(proxy_url)}" if proxy_url else "a proxy"
        return ApiError(f"could not reach {where} through {proxy} ({scheme.upper()}_PROXY): "
                        f"{short_reason(exc)}", transient=True, may_have_landed=landed, url=url), sent
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ApiError(f"could not reach {where}: {short_reason(exc)}", transient=True,
                        may_have_landed=landed, url=url), sent
    return ApiError(f"request to {where} failed: {short_reason(exc)}", transient=True,
                    may_have_landed=landed, url=url), sent


def failed_before_sending(exc: Exception) -> bool:
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


def short_reason(exc: Exception) -> str:
    """A few plain words for a low-level network error (redacted)."""
    reason = redact(str(exc))
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
    return shorten(reason, 200)
