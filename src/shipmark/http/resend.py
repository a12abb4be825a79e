"""Resending an event that may already be recorded.

A spooled event whose earlier attempt was cut off (the process was killed, or the
answer never came) may already be recorded. While it is resent, a write that is not
safe to repeat (a POST) is refused until an event_key lookup has come back empty
(create_once calls resend_checked()); idempotent writes (PUT, a PATCH the backend
declares safe) go through. Thread-local: the fan-out runs one job per thread.
"""
from __future__ import annotations

import contextlib
import threading

from shipmark.errors import ApiError

_resend = threading.local()


@contextlib.contextmanager
def uncertain_resend(active: bool = True):
    previous = getattr(_resend, "unchecked", False)
    _resend.unchecked = active
    try:
        yield
    finally:
        _resend.unchecked = previous


def resend_checked() -> None:
    """The event_key lookup found no record: sending is safe again."""
    _resend.unchecked = False


def resend_unchecked() -> bool:
    return bool(getattr(_resend, "unchecked", False))


def unverifiable_resend(what: str) -> ApiError:
    error = ApiError(f"not resent: an earlier attempt was cut off and may already be recorded, and {what} "
                     "offers no lookup by event key for this operation (resending could record it twice); "
                     "check the service and re-run the command if it is missing")
    error.unverifiable = True  # type: ignore[attr-defined]
    return error
