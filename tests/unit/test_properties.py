"""Property-based: no input makes shipmark crash.

- config parsing (shipmark.config.load_settings) with arbitrary YAML text and
  with structured-but-wrong documents: a Settings or a ConfigError, nothing else;
- the environment mapping (SHIPMARK_TARGET_<NAME>_<KEY>) with arbitrary names,
  keys and values: the same;
- the command line (shipmark.cli.cli through click's CliRunner) with arbitrary
  arguments and SHIPMARK_* variables: exit 0, 1 or 2, one readable message,
  never a traceback or an "internal error".

Deterministic (derandomize) and modest, so it runs in seconds.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipmark import redact
from shipmark.cli import cli
from shipmark.config import env_targets, expand_vars, load_settings
from shipmark.errors import ConfigError
from shipmark.targets import known_types
from tests.conftest import CANARY

PROFILE = dict(derandomize=True, deadline=None, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TARGET_KEYS = ["type", "url", "token", "required", "allow_insecure", "timeout", "component", "environment_id",
               "user_id", "application", "pipeline", "release_template", "username", "repository", "project",
               "path", "name", "colour"]
URLS = ["https://example.com", "http://127.0.0.1:9", "http://example.com", "ftp://x", "https://", "not a url",
        "https://[::1]:5/x", "http://localhost", "${URL}", "https://u:p@h.example"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10 ** 6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(known_types() + URLS + ["${RB_TOKEN}", "${UNSET_VAR}", "$$", "${A:-d}"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
target_body = st.one_of(
    st.dictionaries(st.sampled_from(TARGET_KEYS), values, max_size=6),
    st.fixed_dictionaries({"type": st.sampled_from(known_types())},
                          optional={k: values for k in TARGET_KEYS[1:]}),
    values,
)
documents = st.one_of(
    st.fixed_dictionaries({}, optional={
        "targets": st.one_of(st.dictionaries(st.text(min_size=1, max_size=8), target_body, max_size=3), values),
        "defaults": st.one_of(st.dictionaries(st.sampled_from(["environment", "version", "timeout", "fail_on_error",
                                                               "other"]), values, max_size=4), values),
        "spool": values,
        "extra": values,
    }),
    values,
)
yaml_text = st.one_of(
    documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(alphabet=string.printable + "\u00e9\u2603{}[]:-|>&*!%@`", max_size=120),
    st.lists(st.sampled_from(["targets:", "  rb:", "    type: releasebits", "  - x", "defaults: {", "key: [",
                              "\t- tab", "a: &x 1", "b: *x", "c: !!python/object:os.system x", "---", "...",
                              "spool: ~", "    token: ${RB_TOKEN}", "    url: 'http://127.0.0.1:1'"]),
             max_size=8).map("\n".join),
)
env_names = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12)
environments = st.dictionaries(
    st.one_of(st.builds(lambda n, k: f"SHIPMARK_TARGET_{n}_{k}", env_names, st.sampled_from(
        [k.upper() for k in TARGET_KEYS] + ["X", "TYPE_TYPE", ""])), st.sampled_from(["RB_TOKEN", "URL", "A"])),
    st.one_of(st.text(max_size=20), st.sampled_from(known_types() + URLS + ["true", "no", "-1", "3.5"])),
    max_size=6,
)


def check_settings(text: str, env: Dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "shipmark.yml").write_text(text, encoding="utf-8")
    redact.reset()
    redact.register(CANARY)
    try:
        result = load_settings(None, {"RB_TOKEN": CANARY, **env}, tmp_path)
    except ConfigError as exc:
        assert exc.exit_status == 2
        assert exc.message.strip()
        assert CANARY not in redact.redact(exc.message)
        return
    assert isinstance(result.targets, dict)
    for config in result.targets.values():
        assert config.name and config.public_view()["type"] == config.type


@settings(max_examples=200, **PROFILE)
@given(text=yaml_text)
def test_any_config_text_gives_settings_or_one_config_error(tmp_path: Path, text: str) -> None:
    check_settings(text, {}, tmp_path)


@settings(max_examples=150, **PROFILE)
@given(env=environments, text=st.sampled_from(["", "targets:\n  rb: {type: releasebits, component: web}\n",
                                              "targets: {}\n"]))
def test_any_environment_mapping_gives_settings_or_one_config_error(tmp_path: Path, env: Dict[str, str],
                                                                    text: str) -> None:
    check_settings(text, env, tmp_path)


@settings(max_examples=150, **PROFILE)
@given(env=environments, names=st.lists(env_names, max_size=3))
def test_env_targets_never_crash(env: Dict[str, str], names: List[str]) -> None:
    try:
        found = env_targets(env, names)
    except ConfigError as exc:
        assert "SHIPMARK_TARGET_" in exc.message
        return
    for name, keys in found.items():
        assert name == name.lower() and all(k == k.lower() for k in keys)


@settings(max_examples=150, **PROFILE)
@given(value=values, env=st.dictionaries(st.sampled_from(["A", "B", "URL"]), st.text(max_size=5), max_size=3))
def test_expand_vars_never_crashes(value: Any, env: Dict[str, str]) -> None:
    try:
        expand_vars(value, env, "where")
    except ConfigError as exc:
        assert exc.message.startswith("where")


# -- the command line ------------------------------------------------------------------------

COMMANDS = [["deploy"], ["deployment", "create"], ["deployment", "start"], ["deployment", "finish"],
            ["deployment", "update"], ["deployment", "get"], ["deployment", "list"], ["deployment", "retry"],
            ["release", "create"], ["release", "list"], ["release", "cancel"], ["release", "restore"],
            ["build", "create"], ["build", "list"], ["build", "deploy"], ["build", "reject"],
            ["targets"], ["check"], ["flush"], ["context"], [], ["deployment"], ["nonsense"]]
OPTIONS = ["-t", "--target", "-e", "--environment", "--version", "--status", "--host", "--started-at",
           "--finished-at", "--commit", "--branch", "--tag", "--name", "--meta", "--param", "--wait",
           "--wait-timeout", "--timeout", "--dry-run", "--json", "-q", "-v", "--fail-on-error", "--config",
           "--id", "--limit", "--build", "--force", "--reason", "--template", "--pipeline", "--online",
           "--discover", "--help", "-h", "--debug", "--", "-x"]
VALUES = ["", " ", "v1", "v 1", "1.2.3", "production", "success", "queued", "weird", "2024-05-01T12:30:00Z",
          "2024-13-45", "yesterday", "k=v", "novalue", "=x", "5d1c0a7e4f3b2a19c8d7e6f5a4b3c2d1e0f9a8b7", "zz",
          "-1", "0", "1e9", "nan", "inf", "0.05", "none.yml", "rb", "a,b", "\u2603", "x\ny", "\x00", "--json"]
arguments = st.lists(st.one_of(st.sampled_from(OPTIONS), st.sampled_from(VALUES), st.text(max_size=12)),
                     max_size=7)
cli_env = st.fixed_dictionaries({}, optional={
    "SHIPMARK_TIMEOUT": st.sampled_from(["", "5", "0", "-1", "soon", "1e400"]),
    "SHIPMARK_VERSION": st.sampled_from(["", "v2", "has space", "\t"]),
    "SHIPMARK_ENVIRONMENT": st.sampled_from(["", "staging", "\x01"]),
    "SHIPMARK_FAIL_ON_ERROR": st.sampled_from(["", "true", "false", "1"]),
    "SHIPMARK_CONFIG": st.sampled_from(["", "missing.yml"]),
})


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no shipmark.yml here: nothing is ever sent
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    return tmp_path


@settings(max_examples=200, **PROFILE)
@given(command=st.sampled_from(COMMANDS), args=arguments, env=cli_env)
def test_no_command_line_gives_a_traceback(workdir: Path, command: List[str], args: List[str],
                                           env: Dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, command + args, env=env, catch_exceptions=True)
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), (command + args, result.exit_code, output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (command + args, result.exception)
    assert "Traceback" not in output or "--debug" in args
    assert "internal error" not in output, (command + args, output)
    if result.exit_code == 1:
        # 1 is "a delivery failed": with no target configured nothing can fail to deliver.
        raise AssertionError((command + args, output))


@settings(max_examples=120, **PROFILE)
@given(command=st.sampled_from(COMMANDS[:16]), args=arguments, env=cli_env)
def test_no_command_line_crashes_a_real_delivery(workdir: Path, command: List[str], args: List[str],
                                                 env: Dict[str, str]) -> None:
    # A local target: every write really goes through the fan-out, journal and output paths.
    (workdir / "shipmark.yml").write_text("targets:\n  log: {type: file, path: events.jsonl}\n")
    env = {k: v for k, v in env.items() if k != "SHIPMARK_CONFIG"}
    result = CliRunner().invoke(cli, command + args, env=env, catch_exceptions=True)
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), (command + args, result.exit_code, output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (command + args, result.exception)
    assert "Traceback" not in output or "--debug" in args
    assert "internal error" not in output, (command + args, output)
