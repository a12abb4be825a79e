"""Options + context + defaults -> Events: precedence and validation, without the CLI."""
from __future__ import annotations

import pytest

from shipmark.config import Defaults, Resolver
from shipmark.errors import UsageError
from shipmark.events import build_events, params_for, parse_pairs
from shipmark.models import Status
from tests.conftest import HEAD_SHA, SHA, make_context


def events(options=None, env=None, default_version=None, default_environment=None, **kw):
    """The events for these options, variables and config defaults, as a command builds them."""
    kw.setdefault("context", make_context())
    settings = Resolver(options or {}, env or {}, Defaults(version=default_version, environment=default_environment))
    return build_events(kind="deployment", operation="deploy", status=kw.pop("status", "success"),
                        options=options or {}, settings=settings, **kw)


def test_version_precedence_flag_env_config_tag_sha() -> None:
    tagged = make_context(tag="v3.0.0")
    assert events({"version": "flag"}, {"SHIPMARK_VERSION": "env"}, default_version="cfg")[0].version == "flag"
    assert events({}, {"SHIPMARK_VERSION": "env"}, default_version="cfg")[0].version == "env"
    assert events({}, {}, default_version="cfg", context=tagged)[0].version == "cfg"
    assert events({}, {}, context=tagged)[0].version == "v3.0.0"
    assert events()[0].version == SHA[:7]
    assert events(context=make_context(commit=None))[0].version is None


def test_environment_precedence_flag_context_config() -> None:
    assert events({"environment": "flag"}, context=make_context(environment="ci"),
                  default_environment="cfg")[0].environment == "flag"
    assert events(context=make_context(environment="ci"), default_environment="cfg")[0].environment == "ci"
    assert events(default_environment="cfg")[0].environment == "cfg"


def test_pr_head_sha_is_the_event_commit_and_commit_option_overrides() -> None:
    pr = make_context(is_pr=True, pr="7", pr_head_sha=HEAD_SHA)
    assert events(context=pr)[0].commit == HEAD_SHA
    assert events({"commit": "ABCDEF1"}, context=pr)[0].commit == "abcdef1"


def test_one_event_per_host_and_finished_at_only_for_final_states() -> None:
    many = events({"hosts": ("a", " b ", "")})
    assert [e.host for e in many] == ["a", "b"]
    assert many[0].finished_at is not None
    started = events(status="in_progress")[0]
    assert started.status is Status.IN_PROGRESS and started.finished_at is None


@pytest.mark.parametrize("options, message", [
    ({"version": "1 2"}, "--version '1 2': must be non-empty with no whitespace"),
    ({"branch": "a\tb"}, "--branch 'a\\tb': must be non-empty with no whitespace"),
    ({"environment": " "}, "--environment ' ': must be non-empty"),
    ({"commit": "xyz"}, "--commit 'xyz': expected a hex commit sha"),
    ({"finished_at": "2024-01-01T00:00:00Z", "started_at": "2024-01-02T00:00:00Z"}, "--finished-at is before"),
    ({"meta": ("k",)}, "--meta 'k': expected KEY=VALUE"),
])
def test_bad_values_name_the_option(options, message) -> None:
    with pytest.raises(UsageError) as exc:
        events(options)
    assert str(exc.value).startswith(message)


def test_pairs_keep_equals_in_values_and_params_scope_by_target() -> None:
    assert parse_pairs(["a=b=c", " k =v"], "--meta") == {"a": "b=c", "k": "v"}
    params = {"db.x": "1", "y": "2", "other.z": "3"}
    assert params_for("DB", params, ["db", "rb"]) == {"x": "1", "y": "2", "other.z": "3"}
    assert params_for("rb", params, ["db", "rb"]) == {"y": "2", "other.z": "3"}
