"""The pieces every backend shares (shipmark.targets.base and its neighbours), checked for every type."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from shipmark.config import load_settings
from shipmark.errors import ConfigError
from shipmark.targets import TARGET_TYPES, target_class

from tests.conftest import CANARY, assert_no_canary

# The keys each type needs besides its token, so that only the token is wrong.
OTHER_KEYS: Dict[str, Dict[str, Any]] = {
    "releasebits": {"component": "web"},
    "deploybot": {"url": "https://acme.deploybot.com"},
    "buildmaster": {"url": "https://bm.example.com", "application": "Web"},
    "beanstalk": {"url": "https://acme.beanstalkapp.com", "username": "ci"},
    "aviator": {"project": "web"},
    "file": {"path": "events.jsonl"},
    "github": {"repository": "acme/shop"},
    "webhook": {"url": "https://hooks.example.com/shipmark", "format": "cdevents"},
}
NEEDS_TOKEN = sorted(t for t in TARGET_TYPES if target_class(t).config_model.token_required)


def test_every_type_is_covered_and_every_http_type_needs_a_token() -> None:
    assert set(OTHER_KEYS) == set(TARGET_TYPES)
    assert NEEDS_TOKEN == ["aviator", "beanstalk", "buildmaster", "deploybot", "github", "releasebits"]


def _config_error(tmp_path: Path, type_name: str, **keys: str) -> str:
    env = {"SHIPMARK_TARGET_T_TYPE": type_name, **{f"SHIPMARK_TARGET_T_{k.upper()}": str(v)
                                                  for k, v in {**OTHER_KEYS[type_name], **keys}.items()}}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env, tmp_path)
    return info.value.message


@pytest.mark.parametrize("type_name", NEEDS_TOKEN)
def test_a_missing_token_is_one_error_for_every_type(tmp_path: Path, type_name: str) -> None:
    hint = target_class(type_name).config_model.token_hint
    assert hint
    assert _config_error(tmp_path, type_name).endswith(
        f"target 't' (with SHIPMARK_TARGET_* variables): key 'token': required key is missing: set it to {hint}")


@pytest.mark.parametrize("type_name", NEEDS_TOKEN)
@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_or_blank_token_is_one_error_for_every_type(tmp_path: Path, type_name: str, token: str) -> None:
    """Aviator once accepted token: "" (and sent `Authorization: Bearer `)."""
    hint = target_class(type_name).config_model.token_hint
    keys = ", ".join(f"{k}: '{v}'" for k, v in OTHER_KEYS[type_name].items())
    (tmp_path / "shipmark.yml").write_text(f"targets:\n  t: {{type: {type_name}, token: '{token}', {keys}}}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(None, {}, tmp_path)
    assert info.value.message == f"shipmark.yml: target 't': key 'token': is empty: set it to {hint}"


def test_the_aviator_token_may_not_be_empty() -> None:
    from pydantic import ValidationError

    from shipmark.targets.aviator import AviatorConfig

    with pytest.raises(ValidationError, match="token\n  Value error, is empty: set it to an Aviator API token"):
        AviatorConfig.model_validate({"type": "aviator", "name": "av", "project": "web", "token": ""})
    assert AviatorConfig.model_validate({"type": "aviator", "name": "av", "project": "web", "token": CANARY})


def test_a_type_without_the_rule_takes_no_token(tmp_path: Path) -> None:
    settings = load_settings(None, {"SHIPMARK_TARGET_F_TYPE": "file", "SHIPMARK_TARGET_F_PATH": "x"}, tmp_path)
    assert settings.targets["f"].token is None


def test_token_errors_never_echo_the_token(tmp_path: Path) -> None:
    message = _config_error(tmp_path, "deploybot", token=CANARY, url="http://acme.deploybot.com")
    assert "must be https" in message
    assert_no_canary(message)


# -- --param: one vocabulary ------------------------------------------------------------------

def _bool_params():
    from shipmark.targets.params import BOOL

    return [(t, p.name, op) for t in sorted(TARGET_TYPES) for p in target_class(t).params
            if p.type == BOOL for op in p.operations]


def test_the_bool_params_of_every_backend_are_declared() -> None:
    assert sorted({(t, name) for t, name, _ in _bool_params()}) == [
        ("aviator", "trigger_build_workflow"), ("aviator", "trigger_workflow"),
        ("beanstalk", "deploy_from_scratch"), ("beanstalk", "do_not_notify"),
        ("deploybot", "deploy_from_scratch"), ("deploybot", "skip_build"), ("deploybot", "trigger_notifications")]


def _target(type_name: str):
    from tests.conftest import make_target

    return make_target(type_name, token=CANARY, **{**OTHER_KEYS[type_name], "url": OTHER_KEYS[type_name].get(
        "url", "https://api.example.com")})


@pytest.mark.parametrize("type_name, name, operation", _bool_params())
def test_one_boolean_vocabulary_for_every_bool_param(type_name: str, name: str, operation: str) -> None:
    from shipmark.errors import UsageError
    from tests.conftest import make_request

    target = _target(type_name)
    for word, value in [("true", True), ("TRUE", True), (" Yes ", True), ("1", True), ("yes", True),
                        ("false", False), ("False", False), ("no", False), ("NO", False), ("0", False)]:
        assert target.param_values(make_request(operation, params={name: word}))[name] is value, word
    for word in ("", " ", "maybe", "on", "2", "t"):
        with pytest.raises(UsageError) as info:
            target.param_values(make_request(operation, params={name: word}))
        assert info.value.message == f"--param {name}={word!r}: expected true or false"


@pytest.mark.parametrize("type_name", sorted(set(TARGET_TYPES) - {"file"}))
def test_unknown_params_are_one_error_listing_the_valid_ones(type_name: str) -> None:
    from shipmark.errors import UsageError
    from shipmark.operations import words
    from tests.conftest import make_request

    target = _target(type_name)
    operation = target.supported_operations()[0]
    valid = list(dict.fromkeys(p.name for p in target.params if operation in p.operations)) or ["none"]
    with pytest.raises(UsageError) as info:
        target.check(make_request(operation, params={"zz_nope": "1", "aa_nope": "2"}, id="1"))
    assert info.value.message.startswith(
        f"--param aa_nope, zz_nope: unknown for {type_name} {words(operation)} (valid: {', '.join(valid)})")


def test_the_file_target_records_any_param_as_given() -> None:
    from tests.conftest import make_request

    assert _target("file").param_values(make_request("deploy", params={"a": "", "B": " x"})) == {"a": "", "B": " x"}


def test_typed_values_are_converted_and_empty_values_refused() -> None:
    from shipmark.errors import UsageError
    from shipmark.targets.params import BOOL, ID, STR, TIME, Param, read_params

    declared = (Param("n", ("deploy",), ID, hint="see the list"), Param("b", ("deploy",), BOOL),
                Param("at", ("deploy",), TIME), Param("s", ("deploy",), STR, choices=("x", "y")),
                Param("free", ("deploy",)), Param("$V", ("deploy",), prefix="$"))
    values = read_params("t", "deploy", {"n": " 12 ", "b": "Yes", "at": "2024-05-01T22:00:00", "s": "y",
                                         "free": " a b ", "$X": ""}, declared)
    assert values == {"n": 12, "b": True, "at": "2024-05-01T22:00:00+00:00", "s": "y", "free": " a b ", "$X": ""}
    for key, raw, expected in [("n", "0", "a positive integer id (see the list)"), ("n", "", "a positive integer id "
                               "(see the list)"), ("at", "soon", "an ISO 8601 time (e.g. 2024-05-01T22:00:00Z)"),
                               ("s", "z", "one of: x, y"), ("free", " ", "a value")]:
        with pytest.raises(UsageError) as info:
            read_params("t", "deploy", {key: raw}, declared)
        assert info.value.message == f"--param {key}={raw!r}: expected {expected}"
    with pytest.raises(UsageError, match=r"^--param n: unknown for t deployment list \(valid: none\); see docs$"):
        read_params("t", "deployment_list", {"n": "1"}, declared, note="see docs")


# -- statuses: one two-way map -------------------------------------------------------------------

@pytest.mark.parametrize("type_name", sorted(TARGET_TYPES))
def test_every_status_a_backend_sends_reads_back_as_itself(type_name: str) -> None:
    from shipmark.models import Status
    from shipmark.targets.status import StatusMap

    cls = target_class(type_name)
    assert isinstance(cls.status_map, StatusMap)
    target = _target(type_name)
    sent = {status: word for status, word in cls.status_map.items() if word is not None}
    assert sent, type_name
    for status, word in sent.items():
        assert target.read_status(word) is status
        assert target.read_status(word.upper()) is status  # services are not consistent about case
        assert target.shown_status(word) == status.value
        assert target.service_status(status) == word
    assert set(cls.status_map) == set(Status)
    assert target.read_status("no-such-state") is None and target.shown_status("no-such-state") == "no-such-state"
    assert target.read_status(None) is None and target.shown_status(None) is None


def test_deploybot_and_beanstalk_share_one_map() -> None:
    from shipmark.models import Status
    from shipmark.targets.status import WAITING_PENDING

    assert target_class("deploybot").status_map is WAITING_PENDING is target_class("beanstalk").status_map
    assert WAITING_PENDING.status("new") is WAITING_PENDING.status("retry") is Status.QUEUED
    assert WAITING_PENDING[Status.CANCELLED] is None and dict(WAITING_PENDING)[Status.QUEUED] == "waiting"


def test_words_only_read_back_are_not_sent() -> None:
    from shipmark.models import Status
    from shipmark.targets.status import StatusMap

    states = StatusMap({Status.SUCCESS: "succeeded"}, also_read={"warned": Status.SUCCESS})
    assert states.status("Warned") is Status.SUCCESS and states.shown("warned") == "success"
    assert states[Status.SUCCESS] == "succeeded" and states[Status.FAILURE] is None
    assert StatusMap.of({Status.SUCCESS: "ok"}).status("OK") is Status.SUCCESS
    assert StatusMap.of(states) is states


# -- list items: one typed row ---------------------------------------------------------------------

def test_a_list_item_is_the_row_json_prints_and_drives_the_table_columns() -> None:
    from shipmark.tables import LIST_COLUMNS, list_rows, render_table
    from shipmark.targets.items import COLUMNS, ListItem
    from tests.conftest import make_request

    item = ListItem(id="7", status="success", version="v1", environment="prod", commit="a" * 40,
                    created_at="2024-05-01T22:00:00Z", url="https://x.example/7", raw={"id": 7},
                    extra={"build": "3"})
    assert list(item.to_dict()) == ["id", "status", "version", "environment", "commit", "created_at", "url",
                                    "build", "raw"]
    assert COLUMNS == ("id", "status", "version", "environment", "commit", "created_at")
    assert LIST_COLUMNS == ("target", *COLUMNS)
    target = _target("file")
    result = target.result(make_request("deployment_list"), items=[item])
    assert result.items == [item.to_dict()]
    assert result.to_json_dict()["items"] == [{"id": "7", "status": "success", "version": "v1",
                                              "environment": "prod", "commit": "a" * 40,
                                              "created_at": "2024-05-01T22:00:00Z", "url": "https://x.example/7",
                                              "build": "3", "raw": {"id": 7}}]
    table = render_table(list_rows([result]), LIST_COLUMNS).splitlines()
    assert table[0].split() == ["TARGET", "ID", "STATUS", "VERSION", "ENVIRONMENT", "COMMIT", "CREATED_AT"]
    assert table[1].split() == ["t", "7", "success", "v1", "prod", "a" * 12, "2024-05-01T22:00:00Z"]


# -- dry run: handled once, in the base ----------------------------------------------------------

@pytest.mark.parametrize("type_name", sorted(TARGET_TYPES))
def test_no_backend_handles_dry_run_itself(type_name: str) -> None:
    import inspect

    source = inspect.getsource(inspect.getmodule(target_class(type_name)))
    assert "dry_run" not in source and "dry run" not in source.lower()


def _toy_target(shown):
    from shipmark.models import Result
    from shipmark.targets.base import Request, Target

    class Toy(Target):
        type = "toy"

        def deploy(self, request: Request) -> Result:
            environment = self.stand_in(request, lambda: self.http.request("GET", "/env").json(), "<env>",
                                        note="the environment is looked up when sent")
            self.http.request("POST", "/deploy", json={"environment": environment})
            return self.result(request, message="sent")

        def release_create(self, request: Request) -> Result:
            return self.result(request, message="nothing to send")

        def deployment_list(self, request: Request) -> Result:
            return self.result(request, items=self.stand_in(request, lambda: ["real"], [], show=True))

    from shipmark.http import HttpClient
    from shipmark.targets.base import TargetConfig

    config = TargetConfig(type="toy", name="toy", url="https://toy.example")
    return Toy(config, HttpClient("https://toy.example", target="toy", dry_run=True, show_request=shown.append))


def test_a_dry_run_shows_the_write_and_reports_what_a_stand_in_left_open() -> None:
    from tests.conftest import make_request

    shown = []
    toy = _toy_target(shown)
    result = toy.deploy(make_request("deploy", dry_run=True))
    assert result.ok and result.message == "dry run: not sent (the environment is looked up when sent)"
    assert result.items is None
    assert [text.splitlines()[0] for text in shown] == ["POST https://toy.example/deploy"]
    assert '"environment": "<env>"' in shown[0]
    listed = toy.deployment_list(make_request("deployment_list", dry_run=True))
    assert (listed.message, listed.items) == ("dry run: not sent", [])
    # An operation that sends nothing over HTTP returns its own result, in a dry run too.
    assert toy.release_create(make_request("release_create", dry_run=True)).message == "nothing to send"
    assert toy._stood_in == {}


def test_the_file_target_writes_nothing_in_a_dry_run(tmp_path: Path) -> None:
    from tests.conftest import make_request, make_target

    shown = []
    target = make_target("file", path=str(tmp_path / "events.jsonl"), dry_run=True, shown=shown)
    result = target.deploy(make_request("deploy", dry_run=True))
    assert result.ok and result.message == "dry run: nothing written"
    assert shown[0].startswith(f"append to {tmp_path / 'events.jsonl'}:\n  {{")
    assert not (tmp_path / "events.jsonl").exists()


# -- small readers ---------------------------------------------------------------------------------

def test_ids_times_and_json_shapes_are_read_one_way() -> None:
    from shipmark.errors import ApiError
    from shipmark.targets.values import as_id, expect_list, expect_object, iso_time

    assert (as_id(5), as_id("7"), as_id(""), as_id(None)) == ("5", "7", None, None)
    assert iso_time("2015/02/24 15:22:49 +0100") == "2015-02-24T14:22:49Z"
    assert iso_time("2024-03-04T11:31:20+02:00", fmt=None) == "2024-03-04T09:31:20.000Z"
    assert (iso_time("yesterday"), iso_time("  "), iso_time(None)) == ("yesterday", None, None)
    assert expect_object({"release": {"id": 1}}, "svc", wrapped_in="release") == {"id": 1}
    assert expect_list({"data": [{"a": 1}, 2]}, "svc", envelopes=("data",)) == [{"a": 1}]
    assert expect_list({"id": 1}, "svc", one_object=True) == [{"id": 1}] and expect_list(None, "svc") == []
    for call, message in [
        (lambda: expect_list({"x": 1}, "https://h.example/p", "a JSON array of deployments"),
         'unexpected response from https://h.example/p: expected a JSON array of deployments, got dict: {"x": 1}'),
        (lambda: expect_list(None, "svc", empty=False), "unexpected response from svc: expected a JSON array, "
                                                        "got an empty body"),
        (lambda: expect_object([1], "svc", status_code=200), "unexpected response from svc: expected a JSON object, "
                                                             "got list: [1]"),
    ]:
        with pytest.raises(ApiError) as info:
            call()
        assert info.value.message == message
