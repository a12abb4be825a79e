"""The one way CI detection reads environment variables."""
from __future__ import annotations

import os
import re
from typing import Mapping, Optional

# A value that is nothing but an unexpanded placeholder: Azure `$(Var)`, shell or
# GitHub `${...}` / `${{ ... }}` / `$VAR` (Cloud Build substitutions too), Windows
# `%VAR%`. Only whole values count, so a URL holding `%20` is never mistaken for one.
_PLACEHOLDER = re.compile(r"\$\(.*\)|\$\{.*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_.()-]*%", re.DOTALL)


class Value(str):
    """Text that remembers where it came from, so `context --explain` can say why.

    A plain ``str`` everywhere else; ``source`` names a variable, an event field or
    how the value was put together.
    """

    source: Optional[str] = None


def sourced(text: Optional[str], source: Optional[str]) -> Optional[Value]:
    """``text`` tagged with ``source``; None stays None."""
    if text is None:
        return None
    value = Value(text)
    value.source = source
    return value


def source_of(value: object) -> Optional[str]:
    return getattr(value, "source", None)


def _placeholder(part: str) -> str:
    source = source_of(part)
    if source is None:
        return str(part)  # a literal piece
    return f"${source}" if source.isidentifier() else f"{{{source}}}"


def joined(separator: str, *parts: Optional[str]) -> Optional[Value]:
    """``a<sep>b...`` when every part is set (``owner/repo``), its source a template such as ``$OWNER/$NAME``."""
    if any(not part for part in parts):
        return None
    return sourced(separator.join(str(part) for part in parts), separator.join(_placeholder(part) for part in parts))


class Env:
    """Read-only view of a variable mapping with one meaning of "unset".

    A variable is set when its trimmed value is non-empty, not ``false`` (any case)
    and not an unexpanded placeholder. Names are case-insensitive on Windows, where
    CI systems differ in how they spell ``bamboo_planKey`` or ``ghprbPullId``.
    """

    def __init__(self, mapping: Optional[Mapping[str, str]] = None, *, case_insensitive: Optional[bool] = None):
        # Names of the set variables read so far, while a detection is being traced.
        self.trace: Optional[list] = None
        self._mapping: Mapping[str, str] = os.environ if mapping is None else mapping
        if case_insensitive is None:
            case_insensitive = os.name == "nt"
        self._folded: Optional[dict] = None
        if case_insensitive:
            self._folded = {str(key).upper(): value for key, value in self._mapping.items()}

    def _raw(self, name: str) -> Optional[str]:
        if self._folded is not None:
            return self._folded.get(name.upper())
        return self._mapping.get(name)

    def get(self, name: str) -> Optional[Value]:
        """The trimmed value (tagged with the variable's name), or None when unset."""
        value = self._raw(name)
        if value is None:
            return None
        value = str(value).strip()
        if not value or value.lower() == "false" or _PLACEHOLDER.fullmatch(value):
            return None
        if self.trace is not None:
            self.trace.append(name)
        return sourced(value, name)

    def is_set(self, name: str) -> bool:
        return self.get(name) is not None

    def first(self, *names: str) -> Optional[Value]:
        """The value of the first set variable among ``names``."""
        for name in names:
            value = self.get(name)
            if value is not None:
                return value
        return None

    def equals(self, name: str, expected: str) -> bool:
        """``X=v`` tests: trimmed values compared case-insensitively."""
        value = self.get(name)
        return value is not None and value.lower() == expected.lower()
