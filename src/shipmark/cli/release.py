"""The `release` group: create, list, cancel and restore releases."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import READ_EPILOG, WRITE_EPILOG, event_options, list_options

KIND = "release"
# A release is not deployed to a host and has no remote state to wait for; when it was made
# (--finished-at) is part of the event the file and webhook targets record.
release_options = event_options(host=False, started_at=False, wait=False)


@click.group("release", cls=ShipmarkGroup)
def release_group() -> None:
    """Releases: create, list, cancel, restore."""


@release_group.command("create", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@release_options
def release_create(**o: Any) -> None:
    """Create a release (BuildMaster release, Aviator release candidate).

    \b
    Examples:
      shipmark release create --version 1.4.2
      shipmark release create --version 1.4.2 -t buildmaster --pipeline Standard
    """
    record(KIND, "success", o)


@release_group.command("list", cls=BackendOptionsCommand, epilog=READ_EPILOG)
@list_options
def release_list(**o: Any) -> None:
    """List releases.

    \b
    Examples:
      shipmark release list --limit 20
      shipmark release list -t buildmaster --param status=active --json
    """
    query(o, list_mode=True, limit=o.get("limit", 100))


@release_group.command("cancel", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@click.option("--reason", metavar="TEXT", help="Why it was cancelled.")
@release_options
def release_cancel(reason: Optional[str], **o: Any) -> None:
    """Cancel the release named by --version.

    \b
    Examples:
      shipmark release cancel --version 1.4.2 --reason "superseded by 1.4.3"
    """
    from shipmark.app import require_version

    require_version(o, "release cancel")
    record(KIND, "cancelled", o, reason=reason)


@release_group.command("restore", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@release_options
def release_restore(**o: Any) -> None:
    """Restore the cancelled release named by --version.

    \b
    Examples:
      shipmark release restore --version 1.4.2
    """
    from shipmark.app import require_version

    require_version(o, "release restore")
    record(KIND, "success", o)
