"""`shipmark context`: what was detected from the CI environment."""
from __future__ import annotations

import os

import click

from shipmark.cli.group import use_console
from shipmark.cli.options import debug_option


@click.command("context")
@click.option("--json", "json_mode", is_flag=True, help="Print the context as one JSON object.")
@click.option("--explain", is_flag=True,
              help="Also show where each value came from (variable, event field, git command or override).")
@debug_option()
def context_cmd(json_mode: bool, explain: bool) -> None:
    """Show what was detected from the CI environment.

    \b
    Examples:
      shipmark context
      shipmark context --json | jq -r .commit
      shipmark context --explain
    """
    from shipmark import render
    from shipmark.output import Console

    console = use_console(Console(json_mode=json_mode))
    if not json_mode:  # the JSON shape stays the context alone
        _config_line(console)
    if explain:
        from shipmark.ci.explain import explain_context, format_explanation
        from shipmark.errors import UsageError

        if json_mode:
            raise UsageError("--explain is for reading: use it without --json (the JSON shape stays the same)")
        console.stdout(format_explanation(explain_context(os.environ, warn=console.warn)))
        return
    from shipmark.ci import detect_context

    render.context(console, detect_context(os.environ, warn=console.warn).as_dict())


def _config_line(console) -> None:
    """Which config file a command run here would read (stderr, one line)."""
    from pathlib import Path

    from shipmark.config_source import find_config
    from shipmark.errors import ConfigError

    try:
        console.info(find_config(None, os.environ, Path.cwd()).describe())
    except ConfigError as exc:
        console.info(f"config: {exc}")
