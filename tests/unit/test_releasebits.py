"""ReleaseBits backend: exact requests, errors, status mapping, config, paging, idempotency, dry-run."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import responses
from responses import matchers

from shipmark.config import load_settings
from shipmark.delivery import Job, Options, run
from shipmark.errors import ApiError, ConfigError, UnsupportedError, UsageError
from shipmark.models import Context, Event, Status
from shipmark.output import Console
from shipmark.targets.base import Request
from tests.conftest import CANARY, SHA, assert_no_canary, json_body, make_request, make_target

BASE = "https://api.releasebits.com"
CREATE_URL = f"{BASE}/components/web/deployments/"
LIST_URL = f"{BASE}/components/web/deployments"
RECORD_ID = "44b6a0d3-b7a0-4f26-b976-5fce52bfc4b9"


def target(**config):
    config.setdefault("token", CANARY)
    config.setdefault("component", "web")
    return make_target("releasebits", **config)


def record(**fields):
    base = {"id": RECORD_ID, "version": "v1.2.3", "result": "success", "stage": "production",
            "host": "host.example.com", "finished_at": "2024-05-01T12:30:00.123Z",
            "commit_sha": SHA, "meta_data": {"foo": "bar"}}
    base.update(fields)
    return base


def assert_common_headers(call):
    headers = call.request.headers
    assert headers["Authorization"] == f"Bearer {CANARY}"
    assert headers["User-Agent"].startswith("shipmark/")
    assert headers["Accept"] == "application/json"


def expected_body(request, **overrides):
    body = {
        "version": "v1.2.3",
        "result": "success",
        "stage": "production",
        "finished_at": "2024-05-01T12:30:00.123Z",
        "commit_sha": SHA,
        "branch": "main",
        "meta_data": {
            "ci_provider": "github_actions",
            "ci_run_id": "9876543210",
            "ci_run_url": "https://github.com/acme/shop/actions/runs/9876543210",
            "shipmark_event_key": request.event.event_key,
        },
    }
    body.update(overrides)
    return body


# -- deploy: the exact request -------------------------------------------------------

def test_deploy_sends_every_field_to_the_trailing_slash_path():
    t = target()
    request = make_request("deploy", host="web-1.example.com", name="Funky Fünke", tag="v1.2.3",
                           started_at=datetime(2024, 5, 1, 14, 29, 58, 5000, tzinfo=timezone(timedelta(hours=2))),
                           meta={"user_id": "metauser"})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[], match=[matchers.query_string_matcher("")])
        rsps.post(CREATE_URL, json={"id": RECORD_ID}, status=201)
        result = t.deploy(request)
        lookup, post = rsps.calls
    assert lookup.request.method == "GET" and lookup.request.url == LIST_URL
    assert_common_headers(lookup)
    assert post.request.method == "POST"
    assert post.request.url == CREATE_URL  # trailing slash, no query string (no token in the URL)
    assert_common_headers(post)
    assert post.request.headers["Content-Type"] == "application/json"
    assert json_body(post) == expected_body(
        request,
        host="web-1.example.com",
        code_name="Funky Fünke",
        tag="v1.2.3",
        started_at="2024-05-01T12:29:58.005Z",  # converted to UTC, milliseconds, Z
        meta_data={
            "ci_provider": "github_actions",
            "ci_run_id": "9876543210",
            "ci_run_url": "https://github.com/acme/shop/actions/runs/9876543210",
            "user_id": "metauser",
            "shipmark_event_key": request.event.event_key,
        },
    )
    assert result.ok and result.id == RECORD_ID and result.status_code == 201
    assert result.url == LIST_URL
    assert result.event_key == request.event.event_key and result.host == "web-1.example.com"
    assert result.message is None


def test_deploy_leaves_out_unknown_fields_instead_of_sending_null():
    t = target()
    event = Event(kind="deployment", operation="deploy", version="1.0", status=Status.FAILURE,
                  context=Context()).for_target("t")
    request = Request(operation="deploy", event=event)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"id": "x1"}, status=201)
        t.deploy(request)
        post = rsps.calls[1]
    assert json_body(post) == {"version": "1.0", "result": "failure",
                               "meta_data": {"shipmark_event_key": event.event_key}}


def test_user_meta_overrides_detected_ci_fields_but_never_the_event_key():
    t = target()
    request = make_request("deploy", meta={"ci_provider": "buildkite", "shipmark_event_key": "forged"})
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"id": "x1"}, status=201)
        t.deploy(request)
        meta = json_body(rsps.calls[1])["meta_data"]
    assert meta["ci_provider"] == "buildkite"
    assert meta["shipmark_event_key"] == request.event.event_key != "forged"


def test_component_slug_is_one_percent_encoded_path_segment():
    t = target(component="team/web app")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(f"{BASE}/components/team%2Fweb%20app/deployments", json=[])
        rsps.post(f"{BASE}/components/team%2Fweb%20app/deployments/", json={"id": "x1"}, status=201)
        result = t.deploy(make_request("deploy"))
    assert result.url == f"{BASE}/components/team%2Fweb%20app/deployments"


def test_custom_url_with_a_path_prefix_is_kept():
    t = target(url="https://rb.internal.example/api/")
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get("https://rb.internal.example/api/components/web/deployments", json=[])
        rsps.post("https://rb.internal.example/api/components/web/deployments/", json={"id": "x1"}, status=201)
        assert t.deploy(make_request("deploy")).id == "x1"


def test_numeric_id_becomes_a_string_and_a_missing_id_is_said():
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"id": 42}, status=201)
        assert t.deploy(make_request("deploy")).id == "42"
    t = target()  # a new run: the list of earlier records is fetched once per run
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, body="", status=201)
        result = t.deploy(make_request("deploy"))
    assert result.ok and result.id is None and result.message == "recorded; the response carried no id"


# -- status mapping ---------------------------------------------------------------------

@pytest.mark.parametrize("status, word", [
    (Status.SUCCESS, "success"), (Status.FAILURE, "failure"),
    (Status.CANCELLED, "cancelled"), (Status.SKIPPED, "skipped"),
])
def test_final_statuses_map_to_result_words(status, word):
    t = target()
    request = make_request("deploy", status=status)
    t.check(request)
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"id": "x1"}, status=201)
        t.deploy(request)
        assert json_body(rsps.calls[1])["result"] == word


@pytest.mark.parametrize("status", [Status.QUEUED, Status.IN_PROGRESS])
def test_unfinished_statuses_are_refused_before_any_request(status):
    t = target()
    request = make_request("deploy", status=status, finished_at=None)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        with pytest.raises(UnsupportedError) as exc:
            t.check(request)
        assert len(rsps.calls) == 0
    assert exc.value.message.startswith(f"status '{status.value}' cannot be represented by releasebits")
    assert "`shipmark deployment finish`" in exc.value.message


def _run_jobs(request, explicit):
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        report = run([Job(config=t.config, request=request, explicit=explicit)], Options(timeout=5),
                     Console(quiet=True))
        assert len(rsps.calls) == 0
    return report


def test_deployment_start_skips_releasebits_unless_named_and_errors_when_named():
    request = make_request("deploy", status=Status.IN_PROGRESS, finished_at=None)
    skipped = _run_jobs(request, explicit=False)
    assert skipped.exit_status == 0 and skipped.results[0].skipped
    named = _run_jobs(request, explicit=True)
    assert named.exit_status == 2 and not named.results[0].ok
    assert "cannot be represented by releasebits" in named.results[0].error


def test_a_missing_version_is_a_usage_error_before_any_request():
    request = make_request("deploy", version=None)
    with pytest.raises(UsageError, match=r"^releasebits needs a version: pass --version"):
        target().check(request)
    report = _run_jobs(request, explicit=False)
    assert report.exit_status == 2


def test_params_are_refused_with_the_valid_list():
    request = make_request("deploy", params={"deploy_from_scratch": "true"})
    with pytest.raises(UsageError) as exc:
        target().check(request)
    assert exc.value.message.startswith(
        "--param deploy_from_scratch: unknown for releasebits deploy (valid: none)")


def test_only_deploy_and_list_are_supported():
    from shipmark.targets.releasebits import ReleaseBits

    assert ReleaseBits.supported_operations() == ["deploy", "deployment_list"]
    with pytest.raises(UnsupportedError, match="^release create is not supported by releasebits$"):
        target().check(make_request("release_create"))


# -- idempotency ------------------------------------------------------------------------

def test_rerun_with_the_same_event_key_is_already_recorded_and_sends_no_post():
    t = target()
    request = make_request("deploy")
    found = record(id="found-1", meta_data={"shipmark_event_key": request.event.event_key})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(meta_data={"shipmark_event_key": "someone-else"}), record(meta_data=None),
                                 found])
        result = t.deploy(request)
        assert [c.request.method for c in rsps.calls] == ["GET"]
    assert result.ok and result.id == "found-1" and result.message == "already recorded"
    assert result.status_code == 200 and result.url == LIST_URL


def test_post_that_may_have_landed_is_confirmed_by_the_lookup_not_resent():
    t = target()
    request = make_request("deploy")
    mine = record(id="landed-1", meta_data={"shipmark_event_key": request.event.event_key})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"message": "upstream timeout"}, status=502)
        rsps.get(LIST_URL, json=[mine])
        result = t.deploy(request)
        assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET"]
    assert result.id == "landed-1" and result.message == "recorded (confirmed after a retry)"


def test_post_that_did_not_land_is_sent_again_after_the_lookup():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, body="Bad Gateway", status=502)
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"id": "second"}, status=201)
        result = t.deploy(make_request("deploy"))
        assert [c.request.method for c in rsps.calls] == ["GET", "POST", "GET", "POST"]
    assert result.id == "second"



def test_lookup_reads_at_most_two_pages():
    t = target()
    request = make_request("deploy")
    mine = record(id="on-page-2", meta_data={"shipmark_event_key": request.event.event_key})
    page2, page3 = f"{LIST_URL}?page=2", f"{LIST_URL}?page=3"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(id="1")], headers={"link": f'<{page2}>; rel="next"'},
                 match=[matchers.query_string_matcher("")])
        rsps.get(LIST_URL, json=[mine], match=[matchers.query_string_matcher("page=2")])
        assert t.deploy(request).id == "on-page-2"
    t = target()  # a new run
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(id="1")], headers={"Link": f'<{page2}>; rel="next"'},
                 match=[matchers.query_string_matcher("")])
        rsps.get(LIST_URL, json=[record(id="2")], headers={"Link": f'<{page3}>; rel="next"'},
                 match=[matchers.query_string_matcher("page=2")])
        rsps.post(CREATE_URL, json={"id": "new"}, status=201)
        assert t.deploy(request).id == "new"
        assert [c.request.method for c in rsps.calls] == ["GET", "GET", "POST"]  # page 3 not read


def test_hosts_of_one_run_share_one_lookup():
    """20 hosts to one component need one list of earlier records, not 20."""
    t = target()
    requests_ = [make_request("deploy", host=h) for h in ("web-1", "web-2", "web-3")]
    earlier = record(id="old", meta_data={"shipmark_event_key": requests_[1].event.event_key})
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[earlier])
        rsps.post(CREATE_URL, json={"id": "new"}, status=201)
        results = [t.deploy(r) for r in requests_]
        assert [c.request.method for c in rsps.calls] == ["GET", "POST", "POST"]
        assert [json.loads(c.request.body)["host"] for c in rsps.calls[1:]] == ["web-1", "web-3"]
    assert [(r.id, r.message) for r in results] == [("new", None), ("old", "already recorded"), ("new", None)]


def test_a_failed_shared_lookup_fails_each_host_without_asking_again():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json={"error": "bad token"}, status=401)
        outcomes = []
        for host in ("web-1", "web-2"):
            with pytest.raises(ApiError) as err:
                t.deploy(make_request("deploy", host=host))
            outcomes.append(err.value.status_code)
        assert len(rsps.calls) == 1
    assert outcomes == [401, 401]

# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("status, body, content_type, message", [
    (422, {"message": "version is required"}, None,
     "HTTP 422 (the service rejected the data): version is required"),
    (400, {"error": "invalid stage"}, None, "HTTP 400 (bad request): invalid stage"),
    (400, "started_at is not a date", "text/plain", "HTTP 400 (bad request): started_at is not a date"),
    (404, {"error": "Component not found"}, None,
     "HTTP 404 (not found): Component not found (check the component slug 'web' and the target's url)"),
    (401, "Unauthorized", "text/plain",
     "HTTP 401 (authentication failed: check the token): Unauthorized "
     "(use a ReleaseBits API token from /account/tokens as the target's token)"),
    (403, "", "text/plain",
     "HTTP 403 (forbidden: the token lacks permission for this): no error message in the response "
     "(the token may not write to component 'web')"),
    (409, "<html><head><title>Conflict</title></head><body>Conflict</body></html>", "text/html",
     "HTTP 409 (conflict): the server sent an HTML error page (Conflict)"),
])
def test_error_bodies_become_one_readable_line(status, body, content_type, message):
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[])
        kwargs = {"json": body} if isinstance(body, dict) else {"body": body, "content_type": content_type}
        rsps.post(CREATE_URL, status=status, **kwargs)
        with pytest.raises(ApiError) as exc:
            t.deploy(make_request("deploy"))
    assert exc.value.message == message
    assert exc.value.status_code == status and not exc.value.transient


def test_an_auth_failure_on_the_lookup_stops_before_the_post():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json={"message": "Invalid token"}, status=401)
        with pytest.raises(ApiError, match=r"^HTTP 401 \(authentication failed: check the token\): Invalid token"):
            t.deploy(make_request("deploy"))
        assert len(rsps.calls) == 1


def test_a_server_echoing_the_token_is_redacted():
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, json={"error": f"bad header Authorization: Bearer {CANARY}"}, status=400)
        with pytest.raises(ApiError) as exc:
            t.deploy(make_request("deploy"))
    assert_no_canary(exc.value.message)
    assert "Bearer ***" in exc.value.message


def test_a_non_json_success_body_is_an_error_not_a_silent_success():
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, body="<html>login</html>", status=200, content_type="text/html")
        with pytest.raises(ApiError, match="an HTML page instead of JSON"):
            t.deploy(make_request("deploy"))


def test_a_redirect_on_post_is_reported_not_followed():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[])
        rsps.post(CREATE_URL, status=301, headers={"Location": LIST_URL})
        with pytest.raises(ApiError, match="HTTP 301: the server redirects to"):
            t.deploy(make_request("deploy"))
        assert len(rsps.calls) == 2


def test_a_list_that_is_not_an_array_is_a_readable_error():
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json={"unexpected": True})
        with pytest.raises(ApiError, match="expected a JSON array of deployments, got dict"):
            t.deployment_list(make_request("deployment_list"))


# -- deployment list ------------------------------------------------------------------

def list_request(**event_fields):
    event = Event(kind="query", operation="deployment_list", context=Context(), **event_fields)
    return event


def test_list_gets_the_slashless_path_and_normalizes_items_newest_first():
    t = target()
    older = record(id="a", version="v1", finished_at="2024-05-01T10:00:00.000Z", result="failure")
    newer = record(id="b", version="v2", finished_at="2024-05-02T10:00:00.000Z", result="deploying",
                   stage="staging")
    undated = record(id="c", version="v0", finished_at=None, started_at=None)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[older, undated, newer], match=[matchers.query_string_matcher("")])
        result = t.deployment_list(Request(operation="deployment_list", event=list_request()))
        assert rsps.calls[0].request.url == LIST_URL
        assert_common_headers(rsps.calls[0])
    assert [i["id"] for i in result.items] == ["b", "a", "c"]
    assert result.items[0] == {"id": "b", "status": "deploying", "version": "v2", "environment": "staging",
                               "commit": SHA, "created_at": "2024-05-02T10:00:00.000Z", "url": None,
                               "raw": newer}
    assert result.items[1]["status"] == "failure"


def test_list_filters_by_stage_and_version_and_honours_limit():
    t = target()
    rows = [record(id=str(i), version=f"v{i % 2}", stage="production" if i < 4 else "staging",
                   finished_at=f"2024-05-0{i + 1}T00:00:00.000Z") for i in range(6)]
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=rows)
        by_env = t.deployment_list(Request(operation="deployment_list", event=list_request(environment="production")))
        both = t.deployment_list(Request(operation="deployment_list",
                                         event=list_request(environment="production", version="v1")))
        limited = t.deployment_list(Request(operation="deployment_list", event=list_request(), limit=2))
    assert [i["id"] for i in by_env.items] == ["3", "2", "1", "0"]
    assert [i["id"] for i in both.items] == ["3", "1"]
    assert [i["id"] for i in limited.items] == ["5", "4"]


def test_list_follows_link_next_pages_until_the_limit():
    t = target()
    page2 = f"{LIST_URL}?page=2"
    page3 = f"{LIST_URL}?page=3"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(id="1")], headers={"Link": f'<{page2}>; rel="next"'},
                 match=[matchers.query_string_matcher("")])
        rsps.get(LIST_URL, json=[record(id="2")], headers={"Link": f'<{page3}>; rel="next", <{LIST_URL}>; rel="first"'},
                 match=[matchers.query_string_matcher("page=2")])
        rsps.get(LIST_URL, json=[record(id="3")], match=[matchers.query_string_matcher("page=3")])
        everything = t.deployment_list(Request(operation="deployment_list", event=list_request(), limit=0))
        assert [c.request.url for c in rsps.calls] == [LIST_URL, page2, page3]
        assert all(c.request.headers["Authorization"] == f"Bearer {CANARY}" for c in rsps.calls)
    assert sorted(i["id"] for i in everything.items) == ["1", "2", "3"]

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(LIST_URL, json=[record(id="1"), record(id="2")], headers={"Link": f'<{page2}>; rel="next"'},
                 match=[matchers.query_string_matcher("")])
        rsps.get(LIST_URL, json=[record(id="3")], match=[matchers.query_string_matcher("page=2")])
        limited = t.deployment_list(Request(operation="deployment_list", event=list_request(), limit=2))
        assert len(rsps.calls) == 1  # two entries already: page 2 is not fetched
    assert len(limited.items) == 2


def test_list_never_follows_a_next_link_to_another_host():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(id="1")],
                 headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
        result = t.deployment_list(Request(operation="deployment_list", event=list_request(), limit=0))
        assert len(rsps.calls) == 1
    assert [i["id"] for i in result.items] == ["1"]


def test_list_stops_on_a_next_link_that_loops():
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json=[record(id="1")], headers={"Link": f'<{LIST_URL}>; rel="next"'})
        result = t.deployment_list(Request(operation="deployment_list", event=list_request(), limit=0))
        assert len(rsps.calls) == 1
    assert len(result.items) == 1


# -- probe ------------------------------------------------------------------------------

def test_probe_reads_the_list():
    t = target()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(LIST_URL, json=[record(), record(id="2")])
        assert t.probe() == "authenticated; component 'web': 2 deployments"
        assert_common_headers(rsps.calls[0])


# -- dry-run ----------------------------------------------------------------------------

def test_dry_run_sends_nothing_and_shows_the_post_with_the_token_masked():
    shown = []
    t = target(dry_run=True, shown=shown)
    request = make_request("deploy", dry_run=True)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        result = t.deploy(request)
        assert len(rsps.calls) == 0
    assert result.ok and result.message == "dry run: not sent"
    assert len(shown) == 1  # the write only: no lookup in dry-run
    text = shown[0]
    assert text.splitlines()[0] == f"POST {CREATE_URL}"
    assert "Authorization: Bearer ***" in text
    assert "Content-Type: application/json" in text
    assert json.loads(text.splitlines()[-1].strip()) == expected_body(request)
    assert_no_canary(text)


def test_dry_run_list_shows_the_get_and_returns_nothing():
    shown = []
    t = target(dry_run=True, shown=shown)
    request = Request(operation="deployment_list", event=list_request(), dry_run=True)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        result = t.deployment_list(request)
        assert len(rsps.calls) == 0
    assert result.items == [] and result.message == "dry run: not sent"
    assert shown[0].splitlines()[0] == f"GET {LIST_URL}"
    assert_no_canary(*shown)


# -- config -------------------------------------------------------------------------------

def settings_from_env(tmp_path, **keys):
    env = {f"SHIPMARK_TARGET_RB_{k.upper()}": v for k, v in keys.items()}
    env["SHIPMARK_TARGET_RB_TYPE"] = "releasebits"
    return load_settings(None, env, tmp_path)


def test_config_defaults_the_url_and_masks_the_token(tmp_path):
    config = settings_from_env(tmp_path, component="web", token=CANARY).targets["rb"]
    assert config.url == BASE and config.component == "web"
    view = config.public_view()
    assert view["token"] == "***"
    assert_no_canary(json.dumps(view))


def test_config_requires_component_and_token(tmp_path):
    with pytest.raises(ConfigError) as exc:
        settings_from_env(tmp_path)
    lines = str(exc.value).splitlines()
    assert "environment: target 'rb' (with SHIPMARK_TARGET_* variables): key 'component': required key is missing" \
        in lines
    assert any(line.endswith("key 'token': required key is missing: set it to a ReleaseBits API token "
                             "(from /account/tokens)") for line in lines)


def test_config_rejects_an_empty_component(tmp_path):
    (tmp_path / "shipmark.yml").write_text(
        "targets:\n  rb: {type: releasebits, component: ' ', token: abcdefgh}\n")
    with pytest.raises(ConfigError, match="key 'component': must be the component's URL slug"):
        load_settings(None, {}, tmp_path)


def test_config_unknown_key_lists_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError) as exc:
        settings_from_env(tmp_path, component="web", token=CANARY, project="x")
    assert str(exc.value).endswith(
        "key 'project': unknown key (valid keys: allow_insecure, component, required, timeout, token, type, url)")
    assert_no_canary(str(exc.value))


def test_config_rejects_plain_http_except_loopback(tmp_path):
    with pytest.raises(ConfigError, match="key 'url': must be https"):
        settings_from_env(tmp_path, component="web", token=CANARY, url="http://rb.example.com")
    ok = settings_from_env(tmp_path, component="web", token=CANARY, url="http://127.0.0.1:8080")
    assert ok.targets["rb"].url == "http://127.0.0.1:8080"
    insecure = settings_from_env(tmp_path, component="web", token=CANARY, url="http://rb.example.com",
                                 allow_insecure="true")
    assert insecure.targets["rb"].url == "http://rb.example.com"


def test_module_import_stays_cheap():
    code = ("import sys, shipmark.targets.releasebits; "
            "print(any(m.split('.')[0] in ('requests', 'urllib3') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"



def test_each_host_gets_its_own_copy_of_a_shared_lookup_error():
    """The error is shared, the instance is not: callers annotate what they catch."""
    t = target()
    with responses.RequestsMock() as rsps:
        rsps.get(LIST_URL, json={"error": "bad token"}, status=401)
        errors = []
        for host in ("web-1", "web-2"):
            with pytest.raises(ApiError) as err:
                t.deploy(make_request("deploy", host=host))
            errors.append(err.value)
    assert errors[0] is not errors[1] and errors[0].message == errors[1].message
