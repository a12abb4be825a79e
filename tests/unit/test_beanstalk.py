"""Beanstalk backend: exact requests, error shapes, status mapping, config, paging, idempotency, dry-run."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from pydantic import ValidationError

from shipmark.config import load_settings
from shipmark.errors import ApiError, ConfigError, UnsupportedError, UsageError
from shipmark.models import Status
from shipmark.targets.beanstalk import Beanstalk, BeanstalkConfig, parse_error
from shipmark.targets.values import iso_time
from tests.conftest import CANARY, SHA, assert_no_canary, json_body, make_request, make_target

ROOT = "https://acme.beanstalkapp.com"
API = ROOT + "/api"
AUTH = "Basic " + base64.b64encode(f"ci:{CANARY}".encode()).decode()
RELEASES = API + "/67/releases.json"
ENVIRONMENTS = API + "/67/server_environments.json"


def target(**config: Any) -> Beanstalk:
    base: Dict[str, Any] = dict(token=CANARY, url=ROOT, username="ci", repository=67, environment_id=3)
    base.update(config)
    return make_target("beanstalk", **{k: v for k, v in base.items() if v is not None})


def release(release_id: int = 183, state: str = "new", comment: str = "test", **extra: Any) -> Dict[str, Any]:
    body = {"id": release_id, "state": state, "revision": SHA, "comment": comment, "environment_id": 32,
            "environment_name": "Dreams", "repository_id": 67, "created_at": "2013/01/17 05:04:08 +0800"}
    body.update(extra)
    return {"release": body}


def query(call) -> Dict[str, List[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def path(call) -> str:
    return urlsplit(call.request.url).path


def assert_headers(call) -> None:
    headers = call.request.headers
    assert headers["Authorization"] == AUTH
    assert headers["User-Agent"].startswith("shipmark/")
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"


def deploy_request(**kw: Any):
    kw.setdefault("environment", None)  # use the target's environment_id unless a test names one
    kw.setdefault("environment_explicit", kw["environment"] is not None)  # as `-e NAME` sets it
    return make_request("deploy", **kw)


def run(t: Beanstalk, request):
    t.check(request)
    return getattr(t, request.operation)(request)


# -- deploy ------------------------------------------------------------------------

def test_deploy_looks_up_the_event_key_then_posts_the_wrapped_release():
    t = target()
    request = deploy_request()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[release(100, "success", comment="someone else's deploy")])
        rsps.post(RELEASES, json=release(183, "new"), status=201)
        result = run(t, request)
        lookup, create = rsps.calls
    assert lookup.request.method == "GET" and path(lookup) == "/api/67/releases.json"
    assert query(lookup) == {"per_page": ["50"]}
    assert_headers(lookup)
    assert create.request.method == "POST" and path(create) == "/api/67/releases.json"
    assert query(create) == {"environment_id": ["3"]}  # in the query string only
    assert_headers(create)
    key = request.event.event_key
    assert json_body(create) == {"release": {
        "revision": SHA,
        "comment": f"v1.2.3 from main by octo-dev [shipmark {key}] "
                   "https://github.com/acme/shop/actions/runs/9876543210",
    }}
    assert result.ok and result.id == "183" and result.status_code == 201
    assert result.url == API + "/67/releases/183.json"
    assert result.remote_status == "queued"  # "new" is read as queued
    assert result.event_key == key


def test_deploy_params_and_comment_details():
    t = target()
    request = deploy_request(params={"deploy_from_scratch": "true", "do_not_notify": "no", "environment_id": "9"},
                             environment="production", host="web-1", name="Spring sale", meta={"ticket": "OPS-1"})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, json=release(), status=201)
        run(t, request)
        create = rsps.calls[1]
    assert query(create) == {"environment_id": ["9"]}  # --param beats -e and the target's id: no lookup
    body = json_body(create)["release"]
    assert body["deploy_from_scratch"] is True and body["do_not_notify"] is False
    assert body["comment"] == (
        "v1.2.3 to production (Spring sale) on web-1 from main by octo-dev ticket=OPS-1 "
        f"[shipmark {request.event.event_key}] https://github.com/acme/shop/actions/runs/9876543210")


def test_deploy_revision_param_for_subversion():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, json=release(), status=201)
        run(t, deploy_request(params={"revision": "1234"}))
        assert json_body(rsps.calls[1])["release"]["revision"] == "1234"


def test_deploy_resolves_an_environment_name_case_insensitively_once():
    t = target(environment_id=None)
    envs = [{"server_environment": {"id": 31, "name": "Staging"}},
            {"server_environment": {"id": 32, "name": "Production"}}]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(ENVIRONMENTS, json=envs)
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, json=release(), status=201)
        run(t, deploy_request(environment="production"))
        run(t, deploy_request(environment="production", host="web-2"))
        methods = [(c.request.method, path(c)) for c in rsps.calls]
        posts = [c for c in rsps.calls if c.request.method == "POST"]
        assert_headers(rsps.calls[0])
    assert methods.count(("GET", "/api/67/server_environments.json")) == 1  # cached per command
    assert [query(c) for c in posts] == [{"environment_id": ["32"]}] * 2


def test_deploy_numeric_environment_is_an_id():
    t = target(environment_id=None)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, json=release(), status=201)
        run(t, deploy_request(environment="12"))
        assert query(rsps.calls[1]) == {"environment_id": ["12"]}


def test_deploy_unknown_environment_name_lists_the_known_ones_and_posts_nothing():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(ENVIRONMENTS, json=[{"server_environment": {"id": 31, "name": "Staging"}}])
        with pytest.raises(UsageError) as err:
            run(t, deploy_request(environment="prod"))
        assert len(rsps.calls) == 1
    assert "no environment named 'prod' in repository 67 (environments: Staging (id 31))" in err.value.message


def test_rerun_with_the_same_event_key_is_already_recorded_and_sends_no_post():
    t = target()
    request = deploy_request()
    found = release(183, "success", comment=f"v1.2.3 [shipmark {request.event.event_key}] https://ci/run/1")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[release(1, "failed"), found])
        result = run(t, request)
        assert [c.request.method for c in rsps.calls] == ["GET"]
    assert result.ok and result.message == "already recorded"
    assert result.id == "183" and result.remote_status == "success"
    assert result.url == API + "/67/releases/183.json"


def test_post_that_may_have_landed_is_confirmed_by_the_lookup_not_resent():
    t = target()
    request = deploy_request()
    found = release(184, "waiting", comment=f"v1.2.3 [shipmark {request.event.event_key}]")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, status=502, body="Bad Gateway")
        rsps.get(RELEASES, json=[found])
        result = run(t, request)
        assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]
    assert result.id == "184" and result.message == "recorded (confirmed after a retry)"


# -- errors ----------------------------------------------------------------------

def test_validation_errors_are_joined_into_one_line():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, status=422, json={"errors": ["Revision can't be blank", "Server can't be blank"]})
        with pytest.raises(ApiError) as err:
            run(t, deploy_request())
    assert err.value.message == ("HTTP 422 (the service rejected the data): "
                                 "Revision can't be blank; Server can't be blank")
    assert err.value.status_code == 422 and not err.value.transient


@pytest.mark.parametrize("status, body, content_type, expected", [
    (422, '{"errors": ["Error message"]}', "application/json", "Error message"),
    (422, '{"errors": {"revision": ["can\'t be blank"], "environment": "is invalid"}}', "application/json",
     "revision can't be blank; environment is invalid"),
    (400, '{"errors": "Environment is locked"}', "application/json", "Environment is locked"),
    (401, "HTTP Basic: Access denied.\n", "text/html", "HTTP Basic: Access denied."),
    (404, "", "", "no error message in the response"),
    (500, "<!DOCTYPE html><html>oops</html>", "text/html", "the server sent an HTML error page"),
])
def test_error_parser_shapes(status, body, content_type, expected):
    assert parse_error(status, body, content_type) == expected


def test_authentication_failure_is_readable_and_redacted():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/67/releases/5.json", status=401, body=f"Access denied for ci:{CANARY}",
                 content_type="text/plain")
        with pytest.raises(ApiError) as err:
            run(t, make_request("deployment_get", id="5"))
    assert err.value.message == "HTTP 401 (authentication failed: check the token): Access denied for ci:***"


def test_retry_of_a_release_that_is_not_failed_says_why():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.put(API + "/67/releases/183/retry.json", status=422, body="")
        with pytest.raises(ApiError) as err:
            run(t, make_request("deployment_retry", id="183"))
    assert err.value.message == "HTTP 422: release 183 not retryable: only failed releases can be retried"
    assert err.value.status_code == 422


def test_a_non_array_list_response_is_a_readable_error():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json={"release": {}})
        with pytest.raises(ApiError, match="expected a JSON array, got dict"):
            run(t, make_request("deployment_list"))


# -- status mapping ----------------------------------------------------------------

def test_status_map_follows_the_api_reference():
    t = target()
    assert {s: t.status_map[s] for s in Status} == {
        Status.QUEUED: "waiting", Status.IN_PROGRESS: "pending", Status.SUCCESS: "success",
        Status.FAILURE: "failed", Status.CANCELLED: None, Status.SKIPPED: "skipped"}
    with pytest.raises(UnsupportedError, match="'cancelled' cannot be represented by beanstalk"):
        t.service_status(Status.CANCELLED)


@pytest.mark.parametrize("word, expected", [
    ("waiting", Status.QUEUED), ("new", Status.QUEUED), ("retry", Status.QUEUED),
    ("pending", Status.IN_PROGRESS), ("success", Status.SUCCESS), ("failed", Status.FAILURE),
    ("skipped", Status.SKIPPED), ("exploded", None),
])
def test_poll_reads_the_release_state(word, expected):
    t = target()
    result = t.result(make_request("deploy"), id="183")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/67/releases/183.json", json=release(183, word))
        assert t.poll(result) == (expected, word)
        assert_headers(rsps.calls[0])


@pytest.mark.parametrize("status", ["cancelled", "queued", "in_progress", "failure", "skipped"])
def test_deploy_with_a_status_other_than_success_is_rejected_before_any_request(status):
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True):  # nothing registered: any request fails
        with pytest.raises(UnsupportedError) as err:
            t.check(deploy_request(status=Status(status)))
    assert "beanstalk" in err.value.message


def test_deploy_needs_a_repository_a_commit_and_an_environment():
    with pytest.raises(UnsupportedError, match="needs the target's `repository` key"):
        target(repository=None).check(deploy_request())
    with pytest.raises(UnsupportedError, match="no commit was detected; pass --commit SHA"):
        target().check(deploy_request(commit=None))
    with pytest.raises(UnsupportedError, match="needs an environment to deploy to"):
        target(environment_id=None).check(deploy_request())


@pytest.mark.parametrize("params, message", [
    ({"branch": "main"}, "--param branch: unknown for beanstalk deploy (valid: deploy_from_scratch, "
                         "do_not_notify, environment_id, revision)"),
    ({"do_not_notify": "maybe"}, "--param do_not_notify='maybe': expected true or false"),
    ({"environment_id": "prod"}, "--param environment_id='prod': expected a positive integer id"),
    ({"environment_id": "0"}, "--param environment_id='0': expected a positive integer id"),
])
def test_bad_params_are_usage_errors(params, message):
    with pytest.raises(UsageError) as err:
        target().check(deploy_request(params=params))
    assert message in err.value.message


# -- config ---------------------------------------------------------------------

def test_config_keys_and_defaults():
    cfg = BeanstalkConfig.model_validate({"type": "beanstalk", "name": "bs", "url": ROOT + "/", "username": "ci",
                                          "token": CANARY, "repository": 67, "environment_id": "3"})
    assert cfg.repository == "67" and cfg.environment_id == 3
    assert cfg.api_root() == API
    assert Beanstalk.http_options(cfg)["base_url"] == API
    assert Beanstalk.http_options(cfg)["basic_auth"] == ("ci", CANARY)
    assert cfg.secrets() == [(CANARY, "ci")]
    same = BeanstalkConfig.model_validate({"type": "beanstalk", "name": "bs", "url": API, "username": "ci",
                                           "token": CANARY})
    assert same.api_root() == API  # /api is not doubled


@pytest.mark.parametrize("change, message", [
    ({"username": None}, "username"),
    ({"url": None}, "url: required for this target type"),
    ({"token": None}, "token\n  Value error, required key is missing: set it to a Beanstalk access token"),
    ({"url": "http://acme.beanstalkapp.com"}, "url: must be https"),
    ({"environment_id": 0}, "greater than 0"),
    ({"repository": "acme/web"}, "not a path"),
])
def test_config_validation(change, message):
    data = {"type": "beanstalk", "name": "bs", "url": ROOT, "username": "ci", "token": CANARY}
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationError) as err:
        BeanstalkConfig.model_validate(data)
    assert message in str(err.value)


def test_loopback_http_is_allowed():
    cfg = BeanstalkConfig.model_validate({"type": "beanstalk", "name": "bs", "url": "http://127.0.0.1:9/",
                                          "username": "ci", "token": CANARY})
    assert cfg.api_root() == "http://127.0.0.1:9/api"


def test_unknown_key_names_the_valid_ones(tmp_path: Path):
    env = {"SHIPMARK_TARGET_BS_TYPE": "beanstalk", "SHIPMARK_TARGET_BS_URL": ROOT,
           "SHIPMARK_TARGET_BS_USERNAME": "ci", "SHIPMARK_TARGET_BS_TOKEN": CANARY,
           "SHIPMARK_TARGET_BS_ENVIRONMENT": "production"}
    with pytest.raises(ConfigError) as err:
        load_settings(None, env, tmp_path)
    assert "key 'environment': unknown key (valid keys: allow_insecure, environment_id, repository, required, " \
           "timeout, token, type, url, username)" in err.value.message
    assert_no_canary(err.value.message)


def test_missing_username_through_the_environment(tmp_path: Path):
    env = {"SHIPMARK_TARGET_BS_TYPE": "beanstalk", "SHIPMARK_TARGET_BS_URL": ROOT,
           "SHIPMARK_TARGET_BS_TOKEN": CANARY}
    with pytest.raises(ConfigError) as err:
        load_settings(None, env, tmp_path)
    assert "key 'username': required key is missing" in err.value.message


# -- reads -------------------------------------------------------------------------

def page_of(start: int, count: int, **extra: Any) -> List[Dict[str, Any]]:
    return [release(start + i, "success", **extra) for i in range(count)]


def test_list_follows_pages_until_a_short_page():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=page_of(1, 50))
        rsps.get(RELEASES, json=page_of(51, 3))
        result = run(t, make_request("deployment_list", environment=None, version=None, limit=0))
        assert [query(c) for c in rsps.calls] == [{"page": ["1"], "per_page": ["50"]},
                                                  {"page": ["2"], "per_page": ["50"]}]
        assert_headers(rsps.calls[0])
    assert [item["id"] for item in result.items] == [str(i) for i in range(1, 54)]
    first = result.items[0]
    assert {k: v for k, v in first.items() if k != "raw"} == {
        "id": "1", "status": "success", "version": None, "environment": "Dreams", "commit": SHA,
        "created_at": "2013-01-16T21:04:08Z", "url": API + "/67/releases/1.json"}
    assert first["raw"]["id"] == 1


def test_list_stops_at_the_limit():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=page_of(1, 50))
        rsps.get(RELEASES, json=page_of(51, 50))
        result = run(t, make_request("deployment_list", environment=None, version=None, limit=60))
        assert len(rsps.calls) == 2
    assert len(result.items) == 60 and result.items[-1]["id"] == "60"


def test_small_limit_asks_for_a_small_page():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=page_of(1, 5))
        result = run(t, make_request("deployment_list", environment=None, version=None, limit=5))
        assert query(rsps.calls[0]) == {"page": ["1"], "per_page": ["5"]}
    assert len(result.items) == 5


def test_list_without_repository_is_account_wide_and_filters():
    t = target(repository=None)
    ours = release(7, "failed", comment="v2.0.0 to Dreams [shipmark abc] https://ci/1", repository_id=68,
                   created_at="garbled")
    other_env = release(8, "success", comment="v2.0.0 [shipmark def]", environment_name="Staging")
    other_version = release(9, "pending", comment="v1.0.0 [shipmark ghi]")
    foreign = release(10, "success", comment="v2.0.0 by hand")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/releases.json", json=[ours, other_env, other_version, foreign])
        result = run(t, make_request("deployment_list", environment="dreams", version="v2.0.0", limit=10))
        assert query(rsps.calls[0]) == {"page": ["1"], "per_page": ["50"]}  # filtering: full pages
    assert [(i["id"], i["status"], i["version"], i["url"], i["created_at"]) for i in result.items] == [
        ("7", "failure", "v2.0.0", API + "/68/releases/7.json", "garbled")]


def test_get_one_release():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/67/releases/183.json", json=release(183, "pending"))
        result = run(t, make_request("deployment_get", id="183"))
        assert_headers(rsps.calls[0])
        assert rsps.calls[0].request.body is None
    assert (result.id, result.remote_status, result.url) == ("183", "in_progress", API + "/67/releases/183.json")
    assert result.message == f"revision {SHA}, environment Dreams, created 2013-01-16T21:04:08Z"
    assert result.raw["id"] == 183


def test_retry_puts_with_no_body():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.put(API + "/67/releases/183/retry.json", status=200, body="")
        result = run(t, make_request("deployment_retry", id="183"))
        call = rsps.calls[0]
        assert call.request.method == "PUT" and not call.request.body
        assert_headers(call)
    assert result.ok and result.id == "183" and result.message == "retry requested"
    assert result.url == API + "/67/releases/183.json"


def test_release_id_is_one_path_segment():
    t = target(repository="web app")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/web%20app/releases/1%2F2.json", json=release(1))
        run(t, make_request("deployment_get", id="1/2"))
        assert urlsplit(rsps.calls[0].request.url).path == "/api/web%20app/releases/1%2F2.json"


def test_discover_lists_repositories_and_environments():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/repositories.json", json=[{"repository": {"id": 67, "name": "web", "title": "Web",
                                                                   "vcs": "git"}}])
        rsps.get(ENVIRONMENTS, json=[{"server_environment": {"id": 3, "name": "Production",
                                                             "branch_name": "main", "automatic": False}}])
        result = run(t, make_request("discover"))
        assert_headers(rsps.calls[0])
    assert [{k: v for k, v in i.items() if k != "raw"} for i in result.items] == [
        {"kind": "repository", "id": "67", "name": "web", "detail": "Web git"},
        {"kind": "environment", "id": "3", "name": "Production", "detail": "branch main, repository 67"}]


def test_probe():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(ENVIRONMENTS, json=[{"server_environment": {"id": 3}}] * 2)
        assert target().probe() == "authenticated; repository 67 has 2 environments"
        assert_headers(rsps.calls[0])
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(API + "/repositories.json", json=[{"repository": {"id": 1}}])
        assert target(repository=None).probe() == "authenticated; 1 repository"


def test_created_at_format():
    assert iso_time("2013/01/17 05:04:08 +0800") == "2013-01-16T21:04:08Z"
    assert iso_time(None) is None


# -- dry run -----------------------------------------------------------------------

def test_dry_run_sends_nothing_and_masks_the_token():
    shown: List[str] = []
    t = make_target("beanstalk", dry_run=True, shown=shown, token=CANARY, url=ROOT, username="ci",
                    repository=67)
    request = deploy_request(environment="production", dry_run=True)
    with responses.RequestsMock(assert_all_requests_are_fired=True):  # nothing registered: a send would fail
        result = run(t, request)
        for op, extra in (("deployment_retry", {"id": "9"}), ("deployment_get", {"id": "9"}),
                          ("deployment_list", {}), ("discover", {})):
            assert run(t, make_request(op, dry_run=True, **extra)).message == "dry run: not sent"
    assert result.message == "dry run: not sent"
    text = "\n".join(shown)
    assert text.startswith(f"GET {API}/67/server_environments.json")
    assert f"POST {API}/67/releases.json?environment_id=%3Cid+of+production%3E" in text
    assert "Authorization: Basic ***" in text
    assert '"release": {"revision": "' + SHA in text
    assert_no_canary(text)
    assert AUTH.split()[1] not in text


def test_a_default_environment_name_yields_to_the_targets_environment_id():
    """defaults.environment: production with environment_id set deploys there without a name lookup."""
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(RELEASES, json=[])
        rsps.post(RELEASES, json={"release": {"id": 190, "state": "new"}})
        run(t, deploy_request(environment="production", environment_explicit=False))
        assert rsps.calls[-1].request.url == RELEASES + "?environment_id=3"
