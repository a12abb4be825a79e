"""The one rule by which the CI wrappers turn their inputs into shipmark's command line.

The GitHub action, the GitLab template and the Jenkins steps do not build argv themselves:
they put their inputs in SHIPMARK_WRAP_* variables and run ``shipmark-wrap`` (this module),
which builds the command line below and runs shipmark in the same process.

    shipmark-wrap [WORD|OPTION ...]

argv, in this order:

1. SHIPMARK_WRAP_COMMAND: subcommand words separated by spaces ("deploy", "release create");
   only lowercase words are accepted, so options can never hide in it.
2. shipmark-wrap's own arguments, as they are: the wrapper's fixed words and options
   (GitLab's ``shipmark_run deployment finish --status failure``, Jenkins' ``--json``).
3. Typed inputs as options: SHIPMARK_WRAP_STATUS (--status), SHIPMARK_WRAP_NAME (--name),
   SHIPMARK_WRAP_TARGETS (--target each) and SHIPMARK_WRAP_HOSTS (--host each), separated by
   commas, spaces or line breaks; SHIPMARK_WRAP_META (--meta each), one KEY=VALUE per line.
4. SHIPMARK_WRAP_ARGV: one argument per line, passed through untouched (Jenkins list items);
   a line break after the last item is allowed, so one empty argument is written as a lone
   line break.
5. SHIPMARK_WRAP_ARGS: split like a POSIX shell splits words (quotes and backslashes are
   honoured) but never evaluated: no variables, globs or command substitution.

The user's arguments (4, 5) come last: a repeated single-value option given there wins over
the typed input, and a ``--`` there cannot turn the typed inputs into positional arguments.

Inputs that are not options of every command travel as shipmark's own variables, which the
commands that do not use them ignore: SHIPMARK_WRAP_ENVIRONMENT, _VERSION and _CONFIG become
SHIPMARK_ENVIRONMENT, SHIPMARK_VERSION and SHIPMARK_CONFIG when not empty;
SHIPMARK_WRAP_FAIL_ON_ERROR (true, false or empty) sets SHIPMARK_FAIL_ON_ERROR=true.

The command line is shown on stderr (quoted, credential-shaped values scrubbed), then
shipmark runs with it. Errors in the inputs are one line on stderr (an ::error:: annotation
in GitHub Actions) and exit status 2. Only the standard library is imported until shipmark
itself runs.
"""
from __future__ import annotations

import os
import re
import shlex
import sys
from typing import Dict, List, Mapping, Optional, Sequence

PREFIX = "SHIPMARK_WRAP_"
USAGE_ERROR = 2
_COMMAND_WORD = re.compile(r"[a-z][a-z-]*\Z")
_LIST_SEPARATORS = re.compile(r"[,\s]+")
# Wrapper input -> the shipmark variable it sets (when not empty).
_PASSED_AS_VARIABLES = {"ENVIRONMENT": "SHIPMARK_ENVIRONMENT", "VERSION": "SHIPMARK_VERSION",
                        "CONFIG": "SHIPMARK_CONFIG"}


class WrapError(Exception):
    """An input the rule cannot use; the message is shown as one line."""


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(PREFIX + name) or ""


def command_words(value: str) -> List[str]:
    words = value.split()
    if not all(_COMMAND_WORD.match(word) for word in words):
        raise WrapError("command must be shipmark subcommand words (e.g. 'deploy', 'release create'); "
                        "put options in args")
    return words


def list_items(value: str) -> List[str]:
    """Names separated by commas, spaces or line breaks."""
    return [item for item in _LIST_SEPARATORS.split(value) if item]


def argv_lines(value: str) -> List[str]:
    """One argument per line, untouched; a final line break ends the last argument."""
    if not value:
        return []
    if value.endswith("\n"):
        value = value[:-1]
    return value.split("\n")


def shell_words(value: str) -> List[str]:
    try:
        return shlex.split(value, comments=False, posix=True)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise WrapError(f"args could not be split like a shell would: {str(exc).lower()}") from None


def build_argv(env: Mapping[str, str], fixed: Sequence[str] = ()) -> List[str]:
    """shipmark's argv from the SHIPMARK_WRAP_* variables and the wrapper's fixed arguments."""
    argv = command_words(_get(env, "COMMAND")) + list(fixed)
    if not argv:
        raise WrapError("no command: set SHIPMARK_WRAP_COMMAND (e.g. 'deploy') or pass the subcommand words")
    for name, option in (("STATUS", "--status"), ("NAME", "--name")):
        if _get(env, name):
            argv += [option, _get(env, name)]
    for name, option in (("TARGETS", "--target"), ("HOSTS", "--host")):
        for item in list_items(_get(env, name)):
            argv += [option, item]
    for line in _get(env, "META").splitlines():
        if line.strip():
            argv += ["--meta", line]
    return argv + argv_lines(_get(env, "ARGV")) + shell_words(_get(env, "ARGS"))


def shipmark_variables(env: Mapping[str, str]) -> Dict[str, str]:
    """The shipmark variables the wrapper inputs set."""
    out = {target: _get(env, name) for name, target in _PASSED_AS_VARIABLES.items() if _get(env, name)}
    fail_on_error = _get(env, "FAIL_ON_ERROR").strip().lower()
    if fail_on_error == "true":
        out["SHIPMARK_FAIL_ON_ERROR"] = "true"
    elif fail_on_error not in ("", "false"):
        raise WrapError("fail-on-error must be true or false")
    return out


def shown(argv: Sequence[str]) -> str:
    """The command line as one line a POSIX shell would read back (control characters escaped)."""
    from shipmark.redact import redact

    def quote(arg: str) -> str:
        if arg.isprintable():
            return shlex.quote(arg)
        return "$'" + arg.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"

    return redact(" ".join(["shipmark", *map(quote, argv)]))


def _report(message: str, env: Mapping[str, str]) -> None:
    if env.get("GITHUB_ACTIONS", "").strip().lower() not in ("", "false"):
        # Workflow-command data escaping (%, CR, LF) keeps the annotation on one line.
        escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        sys.stderr.write(f"::error title=shipmark action::{escaped}\n")
    else:
        sys.stderr.write(f"shipmark: error: {message}\n")
    sys.stderr.flush()


def main(args: Optional[Sequence[str]] = None) -> None:
    """Entry point of ``shipmark-wrap``: build argv, then run shipmark in this process."""
    env = os.environ
    fixed = sys.argv[1:] if args is None else list(args)
    try:
        argv = build_argv(env, fixed)
        env.update(shipmark_variables(env))
    except WrapError as exc:
        _report(str(exc), env)
        raise SystemExit(USAGE_ERROR) from None
    sys.stderr.write(shown(argv) + "\n")
    sys.stderr.flush()
    from shipmark.cli import main as shipmark_main

    shipmark_main(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
