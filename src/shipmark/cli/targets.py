"""`shipmark targets`: the configured targets, or the ids a service offers (--discover)."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.group import open_app
from shipmark.cli.options import TIMEOUT_HELP, output_options


@click.command("targets")
@click.argument("name", required=False)
@click.option("--discover", is_flag=True, help="List the service's environments, repositories, ... (ids for the config).")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help=TIMEOUT_HELP)
@output_options
def targets_cmd(name: Optional[str], discover: bool, **o: Any) -> None:
    """Show the configured targets (secrets redacted), or --discover a service's ids.

    \b
    Examples:
      shipmark targets
      shipmark targets deploybot --json
      shipmark targets deploybot --discover
    """
    from shipmark import render
    from shipmark.errors import UsageError

    ctx = click.get_current_context()
    app = open_app(o)
    if discover:
        if not name:
            raise UsageError("--discover needs a target NAME")
        ctx.exit(render.discovered(app.console, app.discover(name)))
    render.targets(app.console, app.target_rows(name))
    ctx.exit(0)
