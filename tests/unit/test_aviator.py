"""Aviator Releases backend: exact requests, errors, statuses, config, paging, dry-run."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

import pytest
import responses
from responses import matchers

from shipmark.config import load_settings
from shipmark.errors import ApiError, ConfigError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from tests.conftest import CANARY, SHA, assert_no_canary, json_body, make_request, make_target

BASE = "https://api.aviator.co"
DEPLOYMENTS = f"{BASE}/api/releases/web/environments/production/deployments"
RELEASE = f"{BASE}/api/releases/web/releases/1.4.0-rc1"
RC = "1.4.0-rc1"


class StrictMock(responses.RequestsMock):
    """Every registered response must be used; the calls stay readable after the with-block."""

    def __init__(self) -> None:
        super().__init__(assert_all_requests_are_fired=True)
        self._kept: Optional[List[Any]] = None

    @property
    def calls(self) -> Any:
        return self._kept if self._kept is not None else super().calls

    def __exit__(self, *exc: Any) -> None:
        self._kept = list(super().calls)
        super().__exit__(*exc)


def aviator(**config: Any):
    config.setdefault("token", CANARY)
    config.setdefault("project", "web")
    config.setdefault("repository", "acme/web")
    return make_target("aviator", **config)


def run(target, request):
    """What deliver does: check, then the operation."""
    target.check(request)
    return getattr(target, request.operation)(request)


def assert_common_headers(call) -> None:
    headers = call.request.headers
    assert headers["Authorization"] == f"Bearer {CANARY}"
    assert headers["User-Agent"].startswith("shipmark/")
    assert headers["Content-Type"] == "application/json"


def assert_api_error(message: str, status: int, text: str) -> None:
    """The core's "HTTP <code> (<hint>): <server text>", with Aviator's {"error"} text exactly."""
    assert re.fullmatch(rf"HTTP {status} \([^()]+\): {re.escape(text)}", message), message


def deployment(i: int, status: str = "success", version: str = RC) -> Dict[str, Any]:
    return {"id": i, "status": status, "actor": "octo", "environment_name": "production",
            "release_version": version.rsplit("-rc", 1)[0], "release_candidate_version": version,
            "deploy_start_at": f"2024-05-01T12:{i % 60:02d}:00Z", "deploy_end_at": None, "error_message": None}


# -- release create ---------------------------------------------------------------

def test_release_create_posts_the_rc_with_repo_and_full_commit():
    target = aviator()
    with StrictMock() as mock:
        mock.post(RELEASE, status=201, body="")
        result = run(target, make_request("release_create", version=RC, status=Status.SUCCESS))
    call = mock.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == RELEASE
    assert_common_headers(call)
    assert json_body(call) == {"repo": "acme/web", "commit": SHA, "trigger_build_workflow": False}
    assert result.ok and result.id == RC and result.url == RELEASE and result.status_code == 201
    assert result.event_key and result.target == "t" and result.type == "aviator"


def test_release_create_can_trigger_the_build_workflow():
    target = aviator()
    with StrictMock() as mock:
        mock.post(RELEASE, status=201)
        run(target, make_request("release_create", version=RC, params={"trigger_build_workflow": "true"}))
    assert json_body(mock.calls[0])["trigger_build_workflow"] is True


def test_release_create_accepts_the_dot_rc_form_and_encodes_path_segments():
    target = aviator(project="Web App")
    url = f"{BASE}/api/releases/Web%20App/releases/2024.06.20.rc1"
    with StrictMock() as mock:
        mock.post(url, status=201)
        result = run(target, make_request("release_create", version="2024.06.20.rc1"))
    assert mock.calls[0].request.url == url
    assert result.id == "2024.06.20.rc1"


@pytest.mark.parametrize("status,error", [
    (400, "Invalid release candidate version"),
    (400, "Invalid commit hash"),
    (404, "GitHub repository not found"),
])
def test_release_create_shows_the_servers_error(status, error):
    target = aviator()
    with StrictMock() as mock:
        mock.post(RELEASE, status=status, json={"error": error})
        with pytest.raises(ApiError) as info:
            run(target, make_request("release_create", version=RC))
    assert_api_error(info.value.message, status, error)
    assert not info.value.transient
    assert len(mock.calls) == 1


def test_release_create_rerun_shows_the_error_and_says_there_is_no_lookup():
    # Aviator keeps no free-form data on an RC: a re-run cannot be recognised, only explained.
    target = aviator()
    assert target.supports_lookup is False
    with StrictMock() as mock:
        mock.post(RELEASE, status=400, json={"error": "Release candidate already exists"})
        with pytest.raises(ApiError) as info:
            run(target, make_request("release_create", version=RC))
    assert_api_error(info.value.message, 400, "Release candidate already exists (release candidate 1.4.0-rc1 "
                     "may come from an earlier run of this job; Aviator offers no lookup to confirm it)")
    assert [c.request.method for c in mock.calls] == ["POST"]  # no lookup GET


def test_release_create_is_not_resent_after_a_5xx():
    target = aviator()
    with StrictMock() as mock:
        mock.post(RELEASE, status=502, json={"error": "bad gateway"})
        with pytest.raises(ApiError) as info:
            run(target, make_request("release_create", version=RC))
    assert len(mock.calls) == 1
    assert info.value.transient and info.value.may_have_landed
    assert "not re-sent" in info.value.message and "aviator offers no way to check" in info.value.message


def test_release_create_needs_repository_full_commit_and_rc_version():
    with StrictMock():  # nothing may be sent
        with pytest.raises(UnsupportedError, match=r"repository key \(owner/name"):
            run(aviator(repository=None), make_request("release_create", version=RC))
        with pytest.raises(UnsupportedError, match="full 40-character commit sha .got '5d1c0a7'."):
            run(aviator(), make_request("release_create", version=RC, commit="5d1c0a7"))
        with pytest.raises(UnsupportedError, match="no commit was detected"):
            run(aviator(), make_request("release_create", version=RC, commit=None))
        with pytest.raises(UnsupportedError, match=r"'v1.4.0' is not an Aviator release candidate version: "
                                                   r"it must end in -rc<N> or .rc<N>"):
            run(aviator(), make_request("release_create", version="v1.4.0"))
        with pytest.raises(UnsupportedError, match="needs the release candidate version: pass --version"):
            run(aviator(), make_request("release_create", version=None))


# -- deploy / deployment update (PATCH) -------------------------------------------------

@pytest.mark.parametrize("status,word", [
    (Status.QUEUED, "pending"),
    (Status.IN_PROGRESS, "in_progress"),
    (Status.SUCCESS, "success"),
    (Status.FAILURE, "failure"),
    (Status.CANCELLED, "canceled"),
])
def test_deploy_patches_the_mapped_status(status, word):
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=200, body="")
        result = run(target, make_request("deploy", version=RC, status=status))
    call = mock.calls[0]
    assert call.request.method == "PATCH" and call.request.url == DEPLOYMENTS
    assert_common_headers(call)
    assert json_body(call) == {"release_candidate_version": RC, "status": word}
    assert result.ok and result.status_code == 200
    assert result.id == f"{RC}@production" and result.url == DEPLOYMENTS
    assert result.remote_status == status.value


def test_skipped_is_not_representable_and_nothing_is_sent():
    target = aviator()
    assert target.status_map[Status.SKIPPED] is None
    with StrictMock() as mock:
        with pytest.raises(UnsupportedError, match="status 'skipped' cannot be represented by aviator"):
            run(target, make_request("deploy", version=RC, status=Status.SKIPPED))
        with pytest.raises(UnsupportedError, match="'skipped'"):
            run(target, make_request("deployment_update", version=RC, status=Status.SKIPPED))
    assert len(mock.calls) == 0


def test_deployment_update_patches_and_ignores_id():
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=200, match=[matchers.json_params_matcher(
            {"release_candidate_version": RC, "status": "failure"})])
        result = run(target, make_request("deployment_update", version=RC, status=Status.FAILURE, id="42"))
    assert_common_headers(mock.calls[0])
    assert result.ok and result.operation == "deployment_update"


def test_patch_is_retried_on_5xx_because_it_is_idempotent():
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=503, json={"error": "unavailable"})
        mock.patch(DEPLOYMENTS, status=200)
        result = run(target, make_request("deploy", version=RC))
    assert [c.request.method for c in mock.calls] == ["PATCH", "PATCH"]
    assert result.ok


@pytest.mark.parametrize("status,error", [
    (400, "Invalid release candidate version"),
    (404, "Release environment not found"),
    (404, "Release not found"),
])
def test_deploy_shows_the_servers_error(status, error):
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=status, json={"error": error})
        with pytest.raises(ApiError) as info:
            run(target, make_request("deploy", version=RC))
    assert info.value.message.endswith(f": {error}")
    assert info.value.status_code == status


def test_older_server_rejecting_success_gets_a_hint():
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=400, json={"error": "Invalid status"})
        with pytest.raises(ApiError) as info:
            run(target, make_request("deploy", version=RC))
    assert_api_error(info.value.message, 400, "Invalid status (older Aviator servers do not accept status 'success')")


def test_auth_errors_and_html_bodies_are_readable():
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=401, json={"error": "Invalid API token"})
        mock.patch(DEPLOYMENTS, status=403, body="<html><body>Forbidden</body></html>",
                   content_type="text/html")
        with pytest.raises(ApiError) as first:
            run(target, make_request("deploy", version=RC))
        with pytest.raises(ApiError) as second:
            run(target, make_request("deploy", version=RC))
    assert_api_error(first.value.message, 401, "Invalid API token")
    assert "check the token" in first.value.message
    assert_api_error(second.value.message, 403, "the server sent an HTML error page")
    assert len(mock.calls) == 2  # 401/403 are never retried
    assert_no_canary(first.value.message, second.value.message)


def test_deploy_needs_environment_and_rc_version():
    with StrictMock():
        with pytest.raises(UnsupportedError, match="Aviator needs the environment: pass -e NAME"):
            run(aviator(), make_request("deploy", version=RC, environment=None))
        with pytest.raises(UnsupportedError, match="it must end in -rc<N> or .rc<N>"):
            run(aviator(), make_request("deploy", version="1.4.0-rc"))
        with pytest.raises(UnsupportedError, match="it must end in -rc<N> or .rc<N>"):
            run(aviator(), make_request("deployment_update", version="5d1c0a7"))


def test_unknown_and_malformed_params_are_usage_errors():
    with StrictMock():
        with pytest.raises(UsageError) as info:
            run(aviator(), make_request("deploy", version=RC, params={"force": "true"}))
        assert str(info.value) == "--param force: unknown for aviator deploy (valid: trigger_workflow)"
        with pytest.raises(UsageError, match=r"for aviator release create \(valid: trigger_build_workflow\)"):
            run(aviator(), make_request("release_create", version=RC, params={"trigger_workflow": "true"}))
        with pytest.raises(UsageError, match=r"for aviator deployment update \(valid: none\)"):
            run(aviator(), make_request("deployment_update", version=RC, params={"trigger_workflow": "true"}))
        with pytest.raises(UsageError, match="--param trigger_workflow='maybe': expected true or false"):
            run(aviator(), make_request("deploy", version=RC, params={"trigger_workflow": "maybe"}))
        with pytest.raises(UsageError, match="cannot record --status failure"):
            run(aviator(), make_request("deploy", version=RC, status=Status.FAILURE,
                                        params={"trigger_workflow": "true"}))


# -- deploy with trigger_workflow (POST) -------------------------------------------------

def test_trigger_workflow_posts_a_deployment():
    target = aviator()
    with StrictMock() as mock:
        mock.post(DEPLOYMENTS, status=201, body="")
        result = run(target, make_request("deploy", version=RC, params={"trigger_workflow": "true"}))
    call = mock.calls[0]
    assert call.request.method == "POST" and call.request.url == DEPLOYMENTS
    assert_common_headers(call)
    assert json_body(call) == {"release_candidate_version": RC}
    assert result.ok and result.status_code == 201 and result.id == f"{RC}@production"
    assert result.message == "Aviator deploy workflow started"


def test_trigger_workflow_false_still_patches():
    target = aviator()
    with StrictMock() as mock:
        mock.patch(DEPLOYMENTS, status=200)
        run(target, make_request("deploy", version=RC, params={"trigger_workflow": "false"}))
    assert mock.calls[0].request.method == "PATCH"


def test_trigger_workflow_is_not_resent_after_it_may_have_landed():
    target = aviator()
    with StrictMock() as mock:
        mock.post(DEPLOYMENTS, status=500, json={"error": "internal"})
        with pytest.raises(ApiError) as info:
            run(target, make_request("deploy", version=RC, params={"trigger_workflow": "true"}))
    assert len(mock.calls) == 1
    assert re.match(r"HTTP 500 \([^()]+\): internal \(not re-sent", info.value.message), info.value.message


@pytest.mark.parametrize("status,error", [
    (404, "Release environment not found"),
    (404, "Release not found"),
    (400, "Invalid release candidate version"),
])
def test_trigger_workflow_errors(status, error):
    target = aviator()
    with StrictMock() as mock:
        mock.post(DEPLOYMENTS, status=status, json={"error": error})
        with pytest.raises(ApiError, match=error):
            run(target, make_request("deploy", version=RC, params={"trigger_workflow": "true"}))


# -- deployment list -------------------------------------------------------------------

def _page_matcher(page: int):
    return [matchers.query_param_matcher({"page": str(page), "per_page": "100"})]


def test_list_follows_pages_until_a_short_page():
    target = aviator()
    first = [deployment(i) for i in range(200, 100, -1)]
    second = [deployment(i, "canceling") for i in range(100, 97, -1)]
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=first, match=_page_matcher(1))
        mock.get(DEPLOYMENTS, json=second, match=_page_matcher(2))
        result = run(target, make_request("deployment_list", version=None, limit=0))
    assert [c.request.url for c in mock.calls] == [
        f"{DEPLOYMENTS}?page=1&per_page=100", f"{DEPLOYMENTS}?page=2&per_page=100"]
    for call in mock.calls:
        assert_common_headers(call)
    assert len(result.items) == 103
    assert result.items[0] == {
        "id": "200", "status": "success", "version": RC, "environment": "production", "commit": None,
        "created_at": "2024-05-01T12:20:00Z", "url": None, "raw": first[0]}
    assert result.items[-1]["status"] == "in_progress" and result.items[-1]["id"] == "98"


def test_list_stops_at_the_limit():
    target = aviator()
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=[deployment(i) for i in range(100)], match=_page_matcher(1))
        mock.get(DEPLOYMENTS, json=[deployment(i) for i in range(100, 200)], match=_page_matcher(2))
        result = run(target, make_request("deployment_list", version=None, limit=150))
    assert len(mock.calls) == 2 and len(result.items) == 150
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=[deployment(i) for i in range(100)], match=_page_matcher(1))
        result = run(target, make_request("deployment_list", version=None, limit=5))
    assert len(mock.calls) == 1 and [i["id"] for i in result.items] == ["0", "1", "2", "3", "4"]


def test_list_filters_by_version_and_reads_every_status():
    target = aviator()
    words = ["pending", "in_progress", "success", "failure", "canceling", "canceled", "error", "unknown", "new"]
    body = [deployment(i, word) for i, word in enumerate(words)] + [deployment(50, "success", "9.9.9-rc1")]
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=body, match=_page_matcher(1))
        result = run(target, make_request("deployment_list", version=RC))
    assert [i["status"] for i in result.items] == [
        "queued", "in_progress", "success", "failure", "in_progress", "cancelled", "failure", "unknown", "new"]
    assert all(i["version"] == RC for i in result.items)


def test_list_needs_an_environment_and_rejects_odd_bodies():
    with StrictMock():
        with pytest.raises(UnsupportedError, match="pass -e NAME"):
            run(aviator(), make_request("deployment_list", environment=None))
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json={"unexpected": True})
        with pytest.raises(ApiError, match="expected a JSON array of deployments"):
            run(aviator(), make_request("deployment_list", version=None))
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, status=404, json={"error": "Release project not found"})
        with pytest.raises(ApiError) as info:
            run(aviator(), make_request("deployment_list", version=None))
    assert_api_error(info.value.message, 404, "Release project not found")


# -- poll (--wait) and probe (check --online) ------------------------------------------------

def _deployed(target) -> Result:
    with StrictMock() as mock:
        mock.post(DEPLOYMENTS, status=201)
        return run(target, make_request("deploy", version=RC, params={"trigger_workflow": "true"}))


@pytest.mark.parametrize("word,status", [
    ("pending", Status.QUEUED), ("in_progress", Status.IN_PROGRESS), ("success", Status.SUCCESS),
    ("failure", Status.FAILURE), ("error", Status.FAILURE), ("canceled", Status.CANCELLED),
    ("canceling", Status.IN_PROGRESS), ("unknown", None),
])
def test_poll_reads_the_newest_deployment_of_the_rc(word, status):
    target = aviator()
    result = _deployed(target)
    body = [deployment(9, "pending", "2.0.0-rc1"), deployment(8, word), deployment(7, "failure")]
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=body, match=_page_matcher(1))
        assert target.poll(result) == (status, word)
    assert_common_headers(mock.calls[0])


def test_poll_before_the_deployment_is_listed_and_from_the_id_alone():
    target = aviator()
    with StrictMock() as mock:
        mock.get(DEPLOYMENTS, json=[deployment(1, "success", "0.1.0-rc1")])
        mock.get(DEPLOYMENTS, json=[deployment(2, "failure")])
        assert target.poll(Result(target="t", type="aviator", operation="deploy", id=f"{RC}@production")) \
            == (None, "not listed yet")
        assert target.poll(Result(target="t", type="aviator", operation="deploy", id=f"{RC}@production")) \
            == (Status.FAILURE, "failure")


def test_probe_proves_token_and_project_with_an_unknown_environment():
    target = aviator()
    probe_url = f"{BASE}/api/releases/web/environments/shipmark-probe/deployments"
    with StrictMock() as mock:
        mock.get(probe_url, status=404, json={"error": "Release environment not found"},
                 match=[matchers.query_param_matcher({"per_page": "1"})])
        assert target.probe() == "authenticated; project 'web' found"
        assert_common_headers(mock.calls[0])
    with StrictMock() as mock:
        mock.get(probe_url, status=404, json={"error": "Release project not found"})
        with pytest.raises(ApiError, match=r"Release project not found \(project 'web'; names are case sensitive\)"):
            target.probe()
    with StrictMock() as mock:
        mock.get(probe_url, status=401, json={"error": "Unauthorized"})
        with pytest.raises(ApiError) as info:
            target.probe()
    assert_api_error(info.value.message, 401, "Unauthorized")


# -- dry run ---------------------------------------------------------------------------

@pytest.mark.parametrize("operation,params,method,url", [
    ("deploy", {}, "PATCH", DEPLOYMENTS),
    ("deploy", {"trigger_workflow": "true"}, "POST", DEPLOYMENTS),
    ("deployment_update", {}, "PATCH", DEPLOYMENTS),
    ("release_create", {}, "POST", RELEASE),
    ("deployment_list", {}, "GET", DEPLOYMENTS + "?page=1&per_page=100"),
])
def test_dry_run_shows_the_request_masked_and_sends_nothing(operation, params, method, url):
    shown: List[str] = []
    target = aviator(dry_run=True, shown=shown)
    with StrictMock() as mock:
        result = run(target, make_request(operation, version=RC, params=params, dry_run=True))
    assert len(mock.calls) == 0
    assert result.ok and result.message == "dry run: not sent"
    assert len(shown) == 1
    text = shown[0]
    assert text.splitlines()[0] == f"{method} {url}"
    assert "Authorization: Bearer ***" in text and "Content-Type: application/json" in text
    assert_no_canary(text)


# -- config ----------------------------------------------------------------------------

def _settings(tmp_path, **keys: str):
    env = {"SHIPMARK_TARGET_AV_TYPE": "aviator", "SHIPMARK_TARGET_AV_TOKEN": CANARY}
    env.update({f"SHIPMARK_TARGET_AV_{k.upper()}": v for k, v in keys.items()})
    return load_settings(None, env, tmp_path)


def test_config_defaults_and_keys(tmp_path):
    config = _settings(tmp_path, project="Web", repository="acme/web").targets["av"]
    assert config.url == "https://api.aviator.co" and config.project == "Web"
    options = aviator().http_options(config)
    assert options["base_url"] == "https://api.aviator.co"
    assert options["headers"] == {"Authorization": f"Bearer {CANARY}", "Content-Type": "application/json"}
    assert options["retry_methods"] == ["PATCH"]
    assert "basic_auth" not in options


def test_config_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        _settings(tmp_path)
    assert "key 'project': required key is missing" in str(info.value)
    with pytest.raises(ConfigError) as info:
        _settings(tmp_path, project="web", environment_id="3")
    assert ("key 'environment_id': unknown key (valid keys: allow_insecure, project, repository, required, "
            "timeout, token, type, url)") in str(info.value)
    with pytest.raises(ConfigError, match="key 'url': must be https"):
        _settings(tmp_path, project="web", url="http://aviator.example.com")
    with pytest.raises(ConfigError, match=r"key 'repository': expected owner/name \(e.g. acme/web\)"):
        _settings(tmp_path, project="web", repository="acme")
    with pytest.raises(ConfigError, match="key 'token': required key is missing"):
        load_settings(None, {"SHIPMARK_TARGET_AV_TYPE": "aviator", "SHIPMARK_TARGET_AV_PROJECT": "web"}, tmp_path)
    assert _settings(tmp_path, project="web", url="http://127.0.0.1:8080").targets["av"].url == "http://127.0.0.1:8080"
    assert _settings(tmp_path, project="web", url="http://av.internal", allow_insecure="true").targets["av"].url
    assert_no_canary(str(info.value))


def test_supported_operations():
    from shipmark.targets.aviator import Aviator

    assert Aviator.supported_operations() == ["deploy", "deployment_update", "deployment_list", "release_create"]
