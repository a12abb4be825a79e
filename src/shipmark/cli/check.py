"""`shipmark check`: validate the configuration; --online also probes each target's credentials."""
from __future__ import annotations

from typing import Any, Tuple

import click

from shipmark.cli.group import open_app
from shipmark.cli.options import TIMEOUT_HELP, output_options


@click.command("check")
@click.option("--online", is_flag=True, help="Also make one authenticated read per target.")
@click.option("-t", "--target", "targets", multiple=True, metavar="NAME", help="Only these targets.")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help=TIMEOUT_HELP)
@output_options
def check_cmd(online: bool, targets: Tuple[str, ...], **o: Any) -> None:
    """Validate the configuration; --online also probes each target's credentials.

    \b
    Examples:
      shipmark check
      shipmark check --online -t deploybot
      shipmark check --config ci/shipmark.yml --json
    """
    from shipmark import render

    ctx = click.get_current_context()
    app = open_app(o)
    render.config_ok(app.console, app.settings, final=not online)
    if not online:
        ctx.exit(0)
    ctx.exit(render.report(app.console, app.probe(targets)))
