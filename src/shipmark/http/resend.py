"""Resending an event that may already be recorded.

A spooled event whose earlier attempt was cut off (the process was killed, or the
answer never came) may already be recorded. While it is resent, a write that is not
safe to repeat (a POST) is refused until an event_key lookup has come back empty;
idempotent writes (PUT, a PATCH the backend declares safe) go through.

The delivery of such a job gives its target an HTTP client carrying one
UncertainResend (HttpClient.for_resend); the HTTP layer and Target.create_once both
consult that object, and create_once marks it checked after an empty lookup.
"""
from __future__ import annotations

from shipmark.errors import ApiError


class UncertainResend:
    """One job resending a spooled event whose earlier attempt may have been recorded."""

    def __init__(self) -> None:
        self.unchecked = True

    def checked(self) -> None:
        """The event_key lookup found no record: sending is safe again."""
        self.unchecked = False

    def refusal(self, what: str) -> ApiError:
        """The error for a write that cannot be checked first (``what``: the service or host)."""
        return ApiError(f"not resent: an earlier attempt was cut off and may already be recorded, and {what} "
                        "offers no lookup by event key for this operation (resending could record it twice); "
                        "check the service and re-run the command if it is missing", unverifiable=True)
