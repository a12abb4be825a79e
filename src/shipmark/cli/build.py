"""The `build` group: create, list, deploy and reject builds of a release."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import EPILOG, build_option, event_options, list_options

KIND = "build"


@click.group("build", cls=ShipmarkGroup)
def build_group() -> None:
    """Builds: create, list, deploy, reject."""


@build_group.command("create", cls=BackendOptionsCommand, epilog=EPILOG)
@build_option("Build number (default: the service numbers it).")
@event_options
def build_create(build: Optional[str], **o: Any) -> None:
    """Create a build of release --version."""
    record(KIND, "success", o, build=build)


@build_group.command("list", cls=BackendOptionsCommand, epilog=EPILOG)
@list_options
def build_list(**o: Any) -> None:
    """List builds (of release --version)."""
    query(o, list_mode=True, limit=o.get("limit", 100))


@build_group.command("deploy", cls=BackendOptionsCommand, epilog=EPILOG)
@build_option("Build number (default: the newest build of the release).")
@event_options
def build_deploy(build: Optional[str], **o: Any) -> None:
    """Deploy a build of release --version to stage -e."""
    record(KIND, "success", o, build=build)


@build_group.command("reject", cls=BackendOptionsCommand, epilog=EPILOG)
@build_option("Build number (default: the newest build of the release).")
@event_options
def build_reject(build: Optional[str], **o: Any) -> None:
    """Reject a build of release --version."""
    record(KIND, "failure", o, build=build)
