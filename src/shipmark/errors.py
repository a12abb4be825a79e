"""Exit statuses and the exception types that map onto them.

Every error shipmark raises on purpose is a ShipmarkError: the CLI prints its
message as one line (already redacted) and exits with its ``exit_status``.
Anything else is a bug and is shown as one line too, unless --debug.
"""
from __future__ import annotations

import enum
from typing import Optional


class ExitStatus(enum.IntEnum):
    OK = 0
    DELIVERY_FAILED = 1  # a target rejected the event, or a required target failed
    USAGE = 2  # bad flags, config, validation, unsupported operation
    REMOTE_FAILED = 3  # a remote deployment ended failed, or --wait timed out


class ShipmarkError(Exception):
    exit_status = ExitStatus.DELIVERY_FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotSent(Exception):
    """--dry-run: a request (or a local write) was shown instead of being made.

    Not an error: the backend base (shipmark.targets.base) ends the operation there
    and reports "dry run: not sent".
    """

    def __init__(self, outcome: str = "not sent"):
        super().__init__(outcome)
        self.outcome = outcome


class UsageError(ShipmarkError):
    """Bad command-line input (exit 2)."""

    exit_status = ExitStatus.USAGE


class ConfigError(ShipmarkError):
    """The config file, a ${VAR} or a SHIPMARK_* variable is wrong (exit 2)."""

    exit_status = ExitStatus.USAGE


class UnsupportedError(ShipmarkError):
    """The target cannot do this operation, or cannot represent this status (exit 2).

    Raised before any request is sent.
    """

    exit_status = ExitStatus.USAGE


class ApiError(ShipmarkError):
    """The remote service answered with an error, or could not be reached.

    ``transient`` errors (connection problems, timeouts, 429, 5xx) fall under the
    failure policy: warn, spool, exit 0 unless the target is required.
    ``may_have_landed`` is true when a write may have reached the server
    (read timeout, reset after sending, 5xx), so it must not be blindly re-sent.
    """

    exit_status = ExitStatus.DELIVERY_FAILED

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = None,
        transient: bool = False,
        may_have_landed: bool = False,
        url: Optional[str] = None,
        server_message: Optional[str] = None,
        retry_after: Optional[float] = None,
        unverifiable: bool = False,
        lookup_available: bool = False,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.transient = transient
        self.may_have_landed = may_have_landed
        self.url = url
        # What the service itself said (redacted), for backends that reword an error.
        self.server_message = server_message
        # Seconds the server asked us to wait (Retry-After, capped); create_once honours it too.
        self.retry_after = retry_after
        # A resend refused because it may already be recorded and cannot be checked first.
        self.unverifiable = unverifiable
        # Set by create_once: the backend can look this record up by event_key, so a later
        # resend is checked first (the spool keeps the event only then).
        self.lookup_available = lookup_available
