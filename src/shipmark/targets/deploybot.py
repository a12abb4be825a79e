"""The DeployBot backend: trigger a deployment of the CI commit and follow its state.

DeployBot runs deployments itself, so shipmark can only *trigger* one
(``POST /deployments``) and read its ``state``; it cannot report a deployment
done elsewhere. The API lives under ``https://<account>.deploybot.com/api/v1``,
authenticates with an ``X-Api-Token`` header, pages lists with ``limit`` +
``after`` inside a ``{"meta", "entries"}`` envelope and reports errors as
``{"message": "..."}``. See docs/targets/deploybot.md.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, ClassVar, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from pydantic import Field

from shipmark.errors import ApiError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets.base import Request, Target, TargetConfig, segment
from shipmark.targets.items import ListItem
from shipmark.targets.paging import cursor_pages
from shipmark.targets.params import BOOL, ID, Param
from shipmark.targets.status import WAITING_PENDING
from shipmark.targets.values import as_id, expect_object, iso_time

API_PATH = "/api/v1"
PAGE_SIZE = 50  # DeployBot's documented default and maximum
LOOKUP_PAGES = 2  # how far back the event_key lookup reads: re-runs are recent
EVENT_KEY_MARK = "(shipmark {key})"
READ_ONLY_HINT = ("the API token is read-only (DeployBot allows only GET with read-only keys): "
                  "create a token with write access")

EnvironmentRef = Union[int, str]  # an id, or (when only shown) a placeholder naming the unresolved name


class DeployBotConfig(TargetConfig):
    url_required: ClassVar[bool] = True
    token_required: ClassVar[bool] = True
    token_hint: ClassVar[str] = "a DeployBot API token (e.g. token: ${DEPLOYBOT_TOKEN})"

    environment_id: Optional[int] = Field(default=None, gt=0)  # the default environment
    user_id: Optional[int] = Field(default=None, gt=0)  # who DeployBot shows as the deployer


def api_base(url: str) -> str:
    """The account URL with /api/v1 appended when the user gave only the account base."""
    base = url.rstrip("/")
    if base.endswith(API_PATH):
        return base
    if base.endswith("/api"):
        return base + "/v1"
    return base + API_PATH


_COMMENT = re.compile(r"^(?P<version>\S+) (?:.* )?\(shipmark (?P<key>[0-9a-f]+)\)")


def version_from_comment(comment: Any) -> Optional[str]:
    """The version shipmark wrote at the start of its own comments (None for other comments)."""
    match = _COMMENT.match(comment) if isinstance(comment, str) else None
    return match.group("version") if match else None


class DeployBot(Target):
    type = "deploybot"
    config_model = DeployBotConfig
    # The service's states: waiting, pending, success, failed, skipped (no cancelled).
    status_map = WAITING_PENDING
    supports_lookup = True
    triggers_deployments = True
    params = (
        Param("deploy_from_scratch", ("deploy",), BOOL),
        Param("environment_id", ("deploy", "deployment_list"), ID),
        Param("repository_id", ("deployment_list",), ID),
        Param("skip_build", ("deploy",), BOOL),
        Param("trigger_notifications", ("deploy",), BOOL),
        Param("user_id", ("deploy",), ID),
    )

    config: DeployBotConfig

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        return {
            "base_url": api_base(config.url or ""),
            "headers": {"X-Api-Token": config.token_value() or "", "Accept": "application/json"},
        }

    # -- validation before anything is sent -----------------------------------
    def check(self, request: Request) -> None:
        super().check(request)
        params = self.param_values(request)
        if request.operation != "deploy":
            return
        event = request.event
        if event.status is not Status.SUCCESS:
            raise UnsupportedError(
                f"DeployBot only triggers deployments, so status {event.status.value!r} cannot be recorded: "
                "use `shipmark deploy` (status success) to trigger one and --wait to follow it"
            )
        if event.host:
            raise UnsupportedError(
                "DeployBot deploys an environment to all of its servers: --host cannot be expressed "
                "(drop --host for this target)"
            )
        if not event.commit:
            raise UnsupportedError("DeployBot deploys a revision and no commit sha was detected: pass --commit SHA")
        if "environment_id" not in params and not event.environment and self.config.environment_id is None:
            raise UnsupportedError(
                "DeployBot needs an environment: set environment_id on the target, or pass -e NAME|ID"
            )

    # -- deploy: trigger a deployment ----------------------------------------
    def deploy(self, request: Request) -> Result:
        params = self.param_values(request)
        environments: List[Dict[str, Any]] = []
        environment_id = self._environment_for(request, params, environments)
        body: Dict[str, Any] = {
            "environment_id": environment_id,
            "user_id": params.get("user_id", self.config.user_id),
            "deployed_version": request.event.commit,
            "deploy_from_scratch": params.get("deploy_from_scratch"),
            "trigger_notifications": params.get("trigger_notifications"),
            "skip_build": params.get("skip_build"),  # ambiguous in DeployBot's docs: only when asked
            "comment": self.comment(request),
        }
        body = {key: value for key, value in body.items() if value is not None}

        def send() -> Result:
            try:
                resp = self.http.request("POST", "/deployments", json=body)
            except ApiError as exc:
                raise self._explain_forbidden_write(exc) from None
            return self._deployment_result(request, self._object(resp.json(), "the new deployment"),
                                           resp.status_code)

        def lookup() -> Optional[Result]:
            return self._find_by_event_key(request, int(environment_id))

        return self.create_once(request, send, lookup)

    def comment(self, request: Request) -> str:
        """'<version> via <ci> #<build> by <actor> (shipmark <event_key>) <build url>'.

        DeployBot deploys a revision, so the version only lives here; the event key
        makes re-runs findable. Missing parts are left out.
        """
        event = request.event
        ctx = event.context
        parts = [event.version or (event.commit or "")[:7]]
        if ctx.ci_name:
            parts.append(f"via {ctx.ci_name}" + (f" #{ctx.build}" if ctx.build else ""))
        if ctx.actor:
            parts.append(f"by {ctx.actor}")
        parts.append(EVENT_KEY_MARK.format(key=event.event_key))
        link = ctx.build_url or ctx.job_url
        if link:
            parts.append(link)
        return " ".join(p for p in parts if p)

    def _find_by_event_key(self, request: Request, environment_id: int) -> Optional[Result]:
        """A recent deployment of this environment whose comment carries the event key.

        A failed one does not count: re-running the job after a failed deployment
        should trigger a new one.
        """
        mark = EVENT_KEY_MARK.format(key=request.event.event_key)
        for page, entries in enumerate(self._pages("/deployments", {"environment_id": environment_id})):
            for deployment in entries:
                if mark in str(deployment.get("comment") or "") and deployment.get("state") != "failed":
                    return self._deployment_result(request, deployment, None)
            if page + 1 >= LOOKUP_PAGES:
                break
        return None

    def _explain_forbidden_write(self, exc: ApiError) -> ApiError:
        if exc.status_code != 403:
            return exc
        server = exc.server_message or exc.message
        return ApiError(f"HTTP 403: {READ_ONLY_HINT} (DeployBot said: {server})", status_code=403, url=exc.url)

    def _deployment_result(self, request: Request, deployment: Mapping[str, Any],
                           status_code: Optional[int]) -> Result:
        item = self._item(deployment, {})
        if item.id is None:
            raise ApiError(f"DeployBot answered without a deployment id: {json.dumps(deployment)[:300]}",
                           status_code=status_code)
        return self.result(request, id=item.id, url=item.url, status_code=status_code,
                           remote_status=item.status)

    # -- environments ------------------------------------------------------------
    def _environment_for(self, request: Request, params: Mapping[str, Any],
                         environments: List[Dict[str, Any]]) -> EnvironmentRef:
        """--param environment_id, else -e (an id, or a name looked up), else the target's environment_id.

        ``environments`` is filled with the listing when one was needed.
        """
        if "environment_id" in params:
            return int(params["environment_id"])
        name = (request.event.environment or "").strip()
        if not request.environment_explicit and self.config.environment_id is not None:
            name = ""  # only the config's defaults named it: the target's own environment_id wins
        if not name:
            if self.config.environment_id is None:
                raise UnsupportedError("DeployBot needs an environment: set environment_id on the target, "
                                       "or pass -e NAME|ID")
            return self.config.environment_id
        if name.isdigit():
            return int(name)

        def look_up() -> int:
            environments.extend(self._all("/environments", {}))
            return self._match_environment(name, environments)

        # When requests are only shown, nothing is looked up: the request shows where the id goes.
        return self.stand_in(request, look_up, f"<id of environment {name!r}>",
                             note="the environment id is looked up by name when sent")

    def _match_environment(self, name: str, environments: List[Dict[str, Any]]) -> int:
        # Environment names repeat across repositories ("production" in each): when the
        # target has an environment_id, only its repository's environments count.
        scope = None
        if self.config.environment_id is not None:
            own = [e for e in environments if as_id(e.get("id")) == str(self.config.environment_id)]
            if own:
                scope = as_id(own[0].get("repository_id"))
        candidates = [e for e in environments if scope is None or as_id(e.get("repository_id")) == scope]
        found = [e for e in candidates if str(e.get("name") or "") == name] or \
            [e for e in candidates if str(e.get("name") or "").strip().lower() == name.lower()]
        where = f" of repository {scope}" if scope else ""
        if not found:
            known = ", ".join(sorted({str(e.get("name")) for e in candidates})) or "none"
            raise UsageError(f"DeployBot has no environment named {name!r}{where} (known: {known}): "
                             "pass -e with one of these names or an id, or --param environment_id=N")
        if len(found) > 1:
            listed = ", ".join(f"id {e.get('id')} (repository {e.get('repository_id')})" for e in found)
            raise UsageError(f"DeployBot has several environments named {name!r}{where}: {listed}; "
                             "pick one with -e ID or --param environment_id=N")
        return int(str(found[0].get("id")))

    # -- reads ---------------------------------------------------------------------
    def deployment_get(self, request: Request) -> Result:
        if not request.id:
            raise UsageError("deployment get needs --id (a DeployBot deployment id)")
        resp = self.http.request("GET", f"/deployments/{segment(request.id)}")
        deployment = self._object(resp.json(), f"deployment {request.id}")
        item = self._item(deployment, {})
        return self.result(request, id=item.id, url=item.url, status_code=resp.status_code,
                           remote_status=item.status, items=[item])

    def deployment_list(self, request: Request) -> Result:
        params = self.param_values(request)
        filters: Dict[str, Any] = {}
        environments: List[Dict[str, Any]] = []
        if "environment_id" in params or (request.event.environment or "").strip():
            filters["environment_id"] = self._environment_for(request, params, environments)
        if "repository_id" in params:
            filters["repository_id"] = params["repository_id"]
        if not environments:  # for names in the listing
            environments = self.stand_in(request, lambda: list(self._all("/environments", {})), [])
        names = {as_id(e.get("id")): str(e.get("name")) for e in environments if e.get("name")}
        version = request.event.version
        items: List[ListItem] = []
        for entries in self._pages("/deployments", filters):
            for deployment in entries:
                item = self._item(deployment, names)
                if version and not self._is_version(item, version):
                    continue
                items.append(item)
                if request.limit and len(items) >= request.limit:
                    return self.result(request, items=items)
        return self.result(request, items=items)

    @staticmethod
    def _is_version(item: ListItem, version: str) -> bool:
        commit = str(item.commit or "")
        return item.version == version or commit == version or \
            (len(version) >= 7 and commit.startswith(version.lower()))

    def _item(self, deployment: Mapping[str, Any], environment_names: Mapping[Optional[str], str]) -> ListItem:
        """A deployment in the normalized list shape."""
        ident = as_id(deployment.get("id"))
        state = deployment.get("state")
        environment = as_id(deployment.get("environment_id"))
        return ListItem(
            id=ident,
            status=self.shown_status(state),
            version=version_from_comment(deployment.get("comment")) or deployment.get("deployed_version"),
            environment=environment_names.get(environment, environment),
            commit=deployment.get("deployed_version"),
            created_at=iso_time(deployment.get("created_at")),
            url=self.http.url(f"/deployments/{segment(ident)}") if ident else None,
            raw=dict(deployment),
        )

    def poll(self, result: Result) -> Tuple[Optional[Status], str]:
        resp = self.http.request("GET", f"/deployments/{segment(result.id)}")
        state = (self._object(resp.json(), f"deployment {result.id}")).get("state")
        word = str(state) if state is not None else "unknown"
        return self.read_status(state), word

    def probe(self) -> str:
        if self.config.environment_id is not None:
            resp = self.http.request("GET", f"/environments/{self.config.environment_id}")
            env = self._object(resp.json(), f"environment {self.config.environment_id}")
            return f"authenticated; environment {self.config.environment_id} ({env.get('name')})"
        resp = self.http.request("GET", "/environments", params={"limit": 1})
        data = resp.json()
        total = (data.get("meta") or {}).get("total") if isinstance(data, dict) else None
        return f"authenticated; {total if total is not None else 'some'} environments"

    # -- discover: ids for the config --------------------------------------------
    def discover(self, request: Request) -> Result:
        sources: List[Tuple[str, str, Callable[[Mapping[str, Any]], Tuple[Optional[str], str]]]] = [
            ("environment", "/environments", lambda e: (
                e.get("name"),
                f"repository {e.get('repository_id')}, branch {e.get('branch_name') or '-'}"
                + (f", at {str(e.get('current_version'))[:12]}" if e.get("current_version") else ""))),
            ("repository", "/repositories", lambda r: (
                r.get("title") or r.get("name"), f"{r.get('name') or ''} ({r.get('type') or 'unknown type'})")),
            ("server", "/servers", lambda s: (
                s.get("name"), f"environment {s.get('environment_id')}, {s.get('protocol') or 'unknown protocol'}")),
            ("user", "/users", lambda u: (
                " ".join(p for p in (u.get("first_name"), u.get("last_name")) if p) or u.get("email"),
                str(u.get("email") or "") + (" (admin)" if u.get("is_admin") else ""))),
        ]
        items: List[Dict[str, Any]] = []
        for kind, path, describe in sources:
            # When requests are only shown, each of the four reads is.
            for entry in self.stand_in(request, lambda path=path: list(self._all(path, {})), [], show=True):
                name, detail = describe(entry)
                items.append({"kind": kind, "id": as_id(entry.get("id")), "name": name, "detail": detail,
                              "raw": dict(entry)})
        return self.result(request, items=items)

    # -- paging ----------------------------------------------------------------------
    def _pages(self, path: str, filters: Mapping[str, Any]) -> Iterator[List[Dict[str, Any]]]:
        """Pages of a list endpoint: limit=50, then after=meta.next until it is null."""
        for entries, _ in cursor_pages(self.http, path, PAGE_SIZE, f"DeployBot {path}", filters):
            yield entries

    def _all(self, path: str, filters: Mapping[str, Any]) -> Iterator[Dict[str, Any]]:
        for entries in self._pages(path, filters):
            yield from entries

    @staticmethod
    def _object(data: Any, what: str) -> Dict[str, Any]:
        return expect_object(data, f"DeployBot for {what}")
