"""One two-way status map type: shipmark's Status <-> a service's own word.

Sending uses one word per Status (None = the service cannot represent it); reading a
service's state back accepts those words and any others the service is known to send
(``also_read``), in any case. A word nobody mapped reads back as None: the caller shows
it as the service gave it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Mapping, Optional

from shipmark.models import Status


class StatusMap(Mapping[Status, Optional[str]]):
    """Status -> the service's word (a read-only mapping, as a plain dict would be), and back."""

    def __init__(self, send: Mapping[Status, Optional[str]], also_read: Optional[Mapping[str, Status]] = None):
        self._send: Dict[Status, Optional[str]] = {status: send.get(status) for status in Status}
        self._read: Dict[str, Status] = {word.lower(): status for status, word in self._send.items() if word}
        self._read.update({word.lower(): status for word, status in (also_read or {}).items()})

    @classmethod
    def of(cls, mapping: Mapping[Status, Optional[str]]) -> "StatusMap":
        """A backend may still declare a plain dict; it reads back the same way."""
        return mapping if isinstance(mapping, StatusMap) else cls(mapping)

    # -- sending ----------------------------------------------------------------
    def __getitem__(self, status: Status) -> Optional[str]:
        return self._send[status]

    def __iter__(self) -> Iterator[Status]:
        return iter(self._send)

    def __len__(self) -> int:
        return len(self._send)

    # -- reading back -----------------------------------------------------------
    def status(self, word: Any) -> Optional[Status]:
        """The Status a service's word stands for, or None when it is not known."""
        if word is None:
            return None
        return self._read.get(str(word).strip().lower())

    def shown(self, word: Any) -> Optional[str]:
        """For lists and results: the Status's own value when the word is known, else the word as given."""
        if word is None or word == "":
            return None
        status = self.status(word)
        return status.value if status is not None else word


# The state words DeployBot and Beanstalk share. Beanstalk also answers `new` and `retry`
# (not in its documented list): both are still waiting to run.
WAITING_PENDING = StatusMap(
    {
        Status.QUEUED: "waiting",
        Status.IN_PROGRESS: "pending",
        Status.SUCCESS: "success",
        Status.FAILURE: "failed",
        Status.CANCELLED: None,
        Status.SKIPPED: "skipped",
    },
    also_read={"new": Status.QUEUED, "retry": Status.QUEUED},
)
