"""--dry-run, handled once for every backend.

In a dry run the HTTP client prints each request instead of sending it and raises
NotSent. Target wraps every operation method with ``reports_dry_run``, which turns
NotSent into the "dry run: not sent" result; a read that a write needs first (an id
looked up by name) goes through ``stand_in``, which puts a placeholder in its place.
Backends themselves never look at the dry-run flag.
"""
from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from shipmark.errors import NotSent
from shipmark.models import Result
from shipmark.operations import LIST_OPERATIONS

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.http import HttpClient
    from shipmark.targets.base import Request


class ShowsDryRun:
    """What Target offers backends for a dry run (mixed into Target)."""

    http: "HttpClient"
    _once_lock: threading.Lock
    # Per request being run (by id), one entry (its note or None) per read stood in for.
    _stood_in: Dict[int, List[Optional[str]]]

    result: Callable[..., Result]  # Target.result
    def stand_in(self, request: "Request", read: Callable[[], Any], placeholder: Any, *,
                 note: Optional[str] = None, show: bool = False) -> Any:
        """``read()``, a read the operation needs before it writes; in a dry run ``placeholder``.

        show: print the read in a dry run too (else nothing of it is shown); note: what
        the result should say is left open, e.g. "the environment id is looked up by name
        when sent".
        """
        if not request.dry_run:
            return read()
        if show:
            try:
                read()
            except NotSent:
                pass
        with self._once_lock:
            self._stood_in.setdefault(id(request), []).append(note)
        return placeholder

    def hold_back(self, request: "Request", shown: str, outcome: str = "not sent") -> None:
        """Before a change made without HTTP (a file written): in a dry run, show it and stop there."""
        if request.dry_run:
            if self.http.show_request:
                self.http.show_request(shown)
            raise NotSent(outcome)

    def _not_sent(self, request: "Request", outcome: str, notes: List[str]) -> Result:
        message = f"dry run: {outcome}" + (f" ({'; '.join(notes)})" if notes else "")
        listing = request.operation in LIST_OPERATIONS or request.operation == "discover"
        return self.result(request, message=message, items=[] if listing else None)


def reports_dry_run(operation: Callable[[Any, "Request"], Result]) -> Callable[[Any, "Request"], Result]:
    """The operation, turned into "dry run: not sent" when it stops at a request it only showed.

    An operation that stood in for a read and then finished (a listing of several kinds)
    reports the same; one that sent nothing over HTTP at all returns its own result.
    """
    @functools.wraps(operation)
    def run(self: Any, request: "Request") -> Result:
        if not request.dry_run:
            return operation(self, request)
        key = id(request)
        with self._once_lock:
            self._stood_in[key] = []
        outcome = "not sent"
        result: Optional[Result] = None
        try:
            result = operation(self, request)
        except NotSent as stop:
            outcome = stop.outcome
        finally:
            with self._once_lock:
                stood_in = self._stood_in.pop(key, [])
        if result is not None and not stood_in:
            return result
        return self._not_sent(request, outcome, [note for note in stood_in if note])

    return run
