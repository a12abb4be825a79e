"""The `shipmark` group: one readable line and an exit status for every error, and the entry point.

Also the little every command needs to reach the app layer: a console for the
error handler, an App opened from the parsed options, the command's own words.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import click

from shipmark import __version__
from shipmark.cli.declared import declared_values
from shipmark.cli.failure import ARGV, print_json_failure, stdout_gone, usage_message
from shipmark.cli.options import set_debug

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.app import App
    from shipmark.output import Console


class ShipmarkGroup(click.Group):
    """Maps shipmark's exceptions and click's usage errors to one readable line and an exit status.

    ``lazy`` names commands by "module:attribute": a command's module is imported only when
    the command is looked up, so `shipmark context` does not load every other command.
    """

    def __init__(self, *args: Any, lazy: Optional[Dict[str, str]] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy: Dict[str, str] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: Optional[click.Context], cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            import importlib

            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole summary (click would cut it at the terminal's width)."""
        rows = [(name, summary(command)) for name, command in
                ((name, self.get_command(ctx, name)) for name in self.list_commands(ctx))
                if command is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        if ctx.parent is None:
            ctx.meta[ARGV] = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an unknown option of `shipmark` itself
            if isinstance(exc, _HELP_INSTEAD):
                raise
            _fail(ctx, usage_message(exc), 2)

    def invoke(self, ctx: click.Context) -> Any:
        from shipmark.errors import ShipmarkError

        try:
            return super().invoke(ctx)
        except ShipmarkError as exc:
            _fail(ctx, exc.message, int(exc.exit_status))
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.UsageError as exc:
            if isinstance(exc, _HELP_INSTEAD):
                raise
            _fail(ctx, usage_message(exc), 2)
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            click.echo("shipmark: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            stdout_gone()
            ctx.exit(141)  # what a shell reports for a command ended by SIGPIPE
        except Exception as exc:  # never a bare traceback: one line, --debug shows more
            from shipmark.redact import redact

            _fail(ctx, f"internal error: {exc.__class__.__name__}: {redact(exc)} "
                       "(run with --debug for a traceback)", 1)


def summary(command: click.Command) -> str:
    """A command's summary: its short help, else the first paragraph of its help, whole."""
    import inspect

    text = command.short_help or inspect.cleandoc(command.help or "").split("\n\n")[0]
    return " ".join(text.replace("\b", "").split())


# click >= 8.2 shows the help for a group called with no command, through this error.
_HELP_INSTEAD = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _fail(ctx: click.Context, message: str, status: int) -> None:
    """The one way a command fails: the stderr line(s), --json's answer, --debug's traceback, the exit."""
    _print_error(message, ctx)
    print_json_failure(ctx.find_root().meta.get(ARGV, ()), message)
    _debug_traceback(ctx)
    ctx.exit(status)


def _debug_enabled(ctx: click.Context) -> bool:
    from shipmark.output import is_set

    return bool(ctx.find_root().meta.get("shipmark.debug")) or is_set(os.environ.get("SHIPMARK_DEBUG"))


def _debug_traceback(ctx: click.Context) -> None:
    if _debug_enabled(ctx):
        import traceback

        from shipmark.redact import redact

        click.echo(redact(traceback.format_exc()), err=True)


def _print_error(message: str, ctx: click.Context) -> None:
    from shipmark.output import Console

    console = ctx.find_root().meta.get("shipmark.console") or Console()
    for line in message.splitlines() or [message]:
        console.error(line)


@click.group(cls=ShipmarkGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="shipmark", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=set_debug,
              help="Show a traceback on errors (secrets still redacted).")
def cli() -> None:
    """Record what a CI pipeline ships: releases, builds and deployments.

    shipmark reads the CI context (commit, branch, tag, PR, build URL) and sends
    events to the targets configured in shipmark.yml or SHIPMARK_TARGET_* variables.
    With no target configured, `shipmark deploy` prints the event it would send.
    """


# -- what commands share -------------------------------------------------------------

def use_console(console: "Console") -> "Console":
    """Errors from here on are printed through the command's console (its --json, its CI)."""
    click.get_current_context().find_root().meta["shipmark.console"] = console
    return console


def open_app(o: Dict[str, Any]) -> "App":
    """The app layer for this command: console from -q/-v/--json, settings loaded once."""
    from shipmark.app import App
    from shipmark.output import Console

    console = use_console(Console(quiet=o.get("quiet", False), verbose=o.get("verbose", False),
                                  json_mode=o.get("json_mode", False)))
    return App(console, o)


def command_words() -> str:
    """The running command without the program name, e.g. "deployment finish"."""
    return " ".join(click.get_current_context().command_path.split()[1:])


def record(kind: str, status: str, o: Dict[str, Any], **fields: Any) -> None:
    """A recording command: deliver its event(s) (or show them, with no target) and exit with the status."""
    from shipmark import render

    declared = declared_values(o)
    app = open_app(o)
    done = app.record(command_words(), kind, status, declared=declared, **fields)
    if done.report is None:
        click.get_current_context().exit(render.unsent_events(app.console, done.events))
    click.get_current_context().exit(render.report(app.console, done.report))


def query(o: Dict[str, Any], *, list_mode: bool = False, **fields: Any) -> None:
    """A command that reads or lists existing records (no CI event, nothing spooled); exits with the status."""
    from shipmark import render

    declared = declared_values(o)
    app = open_app(o)
    report = app.query(command_words(), declared=declared, **fields)
    click.get_current_context().exit(render.report(app.console, report, list_mode=list_mode))


def main(argv: Optional[List[str]] = None) -> None:
    # On its first model pydantic reads the entry points of every installed distribution,
    # looking for plugins; shipmark uses none, and a big CI virtualenv makes that slow.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli.main(args=argv, prog_name="shipmark")

