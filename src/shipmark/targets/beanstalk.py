"""The `beanstalk` target: Beanstalk releases (a release = a deployment request).

Beanstalk performs the deployment; shipmark requests it (`deploy`), reads its
state (`deployment get|list`, `--wait`) and retries failed ones. API: JSON under
`{account url}/api/`, a `.json` suffix on every path, bodies wrapped as
`{"release": {...}}`, HTTP Basic with the user name and an access token.
See docs/targets/beanstalk.md.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, List, Optional, Tuple

from pydantic import Field, field_validator

from shipmark.errors import ApiError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets.base import Request, Target, TargetConfig, segment
from shipmark.targets.items import ListItem
from shipmark.targets.paging import numbered_pages
from shipmark.targets.params import BOOL, ID, Param
from shipmark.targets.status import WAITING_PENDING
from shipmark.targets.values import as_id, expect_list, expect_object, iso_time
from shipmark.wording import count

PAGE_SIZE = 50  # the service's maximum per_page
BOOLEAN_PARAMS = ("deploy_from_scratch", "do_not_notify")



class BeanstalkConfig(TargetConfig):
    default_url: ClassVar[Optional[str]] = None
    url_required: ClassVar[bool] = True
    token_required: ClassVar[bool] = True
    token_hint: ClassVar[str] = "a Beanstalk access token (Settings > Access tokens)"

    username: str = Field(min_length=1)
    repository: Optional[str] = None  # numeric id or repository name
    environment_id: Optional[int] = Field(default=None, gt=0)

    @field_validator("repository", mode="before")
    @classmethod
    def _repositoryas_id(cls, value: Any) -> Any:
        # YAML gives `repository: 67` as an int; the API takes the id or the name alike.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("repository")
    @classmethod
    def _repository_shape(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (not value or "/" in value):
            raise ValueError("a repository id (e.g. 67) or name (e.g. web-app), not a path")
        return value

    def secrets(self) -> List[Tuple[str, Optional[str]]]:
        # With the username, so the base64 Basic-auth form is redacted too.
        return [(self.token_value() or "", self.username)]

    def api_root(self) -> str:
        base = (self.url or "").rstrip("/")
        return base if base.endswith("/api") else base + "/api"


def parse_error(status: int, text: str, content_type: str) -> str:
    """`{"errors": ["...", ...]}` joined into one line; anything else the usual way."""
    try:
        data = json.loads(text) if text.strip()[:1] in ("{", "[") else None
    except ValueError:
        data = None
    if isinstance(data, dict) and "errors" in data:
        errors = data["errors"]
        if isinstance(errors, dict):  # Rails' {"field": ["message"]} form
            errors = [f"{field} {msg}" for field, msgs in errors.items()
                      for msg in (msgs if isinstance(msgs, list) else [msgs])]
        if isinstance(errors, str):
            errors = [errors]
        messages = [" ".join(str(e).split()) for e in errors or [] if str(e).strip()]
        if messages:
            return "; ".join(messages)
    stripped = " ".join(text.split())
    if stripped and not stripped.startswith("<") and not stripped.startswith(("{", "[")):
        # Rails answers a failed Basic login with "HTTP Basic: Access denied." labelled text/html.
        return stripped if len(stripped) <= 500 else stripped[:500] + "..."
    from shipmark.http import default_error_message  # http imports requests: only when needed

    return default_error_message(status, text, content_type)


def unwrap(item: Any, name: str) -> Dict[str, Any]:
    """`{"release": {...}}` -> `{...}` (a bare object is accepted as it is)."""
    return expect_object(item, "beanstalk", wrapped_in=name)


def marker(event_key: Optional[str]) -> str:
    return f"[shipmark {event_key}]"


class Beanstalk(Target):
    type = "beanstalk"
    config_model = BeanstalkConfig
    status_map = WAITING_PENDING  # the same state words as DeployBot
    supports_lookup = True
    triggers_deployments = True
    params = (
        Param("deploy_from_scratch", ("deploy",), BOOL),
        Param("do_not_notify", ("deploy",), BOOL),
        Param("environment_id", ("deploy",), ID, hint="see `shipmark targets NAME --discover`"),
        Param("revision", ("deploy",)),  # for Subversion: a revision number instead of the commit
    )
    config: BeanstalkConfig

    def __init__(self, config: TargetConfig, http: Any):
        super().__init__(config, http)
        self._environment_ids: Dict[str, str] = {}  # name -> id, per command

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        assert isinstance(config, BeanstalkConfig)
        return {
            "base_url": config.api_root(),
            # Beanstalk asks for Content-Type (and a User-Agent, set by the client) on every request.
            "headers": {"Content-Type": "application/json"},
            "basic_auth": (config.username, config.token_value() or ""),
            "error_parser": parse_error,
        }

    # -- validation before anything is sent -------------------------------------
    def check(self, request: Request) -> None:
        super().check(request)
        op = request.operation
        if op in ("deploy", "deployment_get", "deployment_retry"):
            self._repository(op)
        if op in ("deployment_get", "deployment_retry") and not request.id:
            raise UsageError(f"beanstalk: {op.replace('_', ' ')} needs --id (a release id)")
        if op != "deploy":
            return
        status = request.event.status
        self.service_status(status)
        if status != Status.SUCCESS:
            raise UnsupportedError(
                f"status {status.value!r}: beanstalk runs the deployment itself, so shipmark can only "
                "request one (--status success); use --wait to follow its state")
        revision = request.params.get("revision") or request.event.commit
        if not revision:
            raise UnsupportedError("beanstalk deploys a revision: no commit was detected; "
                                   "pass --commit SHA (or --param revision=N for Subversion)")
        if not (request.params.get("environment_id") or request.event.environment or self.config.environment_id):
            raise UnsupportedError("beanstalk needs an environment to deploy to: set environment_id on the "
                                   "target, pass -e NAME, or --param environment_id=N")

    def _repository(self, op: str) -> str:
        if not self.config.repository:
            raise UnsupportedError(f"beanstalk: {op.replace('_', ' ')} needs the target's `repository` key "
                                   "(id or name; see `shipmark targets NAME --discover`)")
        return self.config.repository

    # -- deploy: create a release ------------------------------------------------
    def deploy(self, request: Request) -> Result:
        repository = self._repository("deploy")
        environment_id = self._environment_id(request, repository)
        body = {"release": self._release_fields(request)}
        path = f"/{segment(repository)}/releases.json"

        def send() -> Result:
            resp = self.http.request("POST", path, params={"environment_id": environment_id}, json=body)
            release = unwrap(resp.json(), "release")
            return self._release_result(request, release, resp.status_code, repository)

        def lookup() -> Optional[Result]:
            resp = self.http.request("GET", path, params={"per_page": PAGE_SIZE})
            wanted = marker(request.event.event_key)
            for release in self._releases(resp.json()):
                if wanted in str(release.get("comment") or ""):
                    return self._release_result(request, release, resp.status_code, repository)
            return None

        return self.create_once(request, send, lookup if request.event.event_key else None)

    def _release_fields(self, request: Request) -> Dict[str, Any]:
        params = self.param_values(request)
        fields: Dict[str, Any] = {
            "revision": str(params.get("revision") or request.event.commit),
            "comment": self._comment(request),
        }
        fields.update({key: params[key] for key in BOOLEAN_PARAMS if key in params})
        return fields

    def _comment(self, request: Request) -> str:
        """One line for the release notes: version first (read back by `list`), the key, the run URL."""
        event = request.event
        ctx = event.context
        parts = [event.version or (event.commit or "")[:12] or "release"]
        if event.environment:
            parts.append(f"to {event.environment}")
        if event.name:
            parts.append(f"({event.name})")
        if event.host:
            parts.append(f"on {event.host}")
        if event.branch:
            parts.append(f"from {event.branch}")
        if ctx.actor:
            parts.append(f"by {ctx.actor}")
        parts.extend(f"{k}={v}" for k, v in sorted(event.meta.items()))
        parts.append(marker(event.event_key))
        run_url = ctx.build_url or ctx.job_url
        if run_url:
            parts.append(run_url)
        return " ".join(" ".join(str(p).split()) for p in parts if p)

    def _environment_id(self, request: Request, repository: str) -> str:
        """--param environment_id, else -e (id or name), else the target's environment_id."""
        explicit = self.param_values(request).get("environment_id")
        if explicit:
            return str(explicit)
        name = request.event.environment
        if not request.environment_explicit and self.config.environment_id is not None:
            name = None  # only the config's defaults named it: the target's own environment_id wins
        if not name:
            return str(self.config.environment_id)
        if name.isdigit():
            return name
        # When requests are only shown, this lookup is shown too and the POST shows where its answer goes.
        return self.stand_in(request, lambda: self._environment_named(repository, name), f"<id of {name}>",
                             show=True)

    def _environment_named(self, repository: str, name: str) -> str:
        key = name.casefold()
        if key not in self._environment_ids:
            resp = self.http.request("GET", f"/{segment(repository)}/server_environments.json")
            environments = [unwrap(e, "server_environment") for e in self._array(resp.json())]
            matches = [e for e in environments if str(e.get("name", "")).casefold() == key]
            if len(matches) != 1:
                known = ", ".join(f"{e.get('name')} (id {e.get('id')})" for e in environments) or "none"
                raise UsageError(
                    f"beanstalk: no environment named {name!r} in repository {repository} "
                    f"(environments: {known}); pass -e with one of these or --param environment_id=N")
            self._environment_ids[key] = str(matches[0].get("id"))
        return self._environment_ids[key]

    # -- reading releases --------------------------------------------------------
    def deployment_get(self, request: Request) -> Result:
        repository = self._repository("deployment_get")
        resp = self.http.request("GET", self._release_path(repository, request.id))
        release = unwrap(resp.json(), "release")
        result = self._release_result(request, release, resp.status_code, repository)
        item = self._item(release)
        details = [f"version {item.version}" if item.version else None,
                   f"revision {item.commit}" if item.commit else None,
                   f"environment {item.environment}" if item.environment else None,
                   f"created {item.created_at}" if item.created_at else None]
        result.message = ", ".join(d for d in details if d) or None
        result.raw = release
        return result

    def deployment_list(self, request: Request) -> Result:
        repo = self.config.repository
        path = f"/{segment(repo)}/releases.json" if repo else "/releases.json"
        env_filter = request.event.environment
        version_filter = request.event.version
        filtering = bool(env_filter or version_filter)
        per_page = PAGE_SIZE if filtering or request.limit == 0 else min(PAGE_SIZE, request.limit)
        items: List[ListItem] = []
        status_code: Optional[int] = None
        for releases, resp in numbered_pages(self.http, path, per_page, lambda resp: self._releases(resp.json())):
            status_code = resp.status_code
            for release in releases:
                item = self._item(release)
                if env_filter and not _same_environment(release, env_filter):
                    continue
                if version_filter and item.version != version_filter:
                    continue
                items.append(item)
                if request.limit and len(items) >= request.limit:
                    return self.result(request, items=items, status_code=status_code)
        return self.result(request, items=items, status_code=status_code)

    def deployment_retry(self, request: Request) -> Result:
        repository = self._repository("deployment_retry")
        path = f"/{segment(repository)}/releases/{segment(request.id)}/retry.json"
        try:
            resp = self.http.request("PUT", path)
        except ApiError as exc:
            if exc.status_code == 422:
                raise ApiError(f"HTTP 422: release {request.id} not retryable: only failed releases can be "
                               "retried", status_code=422, url=exc.url) from None
            raise
        return self.result(request, id=str(request.id), url=self._release_url(repository, request.id),
                           status_code=resp.status_code, message="retry requested")

    def poll(self, result: Result) -> Tuple[Optional[Status], str]:
        repository = self._repository("--wait")
        resp = self.http.request("GET", self._release_path(repository, result.id))
        word = str(unwrap(resp.json(), "release").get("state") or "unknown")
        return self.read_status(word), word

    # -- lookups for the config and `check --online` ------------------------------
    def discover(self, request: Request) -> Result:
        resp = self.http.request("GET", "/repositories.json")
        items: List[Dict[str, Any]] = []
        for raw in self._array(resp.json()):
            repo = unwrap(raw, "repository")
            detail = " ".join(str(v) for v in (repo.get("title"), repo.get("vcs") or repo.get("type")) if v)
            items.append({"kind": "repository", "id": as_id(repo.get("id")), "name": repo.get("name"),
                          "detail": detail or None, "raw": repo})
        if self.config.repository:
            path = f"/{segment(self.config.repository)}/server_environments.json"
            for raw in self._array(self.http.request("GET", path).json()):
                env = unwrap(raw, "server_environment")
                bits = [f"branch {env['branch_name']}" if env.get("branch_name") else None,
                        "automatic" if env.get("automatic") else None,
                        f"repository {self.config.repository}"]
                items.append({"kind": "environment", "id": as_id(env.get("id")), "name": env.get("name"),
                              "detail": ", ".join(b for b in bits if b), "raw": env})
        return self.result(request, items=items, status_code=resp.status_code)

    def probe(self) -> str:
        repo = self.config.repository
        if repo:
            resp = self.http.request("GET", f"/{segment(repo)}/server_environments.json")
            return f"authenticated; repository {repo} has {count(len(self._array(resp.json())), 'environment')}"
        resp = self.http.request("GET", "/repositories.json")
        return f"authenticated; {count(len(self._array(resp.json())), 'repository')}"

    # -- helpers -----------------------------------------------------------------
    def _release_path(self, repository: str, release_id: Any) -> str:
        return f"/{segment(repository)}/releases/{segment(release_id)}.json"

    def _release_url(self, repository: Any, release_id: Any) -> str:
        return self.http.url(self._release_path(str(repository), release_id))

    def _release_result(self, request: Request, release: Dict[str, Any], status_code: Optional[int],
                        repository: str) -> Result:
        release_id = as_id(release.get("id"))
        return self.result(
            request, id=release_id, status_code=status_code,
            url=self._release_url(repository, release_id) if release_id else None,
            remote_status=self.shown_status(release.get("state")),
        )

    def _item(self, release: Dict[str, Any]) -> ListItem:
        comment = str(release.get("comment") or "")
        # Our own comments start with the version; other releases carry free text.
        version = comment.split()[0] if "[shipmark " in comment and comment.split() else None
        repository = release.get("repository_id") or self.config.repository
        release_id = as_id(release.get("id"))
        return ListItem(
            id=release_id,
            status=self.shown_status(release.get("state")),
            version=version,
            environment=release.get("environment_name"),
            commit=as_id(release.get("revision")),
            created_at=iso_time(release.get("created_at")),
            url=self._release_url(repository, release_id) if repository and release_id else None,
            raw=release,
        )

    def _releases(self, data: Any) -> List[Dict[str, Any]]:
        return [unwrap(item, "release") for item in self._array(data)]

    @staticmethod
    def _array(data: Any) -> List[Dict[str, Any]]:
        return expect_list(data, "beanstalk")


def _same_environment(release: Dict[str, Any], wanted: str) -> bool:
    if wanted.isdigit():
        return as_id(release.get("environment_id")) == wanted
    return str(release.get("environment_name") or "").casefold() == wanted.casefold()

