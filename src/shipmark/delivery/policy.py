"""How each job ended, and the exit status those endings give.

Exit status: 2 when a request was unusable or unsupported by a target named with
-t; 1 when a target rejected an event for good, a transient failure hit a
required target (or --fail-on-error), or a read or list failed in any way; 3 when
a waited-for deployment failed or the wait timed out; else 0. Other transient
failures of writes only warn (and spool).

The outage policy is for writes: the event is kept and resent later, so the job
need not fail. A read that failed has nothing to keep, and an empty answer would
look like "nothing there", so it always fails the command.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence

from shipmark.errors import ExitStatus
from shipmark.models import Result
from shipmark.operations import WRITE_OPERATIONS

# How each result ended.
OK, SKIPPED, USAGE, PERMANENT, TRANSIENT, REMOTE_FAILED = (
    "ok", "skipped", "usage", "permanent", "transient", "remote_failed")


@dataclass
class Outcome:
    result: Result
    kind: str
    required: bool = False
    # A transient failure of a write that may have reached the server.
    may_have_landed: bool = False
    # Will a resend look the record up by event_key first (create_once with a lookup)?
    verifiable: bool = False
    # Refused: a resend that could not be checked against the service (see Job.uncertain).
    unverifiable: bool = False


@dataclass
class Report:
    results: List[Result] = field(default_factory=list)
    outcomes: List[Outcome] = field(default_factory=list)
    exit_status: ExitStatus = ExitStatus.OK

    @property
    def ok(self) -> bool:
        return self.exit_status == ExitStatus.OK and all(o.kind in (OK, SKIPPED) for o in self.outcomes)


def exit_status(outcomes: Sequence[Outcome], fail_on_error: bool) -> ExitStatus:
    kinds = [o.kind for o in outcomes]
    if USAGE in kinds:
        return ExitStatus.USAGE
    if PERMANENT in kinds or any(o.kind == TRANSIENT and (fail_on_error or o.required or not tolerated(o))
                                 for o in outcomes):
        return ExitStatus.DELIVERY_FAILED
    if REMOTE_FAILED in kinds:
        return ExitStatus.REMOTE_FAILED
    return ExitStatus.OK


def tolerated(outcome: Outcome) -> bool:
    """May this transient failure only warn? Only a write's, whose event the spool keeps."""
    return outcome.result.operation in WRITE_OPERATIONS


def error_kind(exit_code: ExitStatus) -> str:
    """The kind of a ShipmarkError that is not an ApiError: bad input, or a permanent failure."""
    return USAGE if exit_code == ExitStatus.USAGE else PERMANENT
