"""The `github` target: deployments and their statuses in the GitHub Deployments API.

See docs/targets/github.md. A deployment is created once per (commit, environment,
version, host) and every later report becomes a status on it:

- `deploy` / `deployment start|finish` find the deployment first: one whose payload
  carries this lifecycle's key (an earlier `start`, or a re-run), else the one GitHub
  Actions created for this very run (a job with `environment:`); only when neither
  exists is a deployment created. Then the status is posted, unless the latest status
  already says the same (a re-run adds nothing);
- `deployment update` posts a status to the deployment named by --id, or found as above;
- on a fork pull request the token cannot write: a 403 there is a skip, not a failure.

Reference: https://docs.github.com/en/rest/deployments/deployments and
https://docs.github.com/en/rest/deployments/statuses
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from shipmark.errors import ApiError, UsageError
from shipmark.models import Result
from shipmark.targets.base import Request, Target, TargetConfig, segment
from shipmark.targets.github_api import (API_VERSION, MEDIA_TYPE, STATUS_MAP, GitHubConfig, actions_run_id,
                                         carries_lifecycle_key, created_by_actions, description_for,
                                         environment_of, error_parser, lifecycle_key, list_item, logs_run, payload,
                                         rate_limit_wait, repository_path, shown_state)
from shipmark.targets.paging import link_pages
from shipmark.targets.params import Param
from shipmark.targets.values import as_id, expect_list, expect_object

PER_PAGE = 100
LOOKUP_PAGES = 3  # deployments of one commit and environment: a handful, newest first
MAX_PAGES = 100

# How a deployment was found, as the result says it.
FOUND_OURS = "status added to the deployment recorded earlier for this commit and environment"
FOUND_ACTIONS = "status added to the deployment GitHub Actions created for this run"

Found = Tuple[Dict[str, Any], Optional[str]]  # (deployment, message)


class GitHub(Target):
    type = "github"
    config_model = GitHubConfig
    status_map = STATUS_MAP
    supports_lookup = True
    params = (Param("environment_url", ("deploy", "deployment_update"),
                    hint="the deployed site's address, shown on the deployment"),)
    param_note = "the deployment's fields come from --version, -e, --commit, the target's config and the CI context"

    config: GitHubConfig

    @classmethod
    def http_options(cls, config: TargetConfig) -> Dict[str, Any]:
        return {
            "base_url": config.url or "",
            "headers": {**config.bearer(), "Accept": MEDIA_TYPE,
                        "X-GitHub-Api-Version": API_VERSION},
            "error_parser": error_parser(getattr(config, "repository", None) or ""),
            "throttled": rate_limit_wait,
        }

    def check(self, request: Request) -> None:
        super().check(request)
        repository_path(self.config, request.event)
        if request.operation not in ("deploy", "deployment_update"):
            return
        self.service_status(request.event.status)
        if not request.event.commit and not request.id:
            raise UsageError("github: a deployment needs the commit sha: pass --commit (or run where one is detected)")

    # -- writes --------------------------------------------------------------
    def deploy(self, request: Request) -> Result:
        return self._skip_fork_refusal(request, lambda: self._report(request, create=True))

    def deployment_update(self, request: Request) -> Result:
        return self._skip_fork_refusal(request, lambda: self._report(request, create=False))

    def _report(self, request: Request, *, create: bool) -> Result:
        if request.id:
            found: Optional[Found] = self.stand_in(
                request, lambda: (self._deployment(request, request.id), None), ({"id": request.id}, None))
        else:
            found = self.stand_in(request, lambda: self._existing(request), None if create else ({"id": "ID"}, None),
                                  note="the deployment for this commit and environment is looked up when sent")
        if found is not None:
            return self._add_status(request, *found)
        if not create:
            raise ApiError(f"github: no deployment of {request.event.commit} to {environment_of(request.event)!r} "
                           "was found: record it with `shipmark deployment start` first, or pass --id")

        def send() -> Result:
            deployment, status_code = self._create_deployment(request)
            result = self._post_status(request, deployment, None)
            result.status_code = status_code
            return result

        def lookup() -> Optional[Result]:
            again = self._existing(request)
            return self._add_status(request, *again) if again is not None else None

        # The first check was just made (above); later ones follow a send that may have landed.
        return self.create_once(request, send, lookup, lookup_before=lambda: None)

    def _skip_fork_refusal(self, request: Request, write: Any) -> Result:
        """On a pull request from a fork the job's token is read-only: every write answers 403."""
        try:
            return write()
        except ApiError as exc:
            if exc.status_code != 403 or exc.transient or not request.event.context.is_pr:
                raise
            return self.result(request, ok=True, skipped=True, status_code=403,
                               message="the token may not write deployments here (a pull request from a fork "
                                       "gets a read-only token); nothing was recorded")

    def _create_deployment(self, request: Request) -> Tuple[Dict[str, Any], int]:
        event = request.event
        body: Dict[str, Any] = {
            "ref": event.commit,
            "task": "deploy",
            "environment": environment_of(event),
            "auto_merge": False,
            "required_contexts": list(self.config.required_contexts),
            "payload": payload(self.name, event),
            "description": f"{event.version}" if event.version else None,
            "transient_environment": self.config.transient_environment,
            "production_environment": self.config.production_environment,
        }
        resp = self.http.request("POST", f"{self._repo(request)}/deployments",
                                 json={k: v for k, v in body.items() if v is not None})
        deployment = expect_object(resp.json(), resp.url, status_code=resp.status_code)
        if deployment.get("id") is None:  # 202: GitHub merged the default branch instead (auto_merge)
            raise ApiError(f"github: no deployment was created: {deployment.get('message') or 'no id returned'}",
                           status_code=resp.status_code, url=resp.url)
        return deployment, resp.status_code

    def _add_status(self, request: Request, deployment: Dict[str, Any], message: Optional[str]) -> Result:
        """Post this event's status, unless the deployment's latest status already says it."""
        body = self._status_body(request)

        def already() -> Optional[Result]:
            latest = self._latest_status(request, deployment["id"])
            if latest is None or any(latest.get(k) != v for k, v in body.items() if k != "auto_inactive"):
                return None
            return self.result(request, id=as_id(deployment["id"]), url=deployment.get("url"),
                               remote_status=shown_state(latest), message="already recorded")

        return self.create_once(request, lambda: self._post_status(request, deployment, message), already)

    def _post_status(self, request: Request, deployment: Dict[str, Any], message: Optional[str]) -> Result:
        path = f"{self._repo(request)}/deployments/{segment(deployment['id'])}/statuses"
        resp = self.http.request("POST", path, json=self._status_body(request))
        return self.result(request, id=as_id(deployment.get("id")), url=deployment.get("url"),
                           status_code=resp.status_code, remote_status=request.event.status.value, message=message)

    def _status_body(self, request: Request) -> Dict[str, Any]:
        event = request.event
        environment_url = self.param_values(request).get("environment_url") or self.config.environment_url
        body = {
            "state": self.service_status(event.status),
            "log_url": event.context.build_url,
            "environment_url": environment_url,
            "description": description_for(event.status),
            "auto_inactive": self.config.auto_inactive,
        }
        return {k: v for k, v in body.items() if v is not None}

    # -- finding deployments ---------------------------------------------------
    def _existing(self, request: Request) -> Optional[Found]:
        """This lifecycle's deployment (payload key), else the one GitHub Actions made for this run."""
        event = request.event
        query = urlencode({"sha": event.commit, "environment": environment_of(event), "per_page": PER_PAGE})
        deployments = self._pages(f"{self._repo(request)}/deployments?{query}", LOOKUP_PAGES)
        key = lifecycle_key(self.name, event)
        for deployment in deployments:
            if carries_lifecycle_key(deployment, key):
                return deployment, FOUND_OURS
        run_id = actions_run_id(event)
        if run_id is None:
            return None
        for deployment in deployments:
            if created_by_actions(deployment) and any(logs_run(s, run_id) for s in self._statuses(request, deployment)):
                return deployment, FOUND_ACTIONS
        return None

    def _statuses(self, request: Request, deployment: Dict[str, Any], per_page: int = PER_PAGE) -> List[Dict[str, Any]]:
        path = f"{self._repo(request)}/deployments/{segment(deployment['id'])}/statuses"
        resp = self.http.request("GET", path, params={"per_page": per_page})
        return expect_list(resp.json(), resp.url, "a JSON array of deployment statuses")

    def _latest_status(self, request: Request, deployment_id: Any) -> Optional[Dict[str, Any]]:
        statuses = self._statuses(request, {"id": deployment_id}, per_page=1)  # newest first
        return statuses[0] if statuses else None

    def _deployment(self, request: Request, deployment_id: Any) -> Dict[str, Any]:
        resp = self.http.request("GET", f"{self._repo(request)}/deployments/{segment(deployment_id)}")
        return expect_object(resp.json(), resp.url, status_code=resp.status_code)

    def _pages(self, path: str, max_pages: int, limit: int = 0) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for page, _resp in link_pages(self.http, path, _deployments_in, max_pages):
            found.extend(page)
            if limit and len(found) >= limit:
                break
        return found[:limit] if limit else found

    def _repo(self, request: Request) -> str:
        return repository_path(self.config, request.event)

    # -- reads -------------------------------------------------------------------
    def deployment_list(self, request: Request) -> Result:
        query = {"environment": request.event.environment, "per_page": min(request.limit or PER_PAGE, PER_PAGE)}
        path = f"{self._repo(request)}/deployments?{urlencode({k: v for k, v in query.items() if v})}"
        deployments = [d for d in self._pages(path, MAX_PAGES, request.limit) if d.get("id") is not None]
        # One read per deployment for its latest status (the list does not carry it).
        latest = [self._latest_status(request, d["id"]) for d in deployments]
        return self.result(request, items=[list_item(d, s) for d, s in zip(deployments, latest)])

    def deployment_get(self, request: Request) -> Result:
        deployment = self._deployment(request, request.id)
        latest = self._latest_status(request, deployment.get("id", request.id))
        return self.result(request, id=as_id(deployment.get("id")), url=deployment.get("url"),
                           remote_status=shown_state(latest), raw=dict(deployment, latest_status=latest))

    def probe(self) -> str:
        if self.config.repository:
            owner, name = self.config.repository.split("/")
            data = self.http.request("GET", f"/repos/{segment(owner)}/{segment(name)}").json()
            return f"authenticated; repository {self.config.repository!r} is readable" + (
                "" if not isinstance(data, dict) else f" ({data.get('visibility') or 'visibility unknown'})")
        data = self.http.request("GET", "/rate_limit").json()
        core = ((data or {}).get("resources") or {}).get("core") or {} if isinstance(data, dict) else {}
        return f"authenticated; {core.get('remaining', '?')} API requests left this hour"


def _deployments_in(resp: Any) -> List[Dict[str, Any]]:
    return expect_list(resp.json(), resp.url, "a JSON array of deployments")
