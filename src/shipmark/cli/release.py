"""The `release` group: create, list, cancel and restore releases."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import EPILOG, event_options, list_options

KIND = "release"


@click.group("release", cls=ShipmarkGroup)
def release_group() -> None:
    """Releases: create, list, cancel, restore."""


@release_group.command("create", epilog=EPILOG)
@click.option("--template", metavar="NAME", help="BuildMaster: create from this release template.")
@click.option("--pipeline", metavar="NAME", help="BuildMaster: pipeline (overrides the target's).")
@event_options
def release_create(template: Optional[str], pipeline: Optional[str], **o: Any) -> None:
    """Create a release (BuildMaster release, Aviator release candidate)."""
    record(KIND, "success", o, options={"template": template, "pipeline": pipeline})


@release_group.command("list", epilog=EPILOG)
@list_options
def release_list(**o: Any) -> None:
    """List releases."""
    query(o, list_mode=True, limit=o.get("limit", 100))


@release_group.command("cancel", epilog=EPILOG)
@click.option("--reason", metavar="TEXT", help="Why it was cancelled.")
@event_options
def release_cancel(reason: Optional[str], **o: Any) -> None:
    """Cancel the release named by --version."""
    from shipmark.app import require_version

    require_version(o, "release cancel")
    record(KIND, "cancelled", o, reason=reason)


@release_group.command("restore", epilog=EPILOG)
@event_options
def release_restore(**o: Any) -> None:
    """Restore the cancelled release named by --version."""
    from shipmark.app import require_version

    require_version(o, "release restore")
    record(KIND, "success", o)
