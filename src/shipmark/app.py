"""What every command does between parsing and printing, without the command line.

An App is opened once per command: the console, the settings (config file and
SHIPMARK_TARGET_* variables) and, when asked for, the CI context. It resolves the
command-wide settings (shipmark.config.Resolver), builds the events and the delivery
jobs, resends what earlier runs spooled within the command's budget, and calls
delivery. It returns results; shipmark.render prints them. No click here.

Commands name their operation by their words in shipmark.operations (``operation_for``).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from shipmark.operations import OPERATIONS

if TYPE_CHECKING:  # pragma: no cover
    from shipmark.config import Resolver, Settings
    from shipmark.delivery import Options, Report
    from shipmark.models import Context, Event
    from shipmark.output import Console

# Commands that are other words for an operation's own command (its `words` in the table).
ALIASES = {
    "deployment create": "deploy",
    "deployment start": "deploy",
    "deployment finish": "deploy",
}
# How to configure a target, for the errors that find none.
NO_TARGET_FIX = ("add one under `targets:` in shipmark.yml, or set SHIPMARK_TARGET_<NAME>_TYPE "
                 "(and SHIPMARK_TARGET_<NAME>_<KEY> for its keys)")
# Resending earlier events takes this share of a command's budget at most (and 10 s).
AUTO_FLUSH_SHARE = 3
# An auto-flush shorter than this is not charged to the command's own budget.
AUTO_FLUSH_FREE = 0.5


def operation_for(command: str) -> str:
    """The operation a command performs, from its words (e.g. "build deploy" -> build_deploy)."""
    words = ALIASES.get(command, command)
    for name, operation in OPERATIONS.items():
        if operation.words == words:
            return name
    raise KeyError(command)


def require_version(flags: Mapping[str, Any], command: str, env: Optional[Mapping[str, str]] = None) -> None:
    """Commands on an existing release name it with --version (or SHIPMARK_VERSION)."""
    from shipmark.config import Resolver
    from shipmark.errors import UsageError

    if not Resolver(flags, os.environ if env is None else env).version_named():
        raise UsageError(f"`{command}` names the release with --version")


def request_fields(declared: Optional[Mapping[Any, Any]]) -> Dict[str, Any]:
    """Where declared options' values go in a Request: their own ``field``, else ``options`` by name."""
    fields: Dict[str, Any] = {}
    options: Dict[str, Any] = {}
    for option, value in (declared or {}).items():
        if option.field:
            fields[option.field] = value
        else:
            options[option.name] = value
    if options:
        fields["options"] = options
    return fields


@dataclass
class Delivery:
    """What a recording command did: its events, and the report (None: no target, nothing sent)."""

    events: List["Event"]
    report: Optional["Report"] = None


class App:
    """One command's run. ``flags`` are its parsed options (config_path, timeout, dry_run, ...)."""

    def __init__(self, console: "Console", flags: Mapping[str, Any], env: Optional[Mapping[str, str]] = None):
        from shipmark import redact
        from shipmark.config import Resolver, load_settings

        self.console = console
        self.flags = flags
        self.env = os.environ if env is None else env
        try:
            self.settings: "Settings" = load_settings(flags.get("config_path"), self.env)
        finally:
            # Before anything else is printed (a config error too), GitHub must know every secret.
            console.mask_secrets(redact.registered())
        self.resolved: "Resolver" = Resolver(flags, self.env, self.settings.defaults)
        self._context: Optional["Context"] = None

    @property
    def context(self) -> "Context":
        if self._context is None:
            from shipmark.ci import detect_context

            self._context = detect_context(self.env, warn=self.console.warn)
        return self._context

    # -- options and jobs ------------------------------------------------------
    def options(self, *, spool: bool = True) -> "Options":
        """Delivery options from the flags and the resolved settings; no spool for reads."""
        from shipmark.delivery import Options
        from shipmark.spool import spool_path

        fail, timeout = self.resolved.fail_on_error().value, self.resolved.timeout().value
        return Options(
            dry_run=bool(self.flags.get("dry_run")), timeout=timeout, wait=bool(self.flags.get("wait")),
            wait_timeout=float(self.flags.get("wait_timeout") or 600), fail_on_error=fail,
            spool_path=spool_path(self.settings.spool, self.env) if spool else None,
            concurrency=self.resolved.concurrency().value,
        )

    def _select(self, operation: str, names: Sequence[str]) -> List[Tuple[Any, bool]]:
        from shipmark.delivery import select_targets

        return select_targets(self.settings.targets, operation, names)

    def _params(self) -> Dict[str, str]:
        from shipmark.events import parse_pairs

        return parse_pairs(self.flags.get("params") or (), "--param")

    def _jobs(self, selected: Sequence[Tuple[Any, bool]], events: Sequence["Event"], params: Mapping[str, str],
              **fields: Any) -> List[Any]:
        """One job per target and event (host), each with the --param values meant for that target."""
        from shipmark.delivery import Job
        from shipmark.events import params_for
        from shipmark.targets.base import Request

        return [Job(config=config, explicit=explicit,
                    request=Request(event=event.for_target(config.name),
                                    params=params_for(config.name, params, self.settings.targets), **fields))
                for config, explicit in selected for event in events]

    # -- commands ----------------------------------------------------------------
    def record(self, command: str, kind: str, status: str, *, declared: Optional[Mapping[Any, Any]] = None,
               **fields: Any) -> Delivery:
        """A command that records something: build its events, pick targets, deliver.

        ``fields`` are Request fields (build, id, reason); ``declared`` the values of the
        options backends declare (shipmark.targets.CliOption), placed by ``request_fields``.
        """
        from shipmark import delivery
        from shipmark.config import ENVIRONMENT, FLAG
        from shipmark.events import build_events

        operation = operation_for(command)
        events = build_events(kind=kind, operation=operation, status=status, options=self.flags,
                              context=self.context, settings=self.resolved)
        params = self._params()
        selected = self._select(operation, self.flags.get("targets") or ())
        if not selected:
            self._nothing_to_record()
            return Delivery(events)
        options = self.options()
        self._auto_flush(options)
        # -e, SHIPMARK_ENVIRONMENT or the CI job's, not the config's defaults: see Request.environment_explicit.
        explicit = self.resolved.environment(self.context.environment).source in (FLAG, ENVIRONMENT)
        jobs = self._jobs(selected, events, params, operation=operation, command=command,
                          environment_explicit=explicit, **fields, **request_fields(declared))
        return Delivery(events, delivery.run(jobs, options, self.console))

    def _nothing_to_record(self) -> None:
        """No target: outside CI (or with --dry-run) the event is shown; inside CI that is a mistake.

        A CI job that records nothing must not pass as if it had, so it fails with the fix,
        unless no config was read on purpose (``Settings.discovery_suppressed``): then it warns.
        """
        from shipmark.errors import UsageError

        if self.flags.get("dry_run") or not self.context.is_ci:
            return
        reason = self.settings.discovery_suppressed
        if reason:
            self.console.warn(f"no target configured ({reason}): nothing recorded")
            return
        raise UsageError(f"no target configured, so this CI job would record nothing: {NO_TARGET_FIX}; "
                         "or pass --dry-run to only show the event")

    def query(self, command: str, *, declared: Optional[Mapping[Any, Any]] = None, **fields: Any) -> "Report":
        """Lists and operations on an existing record (--id): no CI event, nothing spooled."""
        from shipmark import delivery
        from shipmark.errors import UsageError
        from shipmark.models import Context, Event

        operation = operation_for(command)
        selected = self._select(operation, self.flags.get("targets") or ())
        if not selected:
            raise UsageError(f"no target configured: {NO_TARGET_FIX}")
        # Lists filter on --version / -e; they travel in the event like every other request's.
        # The repository is the one CI context key a read uses (github's default repository).
        event = Event(kind="query", operation=operation, version=self.flags.get("version"),
                      environment=self.flags.get("environment"), context=Context(slug=self.context.slug))
        jobs = self._jobs(selected, [event], self._params(), operation=operation,
                          environment_explicit=bool(self.flags.get("environment")), **fields,
                          **request_fields(declared))
        return delivery.run(jobs, self.options(spool=False), self.console)

    def discover(self, name: str) -> "Report":
        """`targets --discover NAME`: the ids one service offers, for the config."""
        from shipmark import delivery
        from shipmark.models import Context, Event
        from shipmark.targets.base import Request

        operation = operation_for("targets --discover")
        (config, _explicit), = self._select(operation, [name])
        event = Event(kind="query", operation=operation, context=Context())
        job = delivery.Job(config=config, explicit=True, request=Request(operation=operation, event=event))
        return delivery.run([job], self.options(spool=False), self.console)

    def target_rows(self, name: Optional[str]) -> List[Dict[str, Any]]:
        """The configured targets (one, when named), secrets masked, with the operations each supports."""
        from shipmark.errors import UsageError
        from shipmark.targets import target_class

        chosen = self.settings.targets
        if name:
            chosen = {n: c for n, c in chosen.items() if n.lower() == name.lower()}
            if not chosen:
                raise UsageError(f"no such target {name!r} (configured: {', '.join(self.settings.targets) or 'none'})")
        rows = []
        for cfg in chosen.values():
            row = cfg.public_view()
            row["operations"] = list(target_class(cfg.type).supported_operations())
            rows.append(row)
        return rows

    def probe(self, names: Sequence[str]) -> "Report":
        """`check --online`: one authenticated read per target (the named ones, else all)."""
        from shipmark import delivery

        options = self.options(spool=False)
        selected = (self._select(operation_for("deploy"), names) if names
                    else [(c, True) for c in self.settings.targets.values()])
        return delivery.probe_all([cfg for cfg, _ in selected], options, self.console)

    def flush(self) -> Tuple[Any, int, int, List[Any]]:
        """`shipmark flush`: (spool path, delivered, still waiting, results)."""
        from shipmark import delivery

        options = self.options()
        sent, kept, results = delivery.flush(self.settings, options, self.console)
        return options.spool_path, sent, kept, results

    # -- the spool, before a new delivery ------------------------------------------
    def _auto_flush(self, options: "Options") -> None:
        """Resend what an earlier run spooled, quietly, within a small share of this command's budget.

        Time it takes (beyond a moment) comes out of the command's own budget, which
        ``options.timeout`` is shortened by.
        """
        from shipmark import delivery, render, spool
        from shipmark.delivery import Options

        path = options.spool_path
        if options.dry_run or not path or not spool.has_entries(path):
            return
        started = time.monotonic()
        small = Options(timeout=min(10.0, (options.timeout or 30.0) / AUTO_FLUSH_SHARE), spool_path=path,
                        concurrency=options.concurrency)
        try:
            sent, kept, _ = delivery.flush(self.settings, small, self.console)
        except Exception as exc:  # flushing old events must never break today's command
            self.console.warn(f"spool: could not resend earlier events: {exc}")
        else:
            render.auto_flushed(self.console, sent, kept)
        spent = time.monotonic() - started
        if spent > AUTO_FLUSH_FREE:
            from shipmark.http import DEFAULT_BUDGET

            options.timeout = max(1.0, (options.timeout or DEFAULT_BUDGET) - spent)

