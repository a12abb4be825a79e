"""`shipmark flush`: resend events spooled after a transient failure."""
from __future__ import annotations

from typing import Any

import click

from shipmark.cli.group import open_app
from shipmark.cli.options import TIMEOUT_HELP, output_options


@click.command("flush")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS", help=TIMEOUT_HELP)
@click.option("--dry-run", is_flag=True, help="Show what would be resent (or dropped); send nothing.")
@click.option("--drop", "drop", multiple=True, metavar="TARGET",
              help="Remove TARGET's spooled entries instead of resending (repeatable).")
@output_options
def flush_cmd(**o: Any) -> None:
    """Resend events spooled after a transient failure.

    \b
    Examples:
      shipmark flush
      shipmark flush --dry-run
      shipmark flush --timeout 60 --json
      shipmark flush --drop old-target
    """
    from shipmark import render

    app = open_app(o)
    if o["drop"]:
        from shipmark.delivery import flushing

        click.get_current_context().exit(flushing.drop(app.options(), o["drop"], app.console))
    click.get_current_context().exit(render.flushed(app.console, *app.flush(), dry_run=bool(o["dry_run"])))
