"""DeployBot backend: exact requests per operation, errors, statuses, paging, idempotency, dry run."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from pydantic import ValidationError

from shipmark.config import load_settings
from shipmark.errors import ApiError, ConfigError, UnsupportedError, UsageError
from shipmark.models import Result, Status
from shipmark.targets.deploybot import DeployBot, DeployBotConfig, api_base, version_from_comment
from shipmark.targets.values import iso_time
from tests.conftest import CANARY, SHA, assert_no_canary, json_body, make_request, make_target

ACCOUNT = "https://acme.deploybot.com"
API = ACCOUNT + "/api/v1"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def target(**config: Any) -> DeployBot:
    config.setdefault("environment_id", 12)
    return make_target("deploybot", token=CANARY, url=ACCOUNT, **config)


def page(entries: List[Dict[str, Any]], next_after: Optional[int] = None, total: Optional[int] = None) -> Dict[str, Any]:
    return {"meta": {"next": next_after, "next_uri": None if next_after is None else f"/x?after={next_after}",
                     "total": len(entries) if total is None else total},
            "entries": entries}


def deployment(ident: int = 345, state: str = "waiting", comment: str = "manual", env: int = 12,
               version: str = SHA, created: str = "2024/05/01 12:30:05 +0000") -> Dict[str, Any]:
    return {"id": ident, "repository_id": 7, "environment_id": env, "user_id": 3, "deployed_version": version,
            "deploy_from_scratch": False, "trigger_notifications": True, "is_automatic": False,
            "comment": comment, "author_name": "CI", "state": state, "retries": 0,
            "created_at": created, "deployed_at": None}


def query(call) -> List[tuple]:
    """The query string of a call as an ordered list of pairs."""
    return parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True)


def path(call) -> str:
    return urlsplit(call.request.url).path


def assert_auth(call, content_type: Optional[str] = None) -> None:
    headers = call.request.headers
    assert headers["X-Api-Token"] == CANARY
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("shipmark/")
    assert "token" not in urlsplit(call.request.url).query  # never a secret in the URL
    if content_type:
        assert headers["Content-Type"] == content_type
    else:
        assert "Content-Type" not in headers


def deploy_request(**kw: Any):
    kw.setdefault("environment", None)
    kw.setdefault("environment_explicit", kw["environment"] is not None)  # as `-e NAME` sets it
    return make_request("deploy", **kw)


def run(t: DeployBot, request) -> Result:
    """As deliver does it: check first, then the operation."""
    t.check(request)
    return getattr(t, request.operation)(request)


def expected_comment(request) -> str:
    return (f"v1.2.3 via github_actions #9876543210 by octo-dev (shipmark {request.event.event_key}) "
            "https://github.com/acme/shop/actions/runs/9876543210")


# -- config ------------------------------------------------------------------------------

@pytest.mark.parametrize("url, base", [
    ("https://acme.deploybot.com", API),
    ("https://acme.deploybot.com/", API),
    ("https://acme.deploybot.com/api", API),
    ("https://acme.deploybot.com/api/v1", API),
    ("https://acme.deploybot.com/api/v1/", API),
])
def test_api_v1_is_appended_to_the_account_url(url: str, base: str) -> None:
    assert api_base(url) == base
    assert make_target("deploybot", token=CANARY, url=url).http.base_url == base


def config(**keys: Any) -> DeployBotConfig:
    return DeployBotConfig.model_validate({"type": "deploybot", "name": "db", **keys})


def test_config_requires_url_and_token() -> None:
    with pytest.raises(ValidationError, match="url: required"):
        config(token="x" * 8)
    with pytest.raises(ValidationError, match=r"token\n  Value error, required key is missing: set it to a DeployBot API token"):
        config(url=ACCOUNT)


def test_config_ids_are_positive_integers() -> None:
    assert config(url=ACCOUNT, token="t" * 8, environment_id="12", user_id=3).environment_id == 12
    with pytest.raises(ValidationError, match="environment_id"):
        config(url=ACCOUNT, token="t" * 8, environment_id=0)
    with pytest.raises(ValidationError, match="user_id"):
        config(url=ACCOUNT, token="t" * 8, user_id="me")


def test_plain_http_is_rejected_except_loopback() -> None:
    with pytest.raises(ValidationError, match="must be https"):
        config(url="http://acme.deploybot.com", token="t" * 8)
    assert config(url="http://127.0.0.1:8080", token="t" * 8).url == "http://127.0.0.1:8080"
    assert config(url="http://acme.example", token="t" * 8, allow_insecure=True)


def test_unknown_key_names_it_and_lists_the_valid_ones(tmp_path) -> None:
    env = {"SHIPMARK_TARGET_DB_TYPE": "deploybot", "SHIPMARK_TARGET_DB_URL": ACCOUNT,
           "SHIPMARK_TARGET_DB_TOKEN": CANARY, "SHIPMARK_TARGET_DB_REPOSITORY": "7"}
    with pytest.raises(ConfigError) as exc:
        load_settings(None, env, tmp_path)
    assert str(exc.value) == (
        "environment: target 'db' (with SHIPMARK_TARGET_* variables): key 'repository': unknown key "
        "(valid keys: allow_insecure, environment_id, required, timeout, token, type, url, user_id)")
    assert_no_canary(str(exc.value))


def test_config_from_environment_variables(tmp_path) -> None:
    env = {"SHIPMARK_TARGET_DB_TYPE": "deploybot", "SHIPMARK_TARGET_DB_URL": ACCOUNT,
           "SHIPMARK_TARGET_DB_TOKEN": CANARY, "SHIPMARK_TARGET_DB_ENVIRONMENT_ID": "12",
           "SHIPMARK_TARGET_DB_USER_ID": "3"}
    cfg = load_settings(None, env, tmp_path).targets["db"]
    assert (cfg.environment_id, cfg.user_id) == (12, 3)
    assert cfg.public_view()["token"] == "***"


# -- deploy ------------------------------------------------------------------------------

def test_deploy_triggers_the_commit_with_a_comment_naming_the_run(rsps) -> None:
    t = target()
    request = deploy_request()
    rsps.get(API + "/deployments", json=page([deployment(300, "success", "older deploy")]))
    rsps.post(API + "/deployments", json=deployment(345, "waiting", expected_comment(request)))

    result = run(t, request)

    lookup, post = rsps.calls
    assert (lookup.request.method, path(lookup), query(lookup)) == \
        ("GET", "/api/v1/deployments", [("environment_id", "12"), ("limit", "50")])
    assert_auth(lookup)
    assert (post.request.method, path(post), query(post)) == ("POST", "/api/v1/deployments", [])
    assert_auth(post, "application/json")
    assert json_body(post) == {"environment_id": 12, "deployed_version": SHA, "comment": expected_comment(request)}
    assert (result.ok, result.id, result.url, result.status_code) == (True, "345", API + "/deployments/345", 200)
    assert result.remote_status == "queued"  # DeployBot "waiting"
    assert result.event_key == request.event.event_key and result.message is None


def test_deploy_sends_params_and_user_only_when_set(rsps) -> None:
    t = target(user_id=3)
    request = deploy_request(params={"deploy_from_scratch": "true", "trigger_notifications": "False",
                                     "skip_build": "false", "environment_id": "44", "user_id": "9"})
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", json=deployment(346, "pending", env=44))

    result = run(t, request)

    assert query(rsps.calls[0]) == [("environment_id", "44"), ("limit", "50")]
    assert json_body(rsps.calls[1]) == {
        "environment_id": 44, "user_id": 9, "deployed_version": SHA, "deploy_from_scratch": True,
        "trigger_notifications": False, "skip_build": False, "comment": expected_comment(request)}
    assert (result.id, result.remote_status) == ("346", "in_progress")


def test_deploy_takes_the_configured_user(rsps) -> None:
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", json=deployment())
    run(target(user_id=3), deploy_request())
    assert json_body(rsps.calls[1])["user_id"] == 3


def test_numeric_environment_is_used_as_the_id(rsps) -> None:
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", json=deployment(env=5))
    run(target(), deploy_request(environment="5"))
    assert json_body(rsps.calls[1])["environment_id"] == 5


ENVIRONMENTS_P1 = [
    {"id": 12, "name": "production", "repository_id": "7", "branch_name": "main", "current_version": SHA},
    {"id": 13, "name": "Staging", "repository_id": 7, "branch_name": "develop", "current_version": None},
]
ENVIRONMENTS_P2 = [
    {"id": 21, "name": "production", "repository_id": 8, "branch_name": "main"},
    {"id": 22, "name": "staging", "repository_id": 8, "branch_name": "main"},
]


def environments_pages(rsps) -> None:
    rsps.get(API + "/environments", json=page(ENVIRONMENTS_P1, next_after=13, total=4),
             match=[responses.matchers.query_string_matcher("limit=50")])
    rsps.get(API + "/environments", json=page(ENVIRONMENTS_P2, total=4),
             match=[responses.matchers.query_string_matcher("limit=50&after=13")])


def test_environment_name_is_resolved_in_the_targets_repository(rsps) -> None:
    environments_pages(rsps)
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", json=deployment(env=13))

    run(target(environment_id=12), deploy_request(environment="staging"))

    assert [path(c) for c in rsps.calls] == ["/api/v1/environments", "/api/v1/environments",
                                             "/api/v1/deployments", "/api/v1/deployments"]
    assert query(rsps.calls[1]) == [("limit", "50"), ("after", "13")]
    assert query(rsps.calls[2]) == [("environment_id", "13"), ("limit", "50")]
    assert json_body(rsps.calls[3])["environment_id"] == 13  # repository 7's "Staging", not 22


def test_ambiguous_environment_name_without_a_configured_environment_is_a_usage_error(rsps) -> None:
    environments_pages(rsps)
    with pytest.raises(UsageError) as exc:
        run(target(environment_id=None), deploy_request(environment="production"))
    assert str(exc.value) == ("DeployBot has several environments named 'production': id 12 (repository 7), "
                              "id 21 (repository 8); pick one with -e ID or --param environment_id=N")
    assert all(c.request.method == "GET" for c in rsps.calls)


def test_unknown_environment_name_lists_the_known_ones(rsps) -> None:
    environments_pages(rsps)
    with pytest.raises(UsageError) as exc:
        run(target(environment_id=12), deploy_request(environment="qa"))
    assert str(exc.value) == ("DeployBot has no environment named 'qa' of repository 7 (known: Staging, production): "
                              "pass -e with one of these names or an id, or --param environment_id=N")


def test_rerun_finds_the_event_key_and_sends_no_post(rsps) -> None:
    t = target()
    request = deploy_request()
    earlier = deployment(340, "success", expected_comment(request))
    rsps.get(API + "/deployments", json=page([deployment(341, "success", "other")], next_after=341),
             match=[responses.matchers.query_string_matcher("environment_id=12&limit=50")])
    rsps.get(API + "/deployments", json=page([earlier]),
             match=[responses.matchers.query_string_matcher("environment_id=12&limit=50&after=341")])

    result = run(t, request)

    assert len(rsps.calls) == 2 and all(c.request.method == "GET" for c in rsps.calls)
    assert (result.ok, result.id, result.message, result.remote_status) == (True, "340", "already recorded", "success")


def test_lookup_reads_two_pages_at_most(rsps) -> None:
    request = deploy_request()
    rsps.get(API + "/deployments", json=page([deployment(9)], next_after=9),
             match=[responses.matchers.query_string_matcher("environment_id=12&limit=50")])
    rsps.get(API + "/deployments", json=page([deployment(8)], next_after=8),
             match=[responses.matchers.query_string_matcher("environment_id=12&limit=50&after=9")])
    rsps.post(API + "/deployments", json=deployment(10))
    assert run(target(), request).id == "10"
    assert [c.request.method for c in rsps.calls] == ["GET", "GET", "POST"]


def test_a_failed_earlier_deployment_does_not_block_a_rerun(rsps) -> None:
    request = deploy_request()
    rsps.get(API + "/deployments", json=page([deployment(340, "failed", expected_comment(request))]))
    rsps.post(API + "/deployments", json=deployment(350))
    assert run(target(), request).id == "350"


def test_post_that_may_have_landed_is_confirmed_by_lookup_not_resent(rsps) -> None:
    request = deploy_request()
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", status=502, json={"message": "Bad gateway"})
    rsps.get(API + "/deployments", json=page([deployment(360, "pending", expected_comment(request))]))

    result = run(target(), request)

    assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]
    assert (result.id, result.message, result.remote_status) == ("360", "recorded (confirmed after a retry)",
                                                                 "in_progress")


# -- statuses --------------------------------------------------------------------------------

def test_status_mapping_is_the_documented_one() -> None:
    assert {s.value: w for s, w in DeployBot.status_map.items()} == {
        "queued": "waiting", "in_progress": "pending", "success": "success", "failure": "failed",
        "cancelled": None, "skipped": "skipped"}
    t = target()
    assert t.service_status(Status.FAILURE) == "failed"
    with pytest.raises(UnsupportedError, match="status 'cancelled' cannot be represented by deploybot"):
        t.service_status(Status.CANCELLED)


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.SUCCESS])
def test_only_success_triggers_a_deployment(rsps, status: Status) -> None:
    with pytest.raises(UnsupportedError) as exc:
        target().check(deploy_request(status=status))
    assert str(exc.value) == (f"DeployBot only triggers deployments, so status {status.value!r} cannot be recorded: "
                              "use `shipmark deploy` (status success) to trigger one and --wait to follow it")
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("state, status", [
    ("waiting", Status.QUEUED), ("pending", Status.IN_PROGRESS), ("success", Status.SUCCESS),
    ("failed", Status.FAILURE), ("skipped", Status.SKIPPED), ("queued_for_review", None),
])
def test_poll_reads_the_deployment_state(rsps, state: str, status: Optional[Status]) -> None:
    t = target()
    rsps.get(API + "/deployments/345", json=deployment(345, state))
    result = t.result(deploy_request(), id="345")
    assert t.poll(result) == (status, state)
    assert_auth(rsps.calls[0])


@pytest.mark.parametrize("kw, message", [
    (dict(host="web-1"), "DeployBot deploys an environment to all of its servers: --host cannot be expressed "
                         "(drop --host for this target)"),
    (dict(commit=None), "DeployBot deploys a revision and no commit sha was detected: pass --commit SHA"),
])
def test_requests_deploybot_cannot_express(rsps, kw, message: str) -> None:
    with pytest.raises(UnsupportedError) as exc:
        target().check(deploy_request(**kw))
    assert str(exc.value) == message


def test_no_environment_anywhere_is_unsupported(rsps) -> None:
    with pytest.raises(UnsupportedError, match="DeployBot needs an environment: set environment_id on the target, "
                                               "or pass -e NAME|ID"):
        target(environment_id=None).check(deploy_request())


@pytest.mark.parametrize("operation, params, message", [
    ("deploy", {"colour": "red"}, "--param colour: unknown for deploybot deploy (valid: deploy_from_scratch, "
                                  "environment_id, skip_build, trigger_notifications, user_id)"),
    ("deploy", {"skip_build": "maybe"}, "--param skip_build='maybe': expected true or false"),
    ("deploy", {"user_id": "-3"}, "--param user_id='-3': expected a positive integer id"),
    ("deployment_get", {"x": "1"}, "--param x: unknown for deploybot deployment get (valid: none)"),
])
def test_bad_params_are_usage_errors(rsps, operation: str, params: Dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as exc:
        target().check(make_request(operation, params=params, id="1"))
    assert str(exc.value) == message


def test_unsupported_operations_are_absent() -> None:
    assert DeployBot.supported_operations() == ["deploy", "deployment_get", "deployment_list", "discover"]
    with pytest.raises(UnsupportedError, match="release create is not supported by deploybot"):
        target().check(make_request("release_create"))


# -- errors ------------------------------------------------------------------------------------

def test_422_shows_the_server_message(rsps) -> None:
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", status=422, json={"message": "Deployed version was not found in the repository."})
    with pytest.raises(ApiError) as exc:
        run(target(), deploy_request())
    assert exc.value.message == ("HTTP 422 (the service rejected the data): "
                                 "Deployed version was not found in the repository.")
    assert (exc.value.status_code, exc.value.transient) == (422, False)


def test_403_on_a_post_explains_read_only_tokens(rsps) -> None:
    rsps.get(API + "/deployments", json=page([]))
    rsps.post(API + "/deployments", status=403, json={"message": "Forbidden."})
    with pytest.raises(ApiError) as exc:
        run(target(), deploy_request())
    assert exc.value.message == ("HTTP 403: the API token is read-only (DeployBot allows only GET with read-only "
                                 "keys): create a token with write access (DeployBot said: Forbidden.)")
    assert exc.value.status_code == 403 and not exc.value.transient


def test_403_on_a_get_is_not_blamed_on_read_only_tokens(rsps) -> None:
    rsps.get(API + "/deployments/5", status=403, json={"message": "Access denied."})
    with pytest.raises(ApiError) as exc:
        target().deployment_get(make_request("deployment_get", id="5"))
    assert exc.value.message == "HTTP 403 (forbidden: the token lacks permission for this): Access denied."


def test_401_is_permanent_and_never_echoes_the_token(rsps) -> None:
    rsps.get(API + "/environments", status=401, json={"message": f"Invalid API token {CANARY}."})
    with pytest.raises(ApiError) as exc:
        target().deployment_list(make_request("deployment_list", environment=None))
    assert exc.value.message == "HTTP 401 (authentication failed: check the token): Invalid API token ***."
    assert not exc.value.transient


def test_error_body_that_is_not_the_documented_shape_is_shown_as_text(rsps) -> None:
    rsps.get(API + "/deployments/5", status=400, body="Malformed JSON payload")
    with pytest.raises(ApiError, match=r"^HTTP 400 \(bad request\): Malformed JSON payload$"):
        target().deployment_get(make_request("deployment_get", id="5"))


def test_5xx_on_a_read_is_retried(rsps) -> None:
    rsps.get(API + "/deployments/5", status=502, json={"message": "Bad gateway"})
    rsps.get(API + "/deployments/5", json=deployment(5, "success"))
    assert target().deployment_get(make_request("deployment_get", id="5")).remote_status == "success"
    assert len(rsps.calls) == 2


def test_5xx_that_persists_is_transient(rsps) -> None:
    rsps.get(API + "/deployments/5", status=500, json={"message": "Internal error"})
    t = make_target("deploybot", token=CANARY, url=ACCOUNT, timeout=1.0)  # a small budget: few retries
    with pytest.raises(ApiError) as exc:
        t.deployment_get(make_request("deployment_get", id="5"))
    assert exc.value.transient and exc.value.status_code == 500
    assert re.fullmatch(r"HTTP 500 \(server error\): Internal error( \(after \d+ attempts\))?", exc.value.message)


def test_success_body_that_is_not_an_object_is_a_readable_error(rsps) -> None:
    rsps.get(API + "/deployments/5", body="<html>login</html>", content_type="text/html")
    with pytest.raises(ApiError, match="an HTML page instead of JSON"):
        target().deployment_get(make_request("deployment_get", id="5"))


# -- dry run ----------------------------------------------------------------------------------

def test_dry_run_sends_nothing_and_masks_the_token(rsps) -> None:
    shown: List[str] = []
    t = make_target("deploybot", token=CANARY, url=ACCOUNT, environment_id=12, dry_run=True, shown=shown)
    request = deploy_request(dry_run=True, params={"skip_build": "true"})

    result = run(t, request)

    assert len(rsps.calls) == 0
    assert (result.ok, result.message) == (True, "dry run: not sent")
    (text,) = shown
    assert text.startswith("POST https://acme.deploybot.com/api/v1/deployments\n")
    assert "  X-Api-Token: ***" in text.splitlines()
    assert "  Content-Type: application/json" in text.splitlines()
    body = json.loads(text.splitlines()[-1])
    assert body == {"environment_id": 12, "deployed_version": SHA, "skip_build": True,
                    "comment": expected_comment(request)}
    assert_no_canary(text)


def test_dry_run_with_an_environment_name_shows_where_the_id_goes(rsps) -> None:
    shown: List[str] = []
    t = make_target("deploybot", token=CANARY, url=ACCOUNT, dry_run=True, shown=shown)
    result = run(t, deploy_request(environment="production", dry_run=True))
    assert len(rsps.calls) == 0
    assert json.loads(shown[0].splitlines()[-1])["environment_id"] == "<id of environment 'production'>"
    assert result.message == "dry run: not sent (the environment id is looked up by name when sent)"


def test_dry_run_of_reads_shows_the_request_only(rsps) -> None:
    shown: List[str] = []
    t = make_target("deploybot", token=CANARY, url=ACCOUNT, dry_run=True, shown=shown)
    assert t.deployment_get(make_request("deployment_get", id="7", dry_run=True)).message == "dry run: not sent"
    listed = t.deployment_list(make_request("deployment_list", environment="3", dry_run=True))
    assert listed.items == [] and len(rsps.calls) == 0
    assert [s.splitlines()[0] for s in shown] == [
        "GET https://acme.deploybot.com/api/v1/deployments/7",
        "GET https://acme.deploybot.com/api/v1/deployments?environment_id=3&limit=50"]
    assert_no_canary(*shown)


# -- reads --------------------------------------------------------------------------------------

def test_deployment_get(rsps) -> None:
    rsps.get(API + "/deployments/345", json=deployment(345, "failed", "v1.2.3 via ci (shipmark 0123456789abcdef) x"))
    result = target().deployment_get(make_request("deployment_get", id="345"))
    assert_auth(rsps.calls[0])
    assert (result.id, result.url, result.remote_status, result.status_code) == \
        ("345", API + "/deployments/345", "failure", 200)
    (item,) = result.items
    assert {k: v for k, v in item.items() if k != "raw"} == {
        "id": "345", "status": "failure", "version": "v1.2.3", "environment": "12", "commit": SHA,
        "created_at": "2024-05-01T12:30:05Z", "url": API + "/deployments/345"}
    assert item["raw"]["author_name"] == "CI"


def test_deployment_get_percent_encodes_the_id(rsps) -> None:
    rsps.get(API + "/deployments/a%2Fb", json=deployment(1))
    target().deployment_get(make_request("deployment_get", id="a/b"))
    assert rsps.calls[0].request.url == API + "/deployments/a%2Fb"


def list_pages(rsps, filters: str = "") -> None:
    prefix = filters + "&" if filters else ""
    rsps.get(API + "/deployments", json=page([deployment(9, "success", "v2 via ci (shipmark 0123456789abcdef)"),
                                              deployment(8, "pending", env=13)], next_after=8, total=5),
             match=[responses.matchers.query_string_matcher(prefix + "limit=50")])
    rsps.get(API + "/deployments", json=page([deployment(7, "waiting", version="abc1234def"),
                                              deployment(6, "skipped", env=99)], next_after=6, total=5),
             match=[responses.matchers.query_string_matcher(prefix + "limit=50&after=8")])
    rsps.get(API + "/deployments", json=page([deployment(5, "odd-state")], total=5),
             match=[responses.matchers.query_string_matcher(prefix + "limit=50&after=6")])


def test_deployment_list_follows_pages_and_names_environments(rsps) -> None:
    rsps.get(API + "/environments", json=page(ENVIRONMENTS_P1))
    list_pages(rsps)

    result = target().deployment_list(make_request("deployment_list", environment=None, version=None, limit=0))

    assert [path(c) for c in rsps.calls] == ["/api/v1/environments"] + ["/api/v1/deployments"] * 3
    for call in rsps.calls:
        assert_auth(call)
    assert [(i["id"], i["status"], i["environment"], i["version"]) for i in result.items] == [
        ("9", "success", "production", "v2"), ("8", "in_progress", "Staging", SHA),
        ("7", "queued", "production", "abc1234def"), ("6", "skipped", "99", SHA),
        ("5", "odd-state", "production", SHA)]
    assert result.items[0]["created_at"] == "2024-05-01T12:30:05Z"
    assert result.items[0]["raw"]["id"] == 9


def test_deployment_list_stops_at_the_limit(rsps) -> None:
    rsps.get(API + "/environments", json=page([]))
    rsps.get(API + "/deployments", json=page([deployment(9), deployment(8)], next_after=8),
             match=[responses.matchers.query_string_matcher("limit=50")])
    rsps.get(API + "/deployments", json=page([deployment(7), deployment(6)], next_after=6),
             match=[responses.matchers.query_string_matcher("limit=50&after=8")])
    result = target().deployment_list(make_request("deployment_list", environment=None, version=None, limit=3))
    assert [i["id"] for i in result.items] == ["9", "8", "7"]
    assert len(rsps.calls) == 3  # the third page is never requested


def test_deployment_list_filters_by_environment_name_and_version(rsps) -> None:
    environments_pages(rsps)
    list_pages(rsps, "environment_id=13")
    result = target().deployment_list(make_request("deployment_list", environment="Staging", version="abc1234",
                                                         environment_explicit=True))
    assert [i["id"] for i in result.items] == ["7"]  # matched by commit prefix
    assert result.items[0]["environment"] == "production"  # the listing names what the server returned


def test_deployment_list_repository_param(rsps) -> None:
    rsps.get(API + "/environments", json=page([]))
    rsps.get(API + "/deployments", json=page([deployment(1)]),
             match=[responses.matchers.query_string_matcher("repository_id=7&limit=50")])
    result = target().deployment_list(make_request("deployment_list", environment=None, version=None,
                                                   params={"repository_id": "7"}))
    assert [i["id"] for i in result.items] == ["1"]


def test_discover_lists_environments_repositories_servers_users(rsps) -> None:
    environments_pages(rsps)
    rsps.get(API + "/repositories", json=page([{"id": 7, "name": "shop", "title": "Shop", "type": "git"}]))
    rsps.get(API + "/servers", json=page([{"id": "31", "name": "web-1", "environment_id": 12, "protocol": "sftp"}]))
    rsps.get(API + "/users", json=page([{"id": 3189, "first_name": "Andrew", "last_name": "Schofield",
                                         "email": "andrew@example.com", "is_admin": True}]))

    result = target().discover(make_request("discover"))

    assert [path(c) for c in rsps.calls] == ["/api/v1/environments", "/api/v1/environments", "/api/v1/repositories",
                                             "/api/v1/servers", "/api/v1/users"]
    rows = [{k: v for k, v in item.items() if k != "raw"} for item in result.items]
    assert rows[0] == {"kind": "environment", "id": "12", "name": "production",
                       "detail": f"repository 7, branch main, at {SHA[:12]}"}
    assert rows[-3:] == [
        {"kind": "repository", "id": "7", "name": "Shop", "detail": "shop (git)"},
        {"kind": "server", "id": "31", "name": "web-1", "detail": "environment 12, sftp"},
        {"kind": "user", "id": "3189", "name": "Andrew Schofield", "detail": "andrew@example.com (admin)"},
    ]
    assert [r["id"] for r in rows if r["kind"] == "environment"] == ["12", "13", "21", "22"]


def test_probe(rsps) -> None:
    rsps.get(API + "/environments", json=page([ENVIRONMENTS_P1[0]], next_after=12, total=4),
             match=[responses.matchers.query_string_matcher("limit=1")])
    rsps.get(API + "/environments/12", json=ENVIRONMENTS_P1[0])
    assert target(environment_id=None).probe() == "authenticated; 4 environments"
    assert target(environment_id=12).probe() == "authenticated; environment 12 (production)"
    for call in rsps.calls:
        assert_auth(call)


def test_unexpected_list_shape_is_a_readable_error(rsps) -> None:
    rsps.get(API + "/environments", json={"items": []})
    with pytest.raises(ApiError, match=r'^unexpected response from DeployBot /environments: expected '
                                       r'\{"meta": \.\.\., "entries": \[\.\.\.\]\}, got dict: \{"items": \[\]\}$'):
        target().discover(make_request("discover"))


def test_helpers() -> None:
    assert iso_time("2015/02/24 15:22:49 +0100") == "2015-02-24T14:22:49Z"
    assert iso_time("yesterday") == "yesterday" and iso_time(None) is None
    assert version_from_comment("v9 via x (shipmark 0123456789abcdef) u") == "v9"
    assert version_from_comment("Deploy via Github Action") is None


def test_a_default_environment_name_yields_to_the_targets_environment_id() -> None:
    """defaults.environment: production with environment_id: 12 deploys to 12, no name lookup."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{API}/deployments", json={"meta": {"next": None, "total": 0}, "entries": []})
        mock.post(f"{API}/deployments", json={"id": 9, "state": "waiting", "environment_id": 12})
        t = target(environment_id=12)
        request = deploy_request(environment="production", environment_explicit=False)
        t.check(request)
        t.deploy(request)
        assert json.loads(mock.calls[-1].request.body)["environment_id"] == 12
