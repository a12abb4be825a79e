"""One place that knows the secrets and scrubs them from anything printed.

Every secret loaded from config or the environment is registered here (with the
encodings it may appear in: URL-quoted, JSON-escaped, base64 Basic auth), and every
output path (human text, --json, --dry-run, -v logs, errors) goes through
``redact``. Query values named like credentials and URL userinfo are scrubbed
even when we never saw the secret itself.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from typing import Iterable, List, Optional

MASK = "***"
# Shorter values would mask ordinary words; nobody issues tokens this short.
_MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: List[str] = []

_SECRET_NAMES = (r"access_token|private_token|refresh_token|client_secret|token|api_key|apikey|api-key|key"
                 r"|secret|password|passwd|auth|sig|signature")
# Query strings and form bodies: ?token=..., &key=..., or a form body starting with token=...
# (not after a space: "expected KEY=VALUE" in a message is not a secret)
_QUERY_SECRET = re.compile(r"(?i)((?:^|(?<=[?&;]))(?:" + _SECRET_NAMES + r")=)[^&#;\s\"'<>)]+")
# JSON: "token": "..." (a request body or a server echoing it)
_JSON_NAMES = (r"access_token|private_token|refresh_token|client_secret|token|api_key|apikey|api-key|secret"
               r"|password|passwd|authorization|x-api-token|x-apikey")
_JSON_SECRET = re.compile(r'(?i)("(?:' + _JSON_NAMES + r')"\s*:\s*")'
                          r'((?:[^"\\]|\\.)*)(")')
# URL userinfo: scheme://user:password@host (any scheme, also percent-encoded forms)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@")
_AUTH_HEADER = re.compile(r"(?i)((?:authorization|x-api-token|x-apikey|api-key|x-api-key)\s*[:=]\s*)(?:(bearer|basic|token)\s+)?[^\s,\"']+")


def variants(secret: str) -> List[str]:
    """The forms a secret may take once it is put in a URL, JSON or header."""
    from urllib.parse import quote, quote_plus  # here: `shipmark context` never registers a secret

    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1]}
    return [f for f in forms if len(f) >= _MIN_SECRET_LEN]


def register(secret: Optional[str], *, username: Optional[str] = None) -> None:
    """Remember a secret; with ``username`` also its HTTP Basic encoding."""
    if not secret or len(secret) < _MIN_SECRET_LEN:
        return
    new = variants(secret)
    if username is not None:
        new.append(base64.b64encode(f"{username}:{secret}".encode()).decode())
    with _lock:
        for form in new:
            if form not in _secrets:
                _secrets.append(form)
        # Longest first so a secret containing another is masked whole.
        _secrets.sort(key=len, reverse=True)


def registered() -> List[str]:
    with _lock:
        return list(_secrets)


def reset() -> None:
    """Forget every secret (tests run many commands in one process)."""
    with _lock:
        _secrets.clear()


def redact(text: object) -> str:
    """Return ``text`` as a string with every known or credential-shaped secret masked."""
    out = text if isinstance(text, str) else str(text)
    for secret in registered():
        if secret in out:
            out = out.replace(secret, MASK)
    if "=" in out:
        out = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, out)
    if '"' in out:
        out = _JSON_SECRET.sub(lambda m: m.group(1) + (MASK if m.group(2) else "") + m.group(3), out)
    if "@" in out:
        out = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", out)
    return out


def redact_headers(headers: Iterable) -> List[tuple]:
    """Header pairs for display: credential headers show only their scheme."""
    shown = []
    for name, value in headers:
        # A request signature is masked too: a dry run's signed request must not be replayable from a log.
        if name.lower() in ("authorization", "x-api-token", "x-apikey", "api-key", "x-api-key", "proxy-authorization",
                            "x-shipmark-signature"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {MASK}".strip()
        shown.append((name, redact(value)))
    return shown


def redact_auth_text(text: str) -> str:
    """Scrub header-shaped credentials from free text (e.g. a server echoing our request)."""
    return _AUTH_HEADER.sub(lambda m: m.group(1) + ((m.group(2) + " ") if m.group(2) else "") + MASK, redact(text))
