"""The one table of operations: what each is called, whether it writes, lists or reads,
whether `--wait` can follow it and whether a failed attempt is kept in the spool.

The CLI, delivery, the spool and the backends all read this table; a backend supports
an operation by defining a method of the same name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet

WRITE, READ, LIST = "write", "read", "list"


@dataclass(frozen=True)
class Operation:
    name: str  # the backend method that performs it
    words: str  # what the CLI calls it, for messages
    access: str  # WRITE records something; READ and LIST only look
    can_wait: bool = False  # `--wait` can follow the remote deployment it starts or names

    @property
    def spooled(self) -> bool:
        """Writes are journalled before they are sent and resent after a transient failure."""
        return self.access == WRITE


OPERATIONS: Dict[str, Operation] = {op.name: op for op in (
    Operation("deploy", "deploy", WRITE, can_wait=True),
    Operation("deployment_update", "deployment update", WRITE),
    Operation("deployment_get", "deployment get", READ, can_wait=True),
    Operation("deployment_list", "deployment list", LIST),
    Operation("deployment_retry", "deployment retry", WRITE, can_wait=True),
    Operation("release_create", "release create", WRITE),
    Operation("release_list", "release list", LIST),
    Operation("release_cancel", "release cancel", WRITE),
    Operation("release_restore", "release restore", WRITE),
    Operation("build_create", "build create", WRITE),
    Operation("build_list", "build list", LIST),
    Operation("build_deploy", "build deploy", WRITE, can_wait=True),
    Operation("build_reject", "build reject", WRITE),
    Operation("discover", "targets --discover", READ),
)}

WRITE_OPERATIONS: FrozenSet[str] = frozenset(n for n, op in OPERATIONS.items() if op.access == WRITE)
LIST_OPERATIONS: FrozenSet[str] = frozenset(n for n, op in OPERATIONS.items() if op.access == LIST)
WAIT_OPERATIONS: FrozenSet[str] = frozenset(n for n, op in OPERATIONS.items() if op.can_wait)


def words(name: str) -> str:
    """The CLI's words for an operation (its own name when unknown)."""
    op = OPERATIONS.get(name)
    return op.words if op else name
