"""The parts of an HTTP answer backends read."""
from __future__ import annotations

import json as jsonlib
from typing import Any, Mapping, Optional

from shipmark.errors import ApiError
from shipmark.http.errors import describe_body, host_of
from shipmark.redact import redact


class HttpResponse:
    """The parts of a response backends read."""

    def __init__(self, status_code: Optional[int], text: str = "", headers: Optional[Mapping[str, str]] = None,
                 url: str = ""):
        self.status_code = status_code
        self.text = text
        self.headers = Headers(headers or {})
        self.url = url

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a readable ApiError."""
        if not self.text.strip():
            return None
        try:
            return jsonlib.loads(self.text)
        except ValueError:
            raise ApiError(
                f"unexpected response from {redact(host_of(self.url))} (HTTP {self.status_code}): "
                f"{describe_body(self.text, self.headers.get('Content-Type', ''))}",
                status_code=self.status_code,
                url=self.url,
            ) from None


class Headers(dict):
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


def decode(content: bytes, encoding: Optional[str]) -> str:
    if not content:
        return ""
    try:
        return content.decode(encoding or "utf-8", "replace")
    except LookupError:
        return content.decode("utf-8", "replace")
