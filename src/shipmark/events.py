"""Command-line options + CI context + resolved settings -> the Events a command sends.

The version and the environment come from shipmark.config.Resolver (flag > variable >
CI context > config defaults); the version then falls back to the tag, else the short
commit sha. Every bad value is a UsageError naming the option.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence

from shipmark.errors import UsageError
from shipmark.models import Context, Event, Status, now_utc, parse_iso8601

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.config import Resolver

SHORT_SHA = 7


def parse_pairs(values: Iterable[str], option: str) -> Dict[str, str]:
    """KEY=VALUE strings (--meta, --param) -> a dict; a missing '=' or key is an error."""
    out: Dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def parse_timestamp(value: Optional[str], option: str):
    if value is None:
        return None
    parsed = parse_iso8601(value)
    if parsed is None:
        raise UsageError(f"{option} {value!r}: not an ISO 8601 timestamp (e.g. 2024-05-01T12:30:00Z)")
    return parsed


def check_word(value: Optional[str], option: str) -> Optional[str]:
    """Versions, tags and branches: non-empty, no whitespace or control characters."""
    if value is None:
        return None
    if value == "" or any(c.isspace() or ord(c) < 32 for c in value):
        raise UsageError(f"{option} {value!r}: must be non-empty with no whitespace")
    return value


def _commit(option: Optional[str], context: Context) -> Optional[str]:
    if not option:
        return context.event_commit
    commit = option.strip().lower()
    if len(commit) < SHORT_SHA or not all(c in "0123456789abcdef" for c in commit):
        raise UsageError(f"--commit {option!r}: expected a hex commit sha")
    return commit


def build_events(
    *,
    kind: str,
    operation: str,
    status: str,
    options: Mapping[str, Any],
    context: Context,
    settings: "Resolver",
) -> List[Event]:
    """One Event per --host (or one without a host)."""
    commit = _commit(options.get("commit"), context)
    tag = check_word(options.get("tag"), "--tag") or context.tag
    version = settings.version().value or tag or (commit[:SHORT_SHA] if commit else None)
    environment = settings.environment(context.environment).value
    if environment is not None and (not environment.strip() or any(ord(c) < 32 for c in environment)):
        raise UsageError(f"--environment {environment!r}: must be non-empty with no control characters")
    started = parse_timestamp(options.get("started_at"), "--started-at")
    finished = parse_timestamp(options.get("finished_at"), "--finished-at")
    state = Status(status)
    if finished is None and state.is_final:
        finished = now_utc()
    if started and finished and finished < started:
        raise UsageError("--finished-at is before --started-at")
    branch = check_word(options.get("branch"), "--branch") or context.branch
    meta = parse_pairs(options.get("meta") or (), "--meta")
    hosts: Sequence[Optional[str]] = [h.strip() for h in options.get("hosts") or () if h.strip()] or [None]
    return [
        Event(kind=kind, operation=operation, version=version, environment=environment, status=state,
              host=host, started_at=started, finished_at=finished, name=options.get("name"), meta=meta,
              commit=commit, branch=branch, tag=tag, context=context)
        for host in hosts
    ]


def params_for(target: str, params: Mapping[str, str], target_names: Iterable[str]) -> Dict[str, str]:
    """--param KEY=VALUE goes to every target; --param NAME.KEY=VALUE only to target NAME."""
    names = {n.lower() for n in target_names}
    out: Dict[str, str] = {}
    for key, value in params.items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix.lower() in names:
            if prefix.lower() == target.lower():
                out[rest] = value
        else:
            out[key] = value
    return out
