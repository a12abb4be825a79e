"""BuildMaster's Release & Build Deployment API as shipmark uses it: endpoints, --params,
deployment states, the target's config keys, and readers for what the server answers.

The behaviour (which request each command sends, and how re-runs stay safe) is in
shipmark.targets.buildmaster.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

from pydantic import field_validator

from shipmark.models import Status, parse_iso8601
from shipmark.targets.base import TargetConfig
from shipmark.targets.items import ListItem
from shipmark.targets.params import TIME, Param
from shipmark.targets.status import StatusMap
from shipmark.targets.values import as_id, expect_list, iso_time

EVENT_KEY_VARIABLE = "$ShipmarkEventKey"
RELEASES = "/api/releases"
CREATE_RELEASE = "/api/releases/create"
CREATE_FROM_TEMPLATE = "/api/releases/create-from-template"
CANCEL_RELEASE = "/api/releases/cancel"
RESTORE_RELEASE = "/api/releases/restore"
BUILDS = "/api/releases/builds"
CREATE_BUILD = "/api/releases/builds/create"
DEPLOY_BUILD = "/api/releases/builds/deploy"
REJECT_BUILD = "/api/releases/builds/reject"
DEPLOYMENTS = "/api/releases/builds/deployments"

FORBIDDEN_HINT = ("the API key is missing, unknown or lacks Release & Build Deployment access: "
                  "set the target's token to a BuildMaster API key with that permission")
TEMPLATE_GONE_HINT = ("this BuildMaster has no create-from-template endpoint (newer versions removed it): "
                      "create the release with --pipeline NAME instead of --template")

# BuildMaster variable names: letters, digits, underscores and hyphens after the `$`.
_VARIABLE_NAME = re.compile(r"^\$[A-Za-z0-9_][A-Za-z0-9_-]*$")
_LISTS = ("release_list", "build_list", "deployment_list")
# The writes, which all name a release (application + releaseNumber).
NEEDS_RELEASE = frozenset({"release_create", "release_cancel", "release_restore", "build_create", "deploy",
                            "build_deploy", "build_reject"})
# Writes take a few fields and, some of them, `$Name` variables; the lists take filters,
# passed through as query parameters (with the values the API allows, where it names them).
PARAMS = (
    Param("status", ("release_list",), choices=("active", "canceled", "deployed")),
    Param("status", ("build_list",), choices=("active", "rejected", "deployed")),
    Param("status", ("deployment_list",), choices=("pending", "executing", "succeeded", "warned", "failed")),
    Param("buildNumber", ("build_list", "deployment_list")),
    Param("pipelineName", _LISTS),
    Param("environmentName", ("deployment_list",)),
    Param("releaseName", ("release_create",)),
    Param("reason", ("release_cancel",)),
    Param("startTime", ("deploy", "build_deploy"), TIME),
    Param("$Name=value for a BuildMaster variable", ("release_create", "build_create", "deploy", "build_deploy"),
          prefix="$", name_pattern=_VARIABLE_NAME,
          name_rule="not a BuildMaster variable name (letters, digits, _ and - after the $, e.g. $BranchName)"),
)

# Deployment `status` words; shipmark cannot set them, it only reads them (and asks for
# deploys). `warned` is a success with warnings; cancelled is read from `canceledOn`.
DEPLOYMENT_STATES = StatusMap({
    Status.QUEUED: "pending",
    Status.IN_PROGRESS: "executing",
    Status.SUCCESS: "succeeded",
    Status.FAILURE: "failed",
    Status.CANCELLED: None,
    Status.SKIPPED: None,
}, also_read={"warned": Status.SUCCESS})
# A deployment in one of these states counts as "already deployed" for a re-run.
LIVE_DEPLOYMENT_WORDS = frozenset({"pending", "executing", "succeeded", "warned"})


class BuildMasterConfig(TargetConfig):
    url_required: ClassVar[bool] = True
    token_required: ClassVar[bool] = True  # every endpoint needs an API key
    token_hint: ClassVar[str] = "a BuildMaster API key with Release & Build Deployment access"

    application: str  # a name, or a numeric id
    pipeline: Optional[str] = None
    release_template: Optional[str] = None

    @field_validator("application", mode="before")
    @classmethod
    def _application(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # `application: 12` in YAML is the id 12
        if isinstance(value, str) and not value.strip():
            raise ValueError("must be the application's name or numeric id, not empty")
        return value

    @field_validator("pipeline", "release_template")
    @classmethod
    def _not_empty(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value:
            raise ValueError("must not be empty (leave the key out instead)")
        return value

    def application_params(self) -> Dict[str, str]:
        """applicationId when the configured value is all digits, else applicationName."""
        if self.application.isascii() and self.application.isdigit():
            return {"applicationId": self.application}
        return {"applicationName": self.application}


def server_root(url: str) -> str:
    """The configured url is the server root; tolerate a pasted `/api` or `/api/releases`."""
    root = url.rstrip("/")
    for suffix in ("/api/releases", "/api"):
        if root.lower().endswith(suffix):
            return root[: -len(suffix)]
    return root


def deployment_state(deployment: Dict[str, Any]) -> Tuple[Optional[Status], str]:
    """(normalized status or None when unknown, BuildMaster's word); canceledOn means cancelled."""
    if deployment.get("canceledOn"):
        return Status.CANCELLED, "canceled"
    word = str(deployment.get("status") or "unknown").lower()
    return DEPLOYMENT_STATES.status(word), word


def error_message(status: int, text: str, content_type: str) -> str:
    """400 bodies are plain text; 403 bodies may be empty or text."""
    from shipmark.http import default_error_message  # lazily: http imports requests

    if status == 403:
        detail = text.strip()
        if detail and "html" not in content_type.lower() and not detail.startswith("<"):
            return f"{FORBIDDEN_HINT} (server said: {' '.join(detail.split())[:300]})"
        return FORBIDDEN_HINT
    return default_error_message(status, text, content_type)


def objects(data: Any, url: str, what: str) -> List[Dict[str, Any]]:
    """A JSON array of objects; a single object counts as an array of one (deploy answers either)."""
    return expect_list(data, url, f"a JSON {what}", one_object=True)


def one_object(data: Any, url: str, what: str) -> Dict[str, Any]:
    found = objects(data, url, what)
    return found[0] if found else {}


def first(record: Dict[str, Any], *keys: str) -> Optional[str]:
    """The first present key: long names first, then the short aliases some versions send."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def id_order(record: Dict[str, Any]) -> Tuple[int, str]:
    """Highest id = newest (ids are system-wide sequences); createdOn breaks ties."""
    raw = record.get("id")
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = -1
    return number, str(record.get("createdOn") or "")


def parse_date(value: Any) -> Optional[datetime]:
    """BuildMaster dates: yyyy-MM-ddThh:mm:ss, with or without (7) fractional digits and Z; UTC."""
    return parse_iso8601(value)


# -- list rows ----------------------------------------------------------------

# (path, query key, value) -> the API address that reads one object back
ApiUrl = Callable[[str, str, Any], Optional[str]]


def build_item(build: Dict[str, Any], api_url: ApiUrl) -> ListItem:
    return ListItem(
        id=as_id(build.get("id")),
        status=build.get("status"),
        version=first(build, "releaseNumber"),
        environment=build.get("furthestStage"),
        commit=None,
        created_at=iso_time(build.get("createdOn"), fmt=None),
        url=api_url(BUILDS, "buildId", build.get("id")),
        extra={"build": first(build, "buildNumber", "number")},
        raw=build,
    )


def deployment_item(deployment: Dict[str, Any], api_url: ApiUrl) -> ListItem:
    status, word = deployment_state(deployment)
    return ListItem(
        id=as_id(deployment.get("id")),
        status=status.value if status else word,
        version=first(deployment, "releaseNumber"),
        environment=deployment.get("pipelineStageName") or deployment.get("environmentName"),
        commit=None,
        created_at=iso_time(deployment.get("createdOn") or deployment.get("started"), fmt=None),
        url=api_url(DEPLOYMENTS, "deploymentId", deployment.get("id")),
        extra={"build": first(deployment, "buildNumber")},
        raw=deployment,
    )


def release_item(release: Dict[str, Any], api_url: ApiUrl) -> ListItem:
    return ListItem(
        id=as_id(release.get("id")),
        status=release.get("status"),
        version=first(release, "releaseNumber", "number"),
        environment=None,  # a release spans the pipeline's stages
        commit=None,
        created_at=iso_time(release.get("createdOn"), fmt=None),
        url=api_url(RELEASES, "releaseId", release.get("id")),
        raw=release,
    )

# -- check --online and --discover ----------------------------------------
