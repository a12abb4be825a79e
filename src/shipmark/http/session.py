"""One requests.Session per target and thread: headers, auth, the environment's proxy and
CA settings, no urllib3 retries, and no credential header following a redirect elsewhere."""
from __future__ import annotations

import os
from typing import Mapping, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter

_CREDENTIAL_HEADER_WORDS = ("auth", "token", "key", "secret", "cookie", "password")


def new_session(base_url: str, headers: Mapping[str, str], basic_auth: Optional[Tuple[str, str]]) -> requests.Session:
    session = _Session()
    session.headers.update(headers)
    if basic_auth:
        session.auth = basic_auth
    # The environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE,
    # as every CI tool honours them) are read once here rather than by requests on
    # every request; and a ~/.netrc entry for the host must never replace the token.
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(base_url) if base_url else {}
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    # No urllib3 retries: HttpClient.request retries itself, inside the budget.
    adapter = HTTPAdapter(max_retries=0, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _Session(requests.Session):
    """requests drops only Authorization when a redirect leaves the origin; drop every credential header."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in list(prepared_request.headers):
                if any(word in name.lower() for word in _CREDENTIAL_HEADER_WORDS):
                    del prepared_request.headers[name]


def register_userinfo(url: str) -> None:
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
