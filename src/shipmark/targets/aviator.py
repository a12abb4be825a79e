"""Aviator Releases: release candidates and per-environment deployment status.

Model: release project -> release -> release candidate (RC) -> deployments of an
RC to an environment. ``release create`` creates an RC at a commit; ``deploy``
reports a deployment's status with PATCH (idempotent, no Aviator workflow run),
or, with ``--param trigger_workflow=true``, asks Aviator to run the
environment's deploy workflow (POST). The API has no free-form field on any
record, so there is no event-key lookup: re-runs are safe for PATCH (same
request, same state) and reported by the server's error for RC creation.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar, Dict, Iterator, List, Optional, Tuple

from pydantic import Field, field_validator

from shipmark.errors import ApiError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets.base import Request, Target, TargetConfig, segment
from shipmark.targets.items import ListItem
from shipmark.targets.paging import numbered_pages
from shipmark.targets.params import BOOL, Param
from shipmark.targets.status import StatusMap
from shipmark.targets.values import as_id, expect_list

# "release-version-rcX" (API reference) or "<release>.rcN" (terminology page).
RC_VERSION = re.compile(r"[-.]rc[0-9]+\Z")
FULL_SHA = re.compile(r"[0-9a-f]{40}\Z")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")
PER_PAGE = 100  # the API's maximum
PROBE_ENVIRONMENT = "shipmark-probe"




class AviatorConfig(TargetConfig):
    default_url: ClassVar[Optional[str]] = "https://api.aviator.co"
    url_required: ClassVar[bool] = False
    token_required: ClassVar[bool] = True  # every Aviator endpoint needs a Bearer token
    token_hint: ClassVar[str] = "an Aviator API token (e.g. token: ${AVIATOR_TOKEN})"

    project: str = Field(min_length=1)  # release project name, case sensitive
    repository: Optional[str] = None  # owner/name; needed by `release create`

    @field_validator("repository")
    @classmethod
    def _owner_name(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not REPOSITORY.match(value):
            raise ValueError(f"expected owner/name (e.g. acme/web), got {value!r}")
        return value


class Aviator(Target):
    type = "aviator"
    config_model = AviatorConfig
    # Read back, Aviator also answers error, canceling and cancelled (its states grew over
    # time; a word not listed here stays unmapped).
    status_map = StatusMap({
        Status.QUEUED: "pending",
        Status.IN_PROGRESS: "in_progress",
        Status.SUCCESS: "success",
        Status.FAILURE: "failure",
        Status.CANCELLED: "canceled",
        Status.SKIPPED: None,
    }, also_read={"error": Status.FAILURE, "canceling": Status.IN_PROGRESS, "cancelled": Status.CANCELLED})
    supports_lookup = False
    params = (
        Param("trigger_workflow", ("deploy",), BOOL),
        Param("trigger_build_workflow", ("release_create",), BOOL),
    )

    config: AviatorConfig

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        return {
            "base_url": config.url or AviatorConfig.default_url,
            "headers": {**config.bearer(), "Content-Type": "application/json"},
            "retry_methods": ["PATCH"],  # PATCH sets a state: sending it twice changes nothing
        }

    # -- validation before anything is sent -----------------------------------
    def check(self, request: Request) -> None:
        super().check(request)
        op = request.operation
        if op in ("deploy", "deployment_update", "deployment_list"):
            self._environment(request)
        if op in ("deploy", "deployment_update", "release_create"):
            self._rc_version(request)
        if op in ("deploy", "deployment_update") and not self._triggers_workflow(request):
            self.service_status(request.event.status)
        if op == "deploy" and self._triggers_workflow(request) and request.event.status in (
                Status.FAILURE, Status.CANCELLED, Status.SKIPPED):
            raise UsageError(f"--param trigger_workflow=true starts an Aviator deployment; it cannot "
                             f"record --status {request.event.status.value} (drop the param)")
        if op == "release_create":
            self._repository()
            self._full_commit(request)

    def _environment(self, request: Request) -> str:
        env = request.event.environment
        if not env:
            raise UnsupportedError("Aviator needs the environment: pass -e NAME "
                                   "(an environment of the release project, case sensitive)")
        return env

    def _rc_version(self, request: Request) -> str:
        version = request.event.version
        if not version:
            raise UnsupportedError("Aviator needs the release candidate version: pass --version "
                                   "(e.g. 1.4.0-rc1)")
        if not RC_VERSION.search(version):
            raise UnsupportedError(f"--version {version!r} is not an Aviator release candidate version: "
                                   "it must end in -rc<N> or .rc<N> (e.g. --version 1.4.0-rc1)")
        return version

    def _repository(self) -> str:
        if not self.config.repository:
            raise UnsupportedError("Aviator release create needs the target's repository key "
                                   "(owner/name, e.g. repository: acme/web) in the config")
        return self.config.repository

    def _full_commit(self, request: Request) -> str:
        commit = (request.event.commit or "").lower()
        if not FULL_SHA.match(commit):
            shown = f"got {request.event.commit!r}" if request.event.commit else "no commit was detected"
            raise UnsupportedError(f"Aviator release create needs the full 40-character commit sha "
                                   f"({shown}): pass --commit with the full sha")
        return commit

    def _triggers_workflow(self, request: Request) -> bool:
        return bool(self.param_values(request).get("trigger_workflow"))

    # -- paths -------------------------------------------------------------
    def _deployments_path(self, environment: str) -> str:
        return (f"/api/releases/{segment(self.config.project)}/environments/"
                f"{segment(environment)}/deployments")

    def _release_path(self, version: str) -> str:
        return f"/api/releases/{segment(self.config.project)}/releases/{segment(version)}"

    # -- operations ----------------------------------------------------------
    def release_create(self, request: Request) -> Result:
        version = self._rc_version(request)
        path = self._release_path(version)
        body = {
            "repo": self._repository(),
            "commit": self._full_commit(request),
            "trigger_build_workflow": self.param_values(request).get("trigger_build_workflow", False),
        }

        def send() -> Result:
            try:
                resp = self.http.request("POST", path, json=body)
            except ApiError as exc:
                if exc.status_code in (400, 409, 422) and "exist" in exc.message.lower():
                    exc.message += (f" (release candidate {version} may come from an earlier run of this job; "
                                    "Aviator offers no lookup to confirm it)")
                raise
            return self.result(request, id=version, url=self.http.url(path), status_code=resp.status_code)

        # No lookup: Aviator keeps no free-form data on a release candidate.
        return self.create_once(request, send, lookup=None)

    def deploy(self, request: Request) -> Result:
        if self._triggers_workflow(request):
            return self._trigger_deployment(request)
        return self._set_status(request)

    def deployment_update(self, request: Request) -> Result:
        # Aviator keys a deployment by environment + RC version; --id is not needed.
        return self._set_status(request)

    def _set_status(self, request: Request) -> Result:
        environment = self._environment(request)
        version = self._rc_version(request)
        word = self.service_status(request.event.status)
        path = self._deployments_path(environment)
        try:
            resp = self.http.request("PATCH", path, json={"release_candidate_version": version, "status": word})
        except ApiError as exc:
            if exc.status_code == 400 and word == "success" and "status" in exc.message.lower():
                exc.message += " (older Aviator servers do not accept status 'success')"
            raise
        return self._deployment_result(request, environment, version, resp.status_code,
                                       remote_status=request.event.status.value)

    def _trigger_deployment(self, request: Request) -> Result:
        environment = self._environment(request)
        version = self._rc_version(request)
        path = self._deployments_path(environment)

        def send() -> Result:
            resp = self.http.request("POST", path, json={"release_candidate_version": version})
            return self._deployment_result(request, environment, version, resp.status_code,
                                           message="Aviator deploy workflow started")

        # No lookup: a deployment carries no free-form data, and a re-run may mean "deploy again".
        return self.create_once(request, send, lookup=None)

    def _deployment_result(self, request: Request, environment: str, version: str, status_code: Optional[int],
                           **fields: Any) -> Result:
        # Aviator names a deployment by RC and environment; its numeric id is not returned.
        url = self.http.url(self._deployments_path(environment))
        result = self.result(request, id=f"{version}@{environment}", url=url, status_code=status_code, **fields)
        result.raw = {"environment": environment, "release_candidate_version": version}  # what poll() reads
        return result

    def deployment_list(self, request: Request) -> Result:
        environment = self._environment(request)
        wanted = request.event.version
        items: List[ListItem] = []
        for batch, _ in self._deployment_pages(environment):
            for deployment in batch:
                if wanted and wanted not in (deployment.get("release_candidate_version"),
                                             deployment.get("release_version")):
                    continue
                items.append(self._item(deployment, environment))
                if request.limit and len(items) >= request.limit:
                    return self.result(request, items=items)
        return self.result(request, items=items)

    def _deployment_pages(self, environment: str) -> Iterator[Tuple[List[Dict[str, Any]], Any]]:
        return numbered_pages(self.http, self._deployments_path(environment), PER_PAGE, _deployments_in)

    def _item(self, deployment: Dict[str, Any], environment: str) -> ListItem:
        word = deployment.get("status")
        return ListItem(
            id=as_id(deployment.get("id")),
            status=self.shown_status(word),
            version=deployment.get("release_candidate_version") or deployment.get("release_version"),
            environment=deployment.get("environment_name") or environment,
            commit=deployment.get("commit") or deployment.get("commit_sha"),
            created_at=deployment.get("deploy_start_at") or deployment.get("created_at"),
            url=None,
            raw=deployment,
        )

    # -- hooks ---------------------------------------------------------------
    def poll(self, result: Result) -> Tuple[Optional[Status], str]:
        """The newest deployment of the RC in the first page of the environment's list."""
        where = result.raw if isinstance(result.raw, dict) else {}
        environment = where.get("environment")
        version = where.get("release_candidate_version")
        if not (environment and version):
            version, _, environment = (result.id or "").partition("@")
        if not (environment and version):
            return None, "unknown deployment"
        batch, _ = next(self._deployment_pages(environment))
        for deployment in batch:
            if deployment.get("release_candidate_version") == version:
                word = str(deployment.get("status") or "unknown")
                return self.read_status(word), word
        return None, "not listed yet"

    def probe(self) -> str:
        """One authenticated GET. Aviator has no environment-free read, so ask for an
        environment that should not exist: 404 "Release environment not found" proves
        the token and the project; 401/403 and "project not found" are errors."""
        resp = self.http.request("GET", self._deployments_path(PROBE_ENVIRONMENT),
                                 params={"per_page": 1}, ok=(404,))
        if resp.status_code != 404:
            return f"authenticated; project {self.config.project!r} found"
        from shipmark.http import default_error_message  # lazy: shipmark.http imports requests

        message = default_error_message(404, resp.text, resp.headers.get("Content-Type", ""))
        if "environment" in message.lower():
            return f"authenticated; project {self.config.project!r} found"
        raise ApiError(f"HTTP 404 (not found): {message} (project {self.config.project!r}; names are "
                       "case sensitive)", status_code=404)


def _deployments_in(resp: Any) -> List[Dict[str, Any]]:
    # An envelope is tolerated, should the API grow one.
    return expect_list(resp.json(), f"Aviator (HTTP {resp.status_code})", "a JSON array of deployments",
                       envelopes=("deployments", "data", "results"), status_code=resp.status_code)
