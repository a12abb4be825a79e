"""The option sets commands share, so each flag is declared (and documented) once.

Decorators apply bottom-up, so each set adds its options in reverse: they then
appear in --help in the order written here, after the command's own options and
the options backends declare for the command (shipmark.cli.declared).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import click

from shipmark.cli.declared import SharedOption

WRITE_EPILOG = ("Exit status: 0 delivered (vendor outages are tolerated unless --fail-on-error), "
                "1 delivery failed, 2 usage or config error, 3 remote deployment failed or --wait timed out.")
READ_EPILOG = "Exit status: 0 read, 1 a target could not be read or its answer was not understood, 2 usage or config error."
GET_EPILOG = READ_EPILOG[:-1] + ", 3 the deployment ended failed or --wait timed out."
EPILOG = WRITE_EPILOG  # the recording commands' (kept for callers of the old name)
TIMEOUT_HELP = "Total time budget for the command's requests, retries included (default 30)."


def set_debug(ctx: click.Context, _param: Any, value: bool) -> bool:
    if value:
        ctx.find_root().meta["shipmark.debug"] = True
    return value


def shared(*names: str, **kwargs: Any) -> Callable:
    return click.option(*names, cls=SharedOption, **kwargs)


def debug_option() -> Callable:
    return shared("--debug", is_flag=True, expose_value=False, callback=set_debug,
                        help="Show a traceback on errors.")


def _apply(fn: Callable, options: list) -> Callable:
    for option in reversed(options):
        fn = option(fn)
    return fn


def output_options(fn: Callable) -> Callable:
    return _apply(fn, [
        shared("--config", "config_path", metavar="PATH", help="Config file (default: $SHIPMARK_CONFIG, shipmark.yml, .shipmark.yml)."),
        shared("--json", "json_mode", is_flag=True, help="Print results as a JSON array on stdout."),
        shared("-q", "--quiet", is_flag=True, help="Only errors on stderr."),
        shared("-v", "--verbose", is_flag=True, help="Log each HTTP request (secrets redacted)."),
        debug_option(),
    ])


def delivery_options(fn: Callable) -> Callable:
    """What every command that talks to targets takes."""
    fn = output_options(fn)  # applied first, so listed after these in --help
    return _apply(fn, [
        shared("-t", "--target", "targets", multiple=True, metavar="NAME",
               help="Target from the config (repeatable; default: every target that supports the operation)."),
        shared("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help=TIMEOUT_HELP),
        shared("--dry-run", is_flag=True, help="Print the exact HTTP requests (secrets masked); send nothing."),
    ])


def _write_policy(fn: Callable) -> Callable:
    return shared("--fail-on-error", is_flag=True, default=None,
                  help="Exit 1 when a target stays unreachable (default: warn, spool and exit 0).")(fn)


def _wait(fn: Callable) -> Callable:
    return _apply(fn, [
        shared("--wait", is_flag=True, help="Poll the remote deployment until it finishes (exit 3 if it failed)."),
        shared("--wait-timeout", type=click.FloatRange(min=1), default=600, show_default=True, metavar="SECONDS",
               help="Give up waiting after this long (exit 3)."),
    ])


def event_options(*, host: bool = True, started_at: bool = True, finished_at: bool = True,
                  wait: bool = True) -> Callable:
    """The recording commands' options; each command leaves out what means nothing for it."""
    def decorate(fn: Callable) -> Callable:
        fn = _write_policy(delivery_options(fn))
        fn = _wait(fn) if wait else fn
        options = [
            shared("-e", "--environment", metavar="NAME",
                   help="Environment / stage (default: $SHIPMARK_ENVIRONMENT, CI, config)."),
            shared("--version", "version", metavar="VERSION",
                   help="The event's version (default: $SHIPMARK_VERSION, tag, short sha)."),
        ]
        if host:
            options.append(shared("--host", "hosts", multiple=True, metavar="HOST",
                                  help="Host deployed to (repeatable: one event per host)."))
        if started_at:
            options.append(shared("--started-at", metavar="ISO8601", help="When it started."))
        if finished_at:
            options.append(shared("--finished-at", metavar="ISO8601",
                                  help="When it finished (default: now, for final states)."))
        options += [
            shared("--commit", metavar="SHA", help="Override the detected commit."),
            shared("--branch", metavar="NAME", help="Override the detected branch."),
            shared("--tag", metavar="NAME", help="Override the detected tag."),
            shared("--name", metavar="TEXT", help="A name for the event (code name, release name)."),
            shared("--meta", multiple=True, metavar="KEY=VALUE", help="Extra metadata (repeatable)."),
            shared("--param", "params", multiple=True, metavar="KEY=VALUE",
                   help="Service-specific field (repeatable), e.g. deploy_from_scratch=true; "
                        "NAME.KEY=VALUE for one target only."),
        ]
        return _apply(fn, options)
    return decorate


def list_options(fn: Callable) -> Callable:
    fn = delivery_options(fn)
    return _apply(fn, [
        shared("-e", "--environment", metavar="NAME", help="Only this environment / stage."),
        shared("--version", "version", metavar="VERSION", help="Only this release / version."),
        shared("--limit", type=click.IntRange(min=0), default=100, show_default=True, metavar="N",
               help="Entries per target (0 = all); pages are followed."),
        shared("--param", "params", multiple=True, metavar="KEY=VALUE",
               help="Service-specific filter (repeatable), e.g. repository_id=3; NAME.KEY=VALUE for one target."),
    ])


def record_options(*, write: bool) -> Callable:
    """`deployment get|retry`: the record's --id comes first, then --wait; retry writes, so its policy too."""
    def decorate(fn: Callable) -> Callable:
        fn = delivery_options(fn)
        return _wait(_write_policy(fn) if write else fn)
    return decorate


class StatusWord(click.ParamType):
    """shipmark's statuses or a CI system's word for one (shipmark.statuses), any case: gives shipmark's word."""

    name = "status"

    def __init__(self, *, final_only: bool = False):
        self.final_only = final_only

    def get_metavar(self, param: click.Parameter, ctx: Optional[click.Context] = None) -> str:
        from shipmark.statuses import own_words

        return "[" + "|".join(own_words(final_only=self.final_only)) + "]"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> str:
        from shipmark.statuses import own_words, status_of

        expected = ", ".join(own_words(final_only=self.final_only))
        try:
            status = status_of(str(value))
        except ValueError:
            self.fail(f"{value!r}: expected one of {expected} or a CI system's word for one", param, ctx)
        if self.final_only and not status.is_final:
            words = " ".join(ctx.command_path.split()[1:]) if ctx else "this command"
            self.fail(f"{value!r}: `{words}` takes a final status: expected one of {expected}", param, ctx)
        return status.value


def status_option(default: Optional[str], help_text: str, *, final_only: bool = False) -> Callable:
    return click.option("--status", type=StatusWord(final_only=final_only), default=default,
                        show_default=bool(default), help=help_text)


def build_option(help_text: str) -> Callable:
    return click.option("--build", metavar="NUMBER", help=help_text)
