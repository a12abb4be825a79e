"""${VAR} expansion in config values, and the rule that keeps a URL's host where the file put it."""
from __future__ import annotations

import re
from typing import Any, List, Mapping, Optional

from shipmark.errors import ConfigError

VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# What a ${VAR} may put into a URL's host[:port]: no userinfo, path, query, fragment,
# whitespace or control characters, any of which would move the host elsewhere.
_AUTHORITY_UNSAFE = re.compile(r"[@#?/\\\s\x00-\x1f\x7f-\x9f]")


def expand_vars(value: Any, env: Mapping[str, str], where: str, missing: Optional[List[str]] = None) -> Any:
    """Expand ${VAR} (and ${VAR:-default}) in every string; $$ is a literal $.

    An unset or empty variable raises a ConfigError, or, given ``missing``, is added to
    it (as "NAME is not set") and left in place. A key named ``url`` must keep its
    host: see ``_check_authority``.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[k] = expand_vars(v, env, f"{where}.{k}", missing)
            if k == "url" and isinstance(v, str) and out[k] != v:
                _check_authority(v, env, f"{where}: key 'url'")
        return out
    if isinstance(value, list):
        return [expand_vars(v, env, f"{where}[{i}]", missing) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: "re.Match[str]") -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        current = env.get(name)
        if current:
            return current
        if default is not None:
            return default
        state = f"{name} is empty" if current == "" else f"{name} is not set"
        if missing is None:
            raise ConfigError(f"{where}: environment variable {state}")
        if state not in missing:
            missing.append(state)
        return match.group(0)

    return VARIABLE.sub(replace, value)


def _check_authority(template: str, env: Mapping[str, str], where: str) -> None:
    """A ${VAR} in a URL's host[:port] must be nothing but host or port characters.

    Otherwise a value such as ``evil.example#`` in ``https://${BRANCH}.example.com``
    would send the request (and its token) to another host. Only the variable is
    named: its value may be a secret.
    """
    neutral = VARIABLE.sub(lambda m: "$" if m.group(0) == "$$" else "\0", template)
    scheme_end = neutral.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    end = next((i for i in range(start, len(neutral)) if neutral[i] in "/?#"), len(neutral))
    slot = 0
    for match in VARIABLE.finditer(template):
        if match.group(0) == "$$":
            continue
        position = _position(neutral, slot)
        slot += 1
        value = env.get(match.group(1)) or match.group(2) or ""
        if scheme_end < 0 or position < scheme_end:
            # The variable brings the scheme too: its own host must be plain.
            _, sep, rest = value.partition("://")
            value = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else value
            if not sep and position >= end:
                continue
        elif not start <= position < end:
            continue
        if _AUTHORITY_UNSAFE.search(value):
            raise ConfigError(f"{where}: the value of {match.group(1)} would change the URL's host "
                              f"(it holds one of @ # ? / \\, a space or a control character); "
                              f"a variable in a URL's host may hold only a host name or port")


def _position(neutral: str, slot: int) -> int:
    """Where the ``slot``-th variable sits in the template with each variable as one NUL."""
    index = -1
    for _ in range(slot + 1):
        index = neutral.index("\0", index + 1)
    return index
