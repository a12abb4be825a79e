"""shipmark events as CDEvents v0.4, wrapped in a CloudEvents 1.0 envelope (structured mode).

CDEvents (https://cdevents.dev, spec v0.4.1) names what a delivery pipeline did; its
CloudEvents binding (https://github.com/cdevents/spec/blob/v0.4.1/cloudevents-binding.md)
carries each event as the ``data`` of a CloudEvent whose id, source, type and time repeat
the CDEvent's context. The mapping (also in docs/targets/webhook.md):

- a deployment recorded as successful (``deploy``, ``deployment finish``, ``deployment
  update``, ``build deploy``) -> ``service.deployed`` (``--param cdevents_type=upgraded``
  or ``rolledback`` when the pipeline knows it was one of those);
- ``deployment start`` (status in_progress) -> ``taskrun.started``: v0.4 has no
  "deployment started" event, and the deploy job is a task run of the pipeline;
- ``release create`` -> ``artifact.published``; ``build create`` -> ``build.finished``.

Anything else (a failed deployment, a cancelled release, ...) has no v0.4 event and is
refused before sending (UnsupportedError: a skip unless the target was named with -t).
The context id is the event_key, so a receiver dedupes re-runs by it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional, Tuple
from urllib.parse import quote

from shipmark.errors import UnsupportedError
from shipmark.models import Event, Status, now_utc, utc_iso

SPEC_VERSION = "0.4.1"
PREFIX = "dev.cdevents."
SERVICE_CHANGES = ("deployed", "upgraded", "rolledback")
DEPLOY_OPERATIONS = ("deploy", "deployment_update", "build_deploy")
# Where no build URL is known: a stable URI reference naming the producer.
FALLBACK_SOURCE = "/shipmark"


def event_type(operation: str, status: Status, change: Optional[str] = None) -> str:
    """The CDEvents type for one operation and status, or UnsupportedError saying why there is none."""
    if operation in DEPLOY_OPERATIONS:
        if status == Status.SUCCESS:
            return f"{PREFIX}service.{change or 'deployed'}.0.2.0"
        if status == Status.IN_PROGRESS:
            return f"{PREFIX}taskrun.started.0.2.0"
        raise UnsupportedError(f"CDEvents v0.4 has no event for a deployment with status {status.value!r} "
                               "(only success and in_progress map)")
    if operation == "release_create":
        return f"{PREFIX}artifact.published.0.2.0"
    if operation == "build_create":
        return f"{PREFIX}build.finished.0.2.0"
    raise UnsupportedError(f"CDEvents v0.4 has no event for {operation.replace('_', ' ')} "
                           "(use format: shipmark for it)")


def cloud_event(event: Event, operation: str, *, build: Optional[str] = None,
                change: Optional[str] = None, fallback_name: str = "app") -> Dict[str, Any]:
    """The CloudEvent (a JSON object) carrying the CDEvent for ``event``."""
    kind = event_type(operation, event.status, change)
    source = _source(event)
    timestamp = utc_iso(_when(event), ms=True)
    subject_type, subject = _subject(kind, event, operation, source, build, fallback_name)
    cdevent = {
        "context": {"version": SPEC_VERSION, "id": event.event_key, "source": source, "type": kind,
                    "timestamp": timestamp},
        "subject": {"id": subject.pop("id"), "source": source, "type": subject_type, "content": subject},
    }
    return {"specversion": "1.0", "id": event.event_key, "source": source, "type": kind, "time": timestamp,
            "datacontenttype": "application/json", "data": cdevent}


def _subject(kind: str, event: Event, operation: str, source: str, build: Optional[str],
             fallback_name: str) -> Tuple[str, Dict[str, Any]]:
    """(subject type, {"id": ..., **content}) for one event type."""
    ctx = event.context
    name = _artifact_name(event, fallback_name)
    if ".service." in kind:
        if not event.environment:
            raise UnsupportedError("a CDEvents service event needs the environment: pass -e NAME")
        return "service", {"id": name, "environment": {"id": event.environment, "source": source},
                           "artifactId": _purl(event, name, operation)}
    if ".taskrun." in kind:
        content: Dict[str, Any] = {"id": ctx.build or ctx.job or str(event.event_key),
                                   "taskName": f"deploy {event.environment}" if event.environment else "deploy"}
        if ctx.build_url or ctx.job_url:
            content["url"] = ctx.build_url or ctx.job_url
        if ctx.pipeline_id:
            content["pipelineRun"] = {"id": ctx.pipeline_id, "source": source}
        return "taskRun", content
    if ".artifact." in kind:
        content = {"id": _purl(event, name, operation)}
        if ctx.actor:
            content["user"] = ctx.actor
        return "artifact", content
    # build.finished: `build create` records a build that produced something.
    content = {"id": build or ctx.build or str(event.event_key)}
    if event.version or event.commit:
        content["artifactId"] = _purl(event, name, operation)
    return "build", content


def _purl(event: Event, name: str, operation: str) -> str:
    """pkg:generic/<namespace>/<name>@<version> (the commit when no version is given)."""
    version = event.version or event.commit
    if not version:
        raise UnsupportedError(f"a CDEvents {operation.replace('_', ' ')} names the artifact by version: "
                               "pass --version (or --commit)")
    path = "/".join(quote(part, safe="") for part in name.split("/") if part)
    return f"pkg:generic/{path}@{quote(version, safe='')}"


def _artifact_name(event: Event, fallback: str) -> str:
    """The service / artifact name: the repository slug (owner/name), else --name, else the target."""
    return event.context.slug or event.name or fallback


def _source(event: Event) -> str:
    ctx = event.context
    return ctx.build_url or ctx.job_url or ctx.repository_url or FALLBACK_SOURCE


def _when(event: Event) -> datetime:
    if event.status.is_final:
        return event.finished_at or event.started_at or now_utc()
    return event.started_at or now_utc()
