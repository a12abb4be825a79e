"""The time budget every request of one command shares, and how long to wait between attempts."""
from __future__ import annotations

import email.utils
import random
import re
import time
from typing import Optional

DEFAULT_BUDGET = 30.0
RETRY_AFTER_CAP = 10.0
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0


class Budget:
    """A deadline shared by every request of one command."""

    def __init__(self, seconds: float = DEFAULT_BUDGET):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5, 1, 2, 4, 8 s (each times 0.5..1)."""
    base = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempt - 1)))
    return base * (0.5 + random.random() / 2)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds (delta-seconds or an HTTP date), capped; None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - time.time()
    return max(0.0, min(seconds, RETRY_AFTER_CAP))
