"""The GitHub (and Gitea) Actions event payload at ``GITHUB_EVENT_PATH``.

Parsed as JSON, never searched with regular expressions: a PR title may contain
text such as ``"head": {"sha": ...}``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from .env import Value, sourced


class GitHubEvent:
    """Typed access to the few payload fields shipmark uses; absent means None."""

    def __init__(self, payload: Optional[Mapping[str, Any]] = None):
        self._payload = payload or {}

    def _get(self, *path: object) -> Any:
        node: Any = self._payload
        for key in path:
            if isinstance(key, int):  # a list index
                if not isinstance(node, list) or len(node) <= key:
                    return None
                node = node[key]
            elif isinstance(node, Mapping):
                node = node.get(key)
            else:
                return None
        return node

    def has_object(self, *path: object) -> bool:
        return isinstance(self._get(*path), Mapping)

    def is_empty_list(self, *path: object) -> bool:
        return self._get(*path) == []

    def text(self, *path: object) -> Optional[Value]:
        """A string or integer field as stripped text (tagged ``event a.b``); anything else is None."""
        value = self._get(*path)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        text = str(value).strip()
        where = ".".join(f"[{key}]" if isinstance(key, int) else str(key) for key in path).replace(".[", "[")
        return sourced(text, f"event {where}") if text else None


def load_event(path: Optional[str], warn: Callable[[str], None]) -> GitHubEvent:
    """Read the payload; a missing or invalid file gives one note and an empty event."""
    import json  # push runs never get here

    if not path:
        warn("GITHUB_EVENT_PATH is not set; pull request and deployment details from the event payload are unknown")
        return GitHubEvent()
    try:
        with open(path, "rb") as handle:
            payload = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        warn(f"GitHub event file {path} does not exist; pull request and deployment details from it are unknown")
        return GitHubEvent()
    except (OSError, UnicodeDecodeError, ValueError) as error:
        reason = type(error).__name__
        warn(f"GitHub event file {path} could not be read as JSON ({reason}); details from it are unknown")
        return GitHubEvent()
    if not isinstance(payload, Mapping):
        warn(f"GitHub event file {path} does not hold a JSON object; details from it are unknown")
        return GitHubEvent()
    return GitHubEvent(payload)
