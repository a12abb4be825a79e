"""The data shipmark moves around: CI context, events and per-target results.

Plain dataclasses, not pydantic models: shipmark builds these itself from values it
has already checked, and `shipmark context` must start without importing pydantic
(pydantic validates what users write: the config, and spool files read back).
"""
from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional


class Status(str, enum.Enum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self not in (Status.QUEUED, Status.IN_PROGRESS)


FAILED_STATES = frozenset({Status.FAILURE, Status.CANCELLED})


@dataclass
class Context:
    """The normalized CI context: these keys, in this order (docs/ci-context.md describes each)."""

    ci_name: Optional[str] = None
    is_ci: bool = False
    commit: Optional[str] = None
    branch: Optional[str] = None
    tag: Optional[str] = None
    is_pr: bool = False
    pr: Optional[str] = None
    pr_head_branch: Optional[str] = None
    pr_base_branch: Optional[str] = None
    pr_merge_ref: Optional[str] = None
    pr_head_sha: Optional[str] = None
    pr_base_sha: Optional[str] = None
    pr_merge_base_sha: Optional[str] = None
    build: Optional[str] = None
    build_url: Optional[str] = None
    pipeline_id: Optional[str] = None
    job: Optional[str] = None
    job_url: Optional[str] = None
    slug: Optional[str] = None
    repository_url: Optional[str] = None
    stage: Optional[str] = None
    environment: Optional[str] = None
    actor: Optional[str] = None
    source: Optional[str] = None

    @property
    def event_commit(self) -> Optional[str]:
        """What events attribute the work to: the PR head when known, else the commit."""
        return self.pr_head_sha or self.commit

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def keys(cls) -> List[str]:
        return [f.name for f in dataclasses.fields(cls)]


@dataclass
class Event:
    """What one command records for one host: the context plus the command's inputs."""

    kind: str  # deployment | release | build
    operation: str
    version: Optional[str] = None
    environment: Optional[str] = None
    status: Status = Status.SUCCESS
    host: Optional[str] = None
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    name: Optional[str] = None
    meta: Dict[str, str] = field(default_factory=dict)
    commit: Optional[str] = None
    branch: Optional[str] = None
    tag: Optional[str] = None
    context: Context = field(default_factory=Context)
    event_key: Optional[str] = None

    def key_for(self, target: str) -> str:
        """A short, stable hash: the same job re-run gives the same key."""
        parts = [
            target,
            self.operation,
            self.commit or "",
            self.environment or "",
            self.version or "",
            self.host or "",
            self.status.value,
        ]
        import hashlib  # here: its OpenSSL set-up is a cost `shipmark context` need not pay

        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
        return digest[:16]

    def for_target(self, target: str) -> "Event":
        return dataclasses.replace(self, event_key=self.key_for(target))

    def to_json_dict(self) -> Dict[str, Any]:
        """JSON-ready: times as ISO 8601 (UTC as Z), the status as its word."""
        return json_ready(dataclasses.asdict(self))


def json_ready(value: Any) -> Any:
    """A dataclasses.asdict() result with datetimes and enums turned into JSON values."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        text = value.isoformat()  # microseconds only when there are some
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value


def utc_iso(value: Optional[datetime], *, ms: bool = True) -> Optional[str]:
    """ISO 8601 in UTC with a Z suffix (millisecond precision by default)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    text = value.isoformat(timespec="milliseconds" if ms else "seconds")
    return text.replace("+00:00", "Z")


_ISO8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2})?$")


def parse_iso8601(value: Any) -> Optional[datetime]:
    """A lenient ISO 8601 date-time (any number of fraction digits, Z or +hh:mm); naive means UTC.

    Returns an aware datetime, or None for anything else. Also reads the 7-digit
    fractions some services send, which datetime.fromisoformat rejects before 3.11.
    """
    if not isinstance(value, str):
        return None
    match = _ISO8601.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = offset if zone[0] == "+" else -offset
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                        tzinfo=timezone(offset)).astimezone(timezone.utc)
    except ValueError:
        return None


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


# The keys every --json result object carries, in this order.
RESULT_KEYS = (
    "target",
    "type",
    "operation",
    "ok",
    "status_code",
    "id",
    "url",
    "error",
    "event_key",
    "skipped",
)


@dataclass
class Result:
    """What happened for one target and one operation (and one host)."""

    target: str
    type: str
    operation: str
    ok: bool = True
    status_code: Optional[int] = None
    id: Optional[str] = None
    url: Optional[str] = None
    error: Optional[str] = None
    event_key: Optional[str] = None
    skipped: bool = False
    # Extras, printed only when set.
    host: Optional[str] = None
    message: Optional[str] = None  # e.g. "already recorded", why it was skipped
    remote_status: Optional[str] = None  # normalized state of a remote deployment
    transient: bool = False  # failed, but only transiently (policy decides the exit)
    spooled: bool = False
    items: Optional[List[Dict[str, Any]]] = None  # list operations
    raw: Optional[Any] = field(default=None, repr=False)  # service object; shown as `record` by get

    def to_json_dict(self) -> Dict[str, Any]:
        out = {key: getattr(self, key) for key in RESULT_KEYS}
        for key in ("host", "message", "remote_status", "items"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.transient:
            out["transient"] = True
        if self.spooled:
            out["spooled"] = True
        if self.operation == "deployment_get" and self.raw is not None:
            out["record"] = self.raw  # the service's own object, for scripts
        return out
