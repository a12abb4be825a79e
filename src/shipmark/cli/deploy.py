"""`shipmark deploy` and the `deployment` group: record, trigger, follow and list deployments."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import EPILOG, event_options, list_options, record_options, status_option

KIND = "deployment"


@click.command("deploy", cls=BackendOptionsCommand, epilog=EPILOG)
@status_option("success", "Deployment status.")
@event_options
def deploy_cmd(status: str, **o: Any) -> None:
    """Record (or trigger) a deployment. Same as `deployment create`.

    \b
    ReleaseBits records it; DeployBot and Beanstalk trigger it (use --wait to follow);
    BuildMaster deploys a build of release --version to stage -e; Aviator records
    the release candidate --version as deployed to -e.
    """
    record(KIND, status, o)


@click.group("deployment", cls=ShipmarkGroup)
def deployment_group() -> None:
    """Deployments: start, finish, update, get, list, retry."""


@deployment_group.command("create", cls=BackendOptionsCommand, epilog=EPILOG)
@status_option("success", "Deployment status.")
@event_options
def deployment_create(status: str, **o: Any) -> None:
    """Record (or trigger) a deployment (same as `shipmark deploy`)."""
    record(KIND, status, o)


@deployment_group.command("start", cls=BackendOptionsCommand, epilog=EPILOG)
@event_options
def deployment_start(**o: Any) -> None:
    """Record that a deployment started (status in_progress)."""
    record(KIND, "in_progress", o)


@deployment_group.command("finish", cls=BackendOptionsCommand, epilog=EPILOG)
@status_option("success", "How it ended (a final status, or the CI system's word for one).", final_only=True)
@event_options
def deployment_finish(status: str, **o: Any) -> None:
    """Record how a deployment ended (success, failure, cancelled, skipped)."""
    record(KIND, status, o)


@deployment_group.command("update", cls=BackendOptionsCommand, epilog=EPILOG)
@status_option("success", "New status.")
@click.option("--id", "record_id", metavar="ID", help="The remote deployment to update, where the service needs one.")
@event_options
def deployment_update(status: str, record_id: Optional[str], **o: Any) -> None:
    """Change the status of an existing deployment."""
    record(KIND, status, o, id=record_id)


@deployment_group.command("get", cls=BackendOptionsCommand, epilog=EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The remote deployment id.")
@record_options
def deployment_get(record_id: str, **o: Any) -> None:
    """Show one remote deployment."""
    query(o, id=record_id)


@deployment_group.command("retry", cls=BackendOptionsCommand, epilog=EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The failed remote deployment to retry.")
@record_options
def deployment_retry(record_id: str, **o: Any) -> None:
    """Retry a failed remote deployment."""
    query(o, id=record_id)


@deployment_group.command("list", cls=BackendOptionsCommand, epilog=EPILOG)
@list_options
def deployment_list(**o: Any) -> None:
    """List deployments (table; --json for JSON)."""
    query(o, list_mode=True, limit=o.get("limit", 100))
