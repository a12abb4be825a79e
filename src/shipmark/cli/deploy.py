"""`shipmark deploy` and the `deployment` group: record, trigger, follow and list deployments."""
from __future__ import annotations

from typing import Any, Optional

import click

from shipmark.cli.declared import BackendOptionsCommand
from shipmark.cli.group import ShipmarkGroup, query, record
from shipmark.cli.options import (GET_EPILOG, READ_EPILOG, WRITE_EPILOG, event_options, list_options, record_options,
                                  status_option)

KIND = "deployment"
STATUS_HELP = "Deployment status: shipmark's word or the CI system's (failed, canceled, UNSTABLE, ...)."


@click.command("deploy", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@status_option("success", STATUS_HELP)
@event_options()
def deploy_cmd(status: str, **o: Any) -> None:
    """Record (or trigger) a deployment. Same as `deployment create`.

    \b
    ReleaseBits records it; DeployBot and Beanstalk trigger it (use --wait to follow);
    BuildMaster deploys a build of release --version to stage -e; Aviator records
    the release candidate --version as deployed to -e.

    \b
    Examples:
      shipmark deploy -e production --version 1.4.2
      shipmark deploy -e staging --status "$CI_JOB_STATUS"
      shipmark deploy -e production -t deploybot --wait --wait-timeout 900
      shipmark deploy -e production --host web-1 --host web-2 --dry-run
    """
    record(KIND, status, o)


@click.group("deployment", cls=ShipmarkGroup)
def deployment_group() -> None:
    """Deployments: create, start, finish, update, get, list, retry."""


@deployment_group.command("create", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@status_option("success", STATUS_HELP)
@event_options()
def deployment_create(status: str, **o: Any) -> None:
    """Record (or trigger) a deployment (same as `shipmark deploy`).

    \b
    Examples:
      shipmark deployment create -e production --version 1.4.2
      shipmark deployment create -e staging --status failed
    """
    record(KIND, status, o)


@deployment_group.command("start", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@event_options(finished_at=False, wait=False)
def deployment_start(**o: Any) -> None:
    """Record that a deployment started (status in_progress).

    \b
    Examples:
      shipmark deployment start -e production --version 1.4.2
      shipmark deployment start -e production --started-at 2024-05-01T12:30:00Z
    """
    record(KIND, "in_progress", o)


@deployment_group.command("finish", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@status_option("success", "How it ended: a final status, or the CI system's word for one.", final_only=True)
@event_options()
def deployment_finish(status: str, **o: Any) -> None:
    """Record how a deployment ended (success, failure, cancelled, skipped).

    \b
    Examples:
      shipmark deployment finish -e production --version 1.4.2
      shipmark deployment finish -e production --status "$CI_JOB_STATUS"
      shipmark deployment finish -e production --status "$AGENT_JOBSTATUS"
    """
    record(KIND, status, o)


@deployment_group.command("update", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@status_option("success", "The new status: shipmark's word or the CI system's.")
@click.option("--id", "record_id", metavar="ID", help="The remote deployment to update, where the service needs one.")
@event_options(wait=False)
def deployment_update(status: str, record_id: Optional[str], **o: Any) -> None:
    """Change the status of an existing deployment.

    \b
    Examples:
      shipmark deployment update -e production --version 1.4.2 --status failure
      shipmark deployment update --id 4711 --status cancelled
    """
    record(KIND, status, o, id=record_id)


@deployment_group.command("get", cls=BackendOptionsCommand, epilog=GET_EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The remote deployment id.")
@record_options(write=False)
def deployment_get(record_id: str, **o: Any) -> None:
    """Show one remote deployment.

    \b
    Examples:
      shipmark deployment get --id 4711 -t deploybot
      shipmark deployment get --id 4711 -t deploybot --wait --json
    """
    query(o, id=record_id)


@deployment_group.command("retry", cls=BackendOptionsCommand, epilog=WRITE_EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The failed remote deployment to retry.")
@record_options(write=True)
def deployment_retry(record_id: str, **o: Any) -> None:
    """Retry a failed remote deployment.

    \b
    Examples:
      shipmark deployment retry --id 4711 -t deploybot
      shipmark deployment retry --id 183 -t beanstalk --wait
    """
    query(o, id=record_id)


@deployment_group.command("list", cls=BackendOptionsCommand, epilog=READ_EPILOG)
@list_options
def deployment_list(**o: Any) -> None:
    """List deployments (table; --json for JSON).

    \b
    Examples:
      shipmark deployment list -e production --limit 10
      shipmark deployment list -t deploybot --param repository_id=3 --json
    """
    query(o, list_mode=True, limit=o.get("limit", 100))
