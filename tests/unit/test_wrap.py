"""shipmark-wrap: the one rule that turns the CI wrappers' inputs into shipmark's argv."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from shipmark import wrap
from shipmark.wrap import WrapError, build_argv, shipmark_variables, shown


def wrap_env(**inputs: str) -> Dict[str, str]:
    return {"SHIPMARK_WRAP_" + name: value for name, value in inputs.items()}


def run_wrap(tmp_path: Path, *args: str, **inputs: str) -> subprocess.CompletedProcess:
    """`python -m shipmark.wrap` in a clean, non-CI environment with only these inputs."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SHIPMARK_", "GITHUB_", "GITLAB_", "CI_", "JENKINS_")) and k != "CI"}
    env.update(SHIPMARK_SPOOL=str(tmp_path / "spool.jsonl"), **inputs)
    return subprocess.run([sys.executable, "-m", "shipmark.wrap", *args], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


# --- splitting ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    ('--meta "note=two words" -e staging', ["--meta", "note=two words", "-e", "staging"]),
    ("--meta 'x=$HOME' --name \"it's\"", ["--meta", "x=$HOME", "--name", "it's"]),
    (r"--meta note=two\ words", ["--meta", "note=two words"]),
    ('--name ""', ["--name", ""]),
    ("--meta a=1\n  --wait\t--timeout 60", ["--meta", "a=1", "--wait", "--timeout", "60"]),
    ("--meta 'tag=#1' *", ["--meta", "tag=#1", "*"]),  # no comments, no globbing
    ("$(id) `id` ; &&", ["$(id)", "`id`", ";", "&&"]),  # never evaluated
    ("", []),
    ("   \n ", []),
])
def test_args_are_split_like_a_shell_splits_words(args: str, expected: List[str]) -> None:
    assert build_argv(wrap_env(COMMAND="deploy", ARGS=args)) == ["deploy"] + expected


@pytest.mark.parametrize("args", ['--meta "note=two words', "--name 'x", "--name x\\"])
def test_unsplittable_args_are_an_error(args: str) -> None:
    with pytest.raises(WrapError, match=r"^args could not be split like a shell would: no (closing quotation|escaped character)$"):
        build_argv(wrap_env(COMMAND="deploy", ARGS=args))


@pytest.mark.parametrize("value, expected", [
    ("--meta\nnote=two words\n", ["--meta", "note=two words"]),
    ("--meta\nnote=two words", ["--meta", "note=two words"]),
    ("--name\n\n", ["--name", ""]),        # an empty item is kept
    ("\n", [""]),
    ("", []),
    ("  spaced  \n'quoted'\n$(id)\n", ["  spaced  ", "'quoted'", "$(id)"]),  # untouched
])
def test_argv_lines_pass_through_as_they_are(value: str, expected: List[str]) -> None:
    assert build_argv(wrap_env(COMMAND="deploy", ARGV=value)) == ["deploy"] + expected


# --- order and typed inputs --------------------------------------------------------------

def test_every_input_in_its_place() -> None:
    env = wrap_env(COMMAND="deployment finish", STATUS="failure", NAME="blue green", TARGETS="rb, log\nx",
                   HOSTS="web-1 web-2", META="team=web\n\nnote=a b\n", ARGV="--timeout\n5\n",
                   ARGS="--meta 'x=1 2'")
    assert build_argv(env, ["--json"]) == [
        "deployment", "finish", "--json", "--status", "failure", "--name", "blue green",
        "--target", "rb", "--target", "log", "--target", "x", "--host", "web-1", "--host", "web-2",
        "--meta", "team=web", "--meta", "note=a b", "--timeout", "5", "--meta", "x=1 2"]


def test_user_args_come_after_the_injected_options() -> None:
    """A `--` in args ends option parsing only for what follows it: the typed inputs are before it,
    and a single-value option repeated in args is the one shipmark keeps."""
    argv = build_argv(wrap_env(COMMAND="deploy", STATUS="success", ARGS="--status failure -- --meta x=1"))
    assert argv == ["deploy", "--status", "success", "--status", "failure", "--", "--meta", "x=1"]


def test_empty_typed_inputs_add_nothing() -> None:
    env = wrap_env(COMMAND="deploy", STATUS="", NAME="", TARGETS=" , ", HOSTS="", META="\n  \n", ARGV="", ARGS="",
                   ENVIRONMENT="", VERSION="", CONFIG="", FAIL_ON_ERROR="")
    assert build_argv(env) == ["deploy"]
    assert shipmark_variables(env) == {}


def test_wrapper_words_without_a_command_variable() -> None:
    assert build_argv({}, ["release", "create", "--status", "success"]) == ["release", "create", "--status", "success"]


@pytest.mark.parametrize("command", ["deploy; id", "deploy --dry-run", "Deploy", "release 'create'", "$(id)"])
def test_command_is_subcommand_words_only(command: str) -> None:
    with pytest.raises(WrapError, match=r"^command must be shipmark subcommand words"):
        build_argv(wrap_env(COMMAND=command))


def test_no_command_at_all_is_an_error() -> None:
    with pytest.raises(WrapError, match=r"^no command"):
        build_argv(wrap_env(COMMAND="  ", ARGS="--dry-run"))


def test_inputs_that_are_not_options_of_every_command_become_shipmark_variables() -> None:
    env = wrap_env(ENVIRONMENT='"; touch x; "', VERSION="$(id)", CONFIG="ci/shipmark.yml", FAIL_ON_ERROR="true")
    assert shipmark_variables(env) == {"SHIPMARK_ENVIRONMENT": '"; touch x; "', "SHIPMARK_VERSION": "$(id)",
                                       "SHIPMARK_CONFIG": "ci/shipmark.yml", "SHIPMARK_FAIL_ON_ERROR": "true"}
    assert shipmark_variables(wrap_env(FAIL_ON_ERROR="false")) == {}
    with pytest.raises(WrapError, match=r"^fail-on-error must be true or false$"):
        shipmark_variables(wrap_env(FAIL_ON_ERROR="yes"))


def test_shown_command_line_reads_back_and_stays_on_one_line() -> None:
    argv = ["deploy", "--meta", "note=two words", "--name", "it's", "--meta", "x=a\nb::error::y", "--name", ""]
    line = shown(argv)
    assert line == ("shipmark deploy --meta 'note=two words' --name 'it'\"'\"'s' --meta $'x=a\\nb::error::y' "
                    "--name ''")
    assert "\n" not in line and "\r" not in shown(["x\ry"])
    assert shown(["--meta", "url=https://user:pw@example.com/"]) == "shipmark --meta url=https://***@example.com/"


# --- the entry point ----------------------------------------------------------------------

def test_the_same_quoted_string_reaches_shipmark_as_the_same_event(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    proc = run_wrap(tmp_path, SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS='--meta "note=two words" -e staging',
                    SHIPMARK_WRAP_VERSION="1.2.3", SHIPMARK_WRAP_ARGV="--name\nblue green\n",
                    SHIPMARK_TARGET_LOG_TYPE="file", SHIPMARK_TARGET_LOG_PATH=str(events))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == "shipmark deploy --name 'blue green' --meta 'note=two words' -e staging"
    (event,) = [json.loads(line) for line in events.read_text().splitlines()]
    assert (event["meta"], event["environment"], event["version"], event["name"]) == (
        {"note": "two words"}, "staging", "1.2.3", "blue green")


def test_shipmark_exit_status_is_the_wrappers(tmp_path: Path) -> None:
    proc = run_wrap(tmp_path, "deployment", "finish", SHIPMARK_WRAP_ARGS="--status in_progress")
    assert proc.returncode == 2, proc.stderr
    assert "`deployment finish` takes a final status" in proc.stderr


@pytest.mark.parametrize("github, expected", [
    ("", "shipmark: error: args could not be split like a shell would: no closing quotation"),
    ("true", "::error title=shipmark action::args could not be split like a shell would: no closing quotation"),
])
def test_an_input_error_is_one_line_and_exit_2(tmp_path: Path, github: str, expected: str) -> None:
    proc = run_wrap(tmp_path, SHIPMARK_WRAP_COMMAND="deploy", SHIPMARK_WRAP_ARGS='--meta "note=two words',
                    GITHUB_ACTIONS=github)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", expected + "\n")


def test_importing_the_rule_is_cheap() -> None:
    probe = ("import sys, shipmark.wrap\n"
             "print(','.join(m for m in ('requests', 'urllib3', 'yaml', 'pydantic', 'click', 'shipmark.cli')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "", out


def test_main_calls_shipmark_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[List[str]] = []
    import shipmark.cli

    monkeypatch.setattr(shipmark.cli, "main", lambda argv: seen.append((argv, os.environ.get("SHIPMARK_VERSION"))))
    monkeypatch.setenv("SHIPMARK_WRAP_COMMAND", "release create")
    monkeypatch.setenv("SHIPMARK_WRAP_VERSION", "2.0.0")
    wrap.main(["--dry-run"])
    assert seen == [(["release", "create", "--dry-run"], "2.0.0")]
