"""A backend that exists only in the tests: it shows that a new backend is one file.

Importing it registers it (its one registry line, at the bottom). It declares an option
of its own, --memo-note on `deploy`, which reaches it in Request.options. It keeps what
it records in memory (BOOK): `deploy` adds an entry, `deployment list` reads them back.
FAIL_NEXT makes that many sends fail the way an unreachable service does (transiently),
so the event goes to the spool and `shipmark flush` resends it.
"""
from __future__ import annotations

from typing import Any, ClassVar, Dict, List

from shipmark.errors import ApiError
from shipmark.models import Result, Status
from shipmark.targets import CliOption, register
from shipmark.targets.base import Request, Target, TargetConfig

BOOK: List[Dict[str, Any]] = []
FAIL_NEXT = [0]


class MemoConfig(TargetConfig):
    url_required: ClassVar[bool] = False

    shelf: str  # a key of its own: which shelf its entries go on


class Memo(Target):
    type = "memo"
    config_model = MemoConfig
    status_map = {status: status.value for status in Status}
    cli_options = (CliOption("--memo-note", ("deploy",), "memo: a note kept with the deployment.", metavar="TEXT"),)

    config: MemoConfig

    def deploy(self, request: Request) -> Result:
        event = request.event
        entry = {"shelf": self.config.shelf, "event_key": event.event_key, "version": event.version,
                 "environment": event.environment, "status": event.status.value, "commit": event.commit,
                 "host": event.host, "note": request.options.get("memo_note")}
        if request.dry_run:
            return self.result(request, message=f"dry run: not recorded: {entry}")
        if FAIL_NEXT[0]:
            FAIL_NEXT[0] -= 1
            raise ApiError("memo shelf unreachable", transient=True)
        BOOK.append(entry)
        return self.result(request, id=str(len(BOOK)))

    def deployment_list(self, request: Request) -> Result:
        items = [{"id": str(number), "status": entry["status"], "version": entry["version"],
                  "environment": entry["environment"], "commit": entry["commit"], "created_at": None}
                 for number, entry in enumerate(BOOK, 1) if entry["shelf"] == self.config.shelf]
        return self.result(request, items=items)


register("memo", f"{__name__}:Memo")
