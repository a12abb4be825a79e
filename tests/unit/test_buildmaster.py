"""BuildMaster backend: the exact requests it sends and how it reads the answers (responses mocks)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List
from urllib.parse import parse_qsl, urlsplit

import json
import pytest
import responses

from shipmark.config import load_settings
from shipmark.errors import ApiError, ConfigError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets.buildmaster import BuildMaster, BuildMasterConfig, deployment_state, parse_date
from tests.conftest import CANARY, assert_no_canary, make_request, make_target

URL = "https://bm.example.com"
RELEASES = f"{URL}/api/releases"
BUILDS = f"{URL}/api/releases/builds"
DEPLOYMENTS = f"{URL}/api/releases/builds/deployments"
FORM = "application/x-www-form-urlencoded"


class Mock(responses.RequestsMock):
    """RequestsMock that fails on unused mocks and keeps the calls after the block (it resets them)."""

    def __init__(self) -> None:
        super().__init__(assert_all_requests_are_fired=True)
        self.seen: List[Any] = []

    def __exit__(self, *exc: Any) -> Any:
        self.seen = list(self.calls)
        return super().__exit__(*exc)


def target(**config: Any) -> BuildMaster:
    settings = {"token": CANARY, "url": URL, "application": "Web", "pipeline": "Standard"}
    settings.update(config)
    return make_target("buildmaster", **settings)


def form_of(call) -> Dict[str, str]:
    """The form body as a dict; also asserts no key was sent twice (BuildMaster answers 400)."""
    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    pairs = parse_qsl(body or "", keep_blank_values=True)
    assert len(pairs) == len({k for k, _ in pairs}), pairs
    return dict(pairs)


def query_of(call) -> Dict[str, str]:
    pairs = parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True)
    assert len(pairs) == len({k for k, _ in pairs}), pairs
    return dict(pairs)


def path_of(call) -> str:
    return urlsplit(call.request.url).path


def assert_write(call, path: str, form: Dict[str, str]) -> None:
    """A write: POST, form body, no query string, key in the header only."""
    assert call.request.method == "POST"
    assert path_of(call) == path
    assert urlsplit(call.request.url).query == ""
    assert call.request.headers["Content-Type"] == FORM
    assert_auth(call)
    assert form_of(call) == form


def assert_read(call, path: str, query: Dict[str, str]) -> None:
    assert call.request.method == "GET"
    assert path_of(call) == path
    assert call.request.body is None
    assert_auth(call)
    assert query_of(call) == query


def assert_auth(call) -> None:
    headers = call.request.headers
    assert headers["X-ApiKey"] == CANARY
    assert headers["User-Agent"].startswith("shipmark/")
    assert "key=" not in call.request.url
    assert CANARY not in call.request.url
    body = call.request.body or ""
    assert CANARY not in (body.decode() if isinstance(body, bytes) else body)


def release(id_: int = 12, number: str = "v1.2.3", status: str = "active", **extra: Any) -> Dict[str, Any]:
    data = {"id": id_, "releaseNumber": number, "releaseName": None, "status": status, "applicationId": 3,
            "applicationName": "Web", "pipelineName": "Standard", "createdOn": "2024-03-04T09:31:20"}
    data.update(extra)
    return data


def build(id_: int, number: str, status: str = "active", **extra: Any) -> Dict[str, Any]:
    data = {"id": id_, "buildNumber": number, "status": status, "releaseNumber": "v1.2.3",
            "applicationName": "Web", "furthestStage": "Integration",
            "createdOn": "2024-03-04T09:31:20.5100000Z"}
    data.update(extra)
    return data


def deployment(id_: int, status: str = "pending", **extra: Any) -> Dict[str, Any]:
    data = {"id": id_, "status": status, "pipelineStageName": "production", "environmentName": "Prod",
            "releaseNumber": "v1.2.3", "buildNumber": "7", "createdOn": "2024-03-04T10:00:00.1234567Z",
            "started": None, "ended": None, "canceledOn": None}
    data.update(extra)
    return data


def shown_error(error: ApiError, status: int) -> str:
    """The backend's part of an HTTP error message (the core words the "HTTP n (hint): " prefix)."""
    prefix, sep, rest = error.message.partition("): ")
    assert sep and prefix.startswith(f"HTTP {status} ("), error.message
    assert error.status_code == status
    return rest


def key_of(request) -> Dict[str, str]:
    return {"$ShipmarkEventKey": request.event.event_key}


# -- configuration --------------------------------------------------------------

def config_error(tmp_path, **keys: str) -> str:
    env = {f"SHIPMARK_TARGET_BM_{k.upper()}": v for k, v in keys.items()}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env, cwd=tmp_path)
    return info.value.message


def test_config_requires_application(tmp_path):
    message = config_error(tmp_path, type="buildmaster", url=URL, token=CANARY)
    assert "key 'application': required key is missing" in message
    assert_no_canary(message)


def test_config_requires_url_and_token(tmp_path):
    assert "key 'url': required for this target type" in config_error(
        tmp_path, type="buildmaster", token=CANARY, application="Web")
    assert "key 'token': required key is missing" in config_error(
        tmp_path, type="buildmaster", url=URL, application="Web")


def test_config_unknown_key_lists_the_valid_ones(tmp_path):
    message = config_error(tmp_path, type="buildmaster", url=URL, token=CANARY, application="Web", stage="x")
    assert ("key 'stage': unknown key (valid keys: allow_insecure, application, pipeline, release_template, "
            "required, timeout, token, type, url)") in message


def test_config_rejects_plain_http_except_loopback(tmp_path):
    message = config_error(tmp_path, type="buildmaster", url="http://bm.example.com", token=CANARY,
                           application="Web")
    assert "key 'url': must be https (plain http is allowed only for loopback hosts" in message
    assert BuildMasterConfig.model_validate(
        {"type": "buildmaster", "name": "bm", "url": "http://127.0.0.1:8080", "token": CANARY, "application": "W"})


def test_config_empty_application_is_rejected():
    with pytest.raises(ValueError, match="application's name or numeric id"):
        BuildMasterConfig.model_validate({"type": "buildmaster", "name": "bm", "url": URL, "token": CANARY,
                                          "application": "  "})


def test_numeric_application_is_sent_as_application_id():
    cfg = BuildMasterConfig.model_validate({"type": "buildmaster", "name": "bm", "url": URL, "token": CANARY,
                                            "application": 42})
    assert cfg.application == "42"
    assert cfg.application_params() == {"applicationId": "42"}
    named = cfg.model_copy(update={"application": "Web 2"})
    assert named.application_params() == {"applicationName": "Web 2"}


def test_http_options_put_the_key_in_a_header_and_tolerate_an_api_suffix():
    cfg = BuildMasterConfig.model_validate({"type": "buildmaster", "name": "bm", "url": URL + "/api/",
                                            "token": CANARY, "application": "Web"})
    options = BuildMaster.http_options(cfg)
    assert options["base_url"] == URL
    assert options["headers"] == {"X-ApiKey": CANARY}
    assert "basic_auth" not in options
    assert "retry_methods" not in options  # no BuildMaster write is idempotent by itself


def test_status_map_is_the_documented_one():
    assert BuildMaster.status_map == {
        Status.QUEUED: "pending", Status.IN_PROGRESS: "executing", Status.SUCCESS: "succeeded",
        Status.FAILURE: "failed", Status.CANCELLED: None, Status.SKIPPED: None,
    }
    assert BuildMaster.supports_lookup is True
    assert set(BuildMaster.supported_operations()) == {
        "deploy", "deployment_get", "deployment_list", "release_create", "release_list", "release_cancel",
        "release_restore", "build_create", "build_list", "build_deploy", "build_reject", "discover"}


# -- release create -----------------------------------------------------------

def test_release_create_looks_up_then_creates_with_pipeline_name_and_variables():
    t = target()
    req = make_request("release_create", target="t", name="Spring", params={"$BranchName": "main"})
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create", json=release(12))
        result = t.release_create(req)
    lookup, create = rsps.seen
    assert_read(lookup, "/api/releases", {"applicationName": "Web", "releaseNumber": "v1.2.3"})
    assert_write(create, "/api/releases/create", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "pipelineName": "Standard",
        "releaseName": "Spring", "$BranchName": "main", **key_of(req)})
    assert result.ok and result.id == "12"
    assert result.url == f"{RELEASES}?releaseId=12"
    assert result.status_code == 200
    assert result.message == "created: release v1.2.3 (active)"
    assert result.event_key == req.event.event_key


def test_release_create_existing_release_is_already_exists_and_sends_no_post():
    t = target()
    req = make_request("release_create")
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(12, status="deployed")])
        result = t.release_create(req)
    assert len(rsps.seen) == 1
    assert result.ok and result.id == "12"
    assert result.message == "already exists: release v1.2.3 (deployed)"


def test_release_create_from_template_with_numeric_application_and_release_name_param():
    t = target(application="42", release_template="Std", pipeline=None)
    req = make_request("release_create", params={"releaseName": "Code name"})
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create-from-template", json=release(13))
        result = t.release_create(req)
    assert_read(rsps.seen[0], "/api/releases", {"applicationId": "42", "releaseNumber": "v1.2.3"})
    assert_write(rsps.seen[1], "/api/releases/create-from-template", {
        "applicationId": "42", "releaseNumber": "v1.2.3", "template": "Std", "releaseName": "Code name",
        **key_of(req)})
    assert result.id == "13"


def test_release_create_template_option_sends_an_explicit_pipeline_as_override():
    t = target()
    req = make_request("release_create", template="Hotfix", pipeline="Fast")
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create-from-template", json=release(14))
        t.release_create(req)
    assert form_of(rsps.seen[1]) == {"applicationName": "Web", "releaseNumber": "v1.2.3", "template": "Hotfix",
                                      "pipelineName": "Fast", **key_of(req)}


def test_release_create_pipeline_option_wins_over_the_configured_template():
    t = target(release_template="Std")
    req = make_request("release_create", pipeline="Fast")
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create", json=release(15))
        t.release_create(req)
    assert form_of(rsps.seen[1])["pipelineName"] == "Fast"


def test_release_create_template_404_suggests_pipeline():
    t = target(release_template="Std")
    req = make_request("release_create")
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create-from-template", status=404, body="")
        with pytest.raises(ApiError) as info:
            t.release_create(req)
    assert shown_error(info.value, 404) == (
        "no error message in the response; this BuildMaster has no create-from-template "
        "endpoint (newer versions removed it): create the release with --pipeline NAME instead of --template")
    assert not info.value.transient


def test_release_create_without_pipeline_is_unsupported_before_sending():
    t = target(pipeline=None)
    with Mock() as rsps:
        with pytest.raises(UnsupportedError, match=r"needs a pipeline: pass --pipeline NAME"):
            t.check(make_request("release_create"))
    assert len(rsps.seen) == 0


def test_release_create_400_plain_text_is_shown_as_it_is():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create", status=400, body="Invalid pipeline: Standard",
                  content_type="text/plain")
        with pytest.raises(ApiError) as info:
            t.release_create(make_request("release_create"))
    assert shown_error(info.value, 400) == "Invalid pipeline: Standard"
    assert not info.value.transient


def test_release_create_5xx_after_post_is_confirmed_by_the_lookup_not_resent():
    t = target()
    req = make_request("release_create")
    with Mock() as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(f"{URL}/api/releases/create", status=502, body="Bad gateway")
        rsps.get(RELEASES, json=[release(16)])
        result = t.release_create(req)
    assert [c.request.method for c in rsps.seen] == ["GET", "POST", "GET"]
    assert result.id == "16"
    assert result.message == "recorded (confirmed after a retry)"


# -- 403 and other error shapes ------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("", "the API key is missing, unknown or lacks Release & Build Deployment access: set the target's token "
         "to a BuildMaster API key with that permission"),
    ("Invalid API key.", "the API key is missing, unknown or lacks Release & Build Deployment access: set the "
                         "target's token to a BuildMaster API key with that permission "
                         "(server said: Invalid API key.)"),
])
def test_403_with_or_without_text(body, expected):
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, status=403, body=body)
        with pytest.raises(ApiError) as info:
            t.release_list(make_request("release_list"))
    assert shown_error(info.value, 403) == expected
    assert not info.value.transient
    assert_no_canary(info.value.message)


def test_non_json_answer_is_a_readable_error():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, body="<html><body>Login</body></html>", content_type="text/html")
        with pytest.raises(ApiError, match="an HTML page instead of JSON"):
            t.release_list(make_request("release_list"))


def test_error_text_echoing_the_key_is_redacted():
    t = target()
    with Mock() as rsps:
        rsps.post(f"{URL}/api/releases/builds/create", status=400, body=f"Unknown key {CANARY}")
        with pytest.raises(ApiError) as info:
            t.build_create(make_request("build_create"))
    assert shown_error(info.value, 400) == "Unknown key ***"


# -- release list / cancel / restore ----------------------------------------------

def test_release_list_filters_and_normalizes_newest_first_with_limit():
    t = target()
    records = [release(10, "1.0", "deployed", createdOn="2024-01-01T08:00:00"),
               release(30, "3.0", createdOn="2024-03-04T09:31:20.5100000Z"),
               release(20, "2.0", "canceled", createdOn="2024-02-01T08:00:00.1+01:00")]
    with Mock() as rsps:
        rsps.get(RELEASES, json=records)
        result = t.release_list(make_request("release_list", limit=2, environment=None, version=None))
    assert_read(rsps.seen[0], "/api/releases", {"applicationName": "Web"})
    assert [i["id"] for i in result.items] == ["30", "20"]
    first = result.items[0]
    assert {k: v for k, v in first.items() if k != "raw"} == {
        "id": "30", "status": "active", "version": "3.0", "environment": None, "commit": None,
        "created_at": "2024-03-04T09:31:20.510Z", "url": f"{RELEASES}?releaseId=30"}
    assert first["raw"] == records[1]
    assert result.items[1]["created_at"] == "2024-02-01T07:00:00.100Z"


def test_release_list_by_version_and_limit_zero_is_everything():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(i, f"{i}.0") for i in range(1, 6)])
        result = t.release_list(make_request("release_list", limit=0, version="3.0"))
    assert query_of(rsps.seen[0]) == {"applicationName": "Web", "releaseNumber": "3.0"}
    assert len(result.items) == 5


def test_release_cancel_posts_reason_after_checking_state():
    t = target()
    req = make_request("release_cancel", reason="superseded", status=Status.CANCELLED)
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(12)])
        rsps.post(f"{URL}/api/releases/cancel", body="")
        result = t.release_cancel(req)
    assert_read(rsps.seen[0], "/api/releases", {"applicationName": "Web", "releaseNumber": "v1.2.3"})
    assert_write(rsps.seen[1], "/api/releases/cancel",
                 {"applicationName": "Web", "releaseNumber": "v1.2.3", "reason": "superseded"})
    assert result.ok and result.message == "cancelled release v1.2.3"


def test_release_cancel_of_a_cancelled_release_is_a_no_op():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(12, status="canceled")])
        result = t.release_cancel(make_request("release_cancel", status=Status.CANCELLED))
    assert len(rsps.seen) == 1
    assert result.id == "12" and result.message == "already cancelled: release v1.2.3 (canceled)"


def test_release_restore_posts_the_release_only():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(12, status="canceled")])
        rsps.post(f"{URL}/api/releases/restore", body="")
        result = t.release_restore(make_request("release_restore"))
    assert_write(rsps.seen[1], "/api/releases/restore", {"applicationName": "Web", "releaseNumber": "v1.2.3"})
    assert result.message == "restored release v1.2.3"


def test_release_restore_of_an_active_release_is_a_no_op():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(12, status="active")])
        result = t.release_restore(make_request("release_restore"))
    assert len(rsps.seen) == 1 and result.message.startswith("already restored")


# -- builds ------------------------------------------------------------------

def test_build_create_without_number_posts_directly_with_event_key_variable():
    t = target()
    req = make_request("build_create", params={"$CommitSha": "abc123"})
    with Mock() as rsps:
        rsps.post(f"{URL}/api/releases/builds/create", json=build(34, "5"))
        result = t.build_create(req)
    assert len(rsps.seen) == 1
    assert_write(rsps.seen[0], "/api/releases/builds/create", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "$CommitSha": "abc123", **key_of(req)})
    assert result.id == "34" and result.url == f"{BUILDS}?buildId=34"
    assert result.message == "created: build 5 of release v1.2.3"


def test_build_create_with_number_is_looked_up_first():
    t = target()
    req = make_request("build_create", build="7")
    with Mock() as rsps:
        rsps.get(BUILDS, json=[])
        rsps.post(f"{URL}/api/releases/builds/create", json=build(35, "7"))
        result = t.build_create(req)
    assert_read(rsps.seen[0], "/api/releases/builds",
                {"applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7"})
    assert_write(rsps.seen[1], "/api/releases/builds/create", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7", **key_of(req)})
    assert result.id == "35"


def test_build_create_rerun_with_number_is_already_recorded_without_post():
    t = target()
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(35, "7")])
        result = t.build_create(make_request("build_create", build="7"))
    assert len(rsps.seen) == 1
    assert result.id == "35" and result.message == "already exists: build 7 of release v1.2.3"


def test_build_create_5xx_without_lookup_is_not_resent():
    t = target()
    with Mock() as rsps:
        rsps.post(f"{URL}/api/releases/builds/create", status=500, body="boom")
        with pytest.raises(ApiError) as info:
            t.build_create(make_request("build_create"))
    assert len(rsps.seen) == 1
    assert info.value.transient and info.value.may_have_landed
    assert shown_error(info.value, 500) == ("boom (not re-sent: it may have been recorded and "
                                            "buildmaster offers no way to check)")


def test_build_list_filters_by_release_and_stage():
    t = target()
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(1, "1", "rejected"), build(3, "3"), build(2, "2", "deployed")])
        result = t.build_list(make_request("build_list", environment="Integration", limit=2))
    assert_read(rsps.seen[0], "/api/releases/builds",
                {"applicationName": "Web", "releaseNumber": "v1.2.3", "furthestStage": "Integration"})
    assert [(i["id"], i["build"], i["status"]) for i in result.items] == [("3", "3", "active"),
                                                                         ("2", "2", "deployed")]
    item = result.items[0]
    assert (item["version"], item["environment"], item["created_at"], item["url"]) == (
        "v1.2.3", "Integration", "2024-03-04T09:31:20.510Z", f"{BUILDS}?buildId=3")


def test_build_reject_picks_the_newest_build_and_posts():
    t = target()
    req = make_request("build_reject", status=Status.FAILURE)
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(40, "4"), build(41, "5"), build(39, "3")])
        rsps.post(f"{URL}/api/releases/builds/reject", body="")
        result = t.build_reject(req)
    assert_read(rsps.seen[0], "/api/releases/builds", {"applicationName": "Web", "releaseNumber": "v1.2.3"})
    assert_write(rsps.seen[1], "/api/releases/builds/reject",
                 {"applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "5"})
    assert result.id == "41" and result.message == "rejected build 5 of release v1.2.3"


def test_build_reject_rerun_finds_the_newest_build_rejected():
    t = target()
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(40, "4"), build(41, "5", "rejected")])
        result = t.build_reject(make_request("build_reject", status=Status.FAILURE))
    assert len(rsps.seen) == 1
    assert result.message == "already rejected: build 5 of release v1.2.3"


def test_build_reject_named_build_is_checked_then_rejected():
    t = target()
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(40, "4")])
        rsps.post(f"{URL}/api/releases/builds/reject", body="")
        t.build_reject(make_request("build_reject", build="4", status=Status.FAILURE))
    assert query_of(rsps.seen[0]) == {"applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "4"}
    assert form_of(rsps.seen[1])["buildNumber"] == "4"


# -- deploy ------------------------------------------------------------------

@pytest.mark.parametrize("operation", ["deploy", "build_deploy"])
def test_deploy_named_build_to_stage(operation):
    t = target()
    req = make_request(operation, build="7", force=True, params={"$Notes": "from CI"})
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(90, "failed")])  # a failed one does not count
        rsps.post(f"{URL}/api/releases/builds/deploy", json=[deployment(91, "pending")])
        result = getattr(t, operation)(req)
    assert_read(rsps.seen[0], "/api/releases/builds/deployments", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7", "pipelineStageName": "production"})
    assert_write(rsps.seen[1], "/api/releases/builds/deploy", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7", "toStage": "production",
        "force": "true", "$Notes": "from CI", **key_of(req)})
    assert result.ok and result.id == "91"
    assert result.url == f"{DEPLOYMENTS}?deploymentId=91"
    assert result.remote_status == "queued"
    assert result.status_code == 200
    assert result.message == "deploying: build 7 to production (pending)"


def test_deploy_defaults_to_the_newest_active_build_and_accepts_a_single_object():
    t = target()
    req = make_request("deploy")
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(50, "8"), build(52, "10", "rejected"), build(51, "9", "deployed")])
        rsps.get(DEPLOYMENTS, json=[])
        rsps.post(f"{URL}/api/releases/builds/deploy", json=deployment(92, "executing", buildNumber="9"))
        result = t.deploy(req)
    assert_read(rsps.seen[0], "/api/releases/builds", {"applicationName": "Web", "releaseNumber": "v1.2.3"})
    assert query_of(rsps.seen[1])["buildNumber"] == "9"
    form = form_of(rsps.seen[2])
    assert "force" not in form
    assert form == {"applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "9",
                    "toStage": "production", **key_of(req)}
    assert result.id == "92" and result.remote_status == "in_progress"


def test_deploy_rerun_finds_the_live_deployment_and_sends_no_post():
    t = target()
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(80, "succeeded"), deployment(81, "executing")])
        result = t.deploy(make_request("deploy", build="7"))
    assert len(rsps.seen) == 1
    assert result.id == "81" and result.remote_status == "in_progress"
    assert result.message == "already deployed: build 7 to production (executing)"


def test_deploy_without_stage_lets_buildmaster_pick_the_next_and_has_no_lookup():
    t = target()
    req = make_request("deploy", build="7", environment=None)
    with Mock() as rsps:
        rsps.post(f"{URL}/api/releases/builds/deploy", json=[deployment(93, pipelineStageName="Testing"),
                                                            deployment(94)])
        result = t.deploy(req)
    assert len(rsps.seen) == 1
    assert form_of(rsps.seen[0]) == {"applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7",
                                      **key_of(req)}
    assert result.id == "93"
    assert result.message == "deploying: build 7 to Testing (pending) (also started deployment 94)"


def test_deploy_start_time_is_sent_with_an_explicit_utc_offset():
    t = target()
    req = make_request("deploy", build="7", environment=None, params={"startTime": "2024-05-01T22:00:00+02:00"})
    with Mock() as rsps:
        rsps.post(f"{URL}/api/releases/builds/deploy", json=[deployment(95)])
        t.check(req)
        t.deploy(req)
    assert form_of(rsps.seen[0])["startTime"] == "2024-05-01T20:00:00+00:00"


def test_deploy_release_without_builds_says_what_to_do():
    t = target()
    with Mock() as rsps:
        rsps.get(BUILDS, json=[build(1, "1", "rejected")])
        with pytest.raises(ApiError) as info:
            t.deploy(make_request("deploy"))
    assert info.value.message == ("release v1.2.3 of application 'Web' has no active or deployed build: "
                                  "create one with `shipmark build create` or name it with --build")
    assert not info.value.transient


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.SUCCESS])
@pytest.mark.parametrize("operation", ["deploy", "build_deploy"])
def test_deploy_other_statuses_are_unsupported_before_any_request(operation, status):
    t = target()
    with Mock() as rsps:
        with pytest.raises(UnsupportedError) as info:
            t.check(make_request(operation, status=status))
    assert len(rsps.seen) == 0
    assert f"status '{status.value}' cannot be sent to buildmaster" in info.value.message


def test_writes_need_a_release_number():
    t = target()
    for operation in ("deploy", "release_create", "release_cancel", "build_create", "build_reject"):
        with pytest.raises(UnsupportedError, match="needs the release number: pass --version"):
            t.check(make_request(operation, version=None, status=Status.SUCCESS))


# -- --param validation -------------------------------------------------------

def test_unknown_param_lists_the_valid_ones():
    t = target()
    with pytest.raises(UsageError) as info:
        t.check(make_request("deploy", params={"toStage": "x"}))
    assert info.value.message == ("--param toStage: unknown for buildmaster deploy "
                                  "(valid: startTime, $Name=value for a BuildMaster variable)")
    with pytest.raises(UsageError, match=r"--param \$X: unknown for buildmaster release cancel \(valid: reason\)"):
        t.check(make_request("release_cancel", params={"$X": "1"}, status=Status.CANCELLED))
    with pytest.raises(UsageError, match="not a BuildMaster variable name"):
        t.check(make_request("build_create", params={"$bad name": "1"}))
    with pytest.raises(UsageError, match=r"shipmark sets \$ShipmarkEventKey itself"):
        t.check(make_request("build_create", params={"$ShipmarkEventKey": "1"}))
    with pytest.raises(UsageError, match="startTime='tomorrow': expected an ISO 8601 time"):
        t.check(make_request("deploy", params={"startTime": "tomorrow"}))
    t.check(make_request("release_create", params={"releaseName": "x", "$A-b_1": "y"}))


# -- deployments: list, get, poll ----------------------------------------------

def test_deployment_list_filters_and_maps_states():
    t = target()
    records = [deployment(1, "pending"), deployment(2, "executing"), deployment(3, "succeeded"),
               deployment(4, "warned"), deployment(5, "failed"),
               deployment(6, "failed", canceledOn="2024-03-04T10:05:00"), deployment(7, "paused")]
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=records)
        result = t.deployment_list(make_request("deployment_list", build="7", limit=0))
    assert_read(rsps.seen[0], "/api/releases/builds/deployments", {
        "applicationName": "Web", "releaseNumber": "v1.2.3", "buildNumber": "7", "pipelineStageName": "production"})
    assert [(i["id"], i["status"]) for i in result.items] == [
        ("7", "paused"), ("6", "cancelled"), ("5", "failure"), ("4", "success"), ("3", "success"),
        ("2", "in_progress"), ("1", "queued")]
    item = result.items[-1]
    assert (item["version"], item["environment"], item["build"], item["created_at"], item["url"]) == (
        "v1.2.3", "production", "7", "2024-03-04T10:00:00.123Z", f"{DEPLOYMENTS}?deploymentId=1")


def test_deployment_list_limit_keeps_the_newest():
    t = target()
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(i) for i in (3, 9, 5, 1)])
        result = t.deployment_list(make_request("deployment_list", limit=2, version=None, environment=None))
    assert query_of(rsps.seen[0]) == {"applicationName": "Web"}
    assert [i["id"] for i in result.items] == ["9", "5"]


@pytest.mark.parametrize("record, expected", [
    ({"status": "pending"}, (Status.QUEUED, "pending")),
    ({"status": "executing"}, (Status.IN_PROGRESS, "executing")),
    ({"status": "succeeded"}, (Status.SUCCESS, "succeeded")),
    ({"status": "warned"}, (Status.SUCCESS, "warned")),
    ({"status": "failed"}, (Status.FAILURE, "failed")),
    ({"status": "executing", "canceledOn": "2024-03-04T10:00:00"}, (Status.CANCELLED, "canceled")),
    ({"status": "Paused"}, (None, "paused")),
    ({}, (None, "unknown")),
])
def test_deployment_state(record, expected):
    assert deployment_state(record) == expected


def test_poll_reads_the_deployment_by_id_and_notes_warnings():
    t = target()
    result = Result(target="t", type="buildmaster", operation="deploy", id="91", message="deploying")
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(91, "executing")])
        rsps.get(DEPLOYMENTS, json=[deployment(91, "warned")])
        assert t.poll(result) == (Status.IN_PROGRESS, "executing")
        assert t.poll(result) == (Status.SUCCESS, "warned")
    assert_read(rsps.seen[0], "/api/releases/builds/deployments", {"deploymentId": "91"})
    assert result.message == "deploying; finished with warnings (warned)"


def test_poll_unknown_deployment_is_a_permanent_error():
    t = target()
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[])
        with pytest.raises(ApiError, match="BuildMaster has no deployment 404") as info:
            t.poll(Result(target="t", type="buildmaster", operation="deploy", id="404"))
    assert not info.value.transient
    with pytest.raises(ApiError, match="no deployment id to wait for"):
        t.poll(Result(target="t", type="buildmaster", operation="deploy"))


def test_deployment_get():
    t = target()
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(91, "succeeded")])
        result = t.deployment_get(make_request("deployment_get", id="91"))
    assert query_of(rsps.seen[0]) == {"deploymentId": "91"}
    assert (result.id, result.remote_status, result.url) == ("91", "success", f"{DEPLOYMENTS}?deploymentId=91")
    assert result.raw["id"] == 91


# -- probe and discover ----------------------------------------------------------

def test_probe_reads_the_applications_releases():
    t = target()
    with Mock() as rsps:
        rsps.get(RELEASES, json=[release(1), release(2)])
        assert t.probe() == "authenticated; application 'Web': 2 releases"
    assert_read(rsps.seen[0], "/api/releases", {"applicationName": "Web"})


def test_discover_lists_applications_and_pipelines():
    t = target()
    records = [release(1), release(2, pipelineName="Hotfix"),
               release(3, applicationId=4, applicationName="Api", pipelineName="Standard")]
    with Mock() as rsps:
        rsps.get(RELEASES, json=records)
        result = t.discover(make_request("discover"))
    assert_read(rsps.seen[0], "/api/releases", {})
    assert result.items == [
        {"kind": "application", "id": "3", "name": "Web", "detail": "2 releases"},
        {"kind": "application", "id": "4", "name": "Api", "detail": "1 release"},
        {"kind": "pipeline", "id": None, "name": "Standard", "detail": "application Web"},
        {"kind": "pipeline", "id": None, "name": "Hotfix", "detail": "application Web"},
        {"kind": "pipeline", "id": None, "name": "Standard", "detail": "application Api"},
    ]


# -- dry run -------------------------------------------------------------------

@pytest.mark.parametrize("operation, options, path", [
    ("release_create", {}, "/api/releases/create"),
    ("release_create", {"template": "Std"}, "/api/releases/create-from-template"),
    ("release_cancel", {"status": Status.CANCELLED}, "/api/releases/cancel"),
    ("release_restore", {}, "/api/releases/restore"),
    ("build_create", {"build": "7"}, "/api/releases/builds/create"),
    ("deploy", {"build": "7"}, "/api/releases/builds/deploy"),
    ("build_deploy", {}, "/api/releases/builds/deploy"),
    ("build_reject", {"status": Status.FAILURE}, "/api/releases/builds/reject"),
])
def test_dry_run_shows_the_write_masked_and_sends_nothing(operation, options, path):
    shown: List[str] = []
    t = make_target("buildmaster", token=CANARY, url=URL, application="Web", pipeline="Standard",
                    dry_run=True, shown=shown)
    req = make_request(operation, dry_run=True, **options)
    with Mock() as rsps:
        t.check(req)
        result = getattr(t, operation)(req)
    assert len(rsps.seen) == 0
    assert result.ok and result.message.startswith("dry run: not sent")
    assert len(shown) == 1  # the write only: lookups are not shown
    text = shown[0]
    assert text.startswith(f"POST {URL}{path}\n")
    assert "X-ApiKey: ***" in text
    assert f"Content-Type: {FORM}" in text
    assert "releaseNumber=v1.2.3" in text
    assert_no_canary(text, json.dumps(result.to_json_dict()))


def test_dry_run_list_shows_the_read():
    shown: List[str] = []
    t = make_target("buildmaster", token=CANARY, url=URL, application="Web", dry_run=True, shown=shown)
    with Mock() as rsps:
        result = t.release_list(make_request("release_list", dry_run=True))
    assert len(rsps.seen) == 0 and result.items == []
    assert shown[0].startswith(f"GET {URL}/api/releases?applicationName=Web&releaseNumber=v1.2.3\n")
    assert_no_canary(shown[0])


# -- dates ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2024-03-04T09:31:20", datetime(2024, 3, 4, 9, 31, 20, tzinfo=timezone.utc)),
    ("2024-03-04T09:31:20Z", datetime(2024, 3, 4, 9, 31, 20, tzinfo=timezone.utc)),
    ("2024-03-04T09:31:20.5100000Z", datetime(2024, 3, 4, 9, 31, 20, 510000, tzinfo=timezone.utc)),
    ("2024-03-04T09:31:20.1234567", datetime(2024, 3, 4, 9, 31, 20, 123456, tzinfo=timezone.utc)),
    ("2024-03-04T11:31:20+02:00", datetime(2024, 3, 4, 9, 31, 20, tzinfo=timezone.utc)),
    ("yesterday", None),
    (None, None),
])
def test_lenient_dates(text, expected):
    assert parse_date(text) == expected



def test_poll_picks_the_deployment_with_that_id_when_the_filter_is_ignored():
    t = target()
    result = Result(target="t", type="buildmaster", operation="deploy", id="91")
    with Mock() as rsps:
        rsps.get(DEPLOYMENTS, json=[deployment(90, "failed"), deployment(91, "succeeded")])
        assert t.poll(result) == (Status.SUCCESS, "succeeded")


@pytest.mark.parametrize("command", ["deployment start", "deployment finish"])
def test_start_and_finish_reports_do_not_apply_buildmaster_runs_deployments(command):
    t = target()
    status = Status.IN_PROGRESS if command == "deployment start" else Status.SUCCESS
    with Mock() as rsps:
        with pytest.raises(UnsupportedError, match=f"buildmaster runs deployments itself, so `{command}`"):
            t.check(make_request("deploy", command=command, status=status))
    assert len(rsps.seen) == 0


@pytest.mark.parametrize("operation, url, params, query", [
    ("release_list", RELEASES, {"status": "canceled", "pipelineName": "Std"},
     {"applicationName": "Web", "status": "canceled", "pipelineName": "Std"}),
    ("build_list", BUILDS, {"status": "rejected", "buildNumber": "4"},
     {"applicationName": "Web", "status": "rejected", "buildNumber": "4"}),
    ("deployment_list", DEPLOYMENTS, {"status": "warned", "environmentName": "Prod"},
     {"applicationName": "Web", "status": "warned", "environmentName": "Prod"}),
])
def test_list_filters_from_params_go_into_the_query(operation, url, params, query):
    t = target()
    req = make_request(operation, params=params, version=None, environment=None)
    with Mock() as rsps:
        rsps.get(url, json=[])
        t.check(req)
        result = getattr(t, operation)(req)
    assert_read(rsps.seen[0], urlsplit(url).path, query)
    assert result.items == []


def test_list_filters_are_validated():
    t = target()
    with pytest.raises(UsageError) as info:
        t.check(make_request("release_list", params={"releaseName": "x"}))
    assert info.value.message == ("--param releaseName: unknown for buildmaster release list "
                                  "(valid: status, pipelineName)")
    with pytest.raises(UsageError, match=r"--param status='executing': expected "
                                         r"one of: active, rejected, deployed"):
        t.check(make_request("build_list", params={"status": "executing"}))
    with pytest.raises(UsageError, match=r"--param x: unknown for buildmaster deployment get \(valid: none\)"):
        t.check(make_request("deployment_get", id="1", params={"x": "1"}))
