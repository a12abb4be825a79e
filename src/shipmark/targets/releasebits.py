"""The `releasebits` target: records finished deployments of one component.

ReleaseBits keeps deployment records only (see docs/targets/releasebits.md):
`POST /components/{slug}/deployments/` adds one, and `GET /components/{slug}/deployments`
returns them all as a bare JSON array. There is no update, no per-record read and no
dedupe key, so:

- only final states can be sent (a POST always adds a record; a "started" record
  could never be finished);
- the event key travels in `meta_data.shipmark_event_key` and the list is the
  lookup that makes re-runs and retries after a possibly-landed POST safe.
"""
from __future__ import annotations


from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

from pydantic import field_validator

from shipmark.errors import UnsupportedError, UsageError
from shipmark.models import Result, Status, parse_iso8601, utc_iso
from shipmark.targets.base import Request, Target, TargetConfig, segment
from shipmark.targets.items import ListItem
from shipmark.targets.paging import link_pages
from shipmark.targets.status import StatusMap
from shipmark.targets.values import as_id, expect_list
from shipmark.wording import count

EVENT_KEY_FIELD = "shipmark_event_key"
# The documented API has no paging; these bound the defensive Link-header paging.
MAX_PAGES = 100
LOOKUP_PAGES = 2
# Envelope keys tolerated around the list, in case the server ever wraps the array.
_ENVELOPE_KEYS = ("deployments", "data", "results", "items")


class ReleaseBitsConfig(TargetConfig):
    default_url: ClassVar[Optional[str]] = "https://api.releasebits.com"
    url_required: ClassVar[bool] = True

    token_required: ClassVar[bool] = True  # every ReleaseBits request is authenticated
    token_hint: ClassVar[str] = "a ReleaseBits API token (from /account/tokens)"

    component: str

    @field_validator("component")
    @classmethod
    def _component(cls, value: str) -> str:
        if not value:
            raise ValueError("must be the component's URL slug (e.g. web), not empty")
        return value


class ReleaseBits(Target):
    type = "releasebits"
    config_model = ReleaseBitsConfig
    # `result` is free text in the service's API (only "success" is shown there): shipmark
    # sends its own words, and reads them back.
    status_map = StatusMap({
        Status.QUEUED: None,
        Status.IN_PROGRESS: None,
        Status.SUCCESS: "success",
        Status.FAILURE: "failure",
        Status.CANCELLED: "cancelled",
        Status.SKIPPED: "skipped",
    })
    supports_lookup = True
    param_note = "its fields come from --version, -e, --host, --name, --meta and the CI context"

    config: ReleaseBitsConfig

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        return {
            "base_url": config.url or "",
            "headers": config.bearer(),
            "error_parser": _error_parser(getattr(config, "component", "")),
        }

    # -- paths -------------------------------------------------------------
    def _create_path(self) -> str:
        # The API's POST has a trailing slash; its GET has none.
        return f"/components/{segment(self.config.component)}/deployments/"

    def _list_path(self) -> str:
        return f"/components/{segment(self.config.component)}/deployments"

    # -- validation before anything is sent -----------------------------------
    def check(self, request: Request) -> None:
        super().check(request)
        if request.operation != "deploy":
            return
        status = request.event.status
        if self.status_map.get(status) is None:
            raise UnsupportedError(
                f"status {status.value!r} cannot be represented by releasebits: it records finished "
                "deployments only (success, failure, cancelled, skipped); record the end with "
                "`shipmark deployment finish`"
            )
        if not request.event.version:
            raise UsageError(
                "releasebits needs a version: pass --version (or set SHIPMARK_VERSION, or run where a tag "
                "or commit is detected)"
            )

    # -- deploy ------------------------------------------------------------
    def deploy(self, request: Request) -> Result:
        body = self._deployment_body(request)

        def send() -> Result:
            resp = self.http.request("POST", self._create_path(), json=body)
            data = resp.json()
            record_id = data.get("id") if isinstance(data, dict) else None
            return self.result(
                request,
                id=as_id(record_id),
                url=self._list_url(),
                status_code=resp.status_code,
                message=None if record_id is not None else "recorded; the response carried no id",
            )

        return self.create_once(request, send, lambda: self._find_recorded(request),
                                lookup_before=lambda: self._find_recorded(request, before_run=True))

    def _deployment_body(self, request: Request) -> Dict[str, Any]:
        event = request.event
        ctx = event.context
        meta: Dict[str, Any] = {
            "ci_provider": ctx.ci_name,
            "ci_run_id": ctx.build,
            "ci_run_url": ctx.build_url,
        }
        meta.update(event.meta)  # the user's --meta wins over what was detected
        meta[EVENT_KEY_FIELD] = event.event_key  # but never over the key re-runs are matched by
        body: Dict[str, Any] = {
            "version": event.version,
            "result": self.service_status(event.status),
            "stage": event.environment,
            "host": event.host,
            "started_at": utc_iso(event.started_at),
            "finished_at": utc_iso(event.finished_at),
            "commit_sha": event.commit,
            "code_name": event.name,
            "branch": event.branch,
            "tag": event.tag,
            "meta_data": {k: v for k, v in meta.items() if v is not None},
        }
        # Unknown fields are left out rather than sent as null (the server fills finished_at).
        return {k: v for k, v in body.items() if v is not None}

    def _find_recorded(self, request: Request, *, before_run: bool = False) -> Optional[Result]:
        """The record carrying this event's key, if any.

        before_run: check the component's deployments as fetched once for this run (one
        GET for all hosts, before this run sent anything); else fetch them now.
        """
        key = request.event.event_key
        if not key:
            return None

        def carries_key(record: Dict[str, Any]) -> bool:
            meta = record.get("meta_data")
            return isinstance(meta, dict) and meta.get(EVENT_KEY_FIELD) == key

        if before_run:
            records, status_code = self.once(
                "recorded", lambda: self._fetch(lambda _got: False, max_pages=LOOKUP_PAGES))
        else:
            records, status_code = self._fetch(lambda got: any(carries_key(r) for r in got), max_pages=LOOKUP_PAGES)
        for record in records:
            if carries_key(record):
                record_id = record.get("id")
                return self.result(
                    request,
                    id=as_id(record_id),
                    url=self._list_url(),
                    status_code=status_code,
                    message="already recorded",
                )
        return None

    # -- deployment list ---------------------------------------------------
    def deployment_list(self, request: Request) -> Result:
        wanted_env = request.event.environment
        wanted_version = request.event.version

        def matches(record: Dict[str, Any]) -> bool:
            return (wanted_env is None or record.get("stage") == wanted_env) and \
                (wanted_version is None or record.get("version") == wanted_version)

        def enough(records: List[Dict[str, Any]]) -> bool:
            return request.limit > 0 and sum(1 for r in records if matches(r)) >= request.limit

        records, status_code = self._fetch(enough, max_pages=MAX_PAGES)
        # Newest first, then --limit: `list -e production --limit 1` is the current deployment.
        items = sorted((self._item(r) for r in records if matches(r)), key=_newest_first)
        if request.limit:
            items = items[: request.limit]
        return self.result(request, items=items, status_code=status_code)

    def _item(self, record: Dict[str, Any]) -> ListItem:
        word = record.get("result")
        record_id = record.get("id")
        return ListItem(
            id=as_id(record_id),
            status=self.shown_status(word),
            version=record.get("version"),
            environment=record.get("stage"),
            commit=record.get("commit_sha"),
            created_at=record.get("finished_at") or record.get("started_at"),
            url=None,  # the API has no per-record address
            raw=record,
        )

    # -- check --online ----------------------------------------------------
    def probe(self) -> str:
        records, _ = self._fetch(lambda _records: False, max_pages=1)
        return f"authenticated; component {self.config.component!r}: {count(len(records), 'deployment')}"

    # -- reading the list --------------------------------------------------
    def _list_url(self) -> str:
        return self.http.url(self._list_path())

    def _fetch(self, enough: Callable[[List[Dict[str, Any]]], bool],
               max_pages: int) -> Tuple[List[Dict[str, Any]], Optional[int]]:
        """GET the component's deployments, until ``enough`` of them or ``max_pages``.

        The API returns one complete array; a Link rel="next" header is followed only defensively.
        """
        records: List[Dict[str, Any]] = []
        status_code: Optional[int] = None
        for page, resp in link_pages(self.http, self._list_path(), _records_in, max_pages):
            status_code = resp.status_code
            records.extend(page)
            if enough(records):
                break
        return records, status_code


# -- helpers -----------------------------------------------------------------

def _error_parser(component: str) -> Callable[[int, str, str], str]:
    """The error body is undocumented: the default finds message/error keys or shows the text.

    This adds the likely fix for the statuses a misconfigured target produces.
    """
    from shipmark.http import default_error_message  # lazily: http imports requests

    def parse(status: int, text: str, content_type: str) -> str:
        message = default_error_message(status, text, content_type)
        if status == 401:
            return f"{message} (use a ReleaseBits API token from /account/tokens as the target's token)"
        if status == 403:
            return f"{message} (the token may not write to component {component!r})"
        if status == 404:
            return f"{message} (check the component slug {component!r} and the target's url)"
        return message

    return parse


def _records_in(resp: Any) -> List[Dict[str, Any]]:
    return expect_list(resp.json(), resp.url, "a JSON array of deployments", envelopes=_ENVELOPE_KEYS, empty=False)


def _newest_first(item: ListItem) -> Tuple[int, float]:
    # Records without a readable time keep their order, after the dated ones (sorted is stable).
    when = parse_iso8601(item.created_at)
    return (0, -when.timestamp()) if when else (1, 0.0)
