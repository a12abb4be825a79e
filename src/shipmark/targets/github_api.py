"""The GitHub Deployments API as the `github` target uses it: its config, the headers and
rate limits, the payload shipmark stores in a deployment, and how records are read back.

API reference: https://docs.github.com/en/rest/deployments/deployments and
https://docs.github.com/en/rest/deployments/statuses (API version 2022-11-28).
"""
from __future__ import annotations

import hashlib
import re
import time
from typing import Any, Callable, ClassVar, Dict, List, Mapping, Optional

from pydantic import Field, field_validator

from shipmark.errors import UsageError
from shipmark.models import Event, Status
from shipmark.targets.base import TargetConfig, segment
from shipmark.targets.items import ListItem
from shipmark.targets.status import StatusMap
from shipmark.targets.values import as_id, iso_time

API_VERSION = "2022-11-28"
MEDIA_TYPE = "application/vnd.github+json"
ACTIONS_BOT = "github-actions[bot]"
PAYLOAD_KEY = "shipmark"  # the deployment payload's key holding shipmark's event
# GitHub's own default when a deployment names none; shipmark names it explicitly so that
# `start` and `finish` look in the same place.
DEFAULT_ENVIRONMENT = "production"
CANCELLED_DESCRIPTION = "cancelled"

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

# Deployment status states (https://docs.github.com/en/rest/deployments/statuses). A cancelled
# deployment is an `error`: `inactive` is what GitHub sets on a deployment another one superseded.
STATUS_MAP = StatusMap(
    {
        Status.QUEUED: "queued",
        Status.IN_PROGRESS: "in_progress",
        Status.SUCCESS: "success",
        Status.FAILURE: "failure",
        Status.CANCELLED: "error",
        Status.SKIPPED: None,
    },
    also_read={"pending": Status.QUEUED, "waiting": Status.QUEUED},
)


class GitHubConfig(TargetConfig):
    default_url: ClassVar[Optional[str]] = "https://api.github.com"  # GitHub Enterprise: https://HOST/api/v3
    url_required: ClassVar[bool] = True
    token_required: ClassVar[bool] = True
    token_hint: ClassVar[str] = ("a token that may write deployments (in GitHub Actions the job's GITHUB_TOKEN "
                                 "with `permissions: deployments: write`)")

    repository: Optional[str] = None  # owner/name; default: the repository the CI job runs for
    environment_url: Optional[str] = None
    transient_environment: Optional[bool] = None
    production_environment: Optional[bool] = None
    auto_inactive: bool = True
    # Sent explicitly: left out, GitHub requires every commit status check to pass (409 otherwise).
    required_contexts: List[str] = Field(default_factory=list)

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _REPOSITORY.match(value):
            raise ValueError(f"expected owner/name, got {value!r}")
        return value


def repository_path(config: GitHubConfig, event: Event) -> str:
    """/repos/{owner}/{name} for the configured repository, else the CI job's own."""
    slug = config.repository or event.context.slug
    if not slug:
        raise UsageError("github: set the target's repository (owner/name): none was detected from the CI job")
    if not _REPOSITORY.match(slug):
        raise UsageError(f"github: the detected repository {slug!r} is not owner/name: set the target's repository")
    owner, name = slug.split("/")
    return f"/repos/{segment(owner)}/{segment(name)}"


def environment_of(event: Event) -> str:
    return event.environment or DEFAULT_ENVIRONMENT


def lifecycle_key(target: str, event: Event) -> str:
    """The same for `deployment start` and its `finish` (unlike the event key, which includes
    the operation and the status): how the finish finds the deployment its start created."""
    parts = [target, event.commit or "", environment_of(event), event.version or "", event.host or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def payload(target: str, event: Event) -> Dict[str, Any]:
    """shipmark's event as the deployment's payload: the keys re-runs are matched by, and the event."""
    data = event.to_json_dict()
    data["context"] = {k: v for k, v in (data.get("context") or {}).items() if v not in (None, False, "")}
    data = {k: v for k, v in data.items() if v not in (None, {}, [])}
    data["lifecycle_key"] = lifecycle_key(target, event)
    return {PAYLOAD_KEY: data}


def carries_lifecycle_key(deployment: Mapping[str, Any], key: str) -> bool:
    data = deployment.get("payload")
    ours = data.get(PAYLOAD_KEY) if isinstance(data, dict) else None
    return isinstance(ours, dict) and ours.get("lifecycle_key") == key


def actions_run_id(event: Event) -> Optional[str]:
    """The GitHub Actions run this job belongs to, from the build URL (None outside Actions)."""
    match = re.search(r"/actions/runs/(\d+)(?:[/?#]|$)", event.context.build_url or "")
    return match.group(1) if match else None


def created_by_actions(deployment: Mapping[str, Any]) -> bool:
    creator = deployment.get("creator")
    return isinstance(creator, dict) and creator.get("login") == ACTIONS_BOT


def logs_run(status: Mapping[str, Any], run_id: str) -> bool:
    """Does this deployment status link to the Actions run (its log_url or target_url)?"""
    pattern = re.compile(r"/actions/runs/%s(?:[/?#]|$)" % re.escape(run_id))
    return any(isinstance(status.get(k), str) and pattern.search(status[k]) for k in ("log_url", "target_url"))


def description_for(status: Status) -> Optional[str]:
    return CANCELLED_DESCRIPTION if status is Status.CANCELLED else None


def shown_state(status: Optional[Mapping[str, Any]]) -> Optional[str]:
    """A deployment status as lists show it: `error` is a failure unless described "cancelled"
    (shipmark's word for a cancelled deployment, see STATUS_MAP)."""
    if not status:
        return None
    word = status.get("state")
    if word == "error" and status.get("description") != CANCELLED_DESCRIPTION:
        return Status.FAILURE.value
    return STATUS_MAP.shown(word)


def list_item(deployment: Dict[str, Any], latest: Optional[Dict[str, Any]]) -> ListItem:
    ours = (deployment.get("payload") or {}).get(PAYLOAD_KEY) if isinstance(deployment.get("payload"), dict) else None
    version = ours.get("version") if isinstance(ours, dict) else None
    raw = dict(deployment, latest_status=latest)
    return ListItem(
        id=as_id(deployment.get("id")),
        status=shown_state(latest),
        version=version,
        environment=deployment.get("environment"),
        commit=deployment.get("sha"),
        created_at=iso_time(deployment.get("created_at"), fmt=None),
        url=deployment.get("url"),
        raw=raw,
    )


# -- rate limits and errors --------------------------------------------------

def rate_limit_wait(status: int, headers: Mapping[str, str]) -> Optional[float]:
    """Seconds GitHub asks us to wait, when this answer is a rate limit, else None.

    Primary limits answer 403 or 429 with ``x-ratelimit-remaining: 0`` and the reset time
    (epoch seconds) in ``x-ratelimit-reset``; secondary limits answer 403 or 429 with
    ``retry-after``. A 403 with neither is a real refusal. See
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
    """
    if status not in (403, 429):
        return None
    retry_after = (headers.get("retry-after") or "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    reset = (headers.get("x-ratelimit-reset") or "").strip()
    if (headers.get("x-ratelimit-remaining") or "").strip() == "0" and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


def error_parser(repository: str) -> Callable[[int, str, str], str]:
    """GitHub's `{"message": ..., "documentation_url": ...}`, with the likely fix for each status."""
    from shipmark.http import default_error_message  # lazily: http imports requests

    where = f"repository {repository!r}" if repository else "the repository"

    def parse(status: int, text: str, content_type: str) -> str:
        message = default_error_message(status, text, content_type)
        if status == 401:
            return f"{message} (the token is invalid or expired)"
        if status == 403 and "rate limit" not in message.lower():
            return f"{message} (the token needs `deployments: write` on {where})"
        if status == 404:
            return f"{message} (check {where} and the target's url; a token without access also gets 404)"
        if status == 409:
            return f"{message} (commit status checks named in required_contexts have not passed)"
        return message

    return parse

