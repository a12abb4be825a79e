"""Config discovery, ${VAR} expansion, SHIPMARK_TARGET_* variables, precedence and validation."""
from __future__ import annotations

from pathlib import Path

import pytest

from shipmark import redact
from shipmark.config import (DEFAULT, DEFAULT_CONCURRENCY, ENVIRONMENT, FILE, FLAG, Defaults, Resolver, env_targets,
                             expand_vars, find_config, load_settings)
from shipmark.errors import ConfigError, UsageError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_finds_shipmark_yml_then_dot_file(tmp_path: Path) -> None:
    assert find_config(None, {}, tmp_path).path is None
    write(tmp_path / ".shipmark.yml", "{}")
    assert find_config(None, {}, tmp_path).path == tmp_path / ".shipmark.yml"
    write(tmp_path / "shipmark.yml", "{}")
    assert find_config(None, {}, tmp_path).path == tmp_path / "shipmark.yml"


def test_explicit_path_beats_env_beats_cwd(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "{}")
    a = write(tmp_path / "a.yml", "{}")
    b = write(tmp_path / "b.yml", "{}")
    assert find_config(None, {"SHIPMARK_CONFIG": str(b)}, tmp_path).path == b
    assert find_config(str(a), {"SHIPMARK_CONFIG": str(b)}, tmp_path).path == a


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config: config file not found: nope.yml$"):
        find_config("nope.yml", {}, tmp_path)
    with pytest.raises(ConfigError, match="^SHIPMARK_CONFIG: config file not found"):
        find_config(None, {"SHIPMARK_CONFIG": "gone.yml"}, tmp_path)


def test_var_expansion() -> None:
    env = {"TOKEN": "s3cret", "EMPTY": ""}
    assert expand_vars({"a": "x-${TOKEN}-y", "b": ["${TOKEN}"], "c": 3}, env, "f") == \
        {"a": "x-s3cret-y", "b": ["s3cret"], "c": 3}
    assert expand_vars("$${TOKEN}", env, "f") == "${TOKEN}"
    assert expand_vars("${NOPE:-fallback}", env, "f") == "fallback"


def test_unset_var_names_the_variable_not_a_value() -> None:
    with pytest.raises(ConfigError) as exc:
        expand_vars({"token": "${RELEASEBITS_TOKEN}"}, {}, "shipmark.yml: target 'rb'")
    assert str(exc.value) == "shipmark.yml: target 'rb'.token: environment variable RELEASEBITS_TOKEN is not set"
    with pytest.raises(ConfigError, match="environment variable EMPTY is empty"):
        expand_vars("${EMPTY}", {"EMPTY": ""}, "x")


def test_load_file_target_with_expansion(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "defaults:\n  environment: production\n"
          "targets:\n  out: {type: file, path: '${OUT_DIR}/events.jsonl'}\n")
    settings = load_settings(None, {"OUT_DIR": "/tmp/x"}, tmp_path)
    assert settings.defaults.environment == "production"
    assert list(settings.targets) == ["out"]
    assert settings.targets["out"].path == "/tmp/x/events.jsonl"
    assert settings.path == tmp_path / "shipmark.yml"


def test_env_defines_a_target_wholly(tmp_path: Path) -> None:
    env = {"SHIPMARK_TARGET_MY_SINK_TYPE": "file", "SHIPMARK_TARGET_MY_SINK_PATH": "/tmp/e.jsonl",
           "SHIPMARK_TARGET_MY_SINK_REQUIRED": "true"}
    settings = load_settings(None, env, tmp_path)
    cfg = settings.targets["my_sink"]
    assert (cfg.type, cfg.path, cfg.required) == ("file", "/tmp/e.jsonl", True)


def test_env_overrides_file_keys_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  Out: {type: file, path: a.jsonl}\n")
    settings = load_settings(None, {"SHIPMARK_TARGET_OUT_PATH": "b.jsonl"}, tmp_path)
    assert settings.targets["Out"].path == "b.jsonl"


def test_env_target_names_resolve_longest_first() -> None:
    env = {"SHIPMARK_TARGET_A_TYPE": "file", "SHIPMARK_TARGET_A_B_TYPE": "file",
           "SHIPMARK_TARGET_A_B_PATH": "x", "SHIPMARK_TARGET_A_PATH": "y"}
    assert env_targets(env) == {"a": {"type": "file", "path": "y"}, "a_b": {"type": "file", "path": "x"}}


def test_env_variable_for_an_unknown_target_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^SHIPMARK_TARGET_GHOST_TOKEN: no target of that name"):
        load_settings(None, {"SHIPMARK_TARGET_GHOST_TOKEN": "x"}, tmp_path)


def test_empty_env_values_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  out: {type: file, path: a.jsonl}\n")
    settings = load_settings(None, {"SHIPMARK_TARGET_OUT_PATH": ""}, tmp_path)
    assert settings.targets["out"].path == "a.jsonl"


@pytest.mark.parametrize("text, message", [
    ("targets: [\n", r"^shipmark.yml: line 2, column 1: "),
    ("- a\n- b\n", r"^shipmark.yml: the top level must be a mapping"),
    ("surprise: 1\n", r"^shipmark.yml: key 'surprise': unknown key \(valid keys: defaults, spool, targets\)$"),
    ("targets:\n  x: {path: a}\n", r"^shipmark.yml: target 'x': key 'type' is missing \(one of: .*file.*\)$"),
    ("targets:\n  x: {type: nosuch}\n", r"^shipmark.yml: target 'x': unknown target type 'nosuch' \(known: "),
    ("targets:\n  x: {type: file}\n", r"^shipmark.yml: target 'x': key 'path': required key is missing$"),
    ("targets:\n  x: {type: file, path: a, colour: red}\n",
     r"^shipmark.yml: target 'x': key 'colour': unknown key \(valid keys: allow_insecure, path, required, "
     r"timeout, token, type, url\)$"),
    ("targets:\n  x: {type: file, path: a, timeout: -1}\n", r"^shipmark.yml: target 'x': key 'timeout': "),
    ("targets:\n  x: {type: file, path: a, required: maybe}\n", r"^shipmark.yml: target 'x': key 'required': "),
    ("targets:\n  x: notamapping\n", r"^shipmark.yml: target 'x': must be a mapping of keys$"),
    ("defaults:\n  environment: prod\n  colour: 1\n", r"^shipmark.yml: key 'defaults.colour': unknown key"),
])
def test_validation_errors_are_one_readable_line(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path / "shipmark.yml", text)
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, tmp_path)
    assert len(str(exc.value).splitlines()) == 1
    assert __import__("re").search(message, str(exc.value)), str(exc.value)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  a: {type: file}\n  b: {type: nope}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, tmp_path)
    lines = str(exc.value).splitlines()
    assert len(lines) == 2 and "'a'" in lines[0] and "'b'" in lines[1]


@pytest.mark.parametrize("url, ok", [
    ("https://example.com", True),
    ("http://127.0.0.1:8080", True),
    ("http://127.5.5.5", True),
    ("http://localhost:9000/api", True),
    ("http://[::1]:9000", True),
    ("http://example.com", False),
    ("http://10.0.0.1", False),
    ("ftp://example.com", False),
    ("not a url", False),
])
def test_https_required_except_loopback(tmp_path: Path, url: str, ok: bool) -> None:
    write(tmp_path / "shipmark.yml", f"targets:\n  x: {{type: file, path: a, url: '{url}'}}\n")
    if ok:
        assert load_settings(None, {}, tmp_path).targets["x"].url == url
    else:
        with pytest.raises(ConfigError, match="target 'x': key 'url'"):
            load_settings(None, {}, tmp_path)


def test_allow_insecure_permits_plain_http(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  x: {type: file, path: a, url: 'http://ci.internal', "
          "allow_insecure: true}\n")
    assert load_settings(None, {}, tmp_path).targets["x"].url == "http://ci.internal"


def test_tokens_are_registered_and_never_in_errors(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  x: {type: file, path: a, token: '${TOK}', colour: 1}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {"TOK": "tok-canary-123456"}, tmp_path)
    assert "tok-canary-123456" not in str(exc.value)
    assert "tok-canary-123456" in redact.registered()


def test_public_view_masks_token(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  x: {type: file, path: a, token: 'tok-abcdef'}\n")
    view = load_settings(None, {}, tmp_path).targets["x"].public_view()
    assert view["token"] == "***"
    assert "tok-abcdef" not in repr(view)


def test_credentials_in_a_url_are_rejected_without_echoing_them(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  x: {type: file, path: a, url: 'https://ci:hunter2-secret@example.com'}\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, tmp_path)
    assert str(exc.value) == ("shipmark.yml: target 'x': key 'url': must not contain credentials "
                              "(user:password@); use the token key")


# -- Resolver: flags > environment > config file > defaults, for every setting ---------

# setting -> (flag value, variable, variable value, file value, the built-in default)
PRECEDENCE = {
    "timeout": (7.0, "SHIPMARK_TIMEOUT", "8", 9.0, None),
    "fail_on_error": (False, "SHIPMARK_FAIL_ON_ERROR", "true", True, False),
    "concurrency": (None, "SHIPMARK_CONCURRENCY", "3", 5, DEFAULT_CONCURRENCY),
    "version": ("v-flag", "SHIPMARK_VERSION", "v-env", "v-file", None),
}
ENV_VALUES = {"timeout": 8.0, "fail_on_error": True, "concurrency": 3, "version": "v-env"}


@pytest.mark.parametrize("setting", sorted(PRECEDENCE))
def test_each_setting_takes_flag_then_environment_then_file_then_default(setting: str) -> None:
    flag, var, env_value, file_value, default = PRECEDENCE[setting]
    defaults = Defaults(**{setting: file_value})

    def resolve(flags, env, file):
        return getattr(Resolver(flags, env, file), setting)()

    if flag is not None:  # concurrency has no flag
        got = resolve({setting: flag}, {var: env_value}, defaults)
        assert (got.value, got.source) == (flag, FLAG)
    got = resolve({setting: None}, {var: env_value}, defaults)
    assert (got.value, got.source) == (ENV_VALUES[setting], ENVIRONMENT)
    got = resolve({}, {}, defaults)
    assert (got.value, got.source) == (file_value, FILE)
    for file in (Defaults(), None):
        got = resolve({}, {}, file)
        assert (got.value, got.source) == (default, DEFAULT)


def test_environment_takes_the_flag_then_the_detected_one_then_the_file() -> None:
    defaults = Defaults(environment="from-file")
    assert Resolver({"environment": "flag"}, {}, defaults).environment("ci").value == "flag"
    assert Resolver({}, {}, defaults).environment("ci") == Resolver({}, {}, None).environment("ci")
    assert Resolver({}, {}, defaults).environment("ci").source == ENVIRONMENT
    assert (Resolver({}, {}, defaults).environment(None).value, Resolver({}, {}, defaults).environment(None).source) \
        == ("from-file", FILE)
    assert Resolver({}, {}, None).environment(None).source == DEFAULT


def test_a_false_or_empty_variable_leaves_fail_on_error_to_the_file() -> None:
    for value in ("", "false", " FALSE "):
        assert Resolver({}, {"SHIPMARK_FAIL_ON_ERROR": value}, Defaults(fail_on_error=True)).fail_on_error().value
        assert not Resolver({}, {"SHIPMARK_FAIL_ON_ERROR": value}, None).fail_on_error().value
    assert Resolver({}, {"SHIPMARK_TIMEOUT": ""}, Defaults(timeout=4)).timeout().value == 4
    assert Resolver({}, {"SHIPMARK_CONCURRENCY": " "}, None).concurrency().value == DEFAULT_CONCURRENCY


def test_version_named_counts_only_the_flag_and_the_variable() -> None:
    assert Resolver({"version": "v1"}, {}).version_named()
    assert Resolver({}, {"SHIPMARK_VERSION": "v1"}).version_named()
    assert not Resolver({}, {}, Defaults(version="v1")).version_named()


@pytest.mark.parametrize("setting, env, message", [
    ("timeout", {"SHIPMARK_TIMEOUT": "soon"}, "SHIPMARK_TIMEOUT='soon': expected a number of seconds"),
    ("timeout", {"SHIPMARK_TIMEOUT": "-1"}, "SHIPMARK_TIMEOUT='-1': must be positive"),
    ("timeout", {"SHIPMARK_TIMEOUT": "0"}, "SHIPMARK_TIMEOUT='0': must be positive"),
    ("concurrency", {"SHIPMARK_CONCURRENCY": "0"}, "SHIPMARK_CONCURRENCY='0': expected a whole number from 1 to 64"),
    ("concurrency", {"SHIPMARK_CONCURRENCY": "65"}, "SHIPMARK_CONCURRENCY='65': expected a whole number from 1 to 64"),
    ("concurrency", {"SHIPMARK_CONCURRENCY": "two"}, "SHIPMARK_CONCURRENCY='two': expected a whole number from 1 to 64"),
])
def test_bad_variables_are_one_line_naming_the_variable(setting: str, env, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        getattr(Resolver({}, env, Defaults(timeout=3, concurrency=2)), setting)()
    assert str(exc.value) == message


def test_bad_versions_name_the_flag_or_the_variable() -> None:
    with pytest.raises(UsageError, match="^SHIPMARK_VERSION 'has space': must be non-empty with no whitespace$"):
        Resolver({}, {"SHIPMARK_VERSION": "has space"}).version()
    with pytest.raises(UsageError, match="^--version '': must be non-empty with no whitespace$"):
        Resolver({"version": ""}, {"SHIPMARK_VERSION": "fine"}).version()
    # A good flag wins before the variable is even looked at.
    assert Resolver({"version": "v1"}, {"SHIPMARK_VERSION": "has space"}).version().value == "v1"


@pytest.mark.parametrize("url, env, bad", [
    ("https://${H}.example.com", {"H": "a-b.c"}, None),
    ("https://${H}:${P}/x/${Q}", {"H": "h.example", "P": "8443", "Q": "a/b?c#d"}, None),
    ("https://${H}:${P}/x", {"H": "h.example", "P": "1/"}, "P"),
    ("https://x.example/$${H}/${H}", {"H": "@evil"}, None),  # $$ is literal: the second ${H} is in the path
    ("https://$${H}${H}.example", {"H": "a@b"}, "H"),
    ("${URL}", {"URL": "https://good.example/path?q=a@b"}, None),
    ("${URL}", {"URL": "https://user@evil.example"}, "URL"),
    ("${BASE}/api/${ID}", {"BASE": "https://b.example", "ID": "1/2#3"}, None),
    ("https://${H}", {"H": "ok.example\n"}, "H"),
])
def test_issue13_item5_which_variables_land_in_the_host(url: str, env: dict, bad: str) -> None:
    body = {"targets": {"t": {"url": url}}}
    if bad is None:
        expand_vars(body, env, "f")
        return
    with pytest.raises(ConfigError, match=f"the value of {bad} would change the URL's host") as caught:
        expand_vars(body, env, "f")
    assert env[bad] not in str(caught.value)


def test_issue12_item2_missing_variables_are_collected_not_raised() -> None:
    missing: list = []
    out = expand_vars({"a": "${A}", "b": ["${B}", "${A}"], "c": "${C:-x}", "d": "${E}"}, {"E": ""}, "f", missing)
    assert missing == ["A is not set", "B is not set", "E is empty"]
    assert out == {"a": "${A}", "b": ["${B}", "${A}"], "c": "x", "d": "${E}"}


def test_issue12_item2_settings_require_names_only_the_targets_used(tmp_path: Path) -> None:
    write(tmp_path / "shipmark.yml", "targets:\n  log: {type: file, path: e.jsonl}\n"
          "  rb: {type: releasebits, component: web, token: '${RB_TOKEN}'}\n")
    settings = load_settings(None, {}, tmp_path)
    assert list(settings.targets) == ["log"] and settings.unresolved["rb"].missing == ["RB_TOKEN is not set"]
    settings.require("deploy", ["log"])
    settings.require("release_create", [])  # ReleaseBits has no releases: rb is not used
    with pytest.raises(ConfigError, match=r"target 'rb': RB_TOKEN is not set"):
        settings.require("deploy", [])
    with pytest.raises(ConfigError, match="target 'rb'"):
        settings.require("release_create", ["LOG,RB"])
