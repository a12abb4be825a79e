"""One typed row for every list: what `deployment|release|build list` show, per record.

Every backend builds its rows as ListItem; Target.result turns them into the plain
dicts that --json prints (keys in this order, service-specific extras before ``raw``),
and the table shows ``COLUMNS`` (shipmark.output adds the target's name in front).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

# The table's columns, in order: every field but `raw` (the service's own record, for --json).
COLUMNS: Tuple[str, ...] = ("id", "status", "version", "environment", "commit", "created_at")
# Extra keys (``ListItem.extra``) the table adds after COLUMNS: a build number whenever a row
# has one; the host and the operation when rows differ by them (per-host records of one
# deployment otherwise look identical).
SHOWN_WHEN_SET: Tuple[str, ...] = ("build",)
SHOWN_WHEN_DIFFERENT: Tuple[str, ...] = ("host", "operation")


@dataclass
class ListItem:
    id: Optional[str]
    status: Optional[str]  # the normalized status when known, else the service's word
    version: Optional[str]
    environment: Optional[str]
    commit: Optional[str]
    created_at: Optional[str]  # ISO 8601 where the service's format could be read
    url: Optional[str]  # where the record can be read back, when the service has such an address
    raw: Any  # the service's record as it came
    extra: Dict[str, Any] = field(default_factory=dict)  # service-specific keys (e.g. BuildMaster's build)

    def to_dict(self) -> Dict[str, Any]:
        row: Dict[str, Any] = {name: getattr(self, name) for name in (*COLUMNS, "url")}
        row.update(self.extra)
        row["raw"] = self.raw
        return row
