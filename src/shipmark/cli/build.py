"""The `build` group: create, list, deploy and reject builds of a release."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import READ_EPILOG, WRITE_EPILOG, build_option, event_options, list_options

KIND = "build"
# A build is not deployed to a host; only `build deploy` starts something --wait can follow.
# When it finished (--finished-at) is part of the event the file and webhook targets record.
build_options = event_options(host=False, started_at=False, wait=False)


@click.group("build", cls=ShipmarkGroup)
def build_group() -> None:
    """Builds: create, list, deploy, reject."""


@build_group.command("create", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@build_option("Build number (default: the service numbers it).")
@build_options
def build_create(build: Optional[str], **o: Any) -> None:
    """Create a build of release --version.

    \b
    Examples:
      shipmark build create --version 1.4.2
      shipmark build create --version 1.4.2 --build 7
    """
    record(KIND, "success", o, build=build)


@build_group.command("list", cls=BackendOptionsCommand, epilog=READ_EPILOG)
@list_options
def build_list(**o: Any) -> None:
    """List builds (of release --version).

    \b
    Examples:
      shipmark build list --version 1.4.2
      shipmark build list --version 1.4.2 --limit 0 --json
    """
    query(o, list_mode=True, limit=o.get("limit", 100))


@build_group.command("deploy", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@build_option("Build number (default: the newest build of the release).")
@event_options(host=False, started_at=False, finished_at=False)
def build_deploy(build: Optional[str], **o: Any) -> None:
    """Deploy a build of release --version to stage -e.

    \b
    Examples:
      shipmark build deploy --version 1.4.2 -e Integration
      shipmark build deploy --version 1.4.2 --build 7 -e Production --wait
    """
    record(KIND, "success", o, build=build)


@build_group.command("reject", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@build_option("Build number (default: the newest build of the release).")
@build_options
def build_reject(build: Optional[str], **o: Any) -> None:
    """Reject a build of release --version.

    \b
    Examples:
      shipmark build reject --version 1.4.2 --build 7
    """
    record(KIND, "failure", o, build=build)
