"""The `release` group: create, list, cancel and restore releases."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import EPILOG, event_options, list_options

KIND = "release"


@click.group("release", cls=ShipmarkGroup)
def release_group() -> None:
    """Releases: create, list, cancel, restore."""


@release_group.command("create", cls=BackendOptionsCommand, epilog=EPILOG)
@event_options
def release_create(**o: Any) -> None:
    """Create a release (BuildMaster release, Aviator release candidate)."""
    record(KIND, "success", o)


@release_group.command("list", cls=BackendOptionsCommand, epilog=EPILOG)
@list_options
def release_list(**o: Any) -> None:
    """List releases."""
    query(o, list_mode=True, limit=o.get("limit", 100))


@release_group.command("cancel", cls=BackendOptionsCommand, epilog=EPILOG)
@click.option("--reason", metavar="TEXT", help="Why it was cancelled.")
@event_options
def release_cancel(reason: Optional[str], **o: Any) -> None:
    """Cancel the release named by --version."""
    from shipmark.app import require_version

    require_version(o, "release cancel")
    record(KIND, "cancelled", o, reason=reason)


@release_group.command("restore", cls=BackendOptionsCommand, epilog=EPILOG)
@event_options
def release_restore(**o: Any) -> None:
    """Restore the cancelled release named by --version."""
    from shipmark.app import require_version

    require_version(o, "release restore")
    record(KIND, "success", o)
