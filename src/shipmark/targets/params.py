"""`--param KEY=VALUE`: one vocabulary for every backend.

A backend declares the params it takes (``Target.params``), each with a type and the
operations that take it. The base checks every --param against those declarations
before anything is sent, and hands the backend the converted values:

- ``BOOL``: true/false, yes/no or 1/0, in any case -> True/False;
- ``ID``: a positive integer -> int;
- ``TIME``: ISO 8601 -> ISO 8601 with an explicit UTC offset (a time without a zone is UTC);
- ``STR``: text as given, or one of ``choices`` when the service allows only those.

An empty value is an error for every declared param: a blank CI variable should fail
loudly rather than quietly mean false or "use the default". Params matched by a
``prefix`` (BuildMaster's ``$Variables``, the file target's free keys) are passed
through as given, empty values included.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Pattern, Sequence, Tuple

from shipmark.errors import UsageError
from shipmark.operations import words

STR, ID, BOOL, TIME = "str", "id", "bool", "time"

TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")

_EXPECTED = {
    BOOL: "true or false",
    ID: "a positive integer id",
    TIME: "an ISO 8601 time (e.g. 2024-05-01T22:00:00Z)",
    STR: "a value",
}


def parse_bool(text: str) -> Optional[bool]:
    """True/False for the one boolean vocabulary, None for anything else (empty included)."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


@dataclass(frozen=True)
class Param:
    """One --param a backend takes."""

    name: str  # the KEY; for a prefix param, how the valid list shows it
    operations: Tuple[str, ...]  # the operations that take it
    type: str = STR
    choices: Tuple[str, ...] = ()  # STR only: the values the service accepts
    hint: str = ""  # added to a bad value's error, e.g. where to find a valid id
    prefix: Optional[str] = None  # any KEY starting with this ("" = any KEY at all)
    name_pattern: Optional[Pattern[str]] = None  # prefix params: what a KEY must look like
    name_rule: str = ""  # the error when it does not

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) if self.prefix is not None else key == self.name

    def convert(self, key: str, raw: str) -> Any:
        if self.prefix is not None:
            if self.name_pattern is not None and not self.name_pattern.match(key):
                raise UsageError(f"--param {key}: {self.name_rule}")
            return raw
        value = _convert(self.type, raw)
        if value is None or (self.choices and value not in self.choices):
            expected = f"one of: {', '.join(self.choices)}" if self.choices else _EXPECTED[self.type]
            raise UsageError(f"--param {key}={raw!r}: expected {expected}" + (f" ({self.hint})" if self.hint else ""))
        return value


def _convert(kind: str, raw: str) -> Any:
    """The value, or None when it is not one of this type."""
    text = raw.strip()
    if kind == BOOL:
        return parse_bool(text)
    if kind == ID:
        return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None
    if kind == TIME:
        from shipmark.models import parse_iso8601

        parsed = parse_iso8601(text) if text else None
        # An explicit offset: the service would otherwise read the time in its own zone.
        return parsed.isoformat(timespec="seconds") if parsed is not None else None
    return raw if text else None


def read_params(target_type: str, operation: str, given: Mapping[str, str], declared: Sequence[Param],
                note: str = "") -> Dict[str, Any]:
    """The --param values of one request, checked and converted; UsageError names what is wrong.

    Every unknown KEY is named in one error with the valid ones (``note`` is added to it).
    """
    offered = [p for p in declared if operation in p.operations]
    unknown = sorted(key for key in given if not any(p.matches(key) for p in offered))
    if unknown:
        valid = ", ".join(_unique(p.name for p in offered)) or "none"
        raise UsageError(f"--param {', '.join(unknown)}: unknown for {target_type} {words(operation)} "
                         f"(valid: {valid})" + (f"; {note}" if note else ""))
    return {key: next(p for p in offered if p.matches(key)).convert(key, raw) for key, raw in given.items()}


def _unique(names: Iterable[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(names))
