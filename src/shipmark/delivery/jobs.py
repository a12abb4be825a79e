"""What one delivery command asks for: its options, and one job per (target, host)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from shipmark.config import DEFAULT_CONCURRENCY
from shipmark.targets.base import Request, TargetConfig


@dataclass
class Options:
    dry_run: bool = False
    timeout: Optional[float] = None  # the command's budget (--timeout)
    wait: bool = False
    wait_timeout: float = 600.0
    fail_on_error: bool = False
    spool_path: Optional[object] = None  # pathlib.Path, None = no spooling
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass
class Job:
    config: TargetConfig
    request: Request
    explicit: bool  # named with -t: an unsupported operation is an error, not a skip
    # A resend of a spooled event whose earlier attempt may have been recorded:
    # writes that are not safe to repeat need an event_key lookup first.
    uncertain: bool = False
