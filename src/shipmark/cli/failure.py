"""How a failed command ends: one readable line on stderr and, with --json, a JSON answer on stdout.

A script that pipes `shipmark ... --json` into jq gets JSON whatever happened: the
event commands print their usual array of result objects, here one object with
``ok: false`` and the error; `context` and `targets` print ``{"ok": false, "error": ...}``.
The words come from the raw arguments, because a usage error can happen before
any option is parsed.
"""
from __future__ import annotations

import json
import sys
from typing import Any, List, Optional, Sequence

import click

ARGV = "shipmark.argv"  # the root context's meta key for the raw arguments
OWN_SHAPES = ("context", "targets")  # commands whose --json is not an array of results


def usage_message(exc: click.UsageError) -> str:
    """click's error as shipmark's one line, with where to look for the fix."""
    if (isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter)
            and exc.param is not None and exc.param.opts):
        hint = max(exc.param.opts, key=len)
        message = exc.message
        text = f"{hint} {message}" if message.startswith("'") else f"{hint}: {message}"
    else:
        text = exc.format_message()
    text = " ".join(text.split()).rstrip(".")
    path = exc.ctx.command_path if exc.ctx is not None else "shipmark"
    return f"{text} (see {path} --help)"


def command_words(argv: Sequence[str]) -> List[str]:
    """The command named in the raw arguments, e.g. ["deployment", "finish"] (root options skipped)."""
    from shipmark.cli.group import cli

    command: Any = cli
    words: List[str] = []
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("-"):
            if words:  # the command's own options begin
                break
            continue
        found = command.get_command(None, arg) if isinstance(command, click.Group) else None
        if found is None:
            break
        command = found
        words.append(arg)
    return words


def json_requested(argv: Sequence[str]) -> bool:
    args = list(argv)
    return "--json" in (args[:args.index("--")] if "--" in args else args)


def print_json_failure(argv: Sequence[str], message: str) -> None:
    """With --json in the arguments: the failure as the command's JSON shape, on stdout."""
    if not json_requested(argv):
        return
    from shipmark.redact import redact

    words = command_words(argv)
    if words[:1] and words[0] in OWN_SHAPES:
        answer: Any = {"ok": False, "error": message}
    else:
        answer = [failed_result(words, message)]
    try:
        sys.stdout.write(redact(json.dumps(answer, indent=2, ensure_ascii=False)) + "\n")
        sys.stdout.flush()
    except OSError:  # stdout is gone: the stderr line is the answer
        pass


def failed_result(words: Sequence[str], message: str) -> dict:
    """A result object (shipmark.models.Result's keys) for a command that failed before any target ran."""
    from shipmark.models import Result

    result = Result(target=None, type=None, operation=_operation(words), ok=False,  # type: ignore[arg-type]
                    error=message)
    return result.to_json_dict()


def _operation(words: Sequence[str]) -> Optional[str]:
    """The operation the command performs ("deployment finish" -> deploy), or its word (check, flush)."""
    from shipmark.app import operation_for

    if not words:
        return None
    try:
        return operation_for(" ".join(words))
    except KeyError:
        return "_".join(words)


def stdout_gone() -> None:
    """stdout's reader went away (`shipmark context | head -1`): drop what is left, as Unix tools do.

    Pointing stdout at /dev/null keeps Python's final flush from failing again at exit.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
