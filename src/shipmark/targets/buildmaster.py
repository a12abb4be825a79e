"""The `buildmaster` target: releases, builds and build deployments in Inedo BuildMaster.

BuildMaster's Release & Build Deployment API takes key/value parameters and answers with
JSON objects (see docs/targets/buildmaster.md). shipmark
sends writes as POST with a form body (no query string) and reads as GET with a query
string, never both for one request (a key given twice is a 400), and the API key only
in the `X-ApiKey` header.

The model is application -> release (`releaseNumber` = --version) -> build
(`buildNumber` = --build) -> deployments of a build to pipeline stages (-e). The
returned objects carry no variables, so re-runs are made safe by natural keys: a
release by its number, a build by its fixed number, a deployment by build + stage.
Every create also carries `$ShipmarkEventKey` so a record can be traced to its job.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from shipmark.errors import ApiError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets import CliOption
from shipmark.targets.base import Request, Target, TargetConfig
from shipmark.targets.buildmaster_api import (  # noqa: F401  (BuildMasterConfig, parse_date: the module's API)
    BUILDS, CANCEL_RELEASE, CREATE_BUILD, CREATE_FROM_TEMPLATE, CREATE_RELEASE, DEPLOY_BUILD, DEPLOYMENT_STATES,
    DEPLOYMENTS, EVENT_KEY_VARIABLE, PARAMS, REJECT_BUILD, RELEASES, RESTORE_RELEASE, TEMPLATE_GONE_HINT,
    LIVE_DEPLOYMENT_WORDS, NEEDS_RELEASE, ApiUrl, BuildMasterConfig, build_item, deployment_item, deployment_state,
    error_message, first, id_order, objects, one_object, parse_date, release_item, server_root)
from shipmark.targets.items import ListItem
from shipmark.targets.paging import single_page
from shipmark.targets.values import as_id, expect_list
from shipmark.wording import count


class BuildMaster(Target):
    type = "buildmaster"
    config_model = BuildMasterConfig
    status_map = DEPLOYMENT_STATES
    supports_lookup = True
    # BuildMaster runs deployments; `deployment start|finish` cannot report one run elsewhere.
    triggers_deployments = True
    # Its own options on the command line; --template/--pipeline/--force reach it in Request.options.
    cli_options = (
        CliOption("--build", ("deploy",), "BuildMaster: build to deploy (default: the newest of the release).",
                  metavar="NUMBER", field="build"),
        CliOption("--template", ("release create",), "BuildMaster: create from this release template.",
                  metavar="NAME"),
        CliOption("--pipeline", ("release create",), "BuildMaster: pipeline (overrides the target's).",
                  metavar="NAME"),
        CliOption("--force", ("build deploy",), "Deploy even if the stage's requirements are not met.",
                  is_flag=True),
    )
    params = PARAMS

    config: BuildMasterConfig

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        return {
            "base_url": server_root(config.url or ""),
            "headers": {"X-ApiKey": config.token_value() or ""},
            "error_parser": error_message,
        }

    # -- validation before anything is sent ----------------------------------
    def check(self, request: Request) -> None:
        super().check(request)
        operation = request.operation
        for key in request.params:
            if key.lower() == EVENT_KEY_VARIABLE.lower():
                raise UsageError(f"--param {key}: shipmark sets {EVENT_KEY_VARIABLE} itself; choose another name")
        if operation in NEEDS_RELEASE and not request.event.version:
            raise UnsupportedError(
                "buildmaster needs the release number: pass --version (or set SHIPMARK_VERSION)")
        if operation in ("deploy", "build_deploy") and request.event.status != Status.SUCCESS:
            raise UnsupportedError(
                f"status {request.event.status.value!r} cannot be sent to buildmaster: a deploy asks BuildMaster "
                "to run a deployment (status success) and BuildMaster sets its state itself (follow it with --wait)"
            )
        if operation == "release_create":
            template, pipeline = self._release_plan(request)
            if template is None and pipeline is None:
                raise UnsupportedError(
                    "buildmaster release create needs a pipeline: pass --pipeline NAME or set `pipeline` on the "
                    "target (or create from a template with --template NAME / `release_template`)"
                )

    # -- release create: get-or-create ---------------------------------------
    def release_create(self, request: Request) -> Result:
        template, pipeline = self._release_plan(request)
        form = {**self._release_ref(request),
                "releaseName": request.params.get("releaseName") or request.event.name}
        if template is not None:
            path = CREATE_FROM_TEMPLATE
            form["template"] = template
            form["pipelineName"] = pipeline  # optional here: overrides the template's (7.0.22+)
        else:
            path = CREATE_RELEASE
            form["pipelineName"] = pipeline
        form.update(self._variables(request))

        def send() -> Result:
            try:
                resp = self.http.request("POST", path, data=form)
            except ApiError as exc:
                if template is not None and exc.status_code == 404:
                    exc.message = f"{exc.message}; {TEMPLATE_GONE_HINT}"
                raise
            release = one_object(resp.json(), resp.url, "release")
            return self._release_result(request, release, resp.status_code, "created")

        def lookup() -> Optional[Result]:
            releases = self._get(RELEASES, self._release_ref(request))
            if not releases:
                return None
            return self._release_result(request, releases[0], None, "already exists")

        return self.create_once(request, send, lookup)

    def _release_plan(self, request: Request) -> Tuple[Optional[str], Optional[str]]:
        """(template, pipeline): an explicit --template or --pipeline wins over the target's keys."""
        template, pipeline = request.options.get("template"), request.options.get("pipeline")
        if template:
            return template, pipeline
        if pipeline:
            return None, pipeline
        if self.config.release_template:
            return self.config.release_template, None
        return None, self.config.pipeline

    def _release_result(self, request: Request, release: Dict[str, Any], status_code: Optional[int],
                        message: str) -> Result:
        release_id = release.get("id")
        number = first(release, "releaseNumber", "number") or request.event.version
        return self.result(
            request,
            id=as_id(release_id),
            url=self._api_url(RELEASES, "releaseId", release_id),
            status_code=status_code,
            message=f"{message}: release {number} ({release.get('status') or 'active'})",
        )

    # -- release cancel / restore -------------------------------------------
    def release_cancel(self, request: Request) -> Result:
        form = {**self._release_ref(request), "reason": request.reason or request.params.get("reason")}
        return self._release_state_change(request, CANCEL_RELEASE, form, "canceled", "cancelled")

    def release_restore(self, request: Request) -> Result:
        return self._release_state_change(request, RESTORE_RELEASE, self._release_ref(request), "active", "restored")

    def _release_state_change(self, request: Request, path: str, form: Dict[str, Any], wanted: str,
                              done: str) -> Result:
        def send() -> Result:
            resp = self.http.request("POST", path, data=form)
            return self.result(request, status_code=resp.status_code,
                               message=f"{done} release {request.event.version}")

        def lookup() -> Optional[Result]:
            # Already in the wanted state: a re-run is a no-op (the server would answer 400).
            for release in self._get(RELEASES, self._release_ref(request)):
                if str(release.get("status") or "").lower() == wanted:
                    return self._release_result(request, release, None, f"already {done}")
            return None

        return self.create_once(request, send, lookup)

    # -- builds ------------------------------------------------------------
    def build_create(self, request: Request) -> Result:
        form = {**self._release_ref(request), "buildNumber": request.build}
        form.update(self._variables(request))

        def send() -> Result:
            resp = self.http.request("POST", CREATE_BUILD, data=form)
            build = one_object(resp.json(), resp.url, "build")
            return self._build_result(request, build, resp.status_code, "created")

        def lookup() -> Optional[Result]:
            builds = self._get(BUILDS, {**self._release_ref(request), "buildNumber": request.build})
            return self._build_result(request, builds[0], None, "already exists") if builds else None

        # Without a fixed number BuildMaster numbers the build, and nothing we can read
        # tells a re-run's build from a new one: no lookup then (said in the docs).
        return self.create_once(request, send, lookup if request.build else None)

    def _build_result(self, request: Request, build: Dict[str, Any], status_code: Optional[int],
                      message: str) -> Result:
        number = first(build, "buildNumber", "number")
        return self.result(
            request,
            id=as_id(build.get("id")),
            url=self._api_url(BUILDS, "buildId", build.get("id")),
            status_code=status_code,
            message=f"{message}: build {number} of release {request.event.version}",
        )

    def build_list(self, request: Request) -> Result:
        query = {**self.config.application_params(), "releaseNumber": request.event.version,
                 "furthestStage": request.event.environment, **request.params}
        return self._list(request, BUILDS, query, self._items(build_item))

    def _list(self, request: Request, path: str, query: Dict[str, Any],
              item: Callable[[Dict[str, Any]], ListItem]) -> Result:
        """One GET (BuildMaster does not page), newest first, cut to --limit.

        Unlike a deploy's answer, a list's must be an array: an object here is an error, not one row.
        """
        records, _ = next(single_page(self.http, path, query,
                                      lambda resp: expect_list(resp.json(), resp.url, "a JSON array")))
        return self.result(request, items=self._newest(records, request.limit, item))

    def build_reject(self, request: Request) -> Result:
        # Newest build of any status: a re-run then finds it rejected instead of rejecting an older one.
        number, newest = self._build_number(request, include_rejected=True)
        form = {**self._release_ref(request), "buildNumber": number}

        def send() -> Result:
            resp = self.http.request("POST", REJECT_BUILD, data=form)
            build_id = newest.get("id") if newest else None
            return self.result(request, id=as_id(build_id), url=self._api_url(BUILDS, "buildId", build_id),
                               status_code=resp.status_code,
                               message=f"rejected build {number} of release {request.event.version}")

        def lookup() -> Optional[Result]:
            builds = [newest] if newest else self._get(BUILDS, {**self._release_ref(request), "buildNumber": number})
            for build in builds:
                if str(build.get("status") or "").lower() == "rejected":
                    return self._build_result(request, build, None, "already rejected")
            return None

        return self.create_once(request, send, lookup)

    # -- deployments -------------------------------------------------------
    def deploy(self, request: Request) -> Result:
        number, _ = self._build_number(request, include_rejected=False)
        stage = request.event.environment
        form: Dict[str, Any] = {**self._release_ref(request), "buildNumber": number, "toStage": stage}
        if request.options.get("force"):
            form["force"] = True
        form["startTime"] = self.param_values(request).get("startTime")
        form.update(self._variables(request))

        def send() -> Result:
            resp = self.http.request("POST", DEPLOY_BUILD, data=form)
            deployments = objects(resp.json(), resp.url, "deployment")
            if not deployments:
                return self.result(request, status_code=resp.status_code,
                                   message=f"accepted, but BuildMaster returned no deployment for build {number}")
            result = self._deployment_result(request, deployments[0], "deploying")
            result.status_code = resp.status_code
            if len(deployments) > 1:
                others = ", ".join(as_id(d.get("id")) or "?" for d in deployments[1:])
                result.message += f" (also started {'deployments' if len(deployments) > 2 else 'deployment'} {others})"
            return result

        def lookup() -> Optional[Result]:
            query = {**self._release_ref(request), "buildNumber": number, "pipelineStageName": stage}
            for deployment in sorted(self._get(DEPLOYMENTS, query), key=id_order, reverse=True):
                word = str(deployment.get("status") or "").lower()
                if word in LIVE_DEPLOYMENT_WORDS and not deployment.get("canceledOn"):
                    return self._deployment_result(request, deployment, "already deployed")
            return None

        # Without a stage BuildMaster picks the next one, so a re-run would go one stage
        # further: nothing to look up then (said in the docs).
        return self.create_once(request, send, lookup if stage else None)

    build_deploy = deploy

    def _deployment_result(self, request: Request, deployment: Dict[str, Any], message: str) -> Result:
        status, word = deployment_state(deployment)
        stage = deployment.get("pipelineStageName") or request.event.environment or "the next stage"
        number = first(deployment, "buildNumber") or request.build
        return self.result(
            request,
            id=as_id(deployment.get("id")),
            url=self._api_url(DEPLOYMENTS, "deploymentId", deployment.get("id")),
            remote_status=status.value if status else word,
            message=f"{message}: build {number} to {stage} ({word})",
        )

    def deployment_get(self, request: Request) -> Result:
        deployment = self._one_deployment(request.id or "")
        result = self._deployment_result(request, deployment, "deployment")
        result.raw = deployment
        return result

    def deployment_list(self, request: Request) -> Result:
        query = {**self.config.application_params(), "releaseNumber": request.event.version,
                 "buildNumber": request.build, "pipelineStageName": request.event.environment, **request.params}
        return self._list(request, DEPLOYMENTS, query, self._items(deployment_item))

    def poll(self, result: Result) -> Tuple[Optional[Status], str]:
        if not result.id:
            raise ApiError("no deployment id to wait for: BuildMaster returned no deployment")
        deployment = self._one_deployment(result.id)
        status, word = deployment_state(deployment)
        if word == "warned" and "warn" not in (result.message or ""):
            result.message = (result.message + "; " if result.message else "") + "finished with warnings (warned)"
        return status, word

    def _one_deployment(self, deployment_id: str) -> Dict[str, Any]:
        """One deployment by id. Not found is an error naming the id."""
        deployments = self._get(DEPLOYMENTS, {"deploymentId": deployment_id})
        for deployment in deployments:  # match the id: a server ignoring the filter returns them all
            if as_id(deployment.get("id")) == str(deployment_id):
                return deployment
        raise ApiError(f"BuildMaster has no deployment {deployment_id}: check the id "
                       "(`shipmark deployment list` shows them)")

    # -- releases ----------------------------------------------------------
    def release_list(self, request: Request) -> Result:
        query = {**self.config.application_params(), "releaseNumber": request.event.version, **request.params}
        return self._list(request, RELEASES, query, self._items(release_item))

    def probe(self) -> str:
        releases = self._get(RELEASES, self.config.application_params())
        return f"authenticated; application {self.config.application!r}: {count(len(releases), 'release')}"

    def discover(self, request: Request) -> Result:
        """The applications and pipelines the key can see (values for `application` and `pipeline`)."""
        releases = self._get(RELEASES, None)
        applications: Dict[str, Dict[str, Any]] = {}
        pipelines: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for release in releases:
            app_name = str(release.get("applicationName") or "")
            app = applications.setdefault(app_name, {
                "kind": "application", "id": as_id(release.get("applicationId")), "name": app_name, "count": 0})
            app["count"] += 1
            pipeline = release.get("pipelineName")
            if pipeline:
                pipelines.setdefault((app_name, str(pipeline)), {
                    "kind": "pipeline", "id": None, "name": str(pipeline), "detail": f"application {app_name}"})
        items = [{"kind": a["kind"], "id": a["id"], "name": a["name"], "detail": count(a['count'], 'release')}
                 for a in applications.values()]
        items.extend(pipelines.values())
        return self.result(request, items=items)

    # -- shared pieces -----------------------------------------------------
    def _release_ref(self, request: Request) -> Dict[str, Any]:
        """The identification rule: application plus releaseNumber."""
        return {**self.config.application_params(), "releaseNumber": request.event.version}

    def _variables(self, request: Request) -> Dict[str, str]:
        variables = {k: v for k, v in request.params.items() if k.startswith("$")}
        if request.event.event_key:
            variables[EVENT_KEY_VARIABLE] = request.event.event_key
        return variables

    def _build_number(self, request: Request,
                      include_rejected: bool) -> Tuple[Optional[str], Optional[Dict[str, Any]]]:
        """--build, else the newest build of the release (and that build's object)."""
        if request.build:
            return request.build, None
        return self.stand_in(request, lambda: self._newest_build(request, include_rejected), (None, None),
                             note="buildNumber is looked up when sent: the newest build of release "
                                  f"{request.event.version}")

    def _newest_build(self, request: Request, include_rejected: bool) -> Tuple[Optional[str], Dict[str, Any]]:
        builds = self._get(BUILDS, self._release_ref(request))
        candidates = [b for b in builds
                      if include_rejected or str(b.get("status") or "").lower() != "rejected"]
        if not candidates:
            which = "no build" if include_rejected else "no active or deployed build"
            raise ApiError(f"release {request.event.version} of application {self.config.application!r} has "
                           f"{which}: create one with `shipmark build create` or name it with --build")
        newest = max(candidates, key=id_order)
        return first(newest, "buildNumber", "number"), newest

    def _get(self, path: str, query: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """BuildMaster does not page: one GET returns every match."""
        records, _ = next(single_page(self.http, path, query, lambda resp: objects(resp.json(), resp.url, "array")))
        return records

    def _newest(self, records: List[Dict[str, Any]], limit: int,
                item: Callable[[Dict[str, Any]], ListItem]) -> List[ListItem]:
        # No paging: the server returns everything; --limit keeps the newest (highest ids).
        ordered = sorted(records, key=id_order, reverse=True)
        if limit:
            ordered = ordered[:limit]
        return [item(record) for record in ordered]

    def _items(self, item: Callable[[Dict[str, Any], ApiUrl], ListItem]) -> Callable[[Dict[str, Any]], ListItem]:
        """A list-item builder bound to this target's API address."""
        return lambda record: item(record, self._api_url)

    def _api_url(self, path: str, key: str, value: Any) -> Optional[str]:
        """The API address that reads one object back (BuildMaster's UI addresses are not documented)."""
        if value is None:
            return None
        return f"{self.http.url(path)}?{urlencode({key: value})}"
