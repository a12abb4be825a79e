"""`shipmark context`: what was detected from the CI environment."""
from __future__ import annotations

import os

import click

from shipmark.cli.group import use_console
from shipmark.cli.options import debug_option


@click.command("context")
@click.option("--json", "json_mode", is_flag=True, help="Print the context as one JSON object.")
@debug_option()
def context_cmd(json_mode: bool) -> None:
    """Show what was detected from the CI environment."""
    from shipmark import render
    from shipmark.ci import detect_context
    from shipmark.output import Console

    console = use_console(Console(json_mode=json_mode))
    render.context(console, detect_context(os.environ, warn=console.warn).as_dict())
