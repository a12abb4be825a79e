"""URL clean-up and slugs.

CI variables such as ``CI_REPOSITORY_URL`` and ``GIT_URL`` carry tokens in the
userinfo part; nothing shipmark emits may keep them.
"""
from __future__ import annotations

import re
from typing import Optional

from .env import joined, source_of, sourced

# Schemes whose userinfo is removed; the `+` forms are spellings of ssh.
_CREDENTIAL_SCHEMES = ("http", "https", "ssh", "git", "git+ssh", "ssh+git")
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>.*)", re.DOTALL)
# `user@host:owner/repo.git`: no scheme, a colon before the first slash.
_SCP_LIKE = re.compile(r"(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>(?!//)[^\s]+)")


def strip_credentials(url: Optional[str]) -> Optional[str]:
    """The URL without ``user:password@``; scp-style and other URLs as given."""
    if not url:
        return None
    match = _URL.fullmatch(url)
    if not match or match.group("scheme").lower() not in _CREDENTIAL_SCHEMES:
        return url
    authority = match.group("authority")
    host = authority.rpartition("@")[2]
    if not host:
        return None
    return f"{match.group('scheme')}://{host}{match.group('rest')}"


def clean_repository_url(url: Optional[str]) -> Optional[str]:
    """A repository URL also loses its query and fragment (build URLs keep theirs)."""
    url = strip_credentials(url)
    if not url:
        return None
    if _URL.fullmatch(url):
        url = re.split(r"[?#]", url, maxsplit=1)[0]
    return url or None


def join_url(base: Optional[str], *parts: Optional[str]) -> Optional[str]:
    """``base/part/part`` without doubled slashes; None if any piece is unset."""
    if not base or any(not part for part in parts):
        return None
    pieces = [sourced(base.rstrip("/"), source_of(base))]
    pieces += [sourced(str(part).strip("/"), source_of(part)) for part in parts]
    url = joined("/", *pieces)
    return sourced(strip_credentials(url), source_of(url))


def slug_from_path(path: Optional[str]) -> Optional[str]:
    """``owner/repo`` or ``group/sub/project``; None when no ``/`` is left."""
    if not path:
        return None
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    segments = [segment for segment in path.split("/") if segment and segment != "_git"]
    if len(segments) < 2:
        return None
    return "/".join(segments)


def slug_from_url(url: Optional[str]) -> Optional[str]:
    """The repository path of an http(s), ssh, git or scp-style URL."""
    if not url:
        return None
    match = _URL.fullmatch(url)
    if match:
        if match.group("scheme").lower() not in _CREDENTIAL_SCHEMES:
            return None
        path = re.split(r"[?#]", match.group("rest"), maxsplit=1)[0]
        return slug_from_path(path)
    scp = _SCP_LIKE.fullmatch(url)
    if scp:
        return slug_from_path(scp.group("path"))
    return None
