"""The shipmark command line: parse, call the core, render. No service logic here.

Heavy modules (requests, pydantic models of the backends, yaml) are imported
inside the commands so `shipmark --version` stays fast.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import click

from shipmark import __version__

STATUSES = ("queued", "in_progress", "success", "failure", "cancelled", "skipped")
EPILOG = ("Exit status: 0 delivered (vendor outages are tolerated unless --fail-on-error), "
          "1 delivery failed, 2 usage or config error, 3 remote deployment failed or --wait timed out.")


class ShipmarkGroup(click.Group):
    """Maps shipmark's exceptions to one readable line and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        from shipmark.errors import ShipmarkError

        try:
            return super().invoke(ctx)
        except ShipmarkError as exc:
            _print_error(exc.message, ctx)
            _debug_traceback(ctx)
            ctx.exit(int(exc.exit_status))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("shipmark: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # never a bare traceback: one line, --debug shows more
            from shipmark.redact import redact

            _print_error(f"internal error: {exc.__class__.__name__}: {redact(exc)} "
                         "(run with --debug for a traceback)", ctx)
            _debug_traceback(ctx)
            ctx.exit(1)


def _debug_enabled(ctx: click.Context) -> bool:
    from shipmark.output import is_set

    return bool(ctx.find_root().meta.get("shipmark.debug")) or is_set(os.environ.get("SHIPMARK_DEBUG"))


def _debug_traceback(ctx: click.Context) -> None:
    if _debug_enabled(ctx):
        import traceback

        from shipmark.redact import redact

        click.echo(redact(traceback.format_exc()), err=True)


def _print_error(message: str, ctx: click.Context) -> None:
    from shipmark.output import Console

    console = ctx.find_root().meta.get("shipmark.console") or Console()
    for line in message.splitlines() or [message]:
        console.error(line)


def _set_debug(ctx: click.Context, _param: Any, value: bool) -> bool:
    if value:
        ctx.find_root().meta["shipmark.debug"] = True
    return value


@click.group(cls=ShipmarkGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="shipmark", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug,
              help="Show a traceback on errors (secrets still redacted).")
def cli() -> None:
    """Record what a CI pipeline ships: releases, builds and deployments.

    shipmark reads the CI context (commit, branch, tag, PR, build URL) and sends
    events to the targets configured in shipmark.yml or SHIPMARK_TARGET_* variables.
    With no target configured, `shipmark deploy` prints the event it would send.
    """


# -- shared options ------------------------------------------------------------

def _output_options(fn: Callable) -> Callable:
    options = [
        click.option("--config", "config_path", metavar="PATH", help="Config file (default: $SHIPMARK_CONFIG, shipmark.yml, .shipmark.yml)."),
        click.option("--json", "json_mode", is_flag=True, help="Print results as a JSON array on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr."),
        click.option("-v", "--verbose", is_flag=True, help="Log each HTTP request (secrets redacted)."),
        click.option("--debug", is_flag=True, expose_value=False, callback=_set_debug, help="Show a traceback on errors."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _delivery_options(fn: Callable) -> Callable:
    options = [
        click.option("-t", "--target", "targets", multiple=True, metavar="NAME",
                     help="Target from the config (repeatable; default: every target that supports the operation)."),
        click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS",
                     help="Total time budget for delivery (default 30)."),
        click.option("--dry-run", is_flag=True, help="Print the exact HTTP requests (secrets masked); send nothing."),
        click.option("--fail-on-error", is_flag=True, default=None,
                     help="Exit 1 when a target stays unreachable (default: warn, spool and exit 0)."),
    ]
    fn = _output_options(fn)  # applied first, so listed after these in --help
    for option in reversed(options):
        fn = option(fn)
    return fn


def _event_options(fn: Callable) -> Callable:
    options = [
        click.option("-e", "--environment", metavar="NAME", help="Environment / stage (default: $SHIPMARK_ENVIRONMENT, CI, config)."),
        click.option("--version", "version", metavar="VERSION", help="The event's version (default: $SHIPMARK_VERSION, tag, short sha)."),
        click.option("--host", "hosts", multiple=True, metavar="HOST", help="Host deployed to (repeatable: one event per host)."),
        click.option("--started-at", metavar="ISO8601", help="When it started."),
        click.option("--finished-at", metavar="ISO8601", help="When it finished (default: now, for final states)."),
        click.option("--commit", metavar="SHA", help="Override the detected commit."),
        click.option("--branch", metavar="NAME", help="Override the detected branch."),
        click.option("--tag", metavar="NAME", help="Override the detected tag."),
        click.option("--name", metavar="TEXT", help="A name for the event (code name, release name)."),
        click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Extra metadata (repeatable)."),
        click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="Service-specific field (repeatable), e.g. deploy_from_scratch=true; NAME.KEY=VALUE for one target only."),
        click.option("--wait", is_flag=True, help="Poll a remote deployment until it finishes."),
        click.option("--wait-timeout", type=click.FloatRange(min=1), default=600, show_default=True, metavar="SECONDS",
                     help="Give up waiting after this long (exit 3)."),
    ]
    fn = _delivery_options(fn)
    for option in reversed(options):
        fn = option(fn)
    return fn


def _status_option(default: Optional[str], help_text: str) -> Callable:
    return click.option("--status", type=click.Choice(STATUSES), default=default, show_default=bool(default),
                        help=help_text)


def _list_options(fn: Callable) -> Callable:
    options = [
        click.option("-e", "--environment", metavar="NAME", help="Only this environment / stage."),
        click.option("--version", "version", metavar="VERSION", help="Only this release / version."),
        click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True,
                     help="Entries per target (0 = all); pages are followed."),
        click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="Service-specific filter (repeatable), e.g. repository_id=3; NAME.KEY=VALUE for one target."),
    ]
    fn = _delivery_options(fn)
    for option in reversed(options):
        fn = option(fn)
    return fn


# -- the machinery every delivering command shares ------------------------------

class Runtime:
    """Loaded once per command: console, settings, CI context."""

    def __init__(self, config_path: Optional[str], json_mode: bool, quiet: bool, verbose: bool):
        from shipmark import redact
        from shipmark.config import load_settings
        from shipmark.output import Console

        self.env = os.environ
        self.console = Console(quiet=quiet, verbose=verbose, json_mode=json_mode)
        click.get_current_context().find_root().meta["shipmark.console"] = self.console
        try:
            self.settings = load_settings(config_path, self.env)
        finally:
            # Before anything else is printed (a config error too), GitHub must know every secret.
            self.console.mask_secrets(redact.registered())
        self.json_mode = json_mode
        self._context = None

    @property
    def context(self):
        if self._context is None:
            from shipmark.ci import detect_context

            self._context = detect_context(self.env, warn=self.console.warn)
        return self._context


def _build_events(rt: Runtime, kind: str, operation: str, status: str, o: Dict[str, Any]) -> List[Any]:
    from shipmark.events import build_events

    return build_events(kind=kind, operation=operation, status=status, options=o, context=rt.context,
                        env=rt.env, default_version=rt.settings.defaults.version,
                        default_environment=rt.settings.defaults.environment)


def _select(rt: Runtime, operation: str, names: Sequence[str]) -> List[Tuple[Any, bool]]:
    from shipmark.delivery import select_targets

    return select_targets(rt.settings.targets, operation, names)


def _options(rt: Runtime, o: Dict[str, Any], spool_ok: bool = True):
    from shipmark.delivery import Options
    from shipmark.output import is_set
    from shipmark.spool import spool_path

    fail = o.get("fail_on_error")
    if fail is None:
        fail = is_set(rt.env.get("SHIPMARK_FAIL_ON_ERROR")) or rt.settings.defaults.fail_on_error
    timeout = o.get("timeout") or _env_float(rt, "SHIPMARK_TIMEOUT") or rt.settings.defaults.timeout
    return Options(
        dry_run=bool(o.get("dry_run")), timeout=timeout, wait=bool(o.get("wait")),
        wait_timeout=float(o.get("wait_timeout") or 600), fail_on_error=bool(fail),
        spool_path=spool_path(rt.settings.spool, rt.env) if spool_ok else None,
        concurrency=_concurrency(rt),
    )


def _concurrency(rt: Runtime) -> int:
    """SHIPMARK_CONCURRENCY, else defaults.concurrency, else the built-in default."""
    from shipmark.config import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
    from shipmark.errors import ConfigError

    raw = rt.env.get("SHIPMARK_CONCURRENCY", "").strip()
    if not raw:
        return rt.settings.defaults.concurrency or DEFAULT_CONCURRENCY
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CONCURRENCY:
        raise ConfigError(f"SHIPMARK_CONCURRENCY={raw!r}: expected a whole number from 1 to {MAX_CONCURRENCY}")
    return int(raw)


def _env_float(rt: Runtime, name: str) -> Optional[float]:
    from shipmark.errors import ConfigError

    raw = rt.env.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: must be positive")
    return value


def _finish(rt: Runtime, report: Any, *, list_mode: bool = False) -> int:
    from shipmark.output import (LIST_COLUMNS, describe, list_rows, render_table, results_json,
                                 write_dotenv, write_github)

    console = rt.console
    if rt.json_mode:
        console.stdout(results_json(report.results))
    for result in report.results:
        line = describe(result)
        if not result.ok and not result.skipped:
            if result.transient and report.exit_status == 0:
                console.warn(line[2:])
            else:
                console.error(line[2:])
        elif not (list_mode and rt.json_mode):
            console.info(line)
    if list_mode and not rt.json_mode:
        rows = list_rows(report.results)
        if rows:
            console.stdout(render_table(rows, LIST_COLUMNS))
    ok = report.exit_status == 0
    if console.github:
        try:
            write_github(report.results, ok, rt.env)
        except OSError as exc:
            console.warn(f"could not write GitHub outputs: {exc.strerror or exc}")
    dotenv = rt.env.get("SHIPMARK_DOTENV")
    if dotenv:
        try:
            write_dotenv(dotenv, report.results, ok)
        except OSError as exc:
            console.warn(f"could not write {dotenv}: {exc.strerror or exc}")
    return int(report.exit_status)


def _auto_flush(rt: Runtime, options: Any) -> None:
    """Resend what an earlier run spooled, quietly and within a small budget of its own."""
    from shipmark import delivery as deliver, spool
    from shipmark.delivery import Options

    path = options.spool_path
    if options.dry_run or not path or not spool.has_entries(path):
        return
    small = Options(timeout=min(10.0, (options.timeout or 30.0) / 3), spool_path=path,
                    concurrency=options.concurrency)
    try:
        sent, kept, _ = deliver.flush(rt.settings, small, rt.console)
    except Exception as exc:  # flushing old events must never break today's command
        rt.console.warn(f"spool: could not resend earlier events: {exc}")
        return
    if sent or kept:
        rt.console.info(f"spool: resent {sent} earlier event(s); {kept} still waiting")


def _deliver(kind: str, operation: str, status: str, o: Dict[str, Any], extra: Optional[Dict[str, Any]] = None) -> None:
    """Build the events, pick targets, deliver, print, exit."""
    from shipmark import delivery as deliver
    from shipmark.events import params_for, parse_pairs
    from shipmark.targets.base import Request

    ctx = click.get_current_context()
    command = " ".join(ctx.command_path.split()[1:])
    rt = Runtime(o.get("config_path"), o.get("json_mode", False), o.get("quiet", False), o.get("verbose", False))
    events = _build_events(rt, kind, operation, status, o)
    params = parse_pairs(o.get("params") or (), "--param")
    selected = _select(rt, operation, o.get("targets") or ())
    if not selected:
        ctx.exit(_embedded_default(rt, events))
    options = _options(rt, o)
    started = time.monotonic()
    _auto_flush(rt, options)
    spent = time.monotonic() - started
    if spent > 0.5:  # resending earlier events comes out of this command's budget
        from shipmark.http import DEFAULT_BUDGET

        options.timeout = max(1.0, (options.timeout or DEFAULT_BUDGET) - spent)
    jobs = []
    for config, explicit in selected:
        for event in events:
            request = Request(operation=operation, event=event.for_target(config.name), command=command,
                              params=params_for(config.name, params, rt.settings.targets),
                              environment_explicit=bool(o.get("environment") or rt.context.environment),
                              **(extra or {}))
            jobs.append(deliver.Job(config=config, request=request, explicit=explicit))
    report = deliver.run(jobs, options, rt.console)
    ctx.exit(_finish(rt, report))


def _embedded_default(rt: Runtime, events: List[Any]) -> int:
    """No target configured: show the event(s) shipmark would send."""
    import json

    from shipmark.models import Result

    rt.console.info("shipmark: no targets configured; this is the event it would send "
                    "(configure targets in shipmark.yml or SHIPMARK_TARGET_* variables)")
    payload = [e.for_target("default").to_json_dict() for e in events]
    if rt.json_mode:
        results = []
        for event in payload:
            result = Result(target="default", type="print", operation=event["operation"], ok=True,
                            event_key=event["event_key"], host=event.get("host"),
                            message="no targets configured: event printed, not sent").to_json_dict()
            result["event"] = event
            results.append(result)
        rt.console.stdout(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        rt.console.stdout(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, ensure_ascii=False))
    return 0


def _query(operation: str, o: Dict[str, Any], *, list_mode: bool = False, **fields: Any) -> None:
    """Lists and operations on an existing record (--id): no CI event, nothing spooled."""
    from shipmark import delivery as deliver
    from shipmark.errors import UsageError
    from shipmark.events import params_for, parse_pairs
    from shipmark.models import Context, Event
    from shipmark.targets.base import Request

    ctx = click.get_current_context()
    rt = Runtime(o.get("config_path"), o.get("json_mode", False), o.get("quiet", False), o.get("verbose", False))
    selected = _select(rt, operation, o.get("targets") or ())
    if not selected:
        raise UsageError("no targets configured (configure targets in shipmark.yml or SHIPMARK_TARGET_* variables)")
    # Lists filter on --version / -e; they travel in the event like every other request's.
    event = Event(kind="query", operation=operation, version=o.get("version"),
                  environment=o.get("environment"), context=Context())
    params = parse_pairs(o.get("params") or (), "--param")
    jobs = [deliver.Job(config=cfg, explicit=explicit,
                        request=Request(operation=operation, event=event.for_target(cfg.name),
                                        params=params_for(cfg.name, params, rt.settings.targets),
                                        environment_explicit=bool(o.get("environment")), **fields))
            for cfg, explicit in selected]
    report = deliver.run(jobs, _options(rt, o, spool_ok=False), rt.console)
    ctx.exit(_finish(rt, report, list_mode=list_mode))


# -- commands --------------------------------------------------------------------

@cli.command("context")
@click.option("--json", "json_mode", is_flag=True, help="Print the context as one JSON object.")
@click.option("--debug", is_flag=True, expose_value=False, callback=_set_debug, help="Show a traceback on errors.")
def context_cmd(json_mode: bool) -> None:
    """Show what was detected from the CI environment."""
    import json

    from shipmark.ci import detect_context
    from shipmark.output import Console

    console = Console(json_mode=json_mode)
    click.get_current_context().find_root().meta["shipmark.console"] = console
    ctx = detect_context(os.environ, warn=console.warn)
    data = ctx.as_dict()
    if json_mode:
        console.stdout(json.dumps(data))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        shown = "-" if value is None else (str(value).lower() if isinstance(value, bool) else value)
        console.stdout(f"{key.ljust(width)}  {shown}")


@cli.command("deploy", epilog=EPILOG)
@_status_option("success", "Deployment status.")
@click.option("--build", metavar="NUMBER", help="BuildMaster: build to deploy (default: the newest of the release).")
@_event_options
def deploy_cmd(status: str, build: Optional[str], **o: Any) -> None:
    """Record (or trigger) a deployment. Same as `deployment create`.

    \b
    ReleaseBits records it; DeployBot and Beanstalk trigger it (use --wait to follow);
    BuildMaster deploys a build of release --version to stage -e; Aviator records
    the release candidate --version as deployed to -e.
    """
    _deliver("deployment", "deploy", status, o, {"build": build})


@cli.group("deployment", cls=ShipmarkGroup)
def deployment_group() -> None:
    """Deployments: start, finish, update, get, list, retry."""


@deployment_group.command("create", epilog=EPILOG)
@_status_option("success", "Deployment status.")
@_event_options
def deployment_create(status: str, **o: Any) -> None:
    """Record (or trigger) a deployment (same as `shipmark deploy`)."""
    _deliver("deployment", "deploy", status, o)


@deployment_group.command("start", epilog=EPILOG)
@_event_options
def deployment_start(**o: Any) -> None:
    """Record that a deployment started (status in_progress)."""
    _deliver("deployment", "deploy", "in_progress", o)


@deployment_group.command("finish", epilog=EPILOG)
@_status_option("success", "Final status.")
@_event_options
def deployment_finish(status: str, **o: Any) -> None:
    """Record how a deployment ended (success, failure, cancelled, skipped)."""
    from shipmark.errors import UsageError

    if status in ("queued", "in_progress"):
        raise UsageError(f"--status {status}: `deployment finish` takes a final status")
    _deliver("deployment", "deploy", status, o)


@deployment_group.command("update", epilog=EPILOG)
@_status_option("success", "New status.")
@click.option("--id", "record_id", metavar="ID", help="The remote deployment to update, where the service needs one.")
@_event_options
def deployment_update(status: str, record_id: Optional[str], **o: Any) -> None:
    """Change the status of an existing deployment."""
    _deliver("deployment", "deployment_update", status, o, {"id": record_id})


@deployment_group.command("get", epilog=EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The remote deployment id.")
@click.option("--wait", is_flag=True, help="Poll until it finishes.")
@click.option("--wait-timeout", type=click.FloatRange(min=1), default=600, show_default=True)
@_delivery_options
def deployment_get(record_id: str, **o: Any) -> None:
    """Show one remote deployment."""
    _query("deployment_get", o, id=record_id)


@deployment_group.command("retry", epilog=EPILOG)
@click.option("--id", "record_id", required=True, metavar="ID", help="The failed remote deployment to retry.")
@click.option("--wait", is_flag=True, help="Poll until it finishes.")
@click.option("--wait-timeout", type=click.FloatRange(min=1), default=600, show_default=True)
@_delivery_options
def deployment_retry(record_id: str, **o: Any) -> None:
    """Retry a failed remote deployment."""
    _query("deployment_retry", o, id=record_id)


@deployment_group.command("list", epilog=EPILOG)
@_list_options
def deployment_list(**o: Any) -> None:
    """List deployments (table; --json for JSON)."""
    _query("deployment_list", o, list_mode=True, limit=o.get("limit", 100))


@cli.group("release", cls=ShipmarkGroup)
def release_group() -> None:
    """Releases: create, list, cancel, restore."""


@release_group.command("create", epilog=EPILOG)
@click.option("--template", metavar="NAME", help="BuildMaster: create from this release template.")
@click.option("--pipeline", metavar="NAME", help="BuildMaster: pipeline (overrides the target's).")
@_event_options
def release_create(template: Optional[str], pipeline: Optional[str], **o: Any) -> None:
    """Create a release (BuildMaster release, Aviator release candidate)."""
    _deliver("release", "release_create", "success", o, {"options": {"template": template, "pipeline": pipeline}})


@release_group.command("list", epilog=EPILOG)
@_list_options
def release_list(**o: Any) -> None:
    """List releases."""
    _query("release_list", o, list_mode=True, limit=o.get("limit", 100))


@release_group.command("cancel", epilog=EPILOG)
@click.option("--reason", metavar="TEXT", help="Why it was cancelled.")
@_event_options
def release_cancel(reason: Optional[str], **o: Any) -> None:
    """Cancel the release named by --version."""
    _require_version(o, "release cancel")
    _deliver("release", "release_cancel", "cancelled", o, {"reason": reason})


@release_group.command("restore", epilog=EPILOG)
@_event_options
def release_restore(**o: Any) -> None:
    """Restore the cancelled release named by --version."""
    _require_version(o, "release restore")
    _deliver("release", "release_restore", "success", o)


def _require_version(o: Dict[str, Any], command: str) -> None:
    from shipmark.errors import UsageError

    if not o.get("version") and not os.environ.get("SHIPMARK_VERSION"):
        raise UsageError(f"`{command}` names the release with --version")


@cli.group("build", cls=ShipmarkGroup)
def build_group() -> None:
    """Builds: create, list, deploy, reject."""


@build_group.command("create", epilog=EPILOG)
@click.option("--build", metavar="NUMBER", help="Build number (default: the service numbers it).")
@_event_options
def build_create(build: Optional[str], **o: Any) -> None:
    """Create a build of release --version."""
    _deliver("build", "build_create", "success", o, {"build": build})


@build_group.command("list", epilog=EPILOG)
@_list_options
def build_list(**o: Any) -> None:
    """List builds (of release --version)."""
    _query("build_list", o, list_mode=True, limit=o.get("limit", 100))


@build_group.command("deploy", epilog=EPILOG)
@click.option("--build", metavar="NUMBER", help="Build number (default: the newest build of the release).")
@click.option("--force", is_flag=True, help="Deploy even if the stage's requirements are not met.")
@_event_options
def build_deploy(build: Optional[str], force: bool, **o: Any) -> None:
    """Deploy a build of release --version to stage -e."""
    _deliver("build", "build_deploy", "success", o, {"build": build, "options": {"force": force}})


@build_group.command("reject", epilog=EPILOG)
@click.option("--build", metavar="NUMBER", help="Build number (default: the newest build of the release).")
@_event_options
def build_reject(build: Optional[str], **o: Any) -> None:
    """Reject a build of release --version."""
    _deliver("build", "build_reject", "failure", o, {"build": build})


@cli.command("targets")
@click.argument("name", required=False)
@click.option("--discover", is_flag=True, help="List the service's environments, repositories, ... (ids for the config).")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS")
@_output_options
def targets_cmd(name: Optional[str], discover: bool, **o: Any) -> None:
    """Show the configured targets (secrets redacted), or --discover a service's ids."""
    import json

    from shipmark.errors import UsageError
    from shipmark.targets import target_class

    ctx = click.get_current_context()
    rt = Runtime(o.get("config_path"), o.get("json_mode", False), o.get("quiet", False), o.get("verbose", False))
    if discover:
        if not name:
            raise UsageError("--discover needs a target NAME")
        _list_discover(rt, name, o)
        return
    chosen = rt.settings.targets
    if name:
        chosen = {n: c for n, c in chosen.items() if n.lower() == name.lower()}
        if not chosen:
            raise UsageError(f"no such target {name!r} (configured: {', '.join(rt.settings.targets) or 'none'})")
    rows = []
    for tname, cfg in chosen.items():
        row = cfg.public_view()
        row["operations"] = [op for op in target_class(cfg.type).supported_operations()]
        rows.append(row)
    if rt.json_mode:
        rt.console.stdout(json.dumps(rows, indent=2))
    elif not rows:
        rt.console.info("no targets configured (shipmark.yml targets: or SHIPMARK_TARGET_<NAME>_<KEY> variables)")
    else:
        from shipmark.output import render_table

        table = [{"name": r["name"], "type": r["type"], "url": r.get("url"),
                  "operations": " ".join(r["operations"])} for r in rows]
        rt.console.stdout(render_table(table, ("name", "type", "url", "operations")))
    ctx.exit(0)


def _list_discover(rt: Runtime, name: str, o: Dict[str, Any]) -> None:
    from shipmark import delivery as deliver
    from shipmark.models import Context, Event
    from shipmark.output import render_table
    from shipmark.targets.base import Request

    ctx = click.get_current_context()
    (config, _explicit), = _select(rt, "discover", [name])
    event = Event(kind="query", operation="discover", context=Context())
    job = deliver.Job(config=config, explicit=True, request=Request(operation="discover", event=event))
    report = deliver.run([job], _options(rt, o, spool_ok=False), rt.console)
    if report.exit_status == 0 and not rt.json_mode:
        rows = [{k: v for k, v in item.items() if k != "raw"} for r in report.results for item in (r.items or [])]
        if rows:
            columns = [c for c in ("kind", "id", "name", "detail") if any(c in row for row in rows)]
            rt.console.stdout(render_table(rows, columns))
        for r in report.results:
            if not r.ok:
                rt.console.error(r.error or "failed")
        ctx.exit(0)
    ctx.exit(_finish(rt, report))


@cli.command("check")
@click.option("--online", is_flag=True, help="Also make one authenticated read per target.")
@click.option("-t", "--target", "targets", multiple=True, metavar="NAME", help="Only these targets.")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS")
@_output_options
def check_cmd(online: bool, targets: Tuple[str, ...], **o: Any) -> None:
    """Validate the configuration; --online also probes each target's credentials."""
    ctx = click.get_current_context()
    rt = Runtime(o.get("config_path"), o.get("json_mode", False), o.get("quiet", False), o.get("verbose", False))
    where = str(rt.settings.path) if rt.settings.path else "no config file"
    names = list(rt.settings.targets)
    rt.console.info(f"config OK ({where}): {len(names)} target(s){': ' + ', '.join(names) if names else ''}")
    if not online:
        if rt.json_mode:
            import json

            rt.console.stdout(json.dumps([{"target": n, "type": c.type, "ok": True}
                                          for n, c in rt.settings.targets.items()]))
        ctx.exit(0)
    from shipmark import delivery as deliver

    options = _options(rt, o, spool_ok=False)
    selected = _select(rt, "deploy", targets) if targets else [(c, True) for c in rt.settings.targets.values()]
    report = deliver.probe_all([cfg for cfg, _ in selected], options, rt.console)
    ctx.exit(_finish(rt, report))


@cli.command("flush")
@click.option("--timeout", type=click.FloatRange(min=0.1), metavar="SECONDS")
@click.option("--dry-run", is_flag=True, help="Show what would be resent.")
@_output_options
def flush_cmd(**o: Any) -> None:
    """Resend events spooled after a transient failure."""
    from shipmark import delivery as deliver

    ctx = click.get_current_context()
    rt = Runtime(o.get("config_path"), o.get("json_mode", False), o.get("quiet", False), o.get("verbose", False))
    options = _options(rt, o)
    sent, kept, results = deliver.flush(rt.settings, options, rt.console)
    if rt.json_mode:
        from shipmark.output import results_json

        rt.console.stdout(results_json(results))
    rt.console.info(f"spool {options.spool_path}: {sent} delivered, {kept} still waiting")
    ctx.exit(0 if all(r.ok or r.transient for r in results) else 1)


def main(argv: Optional[List[str]] = None) -> None:
    # On its first model pydantic reads the entry points of every installed distribution,
    # looking for plugins; shipmark uses none, and a big CI virtualenv makes that slow.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli.main(args=argv, prog_name="shipmark")


if __name__ == "__main__":  # pragma: no cover
    main()
