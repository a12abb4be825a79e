"""The `file` target: appends each event as one JSON line. A local, inspectable sink.

It also reads its own lines back: `deployment|release|build list` (newest first, with
the -e / --version / --param filters and --limit) and `check --online` (is the path
writable?), so every command of the tour works without a vendor account.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Mapping, Optional, Tuple

from shipmark.errors import ApiError
from shipmark.models import Result, Status
from shipmark.operations import LIST_OPERATIONS, WRITE_OPERATIONS, words
from shipmark.targets.base import Request, Target, TargetConfig
from shipmark.targets.items import ListItem
from shipmark.targets.params import Param
from shipmark.targets.status import StatusMap
from shipmark.wording import count

# What each list shows: the lines of events of this kind.
LISTED_KIND = {"deployment_list": "deployment", "release_list": "release", "build_list": "build"}


class FileConfig(TargetConfig):
    url_required: ClassVar[bool] = False

    path: str


class FileTarget(Target):
    type = "file"
    config_model = FileConfig
    status_map = StatusMap({status: status.value for status in Status})
    # Any --param is recorded as it is given; a list keeps the lines that carry it.
    params = (Param("any KEY=VALUE", tuple(sorted(WRITE_OPERATIONS | LIST_OPERATIONS)), prefix=""),)

    @property
    def path(self) -> Path:
        return Path(os.path.expanduser(self.config.path))

    def _append(self, request: Request) -> Result:
        line = json.dumps(request.record(), sort_keys=True, ensure_ascii=False)
        path = self.path
        self.hold_back(request, f"append to {path}:\n  {line}", "nothing written")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write() of a whole line keeps concurrent appends from interleaving.
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise ApiError(f"cannot append to {path}: {exc.strerror or exc}") from None
        return self.result(request, url=path.resolve().as_uri())

    deploy = _append
    deployment_update = _append
    release_create = _append
    release_cancel = _append
    release_restore = _append
    build_create = _append
    build_deploy = _append
    build_reject = _append

    # -- reading its own lines back ---------------------------------------------------
    def _list(self, request: Request) -> Result:
        """The lines of the listed kind that match every filter, newest (last written) first."""
        records, unreadable = self._read()
        kind = LISTED_KIND[request.operation]
        wanted = {"environment": request.event.environment, "version": request.event.version}
        matches = [r for r in reversed(records)
                   if r.get("kind") == kind and matches_filters(r, wanted, request.params)]
        if request.limit:
            matches = matches[:request.limit]
        notes = []
        if not self.path.exists():
            notes.append(f"{self.path} does not exist yet: nothing recorded")
        if unreadable:
            notes.append(f"skipped {count(unreadable, 'line')} that {'is' if unreadable == 1 else 'are'} "
                         "not a JSON object")
        return self.result(request, items=[list_item(r) for r in matches],
                           message="; ".join(notes) or None)

    deployment_list = _list
    release_list = _list
    build_list = _list

    def _read(self) -> Tuple[List[Dict[str, Any]], int]:
        """(the JSON objects of the file in written order, how many lines were not one)."""
        path = self.path
        if path.is_dir():
            raise ApiError(f"cannot read {path}: it is a directory")
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = [line for line in fh if line.strip()]
        except FileNotFoundError:
            return [], 0
        except OSError as exc:
            raise ApiError(f"cannot read {path}: {exc.strerror or exc}") from None
        records, unreadable = [], 0
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # e.g. a line cut off when a job was killed mid-write
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                unreadable += 1
        return records, unreadable

    def probe(self) -> str:
        """`check --online`: could an event be appended? Checked without writing one."""
        path = self.path
        if path.is_dir():
            raise ApiError(f"{path} is a directory, not a file to append to")
        if path.exists():
            if not os.access(path, os.W_OK):
                raise ApiError(f"{path} is not writable")
            return f"{path} is writable"
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ApiError(f"cannot create {path}: {parent} is not a directory")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ApiError(f"cannot create {path}: {parent} is not writable")
        return f"{path} can be created (directory {parent} is writable)"


def matches_filters(record: Mapping[str, Any], wanted: Mapping[str, Optional[str]],
                    params: Mapping[str, str]) -> bool:
    """-e and --version compare with the event's own fields; --param KEY=VALUE with the
    recorded option, meta entry or event field of that name."""
    for key, value in wanted.items():
        if value and str(record.get(key) or "") != value:
            return False
    for key, value in params.items():
        sources = (record.get("options") or {}, record.get("meta") or {}, record)
        found = next((source[key] for source in sources if isinstance(source, dict) and key in source), None)
        if found is None or str(found) != value:
            return False
    return True


def list_item(record: Dict[str, Any]) -> ListItem:
    """One recorded line as a list row; the host and operation tell apart lines of one event."""
    options = record.get("options") if isinstance(record.get("options"), dict) else {}
    extra: Dict[str, Any] = {"host": record.get("host"), "operation": words(str(record.get("operation") or ""))}
    if record.get("kind") == "build":
        extra["build"] = options.get("build")
    return ListItem(
        id=record.get("event_key"),
        status=record.get("status"),
        version=record.get("version"),
        environment=record.get("environment"),
        commit=record.get("commit"),
        created_at=record.get("finished_at") or record.get("started_at"),
        url=None,
        raw=record,
        extra=extra,
    )
