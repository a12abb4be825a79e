"""The `file` target: appends each event as one JSON line. A local, inspectable sink."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Dict

from shipmark.errors import ApiError
from shipmark.models import Result, Status
from shipmark.operations import WRITE_OPERATIONS
from shipmark.targets.base import Request, Target, TargetConfig
from shipmark.targets.params import Param
from shipmark.targets.status import StatusMap


class FileConfig(TargetConfig):
    url_required: ClassVar[bool] = False

    path: str


class FileTarget(Target):
    type = "file"
    config_model = FileConfig
    status_map = StatusMap({status: status.value for status in Status})
    # Any --param is recorded as it is given.
    params = (Param("any KEY=VALUE", tuple(sorted(WRITE_OPERATIONS)), prefix=""),)

    def _append(self, request: Request) -> Result:
        record: Dict[str, Any] = {"operation": request.operation, **request.event.to_json_dict()}
        extras = {k: v for k, v in (("build", request.build), ("reason", request.reason), ("id", request.id),
                                    *request.options.items()) if v}
        if extras or request.params:
            record["options"] = {**extras, **request.params}
        line = json.dumps(record, sort_keys=True, ensure_ascii=False)
        path = Path(os.path.expanduser(self.config.path))
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
